import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../../src-main/model/format/dtype';

const bytes = (values: number[]): Uint8Array => new Uint8Array(new Uint16Array(values).buffer);

describe('toFloat32', () => {
  it('converts float16, including subnormals, infinities, NaN and negative zero', () => {
    const out = toFloat32(bytes([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555]), 'F16');
    expect([...out.subarray(0, 7)]).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity]);
    expect(out[7]).toBeNaN();
    expect(Object.is(out[8], -0)).toBe(true);
    expect(out[9]).toBe(Math.fround(0.333251953125));
  });

  it('converts bfloat16 as the top half of a float32', () => {
    const out = toFloat32(bytes([0x3f80, 0xc040, 0x7f80, 0x0001, 0x8000]), 'BF16');
    expect([...out]).toEqual([1, -3, Infinity, new Float32Array(new Uint32Array([0x00010000]).buffer)[0], -0]);
  });

  it('reads float32 from unaligned bytes too', () => {
    const buffer = new Uint8Array(9);
    buffer.set(new Uint8Array(new Float32Array([1.5, -2.25]).buffer), 1);
    expect([...toFloat32(buffer.subarray(1), 'F32')]).toEqual([1.5, -2.25]);
    expect([...toFloat32(bytes([0x3c00, 0x4000]).subarray(0), 'F16')]).toEqual([1, 2]);
    const oddHalf = new Uint8Array(5);
    oddHalf.set(bytes([0x3c00, 0x4000]), 1);
    expect([...toFloat32(oddHalf.subarray(1), 'F16')]).toEqual([1, 2]);
  });
});
