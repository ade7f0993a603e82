import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, golden, maxAbsDiff } from './golden';

const bin = fileURLToPath(new URL('../../../bin/tsuzuki.js', import.meta.url));
const tsuzuki = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsuzuki-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('tsuzuki convert and tsuzuki logits', () => {
  it('convert writes the model folder and prints its manifest; logits prints one entry per sequence', async () => {
    const out = join(tmp, 'fp32');
    const { stdout } = await tsuzuki('convert', join(FIXTURES, 'tiny-sharded'), out, '--precision', 'fp32');
    expect(JSON.parse(stdout)).toMatchObject({ out, precision: 'fp32', format: 'tsuzuki-onnx-decoder' });
    expect((await readdir(out)).sort()).toEqual(['device.onnx', 'model.onnx', 'model.onnx.data', 'runtime.onnx', 'spiece.model', 'tsuzuki.json']);

    const [a, b] = [golden.weights.fp32[2]!, golden.weights.fp32[3]!];
    const last = JSON.parse((await tsuzuki('logits', '--model', out, '--ids', `${a.ids.join(',')};${b.ids.join(',')}`)).stdout);
    expect(last.executionProvider).toBe('cpu');
    expect(last.results.map((r: { ids: number[] }) => r.ids)).toEqual([a.ids, b.ids]);
    expect(maxAbsDiff(last.results[0].logits, a.logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(last.results[1].logits, b.logits)).toBeLessThan(1e-4);

    const all = JSON.parse((await tsuzuki('logits', '--model', out, '--ids', a.ids.join(','), '--all-positions')).stdout);
    expect(all.results).toHaveLength(1);
    expect(all.results[0].logits).toHaveLength(a.ids.length);
    a.allLogits!.forEach((row, t) => expect(maxAbsDiff(all.results[0].logits[t], row)).toBeLessThan(1e-4));
  });

  it('convert --scales, --table-block-size and --activation-weights reach the converter and its manifest', async () => {
    const out = join(tmp, 'int4-options');
    const args = ['--precision', 'int4', '--block-size', '64', '--table-block-size', '16', '--scales', 'range'];
    const { stdout } = await tsuzuki('convert', join(FIXTURES, 'tiny-sharded'), out, ...args);
    expect(JSON.parse(stdout).quantization).toEqual({ scales: 'range', tableBlockSize: 16, calibrationTokens: 0 });
    const weighted = JSON.parse((await tsuzuki('convert', join(FIXTURES, 'tiny-sharded'), join(tmp, 'int4-weighted'), '--activation-weights')).stdout);
    expect(weighted.quantization).toMatchObject({ scales: 'fitted', tableBlockSize: 32 });
    expect(weighted.quantization.calibrationTokens).toBeGreaterThan(0);
  });

  it('fails with a usage error for a bad precision, and a clear error for a missing model', async () => {
    const bad = await tsuzuki('convert', join(FIXTURES, 'tiny-sharded'), join(tmp, 'x'), '--precision', 'int3').catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--precision must be one of fp32, fp16, int8, int4/);
    const scales = await tsuzuki('convert', join(FIXTURES, 'tiny-sharded'), join(tmp, 'x'), '--scales', 'best').catch((e) => e);
    expect(scales.code).toBe(2);
    expect(scales.stderr).toMatch(/--scales must be one of fitted, range/);
    const missing = await tsuzuki('logits', '--model', join(tmp, 'nothing'), '--ids', '1,2').catch((e) => e);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/not a converted model folder/);
    const ids = await tsuzuki('logits', '--model', join(tmp, 'fp32'), '--ids', '1,x').catch((e) => e);
    expect(ids.code).toBe(2);
    const auto = await tsuzuki('logits', '--model', join(tmp, 'fp32'), '--ids', '1,2', '--device', 'auto').catch((e) => e);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/--device must name one provider here, not auto/);
  });

  it('a write that fails part-way (a file size limit, as on a FAT32 drive) gives disk_full and leaves no folder', async () => {
    // bash's `ulimit -f` counts 1 KiB blocks: the 700 KB fp32 data file cannot be written.
    const out = join(tmp, 'limited', 'model');
    const result = await promisify(execFile)('bash', ['-c', `ulimit -f 300; exec "$0" "$@"`, process.execPath, bin, 'convert', join(FIXTURES, 'tiny-safetensors-fp32'), out, '--precision', 'fp32']).catch((e) => e);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/too large for the disk/);
    expect(await readdir(join(tmp, 'limited')).catch(() => [])).toEqual([]);
  });
});
