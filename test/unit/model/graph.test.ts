import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, MS_DOMAIN } from '../../../src-main/model/convert/graph';
import { halfToFloatTable, toHalf, toHalfArray } from '../../../src-main/model/format/half';
import { decodeModel } from '../../../src-main/model/convert/onnx-proto';

describe('GraphBuilder', () => {
  it('encodes nodes, attributes, symbolic shapes, inline constants and external initializers', () => {
    const g = new GraphBuilder();
    const x = g.input({ name: 'x', type: 'float32', shape: ['batch', 8] });
    const w = g.external('w', 'float32', [8, 4], { offset: 4096, length: 128 });
    const two = g.constant('int64', [1], [2]);
    expect(g.constant('int64', [1], [2])).toBe(two);
    const y = g.op('MatMul', [x, w]);
    g.node('FastGelu', [y], { epsilon: { float: 0.5 }, perm: [0, 1], mode: 'tanh', axis: -1 }, { domain: MS_DOMAIN, outputs: ['out'] });
    g.output({ name: 'out', type: 'float32', shape: ['batch', 4] });
    // A decoded protobuf is loosely typed; the assertions below check its shape.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const model = decodeModel(g.encode({ name: 'test', dataFile: 'model.onnx.data', opset: 17, producer: 'unit' })) as any;

    expect(model.opset_import).toEqual([{ domain: '', version: 17 }, { domain: MS_DOMAIN, version: 1 }]);
    expect(model.graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 8 }]);
    const [matmul, gelu] = model.graph.node;
    expect(matmul).toMatchObject({ op_type: 'MatMul', input: ['x', 'w'] });
    expect(gelu).toMatchObject({ op_type: 'FastGelu', domain: MS_DOMAIN, input: [matmul.output[0]], output: ['out'] });
    const attrs = Object.fromEntries((gelu.attribute as { name: string; s?: Uint8Array }[]).map((a) => [a.name, a]));
    expect(attrs.epsilon).toMatchObject({ type: 1, f: 0.5 });
    expect(attrs.perm).toMatchObject({ type: 7, ints: [0, 1] });
    expect(attrs.axis).toMatchObject({ type: 2, i: -1 });
    expect(Buffer.from(attrs.mode?.s ?? []).toString()).toBe('tanh');

    const [weight, constant] = model.graph.initializer;
    expect(weight).toMatchObject({ name: 'w', data_type: 1, dims: [8, 4], data_location: 1 });
    expect(weight.external_data).toEqual([
      { key: 'location', value: 'model.onnx.data' },
      { key: 'offset', value: '4096' },
      { key: 'length', value: '128' },
    ]);
    expect(constant).toMatchObject({ data_type: 7, dims: [1], raw_data: [2, 0, 0, 0, 0, 0, 0, 0] });
  });
});

describe('the bundled ONNX schema', () => {
  it('is proto/onnx.proto as protobufjs JSON (regenerate with the command in onnx-proto.ts)', () => {
    const dir = new URL('../../../src-main/model/convert/proto/', import.meta.url);
    const parsed = protobuf.parse(readFileSync(new URL('onnx.proto', dir), 'utf8'), { keepCase: true }).root.toJSON();
    expect(JSON.parse(readFileSync(new URL('onnx.json', dir), 'utf8'))).toEqual(JSON.parse(JSON.stringify(parsed)));
  });
});

describe('toHalf', () => {
  it('rounds to nearest even like numpy, including subnormals, overflow and NaN', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00); // rounds up to infinity
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(toHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalf(2 ** -26)).toBe(0x0000);
    expect(toHalf(0.1)).toBe(0x2e66);
    expect(toHalf(-0)).toBe(0x8000);
    expect(toHalf(NaN) & 0x7c00).toBe(0x7c00);
    expect(Array.from(toHalfArray(Float32Array.of(0.5, -Infinity)))).toEqual([0x3800, 0xfc00]);
  });
});

describe('halfToFloatTable', () => {
  it('inverts toHalf for every finite half value, and keeps infinities, NaN and signed zero', () => {
    const table = halfToFloatTable();
    for (let h = 0; h < 65536; h++) {
      const exp = (h >> 10) & 0x1f;
      if (exp === 0x1f && (h & 0x3ff) !== 0) expect(table[h]).toBeNaN();
      else expect(toHalf(table[h]!)).toBe(h);
    }
    expect(table[0x7c00]).toBe(Infinity);
    expect(Object.is(table[0x8000], -0)).toBe(true);
    expect(table[0x3555]).toBeCloseTo(1 / 3, 3);
  });
});
