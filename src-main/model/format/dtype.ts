/** Floating-point storage types a GPT-2 weight may have. */
export type TensorDtype = 'F32' | 'F16' | 'BF16';

/**
 * Every storage type a checkpoint may declare. The non-float ones only appear in legacy buffers
 * (`attn.bias` is a bool/uint8 mask), which are skipped, so they are recognised but never converted.
 */
export type StoredDtype = TensorDtype | 'F64' | 'BOOL' | 'U8' | 'I8' | 'I16' | 'I32' | 'I64';

export const ITEM_SIZE: Record<StoredDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  I32: 4,
  I64: 8,
};

export function isTensorDtype(dtype: StoredDtype): dtype is TensorDtype {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

let halfTable: Float32Array | undefined;

/** All 65536 half-precision values, so conversion is one lookup per element. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = table;
  return table;
}

/** Converts little-endian raw values of `dtype` into float32 (a copy for F16/BF16, a view for aligned F32). */
export function toFloat32(raw: Uint8Array, dtype: TensorDtype): Float32Array {
  const count = raw.byteLength / ITEM_SIZE[dtype];
  if (dtype === 'F32') {
    if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, count);
    return new Float32Array(raw.slice().buffer);
  }
  // Both 2-byte types: read as uint16 (copying first only when the bytes are unaligned).
  const halves =
    raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, count) : new Uint16Array(raw.slice().buffer);
  const out = new Float32Array(count);
  if (dtype === 'F16') {
    const table = halfToFloatTable();
    for (let i = 0; i < count; i++) out[i] = table[halves[i]!]!;
  } else {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
  }
  return out;
}
