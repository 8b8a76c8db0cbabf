import { CheckpointError } from '../errors.js';
import { DTYPE_BYTES, isDType } from './dtypes.js';
import type { DType } from './dtypes.js';
import { isJsonObject } from '../util/json.js';

/** One tensor of a safetensors file; start/end are absolute byte positions in `file`. */
export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  file: string;
  start: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string> | undefined;
}

/** Same cap as the reference Rust implementation: a larger header is treated as hostile. */
export const MAX_HEADER_BYTES = 100_000_000;
/** The u64 little-endian header length that opens every file. */
export const HEADER_LENGTH_BYTES = 8;

const METADATA_KEY = '__metadata__';

/** Dtypes the safetensors format knows but ligo does not decode, for a clearer message. */
const FOREIGN_DTYPES = new Set(['U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

interface RawEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function decodeHeaderText(headerJson: Uint8Array | string, fileName: string): string {
  if (typeof headerJson === 'string') return headerJson;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerJson);
  } catch {
    throw new CheckpointError(`${fileName}: header is not valid UTF-8`, {
      file: fileName,
      hint: 'the file is probably not a safetensors file or is corrupted',
    });
  }
}

function parseMetadata(value: unknown, fileName: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    throw new CheckpointError(`${fileName}: "${METADATA_KEY}" must be an object of strings`, {
      file: fileName,
      expected: 'object',
      actual: JSON.stringify(value),
    });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new CheckpointError(`${fileName}: "${METADATA_KEY}" value for key "${k}" is not a string`, {
        file: fileName,
        expected: 'string',
        actual: JSON.stringify(v),
      });
    }
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, value: unknown, fileName: string): RawEntry {
  const fail = (what: string, expected: string, actual: unknown): never => {
    throw new CheckpointError(`${fileName}: tensor "${name}" ${what}`, {
      file: fileName,
      tensor: name,
      expected,
      actual: JSON.stringify(actual) ?? String(actual),
    });
  };
  if (!isJsonObject(value)) return fail('is not an object in the header', '{dtype, shape, data_offsets}', value);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') return fail('has no dtype', 'a dtype string such as "F32"', dtype);
  if (!isDType(dtype)) {
    const why = FOREIGN_DTYPES.has(dtype) ? 'is not supported by ligo' : 'is unknown';
    return fail(`has dtype "${dtype}", which ${why}`, Object.keys(DTYPE_BYTES).join(', '), dtype);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    return fail('has an invalid shape', 'an array of non-negative integers', shape);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isIndex(offsets[0]) || !isIndex(offsets[1])) {
    return fail('has invalid data_offsets', '[begin, end] of non-negative integers', offsets);
  }
  const [begin, end] = offsets;
  if (end < begin) return fail(`has data_offsets that end before they begin`, 'begin <= end', offsets);
  return { name, dtype, shape: [...shape], begin, end };
}

function byteSize(e: RawEntry, fileName: string): number {
  let n = DTYPE_BYTES[e.dtype];
  for (const d of e.shape) n *= d;
  if (!Number.isSafeInteger(n)) {
    throw new CheckpointError(`${fileName}: tensor "${e.name}" shape [${e.shape.join(', ')}] is too large`, {
      file: fileName,
      tensor: e.name,
      actual: `[${e.shape.join(', ')}]`,
    });
  }
  return n;
}

