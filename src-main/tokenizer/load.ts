import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TsuzukiError } from '../util/errors';

/** A model directory holds `spiece.model` (Hugging Face layout); a file path is used as is. */
export async function resolveModelFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new TsuzukiError('not_found', `${path} does not exist. Give a spiece.model file or the model folder that contains one.`);
  }
  if (!info.isDirectory()) return path;
  const file = join(path, 'spiece.model');
  try {
    await stat(file);
  } catch {
    throw new TsuzukiError('not_found', `${path} has no spiece.model. Give the SentencePiece model file itself or a folder that contains spiece.model.`);
  }
  return file;
}

export async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new TsuzukiError('not_found', `Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
