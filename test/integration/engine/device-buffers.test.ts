/**
 * A decode step of the device graph on WebGPU creates no GPU buffer for its keys, values or activations once the
 * first steps have: every cache tensor keeps one size, so onnxruntime's buffer cache serves each step from the
 * buffers the step before released. Counted by a Vulkan layer (test/helpers/vulkan-buffers.ts) in a child process;
 * skipped, saying why, where no WebGPU adapter exists or the layer cannot be built.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VK_BUFFER_USAGE_STORAGE, vulkanBufferLog, type BufferRecord } from '../../helpers/vulkan-buffers';
import { convertTiny, type TinyModel } from './tiny-model';
import { webgpuSkipReason } from '../../helpers/webgpu';

const noAdapter = await webgpuSkipReason();
const log = await vulkanBufferLog();
const skip = noAdapter ?? ('skip' in log ? log.skip : null);
const child = fileURLToPath(new URL('./device-buffers.child.ts', import.meta.url));
const STEPS = 12;

describe('the device graph on WebGPU', () => {
  let model: TinyModel | null = null;
  beforeAll(async () => {
    if (!skip) model = await convertTiny();
  });
  afterAll(async () => model?.dispose());

  it('creates no storage buffer in a decode step after the first two, with one row or three', async ({ skip: skipTest }) => {
    skipTest(skip !== null, skip ?? undefined);
    if ('skip' in log) return;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, model!.dir, String(STEPS)], {
      env: { ...process.env, ...log.env },
    });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { rows: number; step: number | 'prefill'; records: BufferRecord[] });
    const created = (records: BufferRecord[]) => records.filter((r) => r.kind === 'create' && r.usage & VK_BUFFER_USAGE_STORAGE).length;
    for (const rows of [1, 3]) {
      const [prefill, ...steps] = lines.filter((l) => l.rows === rows);
      expect(steps).toHaveLength(STEPS);
      // The count sees the session's buffers at all (a layer that logs nothing would pass the rest).
      if (rows === 1) expect(created(prefill!.records)).toBeGreaterThan(0);
      // The first step's presents cannot take the buffers its pasts still hold; the second takes the prefill's.
      expect(steps.slice(2).map((s) => created(s.records))).toEqual(Array<number>(STEPS - 2).fill(0));
    }
  });
});
