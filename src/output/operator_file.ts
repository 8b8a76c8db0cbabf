import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { SafetensorsFile } from '../checkpoint/index.js';
import { decodeToInt32 } from '../checkpoint/dtypes.js';
import { writeFully } from '../checkpoint/io.js';
import { encodeHeader } from '../checkpoint/safetensors.js';
import type { ModelDims } from '../arch/dims.js';
import { CheckpointError } from '../errors.js';
import type { GrowthOperator, OperatorMatrix } from '../growth/operator.js';
import type { ModelHeader } from '../arch/load.js';
import { DENSE_FORM, OPERATOR_KINDS, planGrowth, START_RULES, type GrowthMethod, type GrowthPlan, type OperatorForm, type StartRule } from '../growth/plan.js';
import { denseMatrix } from '../growth/init.js';
import { DEPTH_STARTS, type DepthStart } from '../growth/depth_start.js';
import { asSelection, type Selection } from '../growth/selection.js';
import { OPERATOR_FILE } from './files.js';

/**
 * __metadata__ key listing the parameters stored in selection form: `{ "<name>": [rows, cols] }`.
 * A matrix with at most one nonzero per row (copy, split and depth matrices before learning) is
 * saved as `<name>.index` (I32 [rows]) and `<name>.scale` (F32 [rows]) instead of a dense F32
 * [rows, cols]: 8 bytes per row instead of 4 * cols. Files without the key are all dense.
 */
export const SELECTIONS_KEY = 'ligo_selections';

/** What `apply` needs besides the matrices to rebuild the plan the operator was trained for. */
export interface OperatorMetadata {
  family: string;
  method: string;
  source: ModelDims;
  target: ModelDims;
  optionalPresent: string[];
  /** How the width operators are parameterized; files without the key are dense. */
  operator: OperatorForm;
  /** The start the operator began from (its plan has the start's operators); files without the key began from copies. */
  start: StartRule;
  /** ligo's depth start (growth/depth_start.ts); files without the key began from the method's default. */
  depthStart?: DepthStart;
}

/** __metadata__ key of a ligo operator's depth start, written by ligo runs only (the fixed methods' is their own). */
export const DEPTH_START_KEY = 'ligo_depth_start';

/** __metadata__ key of the plan's start rule (exact_start.ts). */
export const START_KEY = 'ligo_start';

/** __metadata__ key of the operator's form (plan.ts OperatorForm), written for non-dense forms only. */
export const FORM_KEY = 'ligo_operator';

/** The plan a saved operator was made for, rebuilt on a source of the same shape. */
export function planForOperator(source: Pick<ModelHeader, 'description' | 'dims' | 'match'>, metadata: OperatorMetadata): GrowthPlan {
  return planGrowth({
    description: source.description,
    source: source.dims,
    target: metadata.target,
    method: metadata.method as GrowthMethod,
    optionalPresent: source.match.optionalPresent,
    operator: metadata.operator,
    start: metadata.start,
    ...(metadata.depthStart ? { depthStart: metadata.depthStart } : {}),
  });
}

/** The selection form when it reproduces the matrix exactly (no -0, no NaN entries), else undefined. */
function exactSelection(data: Float32Array, rows: number, cols: number): Selection | undefined {
  for (let i = 0; i < data.length; i++) if (Object.is(data[i], -0)) return undefined;
  return asSelection(data, rows, cols);
}

/** One operator parameter to save: its selection form, or its dense values, read when written. */
interface SavedMatrix {
  name: string;
  shape: [number, number];
  selection?: Selection;
  dense?: () => Promise<Float32Array>;
}

/**
 * Writes ligo_operator.safetensors from a (trained) operator one matrix at a time (the operator is
 * never serialized whole in memory): matrices that are selections are saved in that form.
 */
export async function writeOperator(dir: string, operator: GrowthOperator, optionalPresent: readonly string[] = []): Promise<string> {
  const matrices: SavedMatrix[] = [];
  for (const [name, v] of operator.params) {
    const [rows, cols] = v.shape as [number, number];
    const selection = exactSelection((await v.data()) as Float32Array, rows, cols);
    matrices.push({ name, shape: [rows, cols], selection, dense: async () => (await v.data()) as Float32Array });
  }
  // A low-rank operator's fixed starts: selections by construction.
  for (const [name, selection] of operator.starts) matrices.push({ name, shape: [selection.index.length, selection.cols], selection });
  return writeOperatorMatrices(dir, operator.plan, matrices, optionalPresent);
}

/** Writes ligo_operator.safetensors for an operator given in selection form (no dense matrix is built). */
export async function writeSelectionOperator(
  dir: string,
  plan: GrowthPlan,
  selections: ReadonlyMap<string, Selection>,
  optionalPresent: readonly string[] = [],
): Promise<string> {
  const matrices = [...selections].map(([name, selection]): SavedMatrix => ({ name, shape: [selection.index.length, selection.cols], selection }));
  return writeOperatorMatrices(dir, plan, matrices, optionalPresent);
}

