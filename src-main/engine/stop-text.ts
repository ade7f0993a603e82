/**
 * Where a streamed continuation stops in its text: at the first stop string (excluded from the text, as in most
 * completion APIs), or — when asked — at the end of the first sentence (。！？ or 」, with the closing brackets and
 * marks right after it, so that 。」 and ！？ stay whole). A quotation the continuation opens is one sentence to its
 * close: 「おはよう。いい天気だ」 is not cut after おはよう。. Text that might turn out to be the start of a stop
 * string is held back, so a delta never has to be taken back.
 */
const SENTENCE_END = new Set(['。', '！', '？', '!', '?']);
const QUOTE_OPEN = new Set(['「', '『']);
const QUOTE_CLOSE = new Set(['」', '』']);
/** Characters that still belong to a sentence that has just ended. */
const CLOSERS = new Set(['」', '』', '）', ')', '】', '〕', '〉', '》', '。', '！', '？', '!', '?', '”', '’']);

export class StopText {
  private held = '';
  private sentenceEnded = false;
  /** Quotations opened in the continuation and not yet closed. */
  private quotes = 0;
  stopped = false;

  constructor(
    private readonly stopStrings: string[],
    private readonly endOfSentence: boolean,
  ) {}

  /** Takes newly decoded text; returns what may be shown now. Sets `stopped` once the text is complete. */
  push(piece: string): string {
    if (this.stopped || piece === '') return '';
    this.held += piece;
    let cut = -1;
    for (const s of this.stopStrings) {
      const at = this.held.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    let ready: string;
    if (cut >= 0) {
      ready = this.held.slice(0, cut);
      this.held = '';
      this.stopped = true;
    } else {
      const keep = this.partialStopLength();
      ready = this.held.slice(0, this.held.length - keep);
      this.held = this.held.slice(this.held.length - keep);
    }
    return this.sentence(ready);
  }

  /** The end of generation (EOS, length, cancel): what was held back is plain text after all. */
  end(): string {
    if (this.stopped) return '';
    const rest = this.sentence(this.held);
    this.held = '';
    return rest;
  }

  /** Length of the longest tail of `held` that is a proper prefix of a stop string. */
  private partialStopLength(): number {
    let best = 0;
    for (const s of this.stopStrings) {
      for (let n = Math.min(s.length - 1, this.held.length); n > best; n--) {
        if (this.held.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }

  private sentence(text: string): string {
    if (!this.endOfSentence) return text;
    let i = 0;
    for (const ch of text) {
      if (this.sentenceEnded && !CLOSERS.has(ch)) {
        this.stopped = true;
        return text.slice(0, i);
      }
      if (QUOTE_OPEN.has(ch)) this.quotes++;
      else if (QUOTE_CLOSE.has(ch)) {
        // A close with none open closes a quotation begun before the cursor: that line of dialogue ends too.
        this.quotes = Math.max(0, this.quotes - 1);
        if (this.quotes === 0) this.sentenceEnded = true;
      } else if (SENTENCE_END.has(ch) && this.quotes === 0) this.sentenceEnded = true;
      i += ch.length;
    }
    return text;
  }

  /** True when the sentence has ended and only closing marks may still follow. */
  get awaitingClosers(): boolean {
    return this.sentenceEnded && !this.stopped;
  }
}
