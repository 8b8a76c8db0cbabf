import { describe, expect, it } from 'vitest';
import {
  DTYPE_BYTES,
  decodeToFloat32,
  decodeToInt32,
  encodeFromFloat32,
  isFloatDType,
  parseDType,
} from '../../src/checkpoint/dtypes.js';
import { CheckpointError } from '../../src/errors.js';

/** Bits of the 16-bit encoding of each value. */
function encode16(values: number[], dtype: 'F16' | 'BF16'): number[] {
  const bytes = encodeFromFloat32(new Float32Array(values), dtype);
  return Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, values.length));
}

function decode16(bits: number[], dtype: 'F16' | 'BF16'): number[] {
  return Array.from(decodeToFloat32(new Uint8Array(new Uint16Array(bits).buffer), dtype));
}

/** The float32 whose bit pattern is `bits`. */
function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

describe('dtype names', () => {
  it('knows sizes and float-ness', () => {
    expect(DTYPE_BYTES.BF16).toBe(2);
    expect(DTYPE_BYTES.I64).toBe(8);
    expect(DTYPE_BYTES.BOOL).toBe(1);
    expect(isFloatDType('BF16')).toBe(true);
    expect(isFloatDType('F64')).toBe(true);
    expect(isFloatDType('I32')).toBe(false);
  });

  it('parses safetensors names and --dtype aliases case-insensitively', () => {
    expect(parseDType('F32')).toBe('F32');
    expect(parseDType('BF16')).toBe('BF16');
    expect(parseDType('f32')).toBe('F32');
    expect(parseDType('fp16')).toBe('F16');
    expect(parseDType('FP16')).toBe('F16');
    expect(parseDType('bfloat16')).toBe('BF16');
    expect(parseDType('Float16')).toBe('F16');
    expect(parseDType('float32')).toBe('F32');
    expect(parseDType('bf16')).toBe('BF16');
    expect(parseDType('F8_E4M3')).toBeUndefined();
    expect(parseDType('toString')).toBeUndefined();
    expect(parseDType('')).toBeUndefined();
  });
});

describe('F16', () => {
  it('encodes hand-computed bit patterns', () => {
    expect(encode16([1, -2.5, 65504, 0.1, -0, 0], 'F16')).toEqual([0x3c00, 0xc100, 0x7bff, 0x2e66, 0x8000, 0x0000]);
  });

  it('rounds to nearest even, including into Inf', () => {
    // 1 + 2^-11 is halfway between 1 (even) and 1 + 2^-10; 1 + 3*2^-11 between odd 0x3c01 and 0x3c02.
    expect(encode16([1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20], 'F16')).toEqual([0x3c00, 0x3c02, 0x3c01]);
    // 65520 is halfway between 65504 (odd mantissa) and 65536 (not representable: Inf).
    expect(encode16([65519, 65520, 1e6, -1e6], 'F16')).toEqual([0x7bff, 0x7c00, 0x7c00, 0xfc00]);
  });

  it('handles subnormals and underflow', () => {
    // 1e-5 = 167.77 units of 2^-24 -> 168 = 0xa8; 1e-8 is 0.17 units -> 0.
    expect(encode16([1e-5, 1e-8, -1e-8, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14], 'F16')).toEqual([
      0x00a8, 0x0000, 0x8000, 0x0001, 0x0000, 0x0001, 0x0400,
    ]);
    // 1023.5 units: halfway between 0x03ff (odd) and the smallest normal 0x0400.
    expect(encode16([1023.5 * 2 ** -24, 1022.5 * 2 ** -24], 'F16')).toEqual([0x0400, 0x03fe]);
    expect(decode16([0x00a8, 0x0001, 0x03ff], 'F16')).toEqual([168 * 2 ** -24, 2 ** -24, 1023 * 2 ** -24]);
  });

  it('keeps NaN and Inf', () => {
    const [nan, inf, ninf] = encode16([NaN, Infinity, -Infinity], 'F16');
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
    expect([inf, ninf]).toEqual([0x7c00, 0xfc00]);
    const decoded = decode16([0x7e00, 0x7c01, 0x7c00, 0xfc00, 0x8000], 'F16');
    expect(decoded[0]).toBeNaN();
    expect(decoded[1]).toBeNaN();
    expect(decoded.slice(2, 4)).toEqual([Infinity, -Infinity]);
    expect(Object.is(decoded[4], -0)).toBe(true);
  });

  it('decodes hand-computed values', () => {
    expect(decode16([0x3c00, 0xc100, 0x7bff, 0x3555, 0x2e66], 'F16')).toEqual([1, -2.5, 65504, 0.333251953125, 0.0999755859375]);
  });

  it('round-trips every non-NaN bit pattern', () => {
    const bits = Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00 || (h & 0x3ff) === 0);
    expect(encode16(decode16(bits, 'F16'), 'F16')).toEqual(bits);
  });
});

