import { describe, expect, it } from 'vitest';
import { StopText } from '../../../src-main/engine/stop-text';

/** Feeds pieces one by one; returns the deltas and whether it stopped. */
function run(pieces: string[], stopStrings: string[], endOfSentence = false) {
  const stop = new StopText(stopStrings, endOfSentence);
  const deltas: string[] = [];
  let consumed = 0;
  for (const p of pieces) {
    if (stop.stopped) break;
    deltas.push(stop.push(p));
    consumed++;
  }
  if (!stop.stopped) deltas.push(stop.end());
  return { text: deltas.join(''), deltas, stopped: stop.stopped, consumed };
}

describe('stop strings', () => {
  it('cuts before the stop string, across pieces, without emitting a part of it', () => {
    const r = run(['彼は', '言った', '\n', '\n次'], ['\n\n']);
    expect(r.text).toBe('彼は言った');
    expect(r.stopped).toBe(true);
    expect(r.deltas).toEqual(['彼は', '言った', '', '']);
  });
  it('releases held text when it turns out not to be a stop string', () => {
    const r = run(['あい', '\n', 'う'], ['\n\n']);
    expect(r.deltas).toEqual(['あい', '', '\nう', '']);
    expect(r.stopped).toBe(false);
  });
  it('releases held text at the end of the generation', () => {
    expect(run(['あい', '\n'], ['\n\n']).text).toBe('あい\n');
  });
  it('the earliest of several stop strings wins', () => {
    expect(run(['abcXdefY'], ['Y', 'X']).text).toBe('abc');
  });
});

describe('end of sentence', () => {
  it('stops after 。 when the next text starts a new sentence', () => {
    const r = run(['今日は', '晴れ', '。', '明日', 'は'], [], true);
    expect(r.text).toBe('今日は晴れ。');
    expect(r.consumed).toBe(4);
  });
  it('keeps closing brackets and marks that follow', () => {
    expect(run(['「そうだ', '。', '」', 'と言った'], [], true).text).toBe('「そうだ。」');
    expect(run(['本当', '！？', 'まさか'], [], true).text).toBe('本当！？');
    expect(run(['はい」と', '言った。'], [], true).text).toBe('はい」');
  });
  it('a quotation the continuation opens ends at its close, not at a sentence end inside it', () => {
    expect(run(['「おはよう。', '今日は', '晴れだね」', 'と言った。'], [], true).text).toBe('「おはよう。今日は晴れだね」');
    expect(run(['「本に『あ。い』と', 'ある。」', '彼は'], [], true).text).toBe('「本に『あ。い』とある。」');
    // Its close ends the sentence, as 」 always does.
    expect(run(['「うん」と', '言った。', 'それ'], [], true).text).toBe('「うん」');
    expect(run(['彼は「うん」と言った', 'らしい。', '次'], [], true).text).toBe('彼は「うん」');
  });
  it('a sentence end inside a piece cuts the piece', () => {
    expect(run(['晴れ。明日'], [], true).text).toBe('晴れ。');
  });
  it('works together with stop strings', () => {
    expect(run(['あ\n\nい。'], ['\n\n'], true).text).toBe('あ');
    expect(run(['あ。\n\n'], ['\n\n'], true).text).toBe('あ。');
  });
  it('off: the text runs on', () => {
    expect(run(['晴れ。', '明日'], [], false).text).toBe('晴れ。明日');
  });
});
