import { describe, expect, it } from 'vitest';
import { SafetensorsFile, parseSafetensorsHeader, serializeSafetensors } from '../../src/checkpoint/safetensors.js';
import { CheckpointError } from '../../src/errors.js';
import { f32Bytes, rawSafetensors, writeTemp } from './helpers.js';

/** Open a file made of `bytes` and return the error it is rejected with. */
async function rejection(bytes: Uint8Array, name = 'model.safetensors'): Promise<CheckpointError> {
  const file = await writeTemp(name, bytes);
  const err: unknown = await SafetensorsFile.open(file).then(
    async (f) => {
      await f.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(err instanceof CheckpointError)) throw new Error(`expected a CheckpointError, got ${String(err)}`);
  expect(err.file).toBe(file);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  return err;
}

const t = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

describe('SafetensorsFile.open rejects malformed files', () => {
  it('a file shorter than the length field', async () => {
    const err = await rejection(new Uint8Array([1, 0, 0]));
    expect(err.message).toMatch(/file has 3 bytes, fewer than the 8-byte header length/);
  });

  it('a header length of zero or over 100 MB', async () => {
    expect((await rejection(rawSafetensors('', 0))).message).toMatch(/header length 0 is zero/);
    const huge = rawSafetensors('{}', 0, 100_000_001n);
    expect((await rejection(huge)).message).toMatch(/header length 100000001 is over the 100000000-byte limit/);
    const absurd = rawSafetensors('{}', 0, 2n ** 64n - 1n);
    expect((await rejection(absurd)).message).toMatch(/header length 18446744073709551615/);
  });

  it('a header length larger than the file', async () => {
    const bytes = rawSafetensors('{"a":{}}', 0, 500n);
    const err = await rejection(bytes);
    expect(err.message).toMatch(/header length 500 runs past the end of the file \(16 bytes\)/);
  });

  it('a truncated file whose last tensor runs past the data section', async () => {
    const full = rawSafetensors({ a: t('F32', [2], 0, 8), b: t('F32', [4], 8, 24) }, 24);
    const err = await rejection(full.subarray(0, full.byteLength - 5));
    expect(err.tensor).toBe('b');
    expect(err.message).toMatch(/tensor "b" ends at byte 24 but the data section has 19 bytes/);
    expect(err.hint).toMatch(/truncated/);
  });

  it('a header that is not UTF-8, not JSON, not an object, or does not start with "{"', async () => {
    const notUtf8 = rawSafetensors('{}', 0);
    notUtf8[9] = 0xff;
    expect((await rejection(notUtf8)).message).toMatch(/header is not valid UTF-8/);
    expect((await rejection(rawSafetensors('{"a": ', 0))).message).toMatch(/header is not valid JSON/);
    expect((await rejection(rawSafetensors('[1, 2]', 0))).message).toMatch(/header does not start with "\{"/);
    expect((await rejection(rawSafetensors(' {}', 0))).message).toMatch(/header does not start with "\{"/);
    expect((await rejection(rawSafetensors('{"a": 1}', 0))).message).toMatch(/tensor "a" is not an object/);
  });

  it('overlapping offsets', async () => {
    const err = await rejection(rawSafetensors({ a: t('F32', [2], 0, 8), b: t('F32', [2], 4, 12) }, 12));
    expect(err.tensor).toBe('b');
    expect(err.message).toMatch(/tensor "b" starts at byte 4 but the previous tensor "a" ends at byte 8 \(overlap\)/);
  });

  it('gapped offsets, and a first tensor not at 0', async () => {
    const gap = await rejection(rawSafetensors({ a: t('F32', [2], 0, 8), b: t('F32', [2], 12, 20) }, 20));
    expect(gap.tensor).toBe('b');
    expect(gap.message).toMatch(/starts at byte 12 but the previous tensor "a" ends at byte 8 \(gap of 4 bytes\)/);
    const late = await rejection(rawSafetensors({ a: t('F32', [2], 4, 12) }, 12));
    expect(late.message).toMatch(/tensor "a" starts at byte 4 but the first tensor must start at byte 0/);
  });

  it('a byte size that does not match the shape', async () => {
    const err = await rejection(rawSafetensors({ w: t('F16', [2, 3], 0, 8) }, 8));
    expect(err.tensor).toBe('w');
    expect(err.message).toMatch(/tensor "w" has 8 bytes \(data_offsets \[0, 8\]\) but F16 \[2, 3\] needs 12 bytes/);
    expect([err.expected, err.actual]).toEqual(['12 bytes', '8 bytes']);
  });

  it('unknown and unsupported dtypes', async () => {
    const unknown = await rejection(rawSafetensors({ w: t('Q4', [2], 0, 2) }, 2));
    expect(unknown.tensor).toBe('w');
    expect(unknown.message).toMatch(/tensor "w" has dtype "Q4", which is unknown/);
    const fp8 = await rejection(rawSafetensors({ w: t('F8_E4M3', [2], 0, 2) }, 2));
    expect(fp8.message).toMatch(/dtype "F8_E4M3", which is not supported by ligo/);
  });

  it('invalid shapes and offsets', async () => {
    expect((await rejection(rawSafetensors({ w: t('F32', [-1], 0, 0) }, 0))).message).toMatch(/tensor "w" has an invalid shape/);
    expect((await rejection(rawSafetensors({ w: t('F32', [1.5], 0, 4) }, 4))).message).toMatch(/invalid shape/);
    const reversed = rawSafetensors({ w: t('F32', [1], 4, 0) }, 4);
    expect((await rejection(reversed)).message).toMatch(/tensor "w" has data_offsets that end before they begin/);
    const missing = rawSafetensors({ w: { dtype: 'F32', shape: [1] } }, 4);
    expect((await rejection(missing)).message).toMatch(/tensor "w" has invalid data_offsets/);
  });

  it('trailing bytes after the last tensor, or data with no tensors', async () => {
    const err = await rejection(rawSafetensors({ a: t('F32', [2], 0, 8) }, 11));
    expect(err.tensor).toBe('a');
    expect(err.message).toMatch(/the data section has 11 bytes but the last tensor "a" ends at byte 8 \(3 trailing bytes\)/);
    const empty = await rejection(rawSafetensors({}, 4));
    expect(empty.message).toMatch(/data section has 4 bytes but there are no tensors/);
  });

  it('metadata that is not an object of strings', async () => {
    const err = await rejection(rawSafetensors({ __metadata__: { format: 'pt', step: 3 } }, 0));
    expect(err.message).toMatch(/"__metadata__" value for key "step" is not a string/);
  });
});

describe('reading', () => {
  it('reads tensors listed in any order, with absolute positions', async () => {
    const data = f32Bytes([1, 2, 3, 4, 5, 6]);
    const header = { b: t('F32', [2, 2], 8, 24), __metadata__: { format: 'pt' }, a: t('F32', [2], 0, 8) };
    const bytes = rawSafetensors(header, data);
    const file = await writeTemp('x.safetensors', bytes);
    const st = await SafetensorsFile.open(file);
    try {
      expect([...st.entries.keys()]).toEqual(['a', 'b']);
      const headerLen = JSON.stringify(header).length;
      expect(st.entries.get('b')).toEqual({ name: 'b', dtype: 'F32', shape: [2, 2], file, start: 8 + headerLen + 8, end: 8 + headerLen + 24 });
      expect(st.metadata).toEqual({ format: 'pt' });
      expect(Array.from(await st.readFloat32('a'))).toEqual([1, 2]);
      expect(Array.from(await st.readFloat32('b'))).toEqual([3, 4, 5, 6]);
      await expect(st.readBytes('c')).rejects.toThrow(`${file}: no tensor "c"`);
    } finally {
      await st.close();
    }
    await expect(st.readBytes('a')).rejects.toThrow(/read after the file was closed/);
  });

  it('accepts zero-element tensors and an empty file', async () => {
    const bytes = rawSafetensors({ e: t('F32', [0, 3], 0, 0), a: t('I8', [2], 0, 2) }, new Uint8Array([0xff, 7]));
    const st = await SafetensorsFile.open(await writeTemp('z.safetensors', bytes));
    expect(Array.from(await st.readFloat32('e'))).toEqual([]);
    expect(Array.from(await st.readFloat32('a'))).toEqual([-1, 7]);
    await st.close();
    const empty = await SafetensorsFile.open(await writeTemp('e.safetensors', rawSafetensors('{}  ', 0)));
    expect(empty.entries.size).toBe(0);
    expect(empty.metadata).toBeUndefined();
    await empty.close();
  });
});

describe('serializeSafetensors', () => {
  it('matches the reference serializer byte for byte', () => {
    // Expected bytes from the Rust safetensors test_serialization: "attn.0" F32 [1, 2, 3] = 0..5.
    const out = serializeSafetensors([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data: f32Bytes([0, 1, 2, 3, 4, 5]) }]);
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    expect(Array.from(out.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(Buffer.from(out.subarray(8, 72)).toString('utf8')).toBe(header);
    expect(Array.from(new Float32Array(out.slice(72).buffer))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('pads the header with spaces to 8 bytes and round-trips exactly', async () => {
    const f32 = new Float32Array([0.1, -0, 1e-40, Infinity, -3.5]);
    const out = serializeSafetensors(
      [
        { name: 'h', dtype: 'F16', shape: [3], data: new Uint8Array(new Uint16Array([0x3c00, 0xc100, 0x7bff]).buffer) },
        { name: 'f', dtype: 'F32', shape: [5], data: new Uint8Array(f32.buffer) },
      ],
      { format: 'pt' },
    );
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(out[8 + n - 1]).toBe(0x20);
    const st = await SafetensorsFile.open(await writeTemp('r.safetensors', out));
    // "f" starts at data byte 6: not 4-byte aligned in the file, decoded all the same.
    expect(st.entries.get('f')?.start).toBe(8 + n + 6);
    expect(Array.from(await st.readFloat32('h'))).toEqual([1, -2.5, 65504]);
    const back = await st.readFloat32('f');
    expect(Array.from(back)).toEqual(Array.from(f32));
    expect(Object.is(back[1], -0)).toBe(true);
    expect(st.metadata).toEqual({ format: 'pt' });
    await st.close();
  });

  it('rejects data of the wrong size and duplicate names', () => {
    expect(() => serializeSafetensors([{ name: 'a', dtype: 'F32', shape: [2], data: new Uint8Array(4) }])).toThrow(
      /tensor "a" has 4 bytes but F32 \[2\] needs 8/,
    );
    const a = { name: 'a', dtype: 'U8' as const, shape: [1], data: new Uint8Array(1) };
    expect(() => serializeSafetensors([a, a])).toThrow(/given twice/);
  });
});

describe('parseSafetensorsHeader', () => {
  it('is pure and takes a string', () => {
    const { entries } = parseSafetensorsHeader('{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', 'mem', 4);
    expect(entries.get('x')).toMatchObject({ dtype: 'BF16', shape: [2], file: 'mem', start: 8 + 55, end: 8 + 55 + 4 });
  });

  it('names file and tensor in every error', () => {
    expect(() => parseSafetensorsHeader('{"x":{"dtype":"F32","shape":[9000],"data_offsets":[0,36000]}}', 'm.safetensors', 8000)).toThrow(
      'm.safetensors: tensor "x" ends at byte 36000 but the data section has 8000 bytes',
    );
  });
});
