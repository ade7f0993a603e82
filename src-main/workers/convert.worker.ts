/** Runs one checkpoint conversion (reading, quantizing, writing) off the main thread and posts its progress. */
import { parentPort, workerData } from 'node:worker_threads';
import { convertCheckpoint } from '../model/convert/convert';
import type { ConvertJobMessage, ConvertJobRequest } from '../model/convert/convert-job';
import { toErrorInfo } from '../contract/errors';

const request = workerData as ConvertJobRequest;
const post = (message: ConvertJobMessage) => parentPort?.postMessage(message);

try {
  const manifest = await convertCheckpoint(request.hfDir, request.outDir, {
    precision: request.precision,
    blockSize: request.blockSize,
    tableBlockSize: request.tableBlockSize,
    scales: request.scales,
    activationWeights: request.activationWeights,
    tempDir: request.tempDir,
    ...(request.source ? { source: request.source } : {}),
    onProgress: (progress) => post({ type: 'progress', progress }),
  });
  post({ type: 'done', manifest });
} catch (error) {
  post({ type: 'error', ...toErrorInfo(error) });
}
