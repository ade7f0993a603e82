/**
 * Download overhead on loopback (no network limit): a random "weights" file served by the fake hub, downloaded
 * whole, then again after a drop at half way (the resume hashes the kept half first), then verified in the worker.
 * `npm run bench -- download [MiB]` (default 512).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '../../src-main/model/format/checksum';
import { downloadModel } from '../../src-main/model/hub/download';
import { FakeHub, randomBytesSeeded } from '../helpers/fake-hub';

export default async function (args: string[]): Promise<object> {
  const mib = Number(args[0] ?? 512);
  const size = mib << 20;
  process.stderr.write(`making ${mib} MiB of weights…\n`);
  const weights = randomBytesSeeded(size, 11);
  const repo = { id: 'bench/model', commit: 'f'.repeat(40), files: { 'config.json': '{}', 'spiece.model': randomBytesSeeded(1000), 'model.safetensors': weights } };
  const hub = await FakeHub.start([repo]);
  const dir = await mkdtemp(join(tmpdir(), 'tsuzuki-bench-'));
  const run = async (dest: string) => {
    const t = performance.now();
    await downloadModel({ repo: repo.id, dest, hfCacheDirs: [], clientOptions: { endpoint: hub.endpoint, env: {}, retryDelayMs: 1 } }).done;
    return (performance.now() - t) / 1000;
  };
  try {
    process.stderr.write('whole download…\n');
    const whole = await run(join(dir, 'a'));
    process.stderr.write('download with a drop at half way…\n');
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: size / 2 });
    const resumed = await run(join(dir, 'b'));
    process.stderr.write('verify in the worker…\n');
    const t = performance.now();
    await hashFile(join(dir, 'a', 'model.safetensors'), 'sha256');
    const verify = (performance.now() - t) / 1000;
    const mbps = (s: number) => Math.round(size / 1e6 / s);
    return {
      mib,
      wholeSeconds: +whole.toFixed(2),
      wholeMBps: mbps(whole),
      resumedSeconds: +resumed.toFixed(2),
      verifySeconds: +verify.toFixed(2),
      verifyMBps: mbps(verify),
      bytesServed: hub.servedTotal(),
    };
  } finally {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
}
