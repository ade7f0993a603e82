import { TsuzukiError } from '../../contract/errors';
import type { StoredDtype } from './dtype';

/**
 * A restricted unpickler for PyTorch state dicts. Python's pickle can call any importable function while
 * loading, so a weight file is a program. This interpreter knows only the handful of globals `torch.save`
 * writes for a state dict and refuses every other import, call or object construction before acting on
 * it: loading a checkpoint never runs code from it. Security-relevant: keep the allowlist minimal.
 */

/** A storage named by a persistent id: its bytes are the zip entry `data/<key>`. */
interface PickledStorage {
  key: string;
  dtype: StoredDtype;
  /** Elements in the storage. */
  numel: number;
}

export interface PickledTensor {
  storage: PickledStorage;
  /** In elements. */
  storageOffset: number;
  shape: number[];
  /** In elements. */
  strides: number[];
}

/** torch storage classes → element type. */
const STORAGE_TYPES: Record<string, StoredDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  BoolStorage: 'BOOL',
  ByteStorage: 'U8',
  CharStorage: 'I8',
  ShortStorage: 'I16',
  IntStorage: 'I32',
  LongStorage: 'I64',
};

type Callable = 'OrderedDict' | '_rebuild_tensor_v2' | '_rebuild_parameter';
class GlobalRef {
  constructor(
    readonly name: string,
    readonly callable: Callable | null,
    readonly storageType: StoredDtype | null,
  ) {}
}
class Tuple {
  constructor(readonly items: unknown[]) {}
}
const MARK = Symbol('mark');

function resolveGlobal(module: string, name: string, file: string): GlobalRef {
  const full = `${module}.${name}`;
  if (full === 'collections.OrderedDict') return new GlobalRef(full, 'OrderedDict', null);
  if (full === 'torch._utils._rebuild_tensor_v2') return new GlobalRef(full, '_rebuild_tensor_v2', null);
  if (full === 'torch._utils._rebuild_parameter') return new GlobalRef(full, '_rebuild_parameter', null);
  const storage = module === 'torch' ? STORAGE_TYPES[name] : undefined;
  if (storage) return new GlobalRef(full, null, storage);
  throw new TsuzukiError(
    'unsupported',
    `${file} asks to load the Python object ${full}, which a PyTorch state dict never contains. Tsuzuki refuses to run code from a weight file; use a checkpoint from a trusted source, preferably model.safetensors.`,
  );
}

