import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

/**
 * ONNX's protobuf schema (`proto/onnx.proto`, copied from the onnx project) loaded with protobufjs. Field names keep
 * their snake_case spelling so objects read like the ONNX spec.
 */
let root: protobuf.Root | undefined;

function onnxRoot(): protobuf.Root {
  if (!root) {
    const text = readFileSync(new URL('./proto/onnx.proto', import.meta.url), 'utf8');
    root = protobuf.parse(text, { keepCase: true }).root;
  }
  return root;
}

/** ONNX TensorProto.DataType numbers. */
export const TensorType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
} as const;
export type TensorTypeName = keyof typeof TensorType;

/** AttributeProto.AttributeType numbers. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = onnxRoot().lookupType('onnx.ModelProto');
  const error = type.verify(model);
  if (error) throw new Error(`invalid ONNX model object: ${error}`);
  return type.encode(type.fromObject(model)).finish();
}

export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = onnxRoot().lookupType('onnx.ModelProto');
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
