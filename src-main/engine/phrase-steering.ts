/**
 * Banned phrases and phrase biases (AIのべりすと's 禁止ワード, NovelAI's Banned Tokens and Phrase Bias), applied by the
 * sampler to every alternative's row.
 *
 * Bias, as Hugging Face's SequenceBiasLogitsProcessor: each phrase stands for every tokenization the tokenizer can
 * produce of it as typed and after a space; a one-token spelling's token is biased at every step, a longer one's
 * last token when the text so far (prompt and output) ends with the rest of it. Biases of different phrases add up.
 *
 * Ban, at the level of text, so that a banned phrase never appears in the output whichever tokens spell it: a token
 * is impossible when its text would complete a banned phrase, either inside the token (found once per request) or
 * across the boundary, starting in the text already there (the context's tail included) and ending in the token.
 * The phrases form an Aho–Corasick automaton: the row's state after the text so far names every suffix of the text
 * that begins a phrase, and the tokens whose text starts with that phrase's remainder are a range of the vocabulary
 * sorted by text. A step costs, per row: the suffixes that begin a phrase (at most the longest phrase's length) ×
 * their remainders × two binary searches (~16 comparisons each) plus the tokens banned; with byte fallback, a look
 * at the 256 byte tokens (each may complete a character); and one automaton transition per character written.
 * A banned phrase also bans its normalized form (ﾈｺ → ネコ), the text the model writes for it.
 */
import type { PhraseBias } from '../contract/document-aids';
import type { Tokenizer } from '../tokenizer';
import { neededLen, utf8Decode, validCharLen } from '../tokenizer/utf8';

/** Tokenizations enumerated per phrase spelling (as typed, after a space). */
const MAX_TOKENIZATIONS = 32;

/** What steering needs of a tokenizer, computed once per tokenizer. */
class SteeringVocabulary {
  /** Each token's text in the middle of a text; null for byte pieces. */
  readonly texts: (string | null)[];
  /** Ids of the tokens with text, in ascending order of their text (UTF-16 code units). */
  readonly sorted: Int32Array;
  /** [id, byte] of each byte piece. */
  readonly bytePieces: [number, number][] = [];

  constructor(readonly tokenizer: Tokenizer) {
    this.texts = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.outputText(id));
    const ids: number[] = [];
    this.texts.forEach((t, id) => {
      if (t === null) this.bytePieces.push([id, tokenizer.byteOf(id)]);
      else if (t.length > 0) ids.push(id);
    });
    ids.sort((a, b) => (this.texts[a]! < this.texts[b]! ? -1 : this.texts[a]! > this.texts[b]! ? 1 : 0));
    this.sorted = Int32Array.from(ids);
  }

  /** Sets -Infinity on every token whose text starts with `prefix`. */
  banPrefix(scores: Float32Array, prefix: string): void {
    const { sorted, texts } = this;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (texts[sorted[mid]!]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length; i++) {
      const id = sorted[i]!;
      if (!texts[id]!.startsWith(prefix)) break;
      scores[id] = -Infinity;
    }
  }
}

const vocabularies = new WeakMap<Tokenizer, SteeringVocabulary>();
function vocabularyOf(tokenizer: Tokenizer): SteeringVocabulary {
  let v = vocabularies.get(tokenizer);
  if (!v) vocabularies.set(tokenizer, (v = new SteeringVocabulary(tokenizer)));
  return v;
}

/** Aho–Corasick over the banned phrases, by UTF-16 code unit. Node 0 is the root (the empty text). */
class PhraseAutomaton {
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** A phrase ends here or at a suffix of here (the text up to this node contains a phrase). */
  private readonly complete: boolean[] = [false];
  /** For each node, the rest of each phrase that starts with the node's text (non-empty). */
  readonly remainders: string[][] = [[]];
  readonly longest: number;

  constructor(phrases: string[]) {
    for (const p of phrases) {
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        let next = this.children[node]!.get(p.charCodeAt(i));
        if (next === undefined) {
          next = this.children.length;
          this.children.push(new Map());
          this.fail.push(0);
          this.complete.push(false);
          this.remainders.push([]);
          this.children[node]!.set(p.charCodeAt(i), next);
        }
        node = next;
        if (i + 1 < p.length) this.remainders[node]!.push(p.slice(i + 1));
      }
      this.complete[node] = true;
    }
    for (const r of this.remainders) r.splice(0, r.length, ...new Set(r));
    // Breadth first, so each node's failure link (its longest proper suffix in the trie) is final before its children's.
    const queue = [...this.children[0]!.values()];
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!;
      this.complete[node] ||= this.complete[this.fail[node]!]!;
      for (const [c, child] of this.children[node]!) {
        this.fail[child] = this.step(this.fail[node]!, c);
        queue.push(child);
      }
    }
    this.longest = Math.max(0, ...phrases.map((p) => p.length));
  }

  /** The state after code unit `c` from `node`. */
  step(node: number, c: number): number {
    for (;;) {
      const next = this.children[node]!.get(c);
      if (next !== undefined) return next;
      if (node === 0) return 0;
      node = this.fail[node]!;
    }
  }

  /** The state after `text` from `node`. */
  run(node: number, text: string): number {
    for (let i = 0; i < text.length; i++) node = this.step(node, text.charCodeAt(i));
    return node;
  }

  /** Whether `text` written after the text of `node` completes a phrase. */
  completes(node: number, text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      node = this.step(node, text.charCodeAt(i));
      if (this.complete[node]) return true;
    }
    return false;
  }

  /** The longest proper suffix of the node's text that begins a phrase (0: none). */
  suffixOf(node: number): number {
    return this.fail[node]!;
  }
}

