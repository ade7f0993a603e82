/** Hashes one file (sha256 or git blob sha1) and posts progress, so the main thread stays responsive. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createDigester, type HashMessage, type HashRequest } from '../model/format/checksum';

const { path, algorithm } = workerData as HashRequest;
const post = (message: HashMessage) => parentPort?.postMessage(message);

try {
  const { size } = await stat(path);
  const hash = createDigester(algorithm, size);
  let bytes = 0;
  let reported = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes - reported >= 64 << 20) {
      reported = bytes;
      post({ type: 'progress', bytes });
    }
  }
  post({ type: 'done', hex: hash.digest('hex'), size: bytes });
} catch (error) {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error), code: (error as { code?: string }).code });
}
