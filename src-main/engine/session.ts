import { join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { TsuzukiError } from '../util/errors';
import { MODEL_FILE, readManifest, type Manifest } from '../model/manifest';

type Ort = typeof OrtModule;

/** onnxruntime is imported on first use, so a broken native library cannot stop the app from starting. */
let ortModule: Promise<Ort> | undefined;
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface SessionOptions {
  /** Execution provider to try first; the CPU provider is always the fallback. Default `cpu`. */
  executionProvider?: ExecutionProvider;
  /** Intra-op threads; default onnxruntime's choice (one per physical core). */
  threads?: number;
}

/** One layer's cache: `[batch, heads, length, headDim]` tensors in the model's `kvType`. */
export interface LayerCache {
  key: Tensor;
  value: Tensor;
}

/** The KV cache of every layer. `length` is the number of positions it holds. */
export interface PastKeyValues {
  layers: LayerCache[];
  length: number;
}

export interface ForwardInput {
  /** Token ids, `[batch][seq]` (rows of equal length). */
  ids: number[][];
  /** `[batch][past + seq]`: 1 for a token, 0 for padding (left padding). */
  attentionMask: number[][];
  /** `[batch][seq]` absolute positions. */
  positionIds: number[][];
  /** Omitted for the first (prefill) step. */
  past?: PastKeyValues;
}

export interface ForwardOutput {
  /** `[batch, seq, vocab]` row-major float32. */
  logits: Float32Array;
  dims: [batch: number, seq: number, vocab: number];
  /** The cache after this step: `past + seq` positions. */
  present: PastKeyValues;
}

/**
 * A converted Tsuzuki decoder (`model.onnx` + `tsuzuki.json`) loaded in onnxruntime-node. `forward` is one step of
 * the graph (prefill or decode); the generator keeps the returned `present` as the next step's `past`.
 */
export class DecoderSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly manifest: Manifest,
    readonly executionProvider: ExecutionProvider,
  ) {}

  static async load(dir: string, options: SessionOptions = {}): Promise<DecoderSession> {
    const manifest = await readManifest(dir);
    const ort = await loadOrt();
    const provider = options.executionProvider ?? 'cpu';
    const sessionOptions: InferenceSession.SessionOptions = {
      executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    };
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(join(dir, MODEL_FILE), sessionOptions);
    } catch (cause) {
      const reason = (cause as Error).message;
      if (provider !== 'cpu') {
        throw new TsuzukiError('unsupported', `The ${provider} execution provider could not load ${join(dir, MODEL_FILE)} (${reason}). Use the CPU instead.`, { cause });
      }
      throw new TsuzukiError('corrupt_file', `onnxruntime could not load ${join(dir, MODEL_FILE)} (${reason}). Convert the model again.`, { cause });
    }
    return new DecoderSession(ort, session, manifest, provider);
  }

  /** An empty cache for `batch` rows (the prefill step's `past`). */
  emptyPast(batch: number): PastKeyValues {
    const { nLayer, nHead, headDim } = this.manifest.architecture;
    const empty = () =>
      this.manifest.kvType === 'float16'
        ? new this.ort.Tensor('float16', new Uint16Array(0), [batch, nHead, 0, headDim])
        : new this.ort.Tensor('float32', new Float32Array(0), [batch, nHead, 0, headDim]);
    return { layers: Array.from({ length: nLayer }, () => ({ key: empty(), value: empty() })), length: 0 };
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const batch = input.ids.length;
    const seq = input.ids[0]?.length ?? 0;
    if (batch === 0 || seq === 0) throw new TsuzukiError('invalid_argument', 'forward: ids must hold at least one token per row.');
    const past = input.past ?? this.emptyPast(batch);
    const total = past.length + seq;
    const { nPositions, vocabSize } = this.manifest.architecture;
    if (total > nPositions) {
      throw new TsuzukiError('invalid_argument', `forward: ${total} positions exceed the model's context of ${nPositions} tokens.`);
    }
    const matrix = (rows: number[][], width: number, what: string) => {
      if (rows.length !== batch || rows.some((r) => r.length !== width)) {
        throw new TsuzukiError('invalid_argument', `forward: ${what} must be ${batch} rows of ${width}.`);
      }
      return new this.ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [batch, width]);
    };
    for (const id of input.ids.flat()) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new TsuzukiError('invalid_argument', `forward: token id ${id} is outside the vocabulary (0…${vocabSize - 1}).`);
      }
    }
    const feeds: Record<string, Tensor> = {
      input_ids: matrix(input.ids, seq, 'ids'),
      attention_mask: matrix(input.attentionMask, total, 'attentionMask'),
      position_ids: matrix(input.positionIds, seq, 'positionIds'),
    };
    past.layers.forEach((layer, i) => {
      feeds[`past_key_values.${i}.key`] = layer.key;
      feeds[`past_key_values.${i}.value`] = layer.value;
    });
    const result = await this.session.run(feeds);
    const layers = past.layers.map((_, i) => ({ key: result[`present.${i}.key`]!, value: result[`present.${i}.value`]! }));
    return { logits: result['logits']!.data as Float32Array, dims: [batch, seq, vocabSize], present: { layers, length: total } };
  }

  /**
   * Runs whole sequences in one batch (left-padded as the generator does) and returns each sequence's logits:
   * `[position][vocab]` for every position, or only the last. For verification and tests.
   */
  async sequenceLogits(sequences: number[][], options: { allPositions?: boolean } = {}): Promise<Float32Array[][]> {
    const batch = leftPadBatch(sequences);
    const { logits, dims } = await this.forward(batch);
    const [, width, vocab] = dims;
    return sequences.map((seq, b) => {
      const first = options.allPositions ? width - seq.length : width - 1;
      const rows: Float32Array[] = [];
      for (let t = first; t < width; t++) rows.push(logits.slice((b * width + t) * vocab, (b * width + t + 1) * vocab));
      return rows;
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * A batch of token sequences, padded on the left to the longest, with the attention mask and position ids that
 * transformers uses for left padding (positions count real tokens only; padding gets position 1).
 */
export function leftPadBatch(sequences: number[][], padId = 0): Required<Omit<ForwardInput, 'past'>> {
  const width = Math.max(...sequences.map((s) => s.length));
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  const positionIds: number[][] = [];
  for (const seq of sequences) {
    const pad = width - seq.length;
    ids.push([...Array<number>(pad).fill(padId), ...seq]);
    attentionMask.push([...Array<number>(pad).fill(0), ...Array<number>(seq.length).fill(1)]);
    positionIds.push([...Array<number>(pad).fill(1), ...seq.map((_, i) => i)]);
  }
  return { ids, attentionMask, positionIds };
}
