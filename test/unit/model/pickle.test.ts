import { existsSync, readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStateDictPickle } from '../../../src-main/model/format/pickle';
import { readZipEntries, readZipEntry } from '../../../src-main/model/format/zip';
import { TsuzukiError } from '../../../src-main/contract/errors';

const FILES = join(import.meta.dirname, '../../fixtures/model/files');
const PWNED = '/tmp/tsuzuki-pickle-pwned';

/** Protocol-2 pickle bytes from opcodes and operands. */
function pickle(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)));
  return new Uint8Array(Buffer.concat([Buffer.from([0x80, 0x02]), ...chunks]));
}
const unicode = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([Buffer.from('X'), len, b]);
};
const global = (module: string, name: string): string => `c${module}\n${name}\n`;
const ORDERED_DICT = global('collections', 'OrderedDict') + ')R';
/** `_rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 6), 0, (2, 3), (3, 1), False, OrderedDict())` */
const TENSOR = [
  global('torch._utils', '_rebuild_tensor_v2'),
  '((',
  unicode('storage'),
  global('torch', 'FloatStorage'),
  unicode('0'),
  unicode('cpu'),
  'K\x06tQ',
  'K\x00K\x02K\x03\x86K\x03K\x01\x86\x89',
  ORDERED_DICT,
  'tR',
];

function refusal(data: Uint8Array): TsuzukiError {
  try {
    loadStateDictPickle(data, '/m/pytorch_model.bin');
  } catch (error) {
    expect(error).toBeInstanceOf(TsuzukiError);
    return error as TsuzukiError;
  }
  throw new Error('the pickle was accepted');
}

describe('loadStateDictPickle', () => {
  beforeAll(() => rm(PWNED, { force: true }));

  it('reads a state dict of tensors', () => {
    const data = pickle(ORDERED_DICT, '(', unicode('a'), ...TENSOR, 'u.');
    const dict = loadStateDictPickle(data, 'f');
    expect([...dict.keys()]).toEqual(['a']);
    expect(dict.get('a')).toEqual({ storage: { key: '0', dtype: 'F32', numel: 6 }, storageOffset: 0, shape: [2, 3], strides: [3, 1] });
  });

  it('accepts _rebuild_parameter around a tensor and the _metadata BUILD', () => {
    const data = pickle(
      ORDERED_DICT,
      unicode('p'),
      global('torch._utils', '_rebuild_parameter'),
      '(',
      ...TENSOR,
      '\x88',
      ORDERED_DICT,
      'tR',
      's}',
      unicode('_metadata'),
      ORDERED_DICT,
      'sb.',
    );
    expect(loadStateDictPickle(data, 'f').get('p')?.shape).toEqual([2, 3]);
  });

  it.each([
    ['malicious-os-system.pkl', 'posix.system'],
    ['malicious-eval.pkl', '__builtin__.eval'],
  ])('refuses %s before calling anything (%s)', (file, target) => {
    const error = refusal(readFileSync(join(FILES, file)));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain(target);
    expect(error.message).toContain('/m/pytorch_model.bin');
    expect(error.message).toMatch(/refuses to run code/);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('refuses the INST opcode', () => {
    const error = refusal(readFileSync(join(FILES, 'malicious-inst.pkl')));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain('opcode 0x69');
  });

  it('refuses an unknown opcode as damage', () => {
    const error = refusal(readFileSync(join(FILES, 'unknown-opcode.pkl')));
    expect(error.code).toBe('corrupt_file');
    expect(error.message).toContain('unknown or unsupported pickle opcode 0xfe at byte 2');
  });

  it.each([
    ['a storage type called as a function', [global('torch', 'FloatStorage'), ')R.']],
    ['OrderedDict with arguments', [global('collections', 'OrderedDict'), unicode('x'), '\x85R.']],
    ['a call to a computed value', [unicode('x'), ')R.']],
    ['NEWOBJ', [global('collections', 'OrderedDict'), ')\x81.']],
    ['OBJ', ['(', global('collections', 'OrderedDict'), 'o.']],
    ['EXT1', ['\x82\x01.']],
    ['BUILD on a tensor', [...TENSOR, '}b.']],
    ['a persistent id that is not a storage', [unicode('file'), '\x85Q.']],
    ['STACK_GLOBAL to os.system', [unicode('os'), unicode('system'), '\x93.']],
    ['a torch global outside the allowlist', [global('torch', 'load'), '.']],
  ])('refuses %s', (_, parts) => {
    expect(refusal(pickle(...(parts as string[]))).code).toBe('unsupported');
  });

  it('refuses results that are not a state dict', () => {
    expect(refusal(pickle(']', '.')).message).toMatch(/does not hold a state dict/);
    expect(refusal(pickle('}', unicode('a'), 'K\x01s.')).message).toMatch(/entry a of the state dict is not a tensor/);
  });

  it('reports truncation and stack damage as corrupt', () => {
    const whole = pickle(ORDERED_DICT, '(', unicode('a'), ...TENSOR, 'u.');
    expect(refusal(whole.subarray(0, whole.length - 5)).code).toBe('corrupt_file');
    expect(refusal(pickle('0.')).message).toMatch(/stack underflow/);
    expect(refusal(pickle('h\x05.')).message).toMatch(/memo entry 5 is missing/);
  });

  it('never fails other than with a TsuzukiError on damaged torch pickles', async () => {
    const file = join(import.meta.dirname, '../../fixtures/model/tiny-pytorch-fp32/pytorch_model.bin');
    const handle = await open(file, 'r');
    const entries = await readZipEntries(handle, file, (await handle.stat()).size);
    const good = new Uint8Array(await readZipEntry(handle, file, entries.get('pytorch_model/data.pkl')!));
    await handle.close();
    expect(loadStateDictPickle(good, file).size).toBe(33);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: good.length }),
        (edits, cut) => {
          const data = good.slice(0, Math.max(cut, 1));
          for (const [at, byte] of edits) if (at < data.length) data[at] = byte;
          try {
            loadStateDictPickle(data, file);
          } catch (error) {
            if (!(error instanceof TsuzukiError)) throw error;
          }
        },
      ),
      { numRuns: 500, seed: 4 },
    );
  });
});
