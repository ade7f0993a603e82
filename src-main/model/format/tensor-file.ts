import { open, type FileHandle } from 'node:fs/promises';
import { TsuzukiError } from '../../contract/errors';
import { ITEM_SIZE, type StoredDtype } from './dtype';

/** Where one tensor's values lie in a weight file. */
export interface StoredTensor {
  file: string;
  dtype: StoredDtype;
  shape: number[];
  /** Absolute file offset of element [0, 0, …]. */
  byteOffset: number;
  /** Element strides (PyTorch views); `null` when the values are contiguous, row-major. */
  strides: number[] | null;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes from `byteOffset` that the tensor's elements span (contiguous or strided). */
export function spanBytes(t: StoredTensor): number {
  if (elementCount(t.shape) === 0) return 0;
  if (!t.strides) return elementCount(t.shape) * ITEM_SIZE[t.dtype];
  const last = t.shape.reduce((acc, dim, i) => acc + (dim - 1) * t.strides![i]!, 0);
  return (last + 1) * ITEM_SIZE[t.dtype];
}

/** Open handles to a checkpoint's weight files, opened on first use; values are read by offset, never whole files. */
export class TensorFiles {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  private closed = false;

  /** Reads the tensor's values as contiguous little-endian bytes in a fresh (so 8-byte aligned) buffer. */
  async read(t: StoredTensor): Promise<Uint8Array> {
    const item = ITEM_SIZE[t.dtype];
    const count = elementCount(t.shape);
    if (!t.strides) return this.readRange(t.file, t.byteOffset, count * item);
    const span = await this.readRange(t.file, t.byteOffset, spanBytes(t));
    const out = new Uint8Array(count * item);
    if (count === 0) return out;
    // Walk the outer dimensions; copy the innermost one as a block when its stride is 1 (a sliced row).
    const outer = t.shape.slice(0, -1);
    const outerStrides = t.strides.slice(0, -1);
    const rowLength = t.shape[t.shape.length - 1] ?? 1;
    const rowStride = t.strides[t.strides.length - 1] ?? 1;
    const index = new Array<number>(outer.length).fill(0);
    for (let row = 0, dst = 0; row < count / rowLength; row++) {
      let src = 0;
      for (let d = 0; d < outer.length; d++) src += index[d]! * outerStrides[d]!;
      if (rowStride === 1) {
        out.set(span.subarray(src * item, (src + rowLength) * item), dst);
        dst += rowLength * item;
      } else {
        for (let i = 0; i < rowLength; i++, dst += item) {
          const at = (src + i * rowStride) * item;
          out.set(span.subarray(at, at + item), dst);
        }
      }
      for (let d = outer.length - 1; d >= 0; d--) {
        if (++index[d]! < outer[d]!) break;
        index[d] = 0;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map(async (h) => (await h.catch(() => null))?.close()));
  }

  private async readRange(file: string, position: number, length: number): Promise<Uint8Array> {
    const handle = await this.handle(file);
    const out = new Uint8Array(new ArrayBuffer(length));
    let done = 0;
    // fs reads are capped near 2 GiB and may return short counts: loop until the range is full.
    while (done < length) {
      const chunk = Math.min(length - done, 1 << 30);
      const { bytesRead } = await handle.read(out, done, chunk, position + done);
      if (bytesRead === 0) {
        throw new TsuzukiError(
          'corrupt_file',
          `${file} ends before byte ${position + length}: the file is truncated. Download it again.`,
        );
      }
      done += bytesRead;
    }
    return out;
  }

  private handle(file: string): Promise<FileHandle> {
    if (this.closed) throw new TsuzukiError('internal', `${file}: the checkpoint was closed before this read.`);
    let h = this.handles.get(file);
    if (!h) {
      h = open(file, 'r');
      this.handles.set(file, h);
    }
    return h;
  }
}
