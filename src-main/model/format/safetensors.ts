import { open } from 'node:fs/promises';
import { TsuzukiError } from '../../contract/errors';
import { ITEM_SIZE, type StoredDtype } from './dtype';
import { elementCount, type StoredTensor } from './tensor-file';

/** The header may not be larger than this (the format's reference implementation uses the same bound). */
const MAX_HEADER_BYTES = 100_000_000;

const DTYPES: Record<string, StoredDtype> = {
  F64: 'F64',
  F32: 'F32',
  F16: 'F16',
  BF16: 'BF16',
  BOOL: 'BOOL',
  U8: 'U8',
  I8: 'I8',
  I16: 'I16',
  I32: 'I32',
  I64: 'I64',
};

/**
 * Reads a `.safetensors` header (8-byte little-endian length, JSON, then the data) and checks every entry
 * against the file before anything is read or allocated from it: known dtype, a shape of non-negative integers,
 * byte count = elements × item size, data inside the file, and, as the format requires (and its reference
 * loader checks), tensors that tile the data area exactly: no two overlap, no bytes lie between or after them.
 * A gap could hide other content and an overlap would make two weights share bytes. Only the header is read;
 * tensor values stay on disk.
 */
export async function readSafetensorsHeader(file: string): Promise<Map<string, StoredTensor>> {
  const corrupt = (why: string): TsuzukiError =>
    new TsuzukiError('corrupt_file', `${file} is not a valid safetensors file: ${why}. Download it again.`);
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 8) throw corrupt(`it is only ${size} bytes long (truncated)`);
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, 8, 0);
    const headerLength = prefix.readBigUInt64LE(0);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) throw corrupt(`its header claims ${headerLength} bytes`);
    const n = Number(headerLength);
    if (8 + n > size) throw corrupt(`its ${n}-byte header runs past the end of the ${size}-byte file (truncated)`);
    const headerBytes = Buffer.alloc(n);
    await handle.read(headerBytes, 0, n, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch (cause) {
      throw corrupt(`its header is not JSON (${(cause as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('its header is not an object');

    const dataStart = 8 + n;
    const tensors = new Map<string, StoredTensor>();
    const spans: Span[] = [];
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
      const dtype = typeof e?.dtype === 'string' ? DTYPES[e.dtype] : undefined;
      if (!dtype) {
        if (typeof e?.dtype !== 'string') throw corrupt(`tensor ${name} has no dtype`);
        throw new TsuzukiError(
          'unsupported',
          `${file}: tensor ${name} has dtype ${e.dtype}, which Tsuzuki does not read (F32, F16 and BF16 weights are supported).`,
        );
      }
      const shape = e!.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw corrupt(`tensor ${name} has an invalid shape`);
      }
      const offsets = e!.data_offsets;
      if (
        !Array.isArray(offsets) ||
        offsets.length !== 2 ||
        !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
        offsets[0] > offsets[1]
      ) {
        throw corrupt(`tensor ${name} has invalid data_offsets`);
      }
      const [begin, end] = offsets as [number, number];
      const expected = elementCount(shape) * ITEM_SIZE[dtype];
      if (!Number.isSafeInteger(expected)) throw corrupt(`tensor ${name} has an impossible shape ${JSON.stringify(shape)}`);
      if (end - begin !== expected) {
        throw corrupt(`tensor ${name} (${dtype} ${JSON.stringify(shape)}) needs ${expected} bytes but has ${end - begin}`);
      }
      if (dataStart + end > size) {
        throw new TsuzukiError(
          'corrupt_file',
          `${file} is truncated: tensor ${name} ends at byte ${dataStart + end} but the file has ${size} bytes. Download it again.`,
        );
      }
      tensors.set(name, { file, dtype, shape: shape as number[], byteOffset: dataStart + begin, strides: null });
      spans.push({ name, begin, end });
    }
    checkTiling(spans, size - dataStart, corrupt);
    return tensors;
  } finally {
    await handle.close();
  }
}

interface Span {
  name: string;
  begin: number;
  end: number;
}

/** Refuses overlapping tensors and bytes no tensor accounts for (`spans` are already inside the data area). */
function checkTiling(spans: Span[], dataSize: number, corrupt: (why: string) => TsuzukiError): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last: Span | null = null;
  for (const span of spans) {
    if (span.begin < covered) throw corrupt(`tensor ${span.name} overlaps tensor ${last!.name} (bytes ${span.begin}–${covered})`);
    if (span.begin > covered) throw corrupt(`bytes ${covered}–${span.begin} of the data, before tensor ${span.name}, belong to no tensor`);
    covered = span.end;
    last = span;
  }
  if (covered < dataSize) throw corrupt(`${dataSize - covered} bytes after the last tensor belong to no tensor`);
}