/** The header as a JSON object: UTF-8, starting with "{", valid JSON, an object. */
function parseHeaderJson(headerJson: Uint8Array | string, fileName: string): Record<string, unknown> {
  const text = decodeHeaderText(headerJson, fileName);
  if (!text.startsWith('{')) {
    throw new CheckpointError(`${fileName}: header does not start with "{"`, {
      file: fileName,
      expected: '{',
      actual: JSON.stringify(text.slice(0, 16)),
      hint: 'the file is probably not a safetensors file',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${fileName}: header is not valid JSON (${(err as Error).message})`, {
      file: fileName,
      hint: 'the file is probably truncated or not a safetensors file',
    });
  }
  if (!isJsonObject(json)) {
    throw new CheckpointError(`${fileName}: header is not a JSON object`, { file: fileName });
  }
  return json;
}

/** Every tensor entry of the header, sorted by offset: writers may list them in any order (by name, by dtype). */
function sortedEntries(json: Record<string, unknown>, fileName: string): RawEntry[] {
  const raw: RawEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name !== METADATA_KEY) raw.push(parseEntry(name, value, fileName));
  }
  return raw.sort((a, b) => a.begin - b.begin || a.end - b.end);
}

/** `e` must start where the previous tensor (`previous`, ending at `expectedBegin`) ends: no gap, no overlap. */
function checkContiguous(e: RawEntry, expectedBegin: number, previous: string | undefined, fileName: string): void {
  if (e.begin === expectedBegin) return;
  const where =
    previous === undefined
      ? 'but the first tensor must start at byte 0 of the data section'
      : `but the previous tensor "${previous}" ends at byte ${expectedBegin}`;
  const kind = e.begin < expectedBegin ? 'overlap' : `gap of ${e.begin - expectedBegin} bytes`;
  throw new CheckpointError(`${fileName}: tensor "${e.name}" starts at byte ${e.begin} ${where} (${kind})`, {
    file: fileName,
    tensor: e.name,
    expected: `begin ${expectedBegin}`,
    actual: `begin ${e.begin}`,
  });
}

/** `e`'s byte length must be what its dtype and shape need, and it must end inside the data section. */
function checkExtent(e: RawEntry, dataSectionBytes: number, fileName: string): void {
  const need = byteSize(e, fileName);
  if (e.end - e.begin !== need) {
    throw new CheckpointError(
      `${fileName}: tensor "${e.name}" has ${e.end - e.begin} bytes (data_offsets [${e.begin}, ${e.end}]) ` +
        `but ${e.dtype} [${e.shape.join(', ')}] needs ${need} bytes`,
      { file: fileName, tensor: e.name, expected: `${need} bytes`, actual: `${e.end - e.begin} bytes` },
    );
  }
  if (e.end > dataSectionBytes) {
    throw new CheckpointError(
      `${fileName}: tensor "${e.name}" ends at byte ${e.end} but the data section has ${dataSectionBytes} bytes`,
      {
        file: fileName,
        tensor: e.name,
        expected: `end <= ${dataSectionBytes}`,
        actual: `end ${e.end}`,
        hint: 'the file is probably truncated (an interrupted download or copy)',
      },
    );
  }
}

/** The last tensor must end at the data section's last byte: no trailing bytes. */
function checkNoTrailingBytes(end: number, last: string | undefined, dataSectionBytes: number, fileName: string): void {
  if (end === dataSectionBytes) return;
  const what = last === undefined ? 'there are no tensors' : `the last tensor "${last}" ends at byte ${end}`;
  throw new CheckpointError(
    `${fileName}: the data section has ${dataSectionBytes} bytes but ${what} ` +
      `(${dataSectionBytes - end} trailing bytes)`,
    { file: fileName, tensor: last, expected: `${end} bytes`, actual: `${dataSectionBytes} bytes` },
  );
}

/**
 * Parse and validate a safetensors JSON header as strictly as the reference implementation:
 * tensors sorted by offset must tile the data section exactly, from 0 to its last byte,
 * and each one's byte length must match its dtype and shape. Pure: no I/O.
 */
export function parseSafetensorsHeader(
  headerJson: Uint8Array | string,
  fileName: string,
  dataSectionBytes: number,
): SafetensorsHeader {
  const json = parseHeaderJson(headerJson, fileName);
  const metadata = parseMetadata(json[METADATA_KEY], fileName);
  const headerBytes = typeof headerJson === 'string' ? Buffer.byteLength(headerJson, 'utf8') : headerJson.byteLength;
  const dataStart = HEADER_LENGTH_BYTES + headerBytes;
  const entries = new Map<string, TensorEntry>();
  let end = 0;
  let previous: string | undefined;
  for (const e of sortedEntries(json, fileName)) {
    checkContiguous(e, end, previous, fileName);
    checkExtent(e, dataSectionBytes, fileName);
    entries.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, file: fileName, start: dataStart + e.begin, end: dataStart + e.end });
    end = e.end;
    previous = e.name;
  }
  checkNoTrailingBytes(end, previous, dataSectionBytes, fileName);
  return { entries, metadata };
}