describe('BF16', () => {
  it('encodes hand-computed bit patterns', () => {
    expect(encode16([1, -2.5, 3.140625, Math.PI, -0], 'BF16')).toEqual([0x3f80, 0xc020, 0x4049, 0x4049, 0x8000]);
  });

  it('rounds halfway cases to even', () => {
    // 0x3f808000 is exactly halfway between 0x3f80 (even) and 0x3f81; 0x3f818000 between 0x3f81 and 0x3f82.
    const values = [0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff].map(fromBits);
    expect(encode16(values, 'BF16')).toEqual([0x3f80, 0x3f82, 0x3f81, 0x3f80]);
  });

  it('overflows to Inf, keeps Inf, NaN and subnormals', () => {
    const maxF32 = fromBits(0x7f7fffff);
    const signalingNaN = fromBits(0x7f800001); // truncation alone would give Inf
    const [big, inf, ninf, nan, snan, sub] = encode16([maxF32, Infinity, -Infinity, NaN, signalingNaN, 1e-40], 'BF16');
    expect([big, inf, ninf]).toEqual([0x7f80, 0x7f80, 0xff80]);
    for (const b of [nan, snan]) {
      expect(b & 0x7f80).toBe(0x7f80);
      expect(b & 0x007f).not.toBe(0);
    }
    expect(sub).toBe(0x0001); // 1e-40 = 0x000116c2 as float32
    const decoded = decode16([0x4049, 0xc020, 0x7f80, 0xffc0, 0x0001], 'BF16');
    expect(decoded.slice(0, 3)).toEqual([3.140625, -2.5, Infinity]);
    expect(decoded[3]).toBeNaN();
    expect(decoded[4]).toBe(2 ** -133);
  });

  it('round-trips every non-NaN bit pattern', () => {
    const bits = Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7f80) !== 0x7f80 || (h & 0x7f) === 0);
    expect(encode16(decode16(bits, 'BF16'), 'BF16')).toEqual(bits);
  });
});

describe('other dtypes', () => {
  it('F32 encode is an exact copy and decode handles unaligned input', () => {
    const values = new Float32Array([0.1, -0, 1e-40, Infinity, 3.4028234663852886e38]);
    const bytes = encodeFromFloat32(values, 'F32');
    expect(bytes.byteLength).toBe(20);
    bytes[0] ^= 1;
    expect(values[0]).toBe(Math.fround(0.1)); // a copy, not a view
    bytes[0] ^= 1;
    const shifted = new Uint8Array(21);
    shifted.set(bytes, 1);
    const decoded = decodeToFloat32(shifted.subarray(1), 'F32');
    expect(Array.from(decoded)).toEqual(Array.from(values));
    expect(Object.is(decoded[1], -0)).toBe(true);
  });

  it('decodes F64 and integers to float32', () => {
    expect(Array.from(decodeToFloat32(new Uint8Array(new Float64Array([1.5, -1e300, 0.1]).buffer), 'F64'))).toEqual([
      1.5,
      -Infinity,
      Math.fround(0.1),
    ]);
    expect(Array.from(decodeToFloat32(new Uint8Array(new BigInt64Array([-3n, 2n ** 40n]).buffer), 'I64'))).toEqual([-3, 2 ** 40]);
    expect(Array.from(decodeToFloat32(new Uint8Array(new Int8Array([-128, 127]).buffer), 'I8'))).toEqual([-128, 127]);
    expect(Array.from(decodeToFloat32(new Uint8Array([0, 255]), 'U8'))).toEqual([0, 255]);
    expect(Array.from(decodeToFloat32(new Uint8Array(new Int16Array([-32768, 7]).buffer), 'I16'))).toEqual([-32768, 7]);
  });

  it('decodes integers to int32, unaligned I64 included', () => {
    const i64 = new Uint8Array(new BigInt64Array([5n, -7n, 2147483647n]).buffer);
    const shifted = new Uint8Array(25);
    shifted.set(i64, 1);
    expect(Array.from(decodeToInt32(shifted.subarray(1), 'I64'))).toEqual([5, -7, 2147483647]);
    expect(Array.from(decodeToInt32(new Uint8Array(new Int32Array([-1, 9]).buffer), 'I32'))).toEqual([-1, 9]);
    expect(Array.from(decodeToInt32(new Uint8Array([200]), 'U8'))).toEqual([200]);
  });

  it('rejects values and dtypes it cannot represent', () => {
    const tooBig = new Uint8Array(new BigInt64Array([2n ** 31n]).buffer);
    expect(() => decodeToInt32(tooBig, 'I64')).toThrow(/does not fit in int32/);
    expect(() => decodeToInt32(new Uint8Array(4), 'F32')).toThrow(CheckpointError);
    expect(() => decodeToFloat32(new Uint8Array(3), 'F16')).toThrow(/3 bytes is not a whole number of F16 elements/);
  });
});
