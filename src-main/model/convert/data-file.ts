import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { ExternalLocation } from './graph';

/** Large tensors start on a page boundary so onnxruntime can memory-map them. */
const PAGE = 4096;
const SMALL_ALIGN = 64;

/**
 * Appends tensors to an ONNX external data file one at a time, hashing as it goes (so the file is never re-read
 * for its sha256).
 */
export class DataFileWriter {
  private offset = 0;
  private readonly hash = createHash('sha256');

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<DataFileWriter> {
    return new DataFileWriter(await open(path, 'wx'));
  }

  get size(): number {
    return this.offset;
  }

  async write(view: ArrayBufferView): Promise<ExternalLocation> {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const align = bytes.length >= 1 << 20 ? PAGE : SMALL_ALIGN;
    const pad = (align - (this.offset % align)) % align;
    if (pad) await this.append(new Uint8Array(pad));
    const location = { offset: this.offset, length: bytes.length };
    await this.append(bytes);
    return location;
  }

  /** Flushes to disk and returns the file's sha256 (hex). */
  async close(): Promise<string> {
    await this.file.sync();
    await this.file.close();
    return this.hash.digest('hex');
  }

  /** Closes without flushing, after a failure. */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }

  private async append(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
    this.hash.update(bytes);
    this.offset += bytes.length;
  }
}
