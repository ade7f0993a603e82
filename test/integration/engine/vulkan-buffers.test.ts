/**
 * The Vulkan buffer log (test/helpers/vulkan-buffers.ts) on a real WebGPU session: what it counts is what
 * onnxruntime's buffer cache does. Runs where a WebGPU adapter exists and the layer builds; skipped, saying why,
 * elsewhere.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VK_BUFFER_USAGE_STORAGE, vulkanBufferLog, type BufferRecord } from '../../helpers/vulkan-buffers';
import { webgpuSkipReason } from '../../helpers/webgpu';

const noAdapter = await webgpuSkipReason();
const log = await vulkanBufferLog();
const skip = noAdapter ?? ('skip' in log ? log.skip : null);

const child = fileURLToPath(new URL('./vulkan-buffers.child.ts', import.meta.url));
const storage = (records: BufferRecord[]) => records.filter((r) => r.kind === 'create' && r.usage & VK_BUFFER_USAGE_STORAGE);

describe('the Vulkan buffer log', () => {
  it('counts the storage buffers a WebGPU session creates: for new shapes only, none for a repeated run', async ({ skip: skipTest }) => {
    skipTest(skip !== null, skip ?? undefined);
    if ('skip' in log) return;
    const rows = [8, 8, 8, 64, 64, 8];
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, ...rows.map(String)], {
      env: { ...process.env, ...log.env },
    });
    const steps = stdout.trim().split('\n').map((line) => JSON.parse(line) as { step: string; rows?: number; records: BufferRecord[] });
    const [session, ...runs] = steps.slice(0, -1);
    // The weight is uploaded with the session.
    expect(storage(session!.records).map((r) => r.size)).toEqual([64 * 64 * 4]);
    expect(runs.map((r) => r.rows)).toEqual(rows);
    const created = runs.map((r) => storage(r.records).length);
    // A first run of a shape makes its input, intermediate and output; a repeat, or a return to a shape seen
    // before, takes them from the cache.
    expect(created[0]).toBeGreaterThan(0);
    expect(created[3]).toBeGreaterThan(0);
    expect(created.filter((_, i) => i !== 0 && i !== 3)).toEqual([0, 0, 0, 0]);
    // The parent's view of the log is the child's, run after run.
    expect(await log.records()).toEqual(steps.flatMap((r) => r.records));
  });
});
