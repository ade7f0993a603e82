import { join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { TsuzukiError } from '../contract/errors';
import { checkCommandLine } from './command-line';
import { checkModelFiles } from '../model/library/integrity';
import { MANIFEST_FILE, RUNTIME_FILE, readManifest, type Manifest } from '../model/format/manifest';
import { attentionStepLimit } from './attention-check';
import { DeviceKvCache, DeviceKvOps } from './device-kv-cache';
import { KvCache, type CacheData, type Kv } from './kv-cache';

type Ort = typeof OrtModule;

/**
 * onnxruntime is imported on first use, so a broken native library cannot stop the app from starting. Every session
 * is created through here, after the check that keeps onnxruntime from crashing on a long command line.
 */
let ortModule: Promise<Ort> | undefined;
export function loadOrt(): Promise<Ort> {
  checkCommandLine();
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'webgpu' | 'coreml';

export interface SessionOptions {
  /** Execution provider to try first; the CPU provider is always the fallback. Default `cpu`. */
  executionProvider?: ExecutionProvider;
  /** Intra-op threads; default onnxruntime's choice (one per physical core). */
  threads?: number;
  /**
   * The graph to run: WebGPU always runs `device` (`device.onnx`, its cache on the GPU); the other providers run
   * `runtime` (the cache in host memory, only each step's keys and values crossing over) unless told otherwise — the
   * tests and the bench run `device` on the CPU to compare the two. (CUDA, DirectML and CoreML run `runtime`:
   * onnxruntime-node 1.30 hands out device-resident outputs for WebGPU only, so on them a full-size device cache
   * would cross the bus whole at every step.)
   */
  graph?: 'runtime' | 'device';
}

export interface ForwardInput {
  /** Token ids, `[batch][seq]` (rows of equal length). */
  ids: number[][];
  /** `[batch][shared + past + seq]`: 1 for a token, 0 for padding (left padding). */
  attentionMask: number[][];
  /** `[batch][seq]` absolute positions. */
  positionIds: number[][];
  /** The cache to continue from, which this step appends to; omitted for a fresh one of `batch` rows. */
  cache?: Kv;
  /** Positions every row sees before its own `cache` (a one-row cache: the prompt of several alternatives). */
  shared?: Kv;
  /** Logits for the last k positions only; 0 (the default) for every position. */
  logitsToKeep?: number;
}

export interface ForwardOutput {
  /** `[batch, kept, vocab]` row-major float32. */
  logits: Float32Array;
  dims: [batch: number, kept: number, vocab: number];
  /** The cache after this step (the one passed in, or a new one): `past + seq` positions. */
  cache: Kv;
}

/**
 * A converted Tsuzuki decoder loaded in onnxruntime-node. `forward` is one step of the graph (prefill or decode)
 * and appends the step's keys and values to the cache. Most providers run `runtime.onnx` with the cache in host
 * memory (`KvCache`); WebGPU runs `device.onnx` with a fixed-size cache on the GPU (`DeviceKvCache`, which says how).
 */
export class DecoderSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    /** The converted model's folder. */
    readonly dir: string,
    readonly manifest: Manifest,
    readonly executionProvider: ExecutionProvider,
    /** The cache operations of a session that runs the device graph (null: the runtime graph's host cache). */
    private readonly deviceKv: DeviceKvOps | null,
    /** The most positions one run of the device graph takes (attention-check.ts); longer steps run in chunks. */
    private readonly stepLimit: number,
  ) {}

  static async load(dir: string, options: SessionOptions = {}): Promise<DecoderSession> {
    const manifest = await readManifest(dir);
    // A damaged weight file loads without a word from onnxruntime and then writes garbage.
    const { problem } = await checkModelFiles(dir, manifest);
    if (problem) {
      throw new TsuzukiError(
        'corrupt_file',
        `The model in ${dir} is damaged: its files do not match ${MANIFEST_FILE} (${problem}). Download or convert it again (\`tsuzuki models verify\` checks every model).`,
      );
    }
    const ort = await loadOrt();
    const provider = options.executionProvider ?? 'cpu';
    const graph = provider === 'webgpu' ? 'device' : (options.graph ?? 'runtime');
    if (graph === 'device' && !manifest.deviceGraph) {
      throw new TsuzukiError(
        'unsupported',
        `The model in ${dir} has no GPU graph (device.onnx): it was converted by an older Tsuzuki, or its attention heads are not a multiple of 8 wide. Convert it again to run it on a GPU; the CPU runs it as it is.`,
      );
    }
    const file = join(dir, graph === 'device' ? manifest.deviceGraph!.file : RUNTIME_FILE);
    const onGpu = provider === 'webgpu';
    const presents = Array.from({ length: manifest.architecture.nLayer }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    const sessionOptions: InferenceSession.SessionOptions = {
      executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
      // Every graph optimization onnxruntime has (constant folding, fusions), and the memory arena: without it the
      // app's peak memory grew from 1.48 to 1.63 GB (int4, 685-token prompt), the heap fragmenting between steps.
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
      // Errors only: a GPU provider warns that it leaves shape computations to the CPU, which is by design.
      logSeverityLevel: 3,
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      ...(onGpu ? { preferredOutputLocation: Object.fromEntries(presents.map((name) => [name, 'gpu-buffer' as const])) } : {}),
    };
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, sessionOptions);
    } catch (cause) {
      const reason = (cause as Error).message;
      if (provider !== 'cpu') {
        throw new TsuzukiError('unsupported', `The ${provider} execution provider could not load ${file} (${reason}). Use the CPU instead.`, { cause });
      }
      throw new TsuzukiError('corrupt_file', `onnxruntime could not load ${file} (${reason}). Convert the model again.`, { cause });
    }
    let stepLimit = Infinity;
    if (graph === 'device') {
      try {
        stepLimit = await attentionStepLimit(ort, provider);
      } catch (cause) {
        await session.release();
        throw new TsuzukiError('unsupported', `The ${provider} execution provider cannot run ${file}: ${(cause as Error).message}. Use the CPU instead.`, { cause });
      }
    }
    return new DecoderSession(ort, session, dir, manifest, provider, graph === 'device' ? new DeviceKvOps(ort, manifest, provider) : null, stepLimit);
  }

  /** Inputs that are the same at every step of the device graph, made once (the capacity, an empty past…). */
  private readonly constants = new Map<string, Tensor>();
  private constant(key: string, make: () => Tensor): Tensor {
    let tensor = this.constants.get(key);
    if (!tensor) this.constants.set(key, (tensor = make()));
    return tensor;
  }

  /** An empty one-row cache of no capacity: the `shared` input of a step that shares nothing. */
  private emptyShared: KvCache | null = null;

  /** An empty cache for `rows` rows with room for `capacity` positions (the whole context by default). */
  newCache(rows: number, capacity = this.manifest.architecture.nPositions): Kv {
    if (this.deviceKv) return new DeviceKvCache(rows, capacity);
    return KvCache.create(this.manifest.architecture, this.manifest.kvType, rows, capacity);
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const batch = input.ids.length;
    const seq = input.ids[0]?.length ?? 0;
    if (batch === 0 || seq === 0) throw new TsuzukiError('invalid_argument', 'forward: ids must hold at least one token per row.');
    const cache = input.cache ?? this.newCache(batch);
    const shared = input.shared;
    if (shared && shared.rows !== 1) throw new TsuzukiError('invalid_argument', `forward: a shared cache holds one row, not ${shared.rows}.`);
    const sharedLength = shared?.length ?? 0;
    const total = sharedLength + cache.length + seq;
    const { nPositions, vocabSize } = this.manifest.architecture;
    if (total > nPositions) {
      throw new TsuzukiError('invalid_argument', `The text is ${total} tokens, more than the ${nPositions} the model reads at once; give fewer tokens.`);
    }
    if (cache.rows !== batch || cache.length + seq > cache.capacity) {
      throw new TsuzukiError('invalid_argument', `forward: the cache holds ${cache.rows} rows and room for ${cache.capacity} positions, not ${batch} rows and ${cache.length + seq}.`);
    }
    const keep = input.logitsToKeep ?? 0;
    if (!Number.isInteger(keep) || keep < 0 || keep > seq) throw new TsuzukiError('invalid_argument', `forward: logitsToKeep must be from 0 to ${seq}, got ${keep}.`);
    /** `extra`: columns inserted at the given row offsets (the host caches' masked zero positions). */
    const matrix = (rows: number[][], width: number, what: string, extra: number[] = []) => {
      if (rows.length !== batch || rows.some((r) => r.length !== width)) {
        throw new TsuzukiError('invalid_argument', `forward: ${what} must be ${batch} rows of ${width}.`);
      }
      const flat = rows.flatMap((r) => {
        const out = [...r];
        for (const at of [...extra].reverse()) out.splice(at, 0, 0);
        return out;
      });
      return new this.ort.Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), [batch, width + extra.length]);
    };
    for (const id of input.ids.flat()) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new TsuzukiError('invalid_argument', `Token id ${id} is not in the model's vocabulary (0–${vocabSize - 1}); give ids from this model's tokenizer.`);
      }
    }
    if (this.deviceKv) {
      if (!(cache instanceof DeviceKvCache) || (shared && !(shared instanceof DeviceKvCache))) {
        throw new TsuzukiError('internal', 'forward: a session of the device graph continues only caches it made.');
      }
      // The device graph reads each row up to its length and places its tokens from there: no padding, no gaps.
      const before = sharedLength + cache.length;
      const padded = input.attentionMask.length !== batch || input.attentionMask.some((row) => row.length !== total || row.some((m) => m !== 1));
      const moved = input.positionIds.length !== batch || input.positionIds.some((row) => row.length !== seq || row.some((p, j) => p !== before + j));
      if (padded || moved) {
        throw new TsuzukiError('invalid_argument', `forward: the device graph runs ${batch} rows without padding, at positions ${before} onward.`);
      }
      // Steps longer than the provider's attention takes run in chunks; each keeps the logits of its share of `keep`.
      const parts: { logits: Float32Array; kept: number }[] = [];
      for (let start = 0; start < seq; start += this.stepLimit) {
        const end = Math.min(seq, start + this.stepLimit);
        const kept = keep ? Math.max(0, keep - (seq - end)) : end - start;
        const ids = matrix(input.ids.map((row) => row.slice(start, end)), end - start, 'ids');
        const logits = await this.forwardOnDevice(this.deviceKv, ids, keep ? Math.max(1, kept) : 0, cache, shared);
        if (kept > 0) parts.push({ logits, kept });
      }
      return { logits: joinPositions(parts, batch, vocabSize), dims: [batch, keep || seq, vocabSize], cache };
    }
    const ids = matrix(input.ids, seq, 'ids');
    const positions = matrix(input.positionIds, seq, 'positionIds');
    if (!(cache instanceof KvCache) || (shared && !(shared instanceof KvCache))) {
      throw new TsuzukiError('internal', 'forward: a host-memory session continues only caches it made.');
    }
    // Each cache's first position is a zero one (see KvCache), masked out here.
    const mask = matrix(input.attentionMask, total, 'attentionMask', [0, sharedLength]);
    const logits = await this.forwardInHostMemory(ids, mask, positions, keep, cache, shared);
    return { logits, dims: [batch, keep || seq, vocabSize], cache };
  }

  /** One step of the runtime graph over host-memory caches: `cache` grows by the step's positions in place. */
  private async forwardInHostMemory(
    ids: Tensor,
    attentionMask: Tensor,
    positions: Tensor,
    keep: number,
    cache: KvCache,
    shared: KvCache | undefined,
  ): Promise<Float32Array> {
    const feeds: Record<string, Tensor> = {
      input_ids: ids,
      attention_mask: attentionMask,
      position_ids: positions,
      logits_to_keep: new this.ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []),
    };
    const { nLayer, nHead, headDim } = this.manifest.architecture;
    const tensor = (data: CacheData, dims: number[]) =>
      data instanceof Uint16Array ? new this.ort.Tensor('float16', data, dims) : new this.ort.Tensor('float32', data, dims);
    const sharedSource = shared ?? (this.emptyShared ??= KvCache.create(this.manifest.architecture, this.manifest.kvType, 1, 0));
    for (let i = 0; i < nLayer; i++) {
      for (const which of ['key', 'value'] as const) {
        feeds[`shared.${i}.${which}`] = tensor(sharedSource.filled(i, which), [1 + sharedSource.length, 1, nHead, headDim]);
        feeds[`past.${i}.${which}`] = tensor(cache.filled(i, which), [1 + cache.length, cache.rows, nHead, headDim]);
      }
    }
    const result = await this.session.run(feeds);
    cache.append(
      Array.from({ length: nLayer }, (_, i) => ({ key: result[`new.${i}.key`]!.data as CacheData, value: result[`new.${i}.value`]!.data as CacheData })),
      ids.dims[1]!,
    );
    return result['logits']!.data as Float32Array;
  }

  /**
   * One step of the device graph: the past is the cache's own tensors, or — for the first step of decode rows — the
   * shared prompt's, copied into each row on the device; an empty past gives full-size presents too.
   */
  private async forwardOnDevice(ops: DeviceKvOps, ids: Tensor, keep: number, cache: DeviceKvCache, shared: DeviceKvCache | undefined): Promise<Float32Array> {
    const { nLayer, nHead, headDim, nPositions } = this.manifest.architecture;
    await ops.prepare(cache);
    if (shared) {
      await ops.prepare(shared);
      if (!cache.tensors) {
        if (shared.tensors) cache.tensors = await ops.gather(shared.tensors, new Array<number>(cache.rows).fill(0));
        cache.base = shared.length;
      } else if (cache.base !== shared.length) {
        throw new TsuzukiError('internal', `forward: this cache continued a shared prompt of ${cache.base} positions, not ${shared.length}.`);
      }
    } else if (cache.base !== 0) {
      throw new TsuzukiError('internal', 'forward: this cache continues a shared prompt, which is missing.');
    }
    const seq = ids.dims[1]!;
    const after = cache.base + cache.length + seq;
    const feeds: Record<string, Tensor> = {
      input_ids: ids,
      seqlens_k: new this.ort.Tensor('int32', new Int32Array(cache.rows).fill(after - 1), [cache.rows]),
      total_sequence_length: this.constant('total', () => new this.ort.Tensor('int32', Int32Array.of(nPositions), [])),
      logits_to_keep: this.constant(`keep ${keep}`, () => new this.ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), [])),
    };
    const empty = this.constant(`empty ${cache.rows}`, () =>
      this.manifest.kvType === 'float16'
        ? new this.ort.Tensor('float16', new Uint16Array(0), [cache.rows, nHead, 0, headDim])
        : new this.ort.Tensor('float32', new Float32Array(0), [cache.rows, nHead, 0, headDim]),
    );
    const past = cache.tensors;
    for (let i = 0; i < nLayer; i++) {
      feeds[`past_key_values.${i}.key`] = past?.[2 * i] ?? empty;
      feeds[`past_key_values.${i}.value`] = past?.[2 * i + 1] ?? empty;
    }
    // In host memory the presents are written into the past's own tensors (see DeviceKvCache); on a GPU they are new.
    const inPlace = past !== null && past[0]!.location === 'cpu';
    const fetches: Record<string, Tensor | null> = { logits: null };
    for (let i = 0; i < 2 * nLayer; i++) fetches[this.manifest.deviceGraph!.io.outputs[1 + i]!] = inPlace ? past[i]! : null;
    const result = await this.session.run(feeds, fetches);
    if (!inPlace) {
      for (const t of past ?? []) t.dispose();
      cache.tensors = Array.from({ length: nLayer }, (_, i) => [result[`present.${i}.key`]!, result[`present.${i}.value`]!]).flat();
    }
    cache.length += seq;
    return result['logits']!.data as Float32Array;
  }

  /**
   * Runs whole sequences in one batch (left-padded as the generator does) and returns each sequence's logits:
   * `[position][vocab]` for every position, or only the last. For verification and tests.
   */
  async sequenceLogits(sequences: number[][], options: { allPositions?: boolean } = {}): Promise<Float32Array[][]> {
    // The device graph knows no padding: its rows of unequal length run one by one.
    if (this.deviceKv && sequences.length > 1) {
      const rows: Float32Array[][] = [];
      for (const seq of sequences) rows.push(...(await this.sequenceLogits([seq], options)));
      return rows;
    }
    const batch = leftPadBatch(sequences);
    const { logits, dims, cache } = await this.forward(batch);
    cache.release(); // on a GPU, buffers nobody else would free
    const [, width, vocab] = dims;
    return sequences.map((seq, b) => {
      const first = options.allPositions ? width - seq.length : width - 1;
      const rows: Float32Array[] = [];
      for (let t = first; t < width; t++) rows.push(logits.slice((b * width + t) * vocab, (b * width + t + 1) * vocab));
      return rows;
    });
  }

  async release(): Promise<void> {
    await this.deviceKv?.release();
    await this.session.release();
  }
}

/** `[batch, Σ kept, vocab]` from chunks of `[batch, ≥ kept, vocab]` logits, each contributing its last `kept` positions. */
function joinPositions(parts: { logits: Float32Array; kept: number }[], batch: number, vocab: number): Float32Array {
  if (parts.length === 1 && parts[0]!.logits.length === batch * parts[0]!.kept * vocab) return parts[0]!.logits;
  const total = parts.reduce((sum, p) => sum + p.kept, 0);
  const out = new Float32Array(batch * total * vocab);
  for (let b = 0; b < batch; b++) {
    let at = b * total * vocab;
    for (const { logits, kept } of parts) {
      const width = logits.length / batch / vocab;
      out.set(logits.subarray((b * width + width - kept) * vocab, (b * width + width) * vocab), at);
      at += kept * vocab;
    }
  }
  return out;
}

/**
 * A batch of token sequences, padded on the left to the longest, with the attention mask and position ids that
 * transformers uses for left padding (positions count real tokens only; padding gets position 1).
 */
export function leftPadBatch(sequences: number[][], padId = 0): Pick<ForwardInput, 'ids' | 'attentionMask' | 'positionIds'> {
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
