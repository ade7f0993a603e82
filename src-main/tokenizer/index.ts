/**
 * SentencePiece (unigram) in TypeScript, token-for-token identical to the official library 0.1.97+
 * (what rinna's `T5Tokenizer(use_fast=False)` runs, with add_special_tokens=False).
 *
 *   const tok = await loadTokenizer('/models/rinna-1b');       // a spiece.model file or its folder
 *   tok.encode('吾輩は猫である。')                               // ids, as sp.encode(text)
 *   tok.decode(ids)                                            // as sp.decode(ids)
 *
 * For generation:
 *   - Context: `tok.encodeContext(text)` encodes with the newline strategy (engine/context.ts chooses how much
 *     of the text before the cursor to encode).
 *   - Output: `const d = tok.createStreamDecoder({ afterText: documentBeforeCursor })`, then `d.push(id)`
 *     per generated token and `d.end()` at the end; each call returns only text that can no longer change.
 *   - Line breaks: `tok.newline.mode` says what the model can do with them ('native' | 'piece' | 'lost');
 *     the strategy is documented on NewlineInfo. The writer's document is never modified by the tokenizer.
 *
 * Input text is UTF-16 JS strings, taken as their UTF-8 bytes (a lone surrogate, which has no UTF-8
 * form, becomes U+FFFD); a Uint8Array is taken as raw bytes, malformed UTF-8 included, exactly as the
 * library treats it. A model's denormalization rules (rare; spm_train --denormalization_rule_tsv) are
 * applied by decode() and by the stream decoder, which holds back as many bytes as the longest rule.
 */
import { readModelProto } from './model-proto';
import { readModelFile, resolveModelFile } from './load';
import { SentencePiece } from './sentencepiece';
import { Tokenizer } from './tokenizer';

export { Tokenizer } from './tokenizer';

/** Loads `spiece.model` (or the folder holding it). Corrupt or foreign files throw TsuzukiError naming the file. */
export async function loadTokenizer(pathToSpieceModelOrDir: string): Promise<Tokenizer> {
  const file = await resolveModelFile(pathToSpieceModelOrDir);
  return tokenizerFromBytes(await readModelFile(file), file);
}

/** Same from bytes already in memory; `file` names the source in error messages. */
function tokenizerFromBytes(bytes: Uint8Array, file: string): Tokenizer {
  return new Tokenizer(file, new SentencePiece(readModelProto(bytes, file), file));
}
