import { describe, expect, it } from 'vitest';
import { uprightRuns, uprightSegments } from '../../../src-main/manuscript/upright';

describe('縦中横', () => {
  it('sets exactly two half-width digits upright, not a part of a longer number', () => {
    expect(uprightRuns('12月25日')).toEqual([[0, 2], [3, 5]]);
    expect(uprightRuns('2024年、3人、100円')).toEqual([]);
    expect(uprightRuns('3.14と1,000と12.5')).toEqual([]);
    expect(uprightRuns('第12話。')).toEqual([[1, 3]]);
    expect(uprightRuns('１２と12')).toEqual([[3, 5]]);
  });

  it('sets !? !! ?! upright, but not a longer run of marks', () => {
    expect(uprightRuns('何!?')).toEqual([[1, 3]]);
    expect(uprightRuns('嘘!!')).toEqual([[1, 3]]);
    expect(uprightRuns('え?!')).toEqual([[1, 3]]);
    expect(uprightRuns('えっ!!!')).toEqual([]);
    expect(uprightRuns('え??と!')).toEqual([]);
  });

  it('cuts text into upright and other runs that join back into it', () => {
    const text = '第12話「何!?」';
    const segments = uprightSegments(text);
    expect(segments).toEqual([
      { text: '第', upright: false },
      { text: '12', upright: true },
      { text: '話「何', upright: false },
      { text: '!?', upright: true },
      { text: '」', upright: false },
    ]);
    expect(segments.map((s) => s.text).join('')).toBe(text);
    expect(uprightSegments('')).toEqual([]);
  });
});
