import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/serve';

const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-serve-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tsuzuki(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin/tsuzuki.js'), ...args], { cwd: repoRoot, env: { ...process.env, TSUZUKI_HOME: dir } }, (error, _stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('tsuzuki serve', () => {
  it('refuses a non-loopback address before it creates anything (no database file appears)', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      const db = join(dir, `${host.replace(/\W/g, '_')}.db`);
      const { code, stderr } = await tsuzuki('serve', '--host', host, '--db', db, '--renderer', join(dir, 'no-renderer'));
      expect(code, host).not.toBe(0);
      expect(stderr, host).toContain(`Refusing to listen on ${host}`);
      expect(existsSync(db), host).toBe(false);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
