/**
 * File checksums as the hub publishes them: sha256 for LFS files (the LFS oid), and git's blob sha1
 * (`sha1("blob <size>\0" + bytes)`) for small files kept in git itself.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { startWorker } from '../../util/worker';
import { TsuzukiError } from '../../contract/errors';

export type DigestAlgorithm = 'sha256' | 'git-sha1';

export interface Digest {
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  value: string;
}

/** A running hash for a file of `size` bytes (git's blob hash needs the size up front). */
export function createDigester(algorithm: DigestAlgorithm, size: number): Hash {
  if (algorithm === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${size}\0`);
}

/** sha256 (64 hex digits) or git sha1 (40), told apart by length, as in the hub cache's blob names. */
export function digestFromHex(hex: string): Digest | null {
  const value = hex.toLowerCase().replace(/^"|"$/g, '');
  if (/^[0-9a-f]{64}$/.test(value)) return { algorithm: 'sha256', value };
  if (/^[0-9a-f]{40}$/.test(value)) return { algorithm: 'git-sha1', value };
  return null;
}

export interface HashRequest {
  path: string;
  algorithm: DigestAlgorithm;
}

export type HashMessage = { type: 'progress'; bytes: number } | { type: 'done'; hex: string; size: number } | { type: 'error'; message: string; code?: string };

const SMALL_FILE = 4 << 20;

/** Hashes a whole file in a worker thread (multi-GB weights must not block the main thread). */
export async function hashFile(
  path: string,
  algorithm: DigestAlgorithm,
  options: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {},
): Promise<{ hex: string; size: number }> {
  options.signal?.throwIfAborted();
  const { size } = await stat(path).catch((error: unknown) => {
    throw new TsuzukiError('not_found', `Cannot read ${path} to check its checksum: ${(error as Error).message}`);
  });
  options.signal?.throwIfAborted();
  // Configs and tokenizers are hashed in place: starting a thread would cost more than hashing them.
  if (size <= SMALL_FILE) {
    const data = await readFile(path);
    return { hex: createDigester(algorithm, data.length).update(data).digest('hex'), size: data.length };
  }
  const worker = startWorker('hash', { workerData: { path, algorithm } satisfies HashRequest });
  return new Promise((resolve, reject) => {
    const abort = () => {
      void worker.terminate();
      reject(options.signal?.reason ?? new TsuzukiError('cancelled', 'Checksum cancelled.'));
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    const finish = () => options.signal?.removeEventListener('abort', abort);
    worker.on('message', (message: HashMessage) => {
      if (message.type === 'progress') options.onBytes?.(message.bytes);
      else if (message.type === 'done') {
        finish();
        resolve({ hex: message.hex, size: message.size });
        void worker.terminate();
      } else {
        finish();
        reject(new TsuzukiError('corrupt_file', `Cannot read ${path}: ${message.message}`));
        void worker.terminate();
      }
    });
    worker.on('error', (error) => {
      finish();
      reject(new TsuzukiError('internal', `Checksum worker failed on ${path}: ${error.message}`, { cause: error }));
    });
  });
}

/**
 * What is wrong with the file at `path` (`missing`, its size, or its digest), or null when it is as expected.
 * The size is compared first: a truncated file is found without reading it.
 */
export async function fileProblem(path: string, expected: Digest, size: number, signal?: AbortSignal): Promise<string | null> {
  const actual = (await stat(path).catch(() => null))?.size;
  if (actual === undefined) return 'missing';
  if (actual !== size) return `size ${actual}, expected ${size}`;
  const { hex } = await hashFile(path, expected.algorithm, { signal });
  return hex === expected.value ? null : `${expected.algorithm} ${hex}, expected ${expected.value}`;
}

/** Whether the file at `path` has the expected digest. */
export async function verifyFile(path: string, expected: Digest, signal?: AbortSignal): Promise<boolean> {
  const { hex } = await hashFile(path, expected.algorithm, { signal });
  return hex === expected.value;
}
