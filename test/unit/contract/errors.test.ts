import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { errorInfoSchema, toErrorInfo, TsuzukiError, type ErrorCode, type ErrorInfo } from '../../../src-main/contract/errors';

const systemError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('toErrorInfo: anything thrown, as one of the contract codes', () => {
  it('a TsuzukiError keeps its code and message, with no detail', () => {
    expect(toErrorInfo(new TsuzukiError('no_model', 'There is no model.'))).toEqual({ code: 'no_model', message: 'There is no model.' });
  });

  it('a schema failure is invalid_payload, naming the field', () => {
    const parsed = z.object({ n: z.number() }).safeParse({ n: 'x' });
    expect(toErrorInfo(parsed.error)).toEqual({ code: 'invalid_payload', message: expect.stringMatching(/^n: /) });
  });

  it('a Node system error is classed by its errno, its message kept', () => {
    const cases: [string, ErrorCode][] = [
      ['ENOSPC', 'disk_full'],
      ['EFBIG', 'disk_full'],
      ['EROFS', 'read_only'],
      ['EACCES', 'read_only'],
      ['ENOENT', 'not_found'],
      ['EADDRINUSE', 'busy'],
      ['ECONNREFUSED', 'network'],
    ];
    for (const [errno, code] of cases) {
      expect(toErrorInfo(systemError(errno, `${errno}: it failed`)), errno).toEqual({ code, message: `${errno}: it failed` });
    }
  });

  it('an abort is cancelled', () => {
    const aborted = AbortSignal.abort();
    expect(toErrorInfo(aborted.reason)).toMatchObject({ code: 'cancelled' });
  });

  it('a RangeError (or any other exception) is internal with its own message and stack, never a usage error', () => {
    const error = new RangeError('Array buffer allocation failed');
    const info = toErrorInfo(error);
    expect(info).toEqual({ code: 'internal', message: 'Array buffer allocation failed', detail: error.stack });
    expect(info.detail).toMatch(/^RangeError: Array buffer allocation failed\n\s+at /);
    expect(toErrorInfo(new TypeError('x is undefined'))).toMatchObject({ code: 'internal', message: 'x is undefined' });
    expect(toErrorInfo(systemError('EWHATEVER', 'odd'))).toMatchObject({ code: 'internal', message: 'odd' });
  });

  it('a thrown value that is no Error is internal, printed without throwing', () => {
    expect(toErrorInfo('plain text')).toEqual({ code: 'internal', message: 'plain text' });
    expect(toErrorInfo(null)).toEqual({ code: 'internal', message: 'null' });
    expect(toErrorInfo(Object.create(null))).toEqual({ code: 'internal', message: '(object)' });
  });

  it('what it gives always passes the contract schema', () => {
    for (const thrown of [new TsuzukiError('busy', 'b'), new RangeError('r'), 'x', systemError('ENOSPC', 'full')]) {
      expect(errorInfoSchema.safeParse(toErrorInfo(thrown)).success).toBe(true);
    }
    expect(errorInfoSchema.safeParse({ code: 'made_up', message: 'x' }).success).toBe(false);
  });

  it('the contract types the code as the union of ERROR_CODES, not string', () => {
    expectTypeOf<ErrorInfo['code']>().toEqualTypeOf<ErrorCode>();
    // @ts-expect-error: a code outside the list is a type error
    const made: ErrorInfo = { code: 'made_up', message: 'x' };
    expect(made.code).toBe('made_up');
  });
});
