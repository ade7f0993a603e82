import { rm } from 'node:fs/promises';
import { TsuzukiError, type ErrorInfo } from '../../contract/errors';
import { startWorker } from '../../util/worker';
import { tempDirFor, type ConvertOptions, type ConvertProgress } from './convert';
import type { Manifest } from '../format/manifest';
import type { Precision } from './weights';

export interface ConvertJobRequest {
  hfDir: string;
  outDir: string;
  precision: Precision;
  blockSize?: number;
  tableBlockSize?: number;
  scales?: ConvertOptions['scales'];
  activationWeights?: boolean;
  tempDir: string;
  source?: ConvertOptions['source'];
}

export type ConvertJobMessage =
  | { type: 'progress'; progress: ConvertProgress }
  | { type: 'done'; manifest: Manifest }
  | ({ type: 'error' } & ErrorInfo);

/**
 * Converts in the `convert` worker thread (quantizing a 1.3B model takes minutes of CPU). Aborting stops the
 * worker and removes its temp folder; the output folder only ever appears complete.
 */
export async function convertInWorker(
  hfDir: string,
  outDir: string,
  options: Pick<ConvertOptions, 'precision' | 'blockSize' | 'tableBlockSize' | 'scales' | 'activationWeights' | 'onProgress' | 'source'> & { signal?: AbortSignal },
): Promise<Manifest> {
  options.signal?.throwIfAborted();
  const request: ConvertJobRequest = {
    hfDir,
    outDir,
    precision: options.precision,
    ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}),
    ...(options.tableBlockSize !== undefined ? { tableBlockSize: options.tableBlockSize } : {}),
    ...(options.scales !== undefined ? { scales: options.scales } : {}),
    ...(options.activationWeights !== undefined ? { activationWeights: options.activationWeights } : {}),
    tempDir: tempDirFor(outDir),
    ...(options.source ? { source: options.source } : {}),
  };
  const worker = startWorker('convert', { workerData: request });
  const cleanUp = () => rm(request.tempDir, { recursive: true, force: true }).catch(() => undefined);
  return new Promise<Manifest>((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', abort);
      action();
    };
    const abort = () =>
      settle(() => {
        void worker
          .terminate()
          .then(cleanUp)
          .then(() => reject(new TsuzukiError('cancelled', `Conversion into ${outDir} was cancelled; nothing was written.`)));
      });
    options.signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (message: ConvertJobMessage) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else if (message.type === 'done') settle(() => resolve(message.manifest));
      else settle(() => reject(new TsuzukiError(message.code, message.message)));
    });
    worker.on('error', (error) =>
      settle(() => {
        void cleanUp().then(() => reject(new TsuzukiError('internal', `The conversion worker failed: ${error.message}`, { cause: error })));
      }),
    );
    worker.on('exit', (code) =>
      settle(() => {
        void cleanUp().then(() => reject(new TsuzukiError('internal', `The conversion worker exited unexpectedly (code ${code}).`)));
      }),
    );
  });
}
