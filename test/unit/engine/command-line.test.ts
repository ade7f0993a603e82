import { describe, expect, it } from 'vitest';
import { checkCommandLine, MAX_COMMAND_LINE_BYTES } from '../../../src-main/engine/command-line';

describe('checkCommandLine', () => {
  it('lets a command line up to the bound through, and refuses a longer one with what to do instead', () => {
    expect(() => checkCommandLine(() => Buffer.alloc(MAX_COMMAND_LINE_BYTES))).not.toThrow();
    expect(() => checkCommandLine(() => null)).not.toThrow();
    expect(() => checkCommandLine(() => Buffer.alloc(MAX_COMMAND_LINE_BYTES + 1))).toThrow(
      /command line is 8,193 bytes long.*Give long text in a file or on standard input/,
    );
  });

  it("reads this process's own command line, which is short", () => {
    expect(() => checkCommandLine()).not.toThrow();
  });
});
