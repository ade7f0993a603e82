import { toHalf } from '../format/half';
import { AttributeType, TensorType, encodeModel, type TensorTypeName } from './onnx-proto';

/** A dimension: a fixed size or a symbolic name (batch, lengths). */
type Dim = number | string;
export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] };

export interface ValueInfo {
  name: string;
  type: TensorTypeName;
  shape: Dim[];
}

/** Where a weight's bytes live in the external data file. */
export interface ExternalLocation {
  offset: number;
  length: number;
}

interface Initializer {
  name: string;
  type: TensorTypeName;
  dims: number[];
  raw?: Uint8Array;
  external?: ExternalLocation;
}

interface NodeEntry {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttributeValue>;
}

export const MS_DOMAIN = 'com.microsoft';

/**
 * Builds an ONNX graph in memory without any weight bytes: large initializers point into an external data file
 * (written separately, tensor by tensor), small constants are stored inline.
 */
export class GraphBuilder {
  private readonly nodes: NodeEntry[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  input(info: ValueInfo): string {
    this.inputs.push(info);
    return info.name;
  }

  output(info: ValueInfo): void {
    this.outputs.push(info);
  }

  /** Adds a node and returns its output names (`outputs` names them, or a count makes fresh names). */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttributeValue> = {},
    options: { domain?: string; outputs?: number | string[]; name?: string } = {},
  ): string[] {
    const id = this.counter++;
    const name = options.name ?? `${op}_${id}`;
    const outputs = Array.isArray(options.outputs)
      ? options.outputs
      : Array.from({ length: options.outputs ?? 1 }, (_, i) => `${name}/out${i}`);
    this.nodes.push({ op, domain: options.domain ?? '', name, inputs, outputs, attrs });
    return outputs;
  }

  /** One-output shorthand for `node`. */
  op(op: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, domain = ''): string {
    return this.node(op, inputs, attrs, { domain })[0]!;
  }

  /** A small inline constant, shared between uses of the same value. */
  constant(type: 'int64' | 'float32' | 'float16', dims: number[], values: number[]): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = `const_${this.constants.size}`;
    let raw: Uint8Array;
    if (type === 'int64') raw = new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
    else if (type === 'float32') raw = new Uint8Array(Float32Array.from(values).buffer);
    else raw = new Uint8Array(Uint16Array.from(values.map(toHalf)).buffer);
    this.initializers.push({ name, type, dims, raw });
    this.constants.set(key, name);
    return name;
  }

  /** A weight whose bytes are in the external data file. */
  external(name: string, type: TensorTypeName, dims: number[], location: ExternalLocation): string {
    this.initializers.push({ name, type, dims, external: location });
    return name;
  }

  /** Adds the external weights of `source` that this graph's nodes read (two graphs over one data file). */
  adoptWeights(source: GraphBuilder): void {
    const read = new Set(this.nodes.flatMap((n) => n.inputs));
    for (const t of source.initializers) if (t.external && read.has(t.name)) this.initializers.push(t);
  }

  /** Serializes the graph; `dataFile` is the external data file's name relative to the model file. */
  encode(options: { name: string; dataFile: string; opset: number; producer: string; docString?: string }): Uint8Array {
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensor_type: {
          elem_type: TensorType[v.type],
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
        },
      },
    });
    return encodeModel({
      ir_version: 8,
      producer_name: options.producer,
      doc_string: options.docString ?? '',
      opset_import: [
        { domain: '', version: options.opset },
        { domain: MS_DOMAIN, version: 1 },
      ],
      graph: {
        name: options.name,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
        node: this.nodes.map((n) => ({
          op_type: n.op,
          domain: n.domain,
          name: n.name,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([key, value]) => attribute(key, value)),
        })),
        initializer: this.initializers.map((t) => ({
          name: t.name,
          data_type: TensorType[t.type],
          dims: t.dims,
          ...(t.raw
            ? { raw_data: t.raw }
            : {
                data_location: 1, // EXTERNAL
                external_data: [
                  { key: 'location', value: options.dataFile },
                  { key: 'offset', value: String(t.external!.offset) },
                  { key: 'length', value: String(t.external!.length) },
                ],
              }),
        })),
      },
    });
  }
}

function attribute(name: string, value: AttributeValue): Record<string, unknown> {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}