/** Parses `data.pkl` of a `torch.save`d state dict into tensor descriptions, without running anything. */
export function loadStateDictPickle(data: Uint8Array, file: string): Map<string, PickledTensor> {
  const corrupt = (why: string): TsuzukiError =>
    new TsuzukiError('corrupt_file', `${file}: the pickled state dict is damaged (${why}). Download it again.`);
  const refuse = (what: string): TsuzukiError =>
    new TsuzukiError(
      'unsupported',
      `${file}: the pickle uses ${what}, which torch.save never writes for a state dict; Tsuzuki refuses to load it so that no code from the file can run. Use a checkpoint from a trusted source, preferably model.safetensors.`,
    );
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const storages = new Map<string, PickledStorage>();
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > data.length) throw corrupt('it ends in the middle of an instruction');
  };
  const u8 = (): number => (need(1), data[pos++]!);
  const u16 = (): number => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = (): number => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const bytes = (n: number): Uint8Array => (need(n), (pos += n), data.subarray(pos - n, pos));
  const text = (n: number): string => {
    try {
      return decoder.decode(bytes(n));
    } catch {
      throw corrupt('a string is not UTF-8');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw corrupt('unterminated line');
    const s = new TextDecoder('latin1').decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw corrupt('stack underflow');
    const v = stack.pop();
    if (v === MARK) throw corrupt('unexpected mark');
    return v;
  };
  const top = (): unknown => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) throw corrupt('stack underflow');
    return v;
  };
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw corrupt('no mark');
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const setItem = (dict: unknown, key: unknown, value: unknown): void => {
    if (!(dict instanceof Map)) throw corrupt('item set on something that is not a dict');
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean' && key !== null) {
      throw refuse('a dict key that is not a string or a number');
    }
    dict.set(key, value);
  };
  const int = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw corrupt(`${what} is not an integer`);
    return v;
  };
  const ints = (v: unknown, what: string): number[] => {
    if (!(v instanceof Tuple)) throw corrupt(`${what} is not a tuple`);
    return v.items.map((x) => int(x, what));
  };

  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof GlobalRef) || fn.callable === null) {
      throw refuse(`a call to ${fn instanceof GlobalRef ? fn.name : 'a computed value'}`);
    }
    if (!(args instanceof Tuple)) throw corrupt('call arguments are not a tuple');
    const a = args.items;
    switch (fn.callable) {
      case 'OrderedDict':
        if (a.length !== 0) throw refuse('OrderedDict with arguments');
        return new Map();
      case '_rebuild_parameter':
        if (a.length !== 3 || !isTensor(a[0])) throw corrupt('_rebuild_parameter expects (tensor, requires_grad, hooks)');
        return a[0];
      case '_rebuild_tensor_v2': {
        if (a.length < 6 || a.length > 7) throw corrupt('_rebuild_tensor_v2 expects 6 or 7 arguments');
        const storage = a[0];
        if (!isStorage(storage)) throw corrupt('_rebuild_tensor_v2 without a storage');
        const shape = ints(a[2], 'tensor size');
        const strides = ints(a[3], 'tensor stride');
        if (shape.length !== strides.length || shape.some((d) => d < 0) || strides.some((s) => s < 0)) {
          throw corrupt('tensor size and stride disagree');
        }
        const storageOffset = int(a[1], 'storage offset');
        if (storageOffset < 0) throw corrupt(`storage offset ${storageOffset} is negative`);
        return { storage, storageOffset, shape, strides } satisfies PickledTensor;
      }
    }
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw corrupt('unknown pickle protocol');
        break;
      case 0x95: // FRAME: a size hint only
        bytes(8);
        break;
      case 0x2e: {
        // STOP
        const result = pop();
        return toStateDict(result, file, corrupt);
      }
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes
        const n = u8();
        if (n > 8) throw refuse('an integer wider than 64 bits');
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw refuse('an integer beyond 2^53');
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = view.getBigUint64(pos, true);
        pos += 8;
        if (n > BigInt(data.length)) throw corrupt('string longer than the file');
        stack.push(text(Number(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder('latin1').decode(bytes(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new Tuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new Tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new Tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new Tuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new Tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw corrupt('append to something that is not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw corrupt('append to something that is not a list');
        for (const item of items) list.push(item);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2 !== 0) throw corrupt('odd number of dict items');
        const dict = new Map();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) throw corrupt('odd number of dict items');
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw corrupt(`memo entry ${key} is missing`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n": checked against the allowlist before anything else happens.
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name, file));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw corrupt('STACK_GLOBAL without names');
        stack.push(resolveGlobal(module, name, file));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: {
        // BUILD: torch only sets OrderedDict attributes (the state dict's `_metadata`), which carry no weights.
        const state = pop();
        const target = top();
        if (!(target instanceof Map) || !(state instanceof Map || state === null)) throw refuse('BUILD on an object');
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = pop();
        if (!(pid instanceof Tuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) {
          throw refuse('a persistent id that is not a torch storage');
        }
        const [, type, key, , numel] = pid.items;
        if (!(type instanceof GlobalRef) || type.storageType === null) throw refuse('a persistent id with an unknown storage type');
        if (typeof key !== 'string') throw corrupt('storage key is not a string');
        const n = int(numel, 'storage size');
        if (n < 0) throw corrupt(`storage ${key} has a negative size`);
        const known = storages.get(key);
        if (known && (known.dtype !== type.storageType || known.numel !== n)) throw corrupt(`storage ${key} is described twice differently`);
        const storage = known ?? { key, dtype: type.storageType, numel: n };
        storages.set(key, storage);
        stack.push(storage);
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x81: // NEWOBJ
      case 0x92: // NEWOBJ_EX
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
      case 0x50: // PERSID (text form)
        throw refuse(`opcode 0x${op.toString(16)} (object construction or import)`);
      default:
        throw corrupt(`unknown or unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}`);
    }
  }
}

function isStorage(v: unknown): v is PickledStorage {
  return typeof v === 'object' && v !== null && 'key' in v && 'numel' in v && 'dtype' in v;
}

function isTensor(v: unknown): v is PickledTensor {
  return typeof v === 'object' && v !== null && 'storage' in v && 'shape' in v;
}

function toStateDict(
  result: unknown,
  file: string,
  corrupt: (why: string) => TsuzukiError,
): Map<string, PickledTensor> {
  if (!(result instanceof Map)) {
    throw new TsuzukiError(
      'unsupported',
      `${file} does not hold a state dict (a name → tensor mapping). Save the model with model.save_pretrained().`,
    );
  }
  const out = new Map<string, PickledTensor>();
  for (const [key, value] of result) {
    if (typeof key !== 'string') throw corrupt('a state-dict key is not a string');
    if (!isTensor(value)) {
      throw new TsuzukiError('unsupported', `${file}: entry ${key} of the state dict is not a tensor. Save the model with model.save_pretrained().`);
    }
    out.set(key, value);
  }
  return out;
}
