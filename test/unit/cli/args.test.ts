import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../../src-main/cli/args';

const options = { temperature: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } } as const;
const parse = (args: string[]) => parseCommandArgs('tsuzuki test [--temperature T] [--seed S] [--json] PROMPT', args, options);

describe('parseCommandArgs', () => {
  it('takes a negative number as the value of an option that has one, written with or without =', () => {
    expect(parse(['--temperature', '-1', 'x']).values.temperature).toBe('-1');
    expect(parse(['--seed', '-.5', 'x']).values.seed).toBe('-.5');
    expect(parse(['--temperature=-2', 'x']).values.temperature).toBe('-2');
  });

  it('leaves options and what follows -- alone', () => {
    const parsed = parse(['--json', '--seed', '3', '--', '--temperature', '-1']);
    expect(parsed.values).toEqual({ json: true, seed: '3' });
    expect(parsed.positionals).toEqual(['--temperature', '-1']);
    // A flag takes no value: the number after it stays an (unknown) option.
    expect(() => parse(['--json', '-1'])).toThrow(/Unknown option '-1'[\s\S]*Usage: tsuzuki test/);
  });
});