interface SequenceBias {
  /** The tokens that must precede `last` (empty: always). */
  prefix: number[];
  last: number;
  bias: number;
}

export interface SteeringLists {
  bannedPhrases: readonly string[];
  phraseBiases: readonly PhraseBias[];
}

/**
 * One request's steering: built once from the lists, the tokenizer and the text the output continues (the
 * context's text); each alternative gets a `row`.
 */
export class PhraseSteering {
  private readonly vocab: SteeringVocabulary;
  private readonly automaton: PhraseAutomaton | null;
  /** Tokens whose own text contains a banned phrase. */
  private readonly alwaysBanned: Int32Array;
  private readonly biases: SequenceBias[];
  private readonly startState: number;
  /** The continuation's first ▁ is dropped (see the stream decoder's afterText rule). */
  private readonly dropsFirstSpace: boolean;

  constructor(tokenizer: Tokenizer, lists: SteeringLists, afterText: string) {
    this.vocab = vocabularyOf(tokenizer);
    const banned = [...new Set(lists.bannedPhrases.flatMap((p) => [p, tokenizer.normalizedText(p)]).filter((p) => p.length > 0))];
    this.automaton = banned.length > 0 ? new PhraseAutomaton(banned) : null;
    const always: number[] = [];
    if (this.automaton) {
      const a = this.automaton;
      this.vocab.texts.forEach((t, id) => {
        if (t && a.completes(0, t)) always.push(id);
      });
    }
    this.alwaysBanned = Int32Array.from(always);
    this.biases = sequenceBiases(tokenizer, lists.phraseBiases);
    // Only the tail that could start a phrase matters.
    const tail = this.automaton ? afterText.slice(Math.max(0, afterText.length - this.automaton.longest)) : '';
    this.startState = this.automaton ? this.automaton.run(0, tail) : 0;
    this.dropsFirstSpace = afterText.length === 0 || /\s$/u.test(afterText);
  }

  row(promptIds: ArrayLike<number>): SteeringRow {
    return new SteeringRow(this.vocab, this.automaton, this.alwaysBanned, this.biases, this.startState, this.dropsFirstSpace, promptIds);
  }
}

/** Every tokenization of every biased phrase, each once per phrase. */
function sequenceBiases(tokenizer: Tokenizer, phraseBiases: readonly PhraseBias[]): SequenceBias[] {
  return phraseBiases
    .filter((b) => b.bias !== 0)
    .flatMap(({ phrase, bias }) =>
      tokenizer.phraseTokenizations(phrase, MAX_TOKENIZATIONS).map((ids) => ({ prefix: ids.slice(0, -1), last: ids[ids.length - 1]!, bias })),
    );
}

/** The steering of one alternative: remembers its tokens, the automaton's state and the bytes of an unfinished character. */
export class SteeringRow {
  private readonly ids: number[];
  private state: number;
  private written = false;
  private pending: number[] = [];

  constructor(
    private readonly vocab: SteeringVocabulary,
    private readonly automaton: PhraseAutomaton | null,
    private readonly alwaysBanned: Int32Array,
    private readonly biases: SequenceBias[],
    startState: number,
    private readonly dropsFirstSpace: boolean,
    promptIds: ArrayLike<number>,
  ) {
    this.ids = Array.from(promptIds);
    this.state = startState;
  }

  /** SequenceBiasLogitsProcessor: adds each matching sequence's bias to its last token. */
  bias(scores: Float32Array): void {
    const ids = this.ids;
    for (const { prefix, last, bias } of this.biases) {
      if (prefix.length > ids.length) continue;
      let match = true;
      for (let i = prefix.length - 1, j = ids.length - 1; i >= 0; i--, j--) {
        if (prefix[i] !== ids[j]) {
          match = false;
          break;
        }
      }
      if (match) scores[last] = scores[last]! + Math.fround(bias);
    }
  }

  /** Makes impossible every token whose text would complete a banned phrase. */
  ban(scores: Float32Array): void {
    const a = this.automaton;
    if (!a) return;
    for (let i = 0; i < this.alwaysBanned.length; i++) scores[this.alwaysBanned[i]!] = -Infinity;
    // Before anything is written a token's leading space may be dropped, so its text may start one character later.
    const atStart = !this.written && this.dropsFirstSpace;
    // Every suffix of the text so far that begins a phrase: the token must not start with that phrase's rest.
    for (let node = this.state; node !== 0; node = a.suffixOf(node)) {
      for (const rest of a.remainders[node]!) {
        this.vocab.banPrefix(scores, rest);
        if (atStart) this.vocab.banPrefix(scores, ' ' + rest);
      }
    }
    for (const [id, byte] of this.vocab.bytePieces) {
      const char = this.completedChar(byte);
      if (char !== null && a.completes(this.state, char)) scores[id] = -Infinity;
    }
  }

  /** The character the pending bytes and `byte` complete, or null (most bytes: checked before anything is allocated). */
  private completedChar(byte: number): string | null {
    const length = this.pending.length + 1;
    if (neededLen(this.pending[0] ?? byte) !== length) return null;
    const bytes = Uint8Array.from([...this.pending, byte]);
    return validCharLen(bytes, 0, length) === length ? utf8Decode(bytes) : null;
  }

  /** Records a sampled token and the text the stream decoder wrote for it. */
  observe(id: number, text: string): void {
    this.ids.push(id);
    if (text.length > 0) this.written = true;
    if (!this.automaton) return;
    const byte = this.vocab.texts[id] === null ? this.vocab.tokenizer.byteOf(id) : -1;
    // Bytes wait for their character; the decoder writes it (or U+FFFD) once it is complete or cannot be.
    this.pending = byte >= 0 && text.length === 0 ? [...this.pending, byte] : [];
    this.state = this.automaton.run(this.state, text);
  }
}