/** The header (with the selection list in its metadata) first, then each matrix's bytes at its offset. */
async function writeOperatorMatrices(dir: string, plan: GrowthPlan, planned: readonly SavedMatrix[], optionalPresent: readonly string[]): Promise<string> {
  const selections: Record<string, [number, number]> = {};
  const layout: { name: string; dtype: 'F32' | 'I32'; shape: number[]; begin: number; end: number }[] = [];
  let offset = 0;
  const add = (name: string, dtype: 'F32' | 'I32', shape: number[]): void => {
    const bytes = shape.reduce((a, b) => a * b, 4);
    layout.push({ name, dtype, shape, begin: offset, end: offset + bytes });
    offset += bytes;
  };
  for (const p of planned) {
    if (p.selection) {
      selections[p.name] = p.shape;
      add(`${p.name}.index`, 'I32', [p.shape[0]]);
      add(`${p.name}.scale`, 'F32', [p.shape[0]]);
    } else add(p.name, 'F32', p.shape);
  }
  const metadata: Record<string, string> = {
    ligo_family: plan.family,
    ligo_method: plan.method,
    ligo_source: JSON.stringify(plan.source),
    ligo_target: JSON.stringify(plan.target),
    ligo_optional: JSON.stringify(optionalPresent),
    [START_KEY]: plan.start?.rule ?? 'copy',
  };
  if (plan.method === 'ligo' && plan.start?.depth) metadata[DEPTH_START_KEY] = plan.start.depth;
  if (Object.keys(selections).length > 0) metadata[SELECTIONS_KEY] = JSON.stringify(selections);
  if (plan.operator.kind !== 'dense') metadata[FORM_KEY] = JSON.stringify(plan.operator);
  const header = encodeHeader(layout, metadata);
  const handle = await open(path.join(dir, OPERATOR_FILE), 'w');
  try {
    await writeFully(handle, header, 0);
    let at = header.byteLength;
    const put = async (bytes: Uint8Array): Promise<void> => {
      await writeFully(handle, bytes, at);
      at += bytes.byteLength;
    };
    for (const p of planned) {
      if (p.selection) {
        await put(new Uint8Array(p.selection.index.buffer, p.selection.index.byteOffset, p.selection.index.byteLength));
        await put(new Uint8Array(p.selection.scale.buffer, p.selection.scale.byteOffset, p.selection.scale.byteLength));
      } else {
        if (!p.dense) throw new Error(`operator matrix "${p.name}" has neither a selection nor dense values`);
        const data = await p.dense(); // one dense matrix at a time
        await put(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    }
  } finally {
    await handle.close();
  }
  return OPERATOR_FILE;
}

export function operatorPath(fileOrDir: string): string {
  return fileOrDir.endsWith('.safetensors') ? fileOrDir : path.join(fileOrDir, OPERATOR_FILE);
}

function parseMetadata(file: string, st: SafetensorsFile): OperatorMetadata {
  const meta = st.metadata ?? {};
  const field = (key: string): string => {
    const value = meta[key];
    if (value === undefined) throw new CheckpointError(`${file}: not a ligo operator (no "${key}" in __metadata__)`, { file });
    return value;
  };
  return {
    family: field('ligo_family'),
    method: field('ligo_method'),
    source: JSON.parse(field('ligo_source')) as ModelDims,
    target: JSON.parse(field('ligo_target')) as ModelDims,
    optionalPresent: JSON.parse(meta.ligo_optional ?? '[]') as string[],
    operator: parseForm(file, meta[FORM_KEY]),
    start: parseStart(file, meta[START_KEY]),
    ...parseDepthStart(file, meta[DEPTH_START_KEY]),
  };
}

function parseDepthStart(file: string, raw: string | undefined): { depthStart?: DepthStart } {
  if (raw === undefined) return {};
  if (!(DEPTH_STARTS as readonly string[]).includes(raw)) throw new CheckpointError(`${file}: "${DEPTH_START_KEY}" in __metadata__ is "${raw}", expected ${DEPTH_STARTS.join(', ')}`, { file });
  return { depthStart: raw as DepthStart };
}

function parseStart(file: string, raw: string | undefined): StartRule {
  if (raw === undefined) return 'copy';
  if (!(START_RULES as readonly string[]).includes(raw)) throw new CheckpointError(`${file}: "${START_KEY}" in __metadata__ is "${raw}", expected ${START_RULES.join(', ')}`, { file });
  return raw as StartRule;
}

function parseForm(file: string, raw: string | undefined): OperatorForm {
  if (raw === undefined) return DENSE_FORM;
  const form = JSON.parse(raw) as Partial<OperatorForm>;
  const known = (OPERATOR_KINDS as readonly unknown[]).includes(form.kind);
  if (!known || typeof form.rank !== 'number' || !Number.isInteger(form.rank) || form.rank < 0) {
    throw new CheckpointError(`${file}: "${FORM_KEY}" in __metadata__ is ${raw}, expected {"kind": ${OPERATOR_KINDS.map((k) => `"${k}"`).join(' | ')}, "rank": <integer>}`, { file });
  }
  return { kind: form.kind as OperatorForm['kind'], rank: form.rank };
}

function parseSelections(file: string, st: SafetensorsFile): Map<string, [number, number]> {
  const raw = st.metadata?.[SELECTIONS_KEY];
  const out = new Map<string, [number, number]>();
  if (raw === undefined) return out;
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  for (const [name, shape] of Object.entries(parsed)) {
    const rows = st.entries.get(`${name}.index`);
    const scale = st.entries.get(`${name}.scale`);
    const ok =
      Array.isArray(shape) && shape.length === 2 && shape.every((d) => Number.isInteger(d) && d >= 0) &&
      rows?.dtype === 'I32' && scale?.dtype === 'F32' && rows.shape[0] === shape[0] && scale.shape[0] === shape[0];
    if (!ok) throw new CheckpointError(`${file}: operator tensor "${name}" in ${SELECTIONS_KEY} lacks a matching .index (I32) / .scale (F32) pair`, { file, tensor: name });
    out.set(name, [shape[0] as number, shape[1] as number]);
  }
  return out;
}

/** A saved operator opened for positioned reads: matrices are read one at a time, on demand. The caller closes `file`. */
export interface OpenedOperator {
  path: string;
  metadata: OperatorMetadata;
  file: SafetensorsFile;
  /** Parameter names (selection pairs count once). */
  names: string[];
  shape(name: string): number[] | undefined;
  /** One matrix: its selection form when saved as one, else float32 data with its shape. */
  readMatrix(name: string): Promise<Selection | OperatorMatrix>;
  /** One matrix as dense float32 with its shape. */
  read(name: string): Promise<OperatorMatrix>;
  /** One matrix that must be saved in selection form (a low-rank operator's start). */
  readSelection(name: string): Promise<Selection>;
  /** Every matrix, dense (what a learned operator needs). */
  readAll(): Promise<Map<string, OperatorMatrix>>;
}

export async function openOperator(fileOrDir: string): Promise<OpenedOperator> {
  const file = operatorPath(fileOrDir);
  const st = await SafetensorsFile.open(file);
  try {
    const metadata = parseMetadata(file, st);
    const selections = parseSelections(file, st);
    const pairParts = new Set([...selections.keys()].flatMap((n) => [`${n}.index`, `${n}.scale`]));
    const names = [...[...st.entries.keys()].filter((n) => !pairParts.has(n)), ...selections.keys()];
    const readMatrix = async (name: string): Promise<Selection | OperatorMatrix> => {
      const sel = selections.get(name);
      if (!sel) return { data: await st.readFloat32(name), shape: st.entry(name).shape };
      const index = decodeToInt32(await st.readBytes(`${name}.index`), 'I32');
      const scale = await st.readFloat32(`${name}.scale`);
      for (const i of index) {
        // i === cols is a mean row (selection.ts).
        if (i < 0 || i > sel[1]) throw new CheckpointError(`${file}: "${name}.index" has ${i}, outside [0, ${sel[1]}]`, { file, tensor: name });
      }
      return { index, scale, cols: sel[1] };
    };
    const read = async (name: string): Promise<OperatorMatrix> => {
      const m = await readMatrix(name);
      return 'index' in m ? { data: denseMatrix(m), shape: [m.index.length, m.cols] } : m;
    };
    const readSelection = async (name: string): Promise<Selection> => {
      const m = await readMatrix(name);
      if ('index' in m) return m;
      const sel = asSelection(m.data, m.shape[0], m.shape[1]);
      if (!sel) throw new CheckpointError(`${file}: "${name}" is the start of a low-rank operator and must have one nonzero per row`, { file, tensor: name });
      return sel;
    };
    return {
      path: file,
      metadata,
      file: st,
      names,
      shape: (name) => selections.get(name) ?? st.entries.get(name)?.shape,
      readMatrix,
      read,
      readSelection,
      readAll: async () => {
        const tensors = new Map<string, OperatorMatrix>();
        for (const name of names) tensors.set(name, await read(name));
        return tensors;
      },
    };
  } catch (err) {
    await st.close();
    throw err;
  }
}

/** Every matrix of a saved operator, dense, in memory (small operators, tests); `apply` uses openOperator. */
export async function readOperator(fileOrDir: string): Promise<{ metadata: OperatorMetadata; tensors: Map<string, OperatorMatrix> }> {
  const opened = await openOperator(fileOrDir);
  try {
    return { metadata: opened.metadata, tensors: await opened.readAll() };
  } finally {
    await opened.file.close();
  }
}
