import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { craftedManifestFolder } from '../../helpers/crafted-model';
import { FakeHub, sha256, type FakeRepo } from '../../helpers/fake-hub';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'test/fixtures/model/tiny-safetensors-fp32');

let hub: FakeHub;
let repo: FakeRepo;
let dir: string;

beforeEach(async () => {
  const files: Record<string, Buffer> = {};
  for (const f of readdirSync(FIXTURE)) files[f] = readFileSync(join(FIXTURE, f));
  repo = { id: 'rinna/tiny-gpt2', commit: '4'.repeat(40), files };
  hub = await FakeHub.start([repo]);
  dir = await mkdtemp(join(tmpdir(), 'tsuzuki-cli-'));
});

afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): { child: ChildProcess; result: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(HF_|HUGGING|https?_proxy|HTTPS?_PROXY|NO_PROXY|no_proxy|TSUZUKI_)/.test(k)) env[k] = v;
  env.HF_HUB_CACHE = join(dir, 'empty-hf-cache');
  env.TSUZUKI_HOME = join(dir, 'home');
  const child = spawn(process.execPath, [join(ROOT, 'bin/tsuzuki.js'), ...args], { env, cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, result };
}

/** Waits (without a deadline of its own: the test timeout bounds it) until the partial file has `bytes`. */
async function partialReaches(path: string, bytes: number) {
  while (((await stat(path).catch(() => null))?.size ?? 0) < bytes) await sleep(50);
}

describe('tsuzuki download', () => {
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`is resumable by running it again after ${signal}`, async () => {
      const dest = join(dir, 'rinna');
      const weights = repo.files['model.safetensors'] as Buffer;
      hub.fault('model.safetensors', { kind: 'stall', afterBytes: 200_000 });
      const first = cli(['download', repo.id, dest, '--endpoint', hub.endpoint]);
      await partialReaches(join(dest, 'model.safetensors.partial'), 200_000);
      first.child.kill(signal);
      const interrupted = await first.result;
      if (signal === 'SIGINT') {
        expect(interrupted.code).toBe(130);
        expect(interrupted.stderr).toContain('run the same command again');
      }
      expect((await stat(join(dest, 'model.safetensors.partial'))).size).toBe(200_000);

      const again = await cli(['download', repo.id, dest, '--endpoint', hub.endpoint]).result;
      expect(again.code, again.stderr).toBe(0);
      const result = JSON.parse(again.stdout);
      expect(result.commit).toBe(repo.commit);
      expect(sha256(await readFile(join(dest, 'model.safetensors')))).toBe(sha256(weights));
      expect(hub.served.get('model.safetensors')).toBe(weights.length);
    });
  }

  it('reports hub errors with a non-zero exit and a helpful message', async () => {
    const missing = await cli(['download', 'rinna/missing', join(dir, 'x'), '--endpoint', hub.endpoint]).result;
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/not found/i);
    const usage = await cli(['download', repo.id]).result;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: tsuzuki download <repo-id> <dest> [--revision main] [--endpoint URL]');
  });
});

describe('tsuzuki models', () => {
  it('add, list, verify, use, remove', async () => {
    const empty = await cli(['models', 'list']).result;
    expect(JSON.parse(empty.stdout)).toEqual({ dir: join(dir, 'home', 'models'), models: [], active: null });

    const added = await cli(['models', 'add', repo.id, '--endpoint', hub.endpoint, '--precision', 'fp32']).result;
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ model: { id: 'rinna--tiny-gpt2', active: 'fp32' }, active: { id: 'rinna--tiny-gpt2', precision: 'fp32' } });

    const listed = JSON.parse((await cli(['models', 'list']).result).stdout);
    expect(listed.models.map((m: { id: string }) => m.id)).toEqual(['rinna--tiny-gpt2']);

    const verified = await cli(['models', 'verify']).result;
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout).ok).toBe(true);

    const used = await cli(['models', 'use', 'rinna--tiny-gpt2', '--precision', 'fp32']).result;
    expect(JSON.parse(used.stdout).active.precision).toBe('fp32');

    await rm(join(dir, 'home', 'models', 'rinna--tiny-gpt2', 'source', 'config.json'));
    const broken = await cli(['models', 'verify', 'rinna--tiny-gpt2']).result;
    expect(broken.code).toBe(3);
    expect(JSON.parse(broken.stdout).models[0].files.find((f: { path: string }) => f.path === 'config.json').problem).toBe('missing');

    const removed = await cli(['models', 'remove', 'rinna--tiny-gpt2', '--converted']).result;
    expect(JSON.parse(removed.stdout)).toEqual({ removed: 'rinna--tiny-gpt2', part: 'converted', precision: null });
    expect(JSON.parse((await cli(['models', 'list']).result).stdout).active).toBeNull();
    expect((await cli(['models', 'remove', 'rinna--tiny-gpt2']).result).code).toBe(0);
    expect(JSON.parse((await cli(['models', 'list']).result).stdout).models).toEqual([]);
    expect((await cli(['models', 'frobnicate']).result).code).toBe(2);
  });

  it('add <folder> refuses a folder whose manifest names a file outside it', async () => {
    const crafted = await craftedManifestFolder(join(dir, 'attack'));
    const refused = await cli(['models', 'add', crafted.folder]).result;
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('"../../../victim.txt" is not a plain file name');
    expect(await readFile(crafted.victim, 'utf8')).toBe(crafted.precious);
    expect(JSON.parse((await cli(['models', 'list']).result).stdout).models).toEqual([]);
  });
});
