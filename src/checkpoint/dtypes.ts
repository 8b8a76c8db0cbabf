import { CheckpointError, UnsupportedError } from '../errors.js';

/** The safetensors dtypes ligo reads and writes. */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['F64', 'F32', 'F16', 'BF16']);

/** Spellings accepted for `--dtype` besides the safetensors names themselves. */
const DTYPE_ALIASES: Record<string, DType> = {
  f64: 'F64',
  fp64: 'F64',
  float64: 'F64',
  double: 'F64',
  f32: 'F32',
  fp32: 'F32',
  float32: 'F32',
  float: 'F32',
  f16: 'F16',
  fp16: 'F16',
  float16: 'F16',
  half: 'F16',
  bf16: 'BF16',
  bfloat16: 'BF16',
  i64: 'I64',
  int64: 'I64',
  i32: 'I32',
  int32: 'I32',
  i16: 'I16',
  int16: 'I16',
  i8: 'I8',
  int8: 'I8',
  u8: 'U8',
  uint8: 'U8',
  bool: 'BOOL',
};

export function isFloatDType(d: DType): boolean {
  return FLOAT_DTYPES.has(d);
}

export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Exact safetensors names first, then case-insensitive aliases ("fp16", "bfloat16", ...). */
export function parseDType(s: string): DType | undefined {
  if (isDType(s)) return s;
  const key = s.trim().toLowerCase();
  return Object.prototype.hasOwnProperty.call(DTYPE_ALIASES, key) ? DTYPE_ALIASES[key] : undefined;
}

// Typed arrays use the host byte order and safetensors is little endian; every platform
// Node ships for is little endian, so we refuse the rest instead of byte-swapping.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkedBytes(bytes: Uint8Array, dtype: DType): Uint8Array {
  if (!HOST_IS_LITTLE_ENDIAN) {
    throw new UnsupportedError('safetensors data is little endian and this machine is big endian');
  }
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new CheckpointError(
      `${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${size} bytes each)`,
      { expected: `a multiple of ${size} bytes`, actual: `${bytes.byteLength} bytes` },
    );
  }
  // Typed array views need byteOffset % elementSize === 0; a tensor that starts at an odd
  // place in a shared buffer is copied once rather than failing.
  return bytes.byteOffset % size === 0 ? bytes : bytes.slice();
}

function view<T>(
  Ctor: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T,
  bytes: Uint8Array,
  size: number,
): T {
  return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
}

let halfTable: Float32Array | undefined;

/** All 65536 half-precision values, built once (256 KiB) so decoding is one lookup each. */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 31) table[h] = mant === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1024 + mant) * 2 ** (exp - 25);
  }
  halfTable = table;
  return table;
}

/** Decode float or integer data to float32 (integers and F64 are rounded to the nearest float32). */
export function decodeToFloat32(bytes: Uint8Array, dtype: DType): Float32Array {
  const b = checkedBytes(bytes, dtype);
  const size = DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F32':
      return new Float32Array(view(Float32Array, b, size));
    case 'F16': {
      const src = view(Uint16Array, b, size);
      const table = halfToFloatTable();
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the upper half of a float32, so widening is a 16-bit shift.
      const src = view(Uint16Array, b, size);
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return out;
    }
    case 'F64':
      return Float32Array.from(view(Float64Array, b, size));
    case 'I64': {
      const src = view(BigInt64Array, b, size);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(view(Int32Array, b, size));
    case 'I16':
      return Float32Array.from(view(Int16Array, b, size));
    case 'I8':
      return Float32Array.from(view(Int8Array, b, size));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(b);
  }
}

/** Decode integer data (I64 must fit in int32, e.g. token ids). */
export function decodeToInt32(bytes: Uint8Array, dtype: DType): Int32Array {
  const b = checkedBytes(bytes, dtype);
  const size = DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'I64': {
      const src = view(BigInt64Array, b, size);
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new CheckpointError(`I64 value ${v} at index ${i} does not fit in int32`, {
            expected: 'a value in [-2^31, 2^31)',
            actual: String(v),
          });
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32':
      return new Int32Array(view(Int32Array, b, size));
    case 'I16':
      return Int32Array.from(view(Int16Array, b, size));
    case 'I8':
      return Int32Array.from(view(Int8Array, b, size));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(b);
    default:
      throw new CheckpointError(`cannot decode ${dtype} data as integers`, {
        expected: 'I64, I32, I16, I8, U8 or BOOL',
        actual: dtype,
      });
  }
}

/** float32 bit pattern -> bfloat16 bit pattern, round to nearest, ties to even. */
export function floatBitsToBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) {
    // Truncating a NaN could clear every mantissa bit and give Inf; force the quiet bit.
    return (x >>> 16) | 0x40;
  }
  const lsb = (x >>> 16) & 1;
  return ((x >>> 0) + 0x7fff + lsb) >>> 16;
}

function roundShift(value: number, shift: number): number {
  const q = value >>> shift;
  const rem = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

/** float32 bit pattern -> IEEE half bit pattern, round to nearest, ties to even. */
export function floatBitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 127 + 15; // biased half exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal: count units of 2^-24; value = (1.mant) * 2^(e-15) = m24 * 2^(e-14) units.
    if (e < -10) return sign; // below half the smallest subnormal
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa bumps the exponent, up to Inf, which is the right answer.
  return sign | roundShift((e << 23) | mant, 13);
}

/** Encode float32 values as F32, F16 or BF16 little-endian bytes (always a fresh buffer). */
export function encodeFromFloat32(values: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  if (!HOST_IS_LITTLE_ENDIAN) {
    throw new UnsupportedError('safetensors data is little endian and this machine is big endian');
  }
  if (dtype === 'F32') return new Uint8Array(values.slice().buffer);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  // Two monomorphic loops: the BF16 one is floatBitsToBf16 inlined.
  if (dtype === 'BF16') {
    for (let i = 0; i < bits.length; i++) {
      const x = bits[i];
      out[i] = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0 ? (x >>> 16) | 0x40 : ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = floatBitsToHalf(bits[i]);
  }
  return new Uint8Array(out.buffer);
}
