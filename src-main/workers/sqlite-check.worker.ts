/** Checks a Tsuzuki database file (a backup) fully, off the main thread: a big file takes seconds. */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyBackup } from '../store/backups';

parentPort?.postMessage({ problem: verifyBackup((workerData as { path: string }).path) });
