import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TsuzukiError } from '../contract/errors';

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

/**
 * No SentencePiece model is this large (a 256,000-piece vocabulary takes a few megabytes): a larger file is refused
 * before it is read into memory.
 */
const MAX_MODEL_BYTES = 64 << 20;

export async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    const { size } = await stat(file);
    if (size > MAX_MODEL_BYTES) {
      throw new TsuzukiError(
        'corrupt_file',
        `${file} is ${size} bytes, larger than any SentencePiece model (at most ${MAX_MODEL_BYTES} bytes are read), so it is not a usable SentencePiece model. Use the spiece.model file that came with the model, or download the model again.`,
      );
    }
    return new Uint8Array(await readFile(file));
  } catch (error) {
    if (error instanceof TsuzukiError) throw error;
    throw new TsuzukiError('not_found', `Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
