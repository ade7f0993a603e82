import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CLASSES, exitStatusOf } from '../../../src-main/cli/exit-status';
import { ERROR_CODES, TsuzukiError } from '../../../src-main/contract/errors';
import { repoRoot } from '../../helpers/serve';

const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tsuzuki(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, TSUZUKI_HOME: dir, TSUZUKI_DEBUG: '' };
    execFile(process.execPath, [join(repoRoot, 'bin/tsuzuki.js'), ...args], { cwd: repoRoot, env }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('exit status per class of error', () => {
  it('every error code belongs to exactly one class', () => {
    const classed = EXIT_CLASSES.flatMap((c) => c.codes);
    expect([...classed].sort()).toEqual([...ERROR_CODES].sort());
    expect(new Set(EXIT_CLASSES.map((c) => c.status)).size).toBe(EXIT_CLASSES.length);
  });

  it('usage 2, files 3, disk 4, network 5, cancelled 130, anything unexpected 1', () => {
    const status = (code: (typeof ERROR_CODES)[number]) => exitStatusOf(new TsuzukiError(code, 'x'));
    expect(status('invalid_argument')).toBe(2);
    expect(status('no_model')).toBe(3);
    expect(status('not_found')).toBe(3);
    expect(status('corrupt_file')).toBe(3);
    expect(status('disk_full')).toBe(4);
    expect(status('read_only')).toBe(4);
    expect(status('network')).toBe(5);
    expect(status('cancelled')).toBe(130);
    expect(status('internal')).toBe(1);
    expect(exitStatusOf(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }))).toBe(4);
    // A RangeError says nothing about the user's input: it is a bug, not a usage error.
    expect(exitStatusOf(new RangeError('block size must divide n_embd'))).toBe(1);
    expect(exitStatusOf('thrown text')).toBe(1);
  });
});

describe('the real tsuzuki', () => {
  it('a bad argument: the message on stderr and exit status 2', async () => {
    const r = await tsuzuki('generate', '--model', dir, '--frobnicate', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tsuzuki generate: Unknown option '--frobnicate'/);
    const port = await tsuzuki('serve', '--port', '70000', '--db', join(dir, 'x.db'));
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^tsuzuki serve: --port must be 0–65535, got 70000\n/);
    expect(port.stderr).not.toMatch(/unexpected|at .*\.ts/);
  });

  it('a missing model folder: what to do on stderr and exit status 3', async () => {
    const r = await tsuzuki('logits', '--model', join(dir, 'no-such-model'), '--ids', '1,2');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^tsuzuki logits: .*no-such-model is not a converted model folder\. Convert a model with `tsuzuki convert/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help documents each exit status', async () => {
    const r = await tsuzuki('--help');
    expect(r.code).toBe(0);
    for (const c of EXIT_CLASSES) expect(r.stdout).toContain(`${String(c.status).padStart(3)}  ${c.meaning}`);
    expect(r.stdout).toMatch(/Exit status:\n\s+0 {2}success\n/);
  });
});
