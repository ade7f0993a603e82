import protobuf from 'protobufjs';
import schema from './proto/onnx.json';

/**
 * ONNX's protobuf schema for protobufjs. `proto/onnx.proto` is the schema as the onnx project publishes it;
 * `proto/onnx.json` is the same schema as protobufjs JSON (snake_case field names kept), imported as a module so
 * that it is bundled with the main process and its workers. A unit test checks they agree; to regenerate:
 *   npx tsx -e "import p from 'protobufjs'; import {readFileSync as r, writeFileSync as w} from 'node:fs';
 *     const d='src-main/model/convert/proto/'; w(d+'onnx.json', JSON.stringify(p.parse(r(d+'onnx.proto','utf8'),{keepCase:true}).root.toJSON(),null,1)+'\n')"
 */
let root: protobuf.Root | undefined;

function modelType(): protobuf.Type {
  root ??= protobuf.Root.fromJSON(schema as protobuf.INamespace);
  return root.lookupType('onnx.ModelProto');
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
  /** Two per byte, the first in the low nibble: the packing MatMulNBits uses for 4-bit weights. */
  uint4: 21,
} as const;
export type TensorTypeName = keyof typeof TensorType;

/** AttributeProto.AttributeType numbers. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelType();
  const error = type.verify(model);
  if (error) throw new Error(`invalid ONNX model object: ${error}`);
  return type.encode(type.fromObject(model)).finish();
}

export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelType();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
