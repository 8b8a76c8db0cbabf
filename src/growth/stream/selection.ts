/**
 * Materialization for operators that only copy and scale (net2net, stack, interlace, and LiGO
 * before it has learned). When every row of a width matrix B [large, small] has at most one
 * nonzero, B x is a gather of x plus a per-row scale: O(output) work in plain typed arrays instead
 * of a dense matMul in the (4 GiB-capped) wasm heap. Results are bit-identical to materialize.ts:
 * each scaled entry is one float32 product, as the matMul's single nonzero term is, and `+ 0`
 * (after rounding to float32, so underflows count) turns -0 into +0 as the matMul's sum does. Learned (dense) operators use materialize.ts.
 * One exception: a mean row (the exact start's filled residual dims under LayerNorm) is a sum of
 * the small units, computed here in float64 and rounded once, so it equals the matMul's to float32
 * rounding, not bit for bit.
 */
import type { AxisSide, LayerGroup } from '../../arch/types.js';
import { widthMatrix, type MatrixAlgebra } from '../assembly.js';
import { storedPositions } from '../interleave.js';
import { assemblyOf, assemblyParameters, operatorParameter } from '../layout.js';
import type { StoredTransform } from '../../arch/types.js';
import type { GrowthPlan, InterleavePlan, PlannedSegment, PlannedTensor, WidthAssembly } from '../plan_types.js';
import { asSelection, blockDiagonalSelection, hasMeanRows, identitySelection, kronSelection, type Selection } from '../selection.js';
import type { RowGather } from './row_chunks.js';

export type { Selection } from '../selection.js';

/** Where operator matrices come from: (name) -> a selection, or row-major float32 data and shape. */
export type OperatorMatrixReader = (name: string) => Promise<Selection | { data: Float32Array; shape: readonly number[] }>;

/** A product of selections is one only where no operand has a mean row (only residual operators average). */
const noMeans = (...xs: (Selection | undefined)[]): boolean => xs.every((x) => x !== undefined && !hasMeanRows(x));

/**
 * The selection executor of the plan's assemblies (assembly.ts, as the tfjs operator runs them):
 * undefined wherever the matrix is not a selection. A low-rank operator is its start while its
 * correction U V^T is zero (U is, until it learns); a head_dim factor with a mean row is no
 * selection inside a Kronecker product.
 */
function selectionAlgebra(read: (name: string) => Selection | undefined, uIsZero: (a: Extract<WidthAssembly, { kind: 'lowRank' }>) => boolean): MatrixAlgebra<Selection | undefined> {
  return {
    parameter: read,
    identity: identitySelection,
    kron: (a, b) => (a && b && noMeans(a, b) ? kronSelection(a, b) : undefined),
    blockDiagonal: (a, b) => (a && b && noMeans(a, b) ? blockDiagonalSelection(a, b) : undefined),
    lowRank: (a) => (uIsZero(a) ? read(a.selection) : undefined),
  };
}

/**
 * Operator matrices read on demand, one at a time, kept only in selection form (a few bytes per
 * large index); a dense matrix is remembered as "not a selection" and its data dropped.
 */
export class SelectionOperator {
  private readonly matrices = new Map<string, Promise<Selection | undefined>>();
  private readonly widths = new Map<string, Promise<Selection | undefined>>();

  constructor(
    private readonly plan: GrowthPlan,
    private readonly read: OperatorMatrixReader,
  ) {}

  private matrix(name: string): Promise<Selection | undefined> {
    let hit = this.matrices.get(name);
    if (!hit) {
      hit = this.read(name).then((m) => ('index' in m ? m : asSelection(m.data, m.shape[0], m.shape[1])));
      this.matrices.set(name, hit);
    }
    return hit;
  }

  /** The full [large, small] width matrix of operator `id` on `side` (or its head_dim factor), as the tfjs operator builds it. */
  width(id: string, side: AxisSide, part?: 'headDim'): Promise<Selection | undefined> {
    const key = `${id}:${side}:${part ?? ''}`;
    let hit = this.widths.get(key);
    if (!hit) {
      hit = this.buildWidth(assemblyOf(this.plan, id, side), part);
      this.widths.set(key, hit);
    }
    return hit;
  }

  private async buildWidth(a: WidthAssembly, part?: 'headDim'): Promise<Selection | undefined> {
    const selections = new Map<string, Selection | undefined>();
    let uZero = true;
    for (const name of assemblyParameters(a, part)) {
      const role = operatorParameter(this.plan, name)?.role;
      if (role === 'correctionV') continue;
      if (role === 'correctionU') {
        const u = await this.read(name);
        uZero = 'index' in u ? u.scale.every((x) => x === 0) : u.data.every((x) => x === 0);
        continue;
      }
      const sel = await this.matrix(name);
      const headDim = role === 'headDim' || role === 'headDimPass';
      selections.set(name, headDim && sel && hasMeanRows(sel) ? undefined : sel);
    }
    return widthMatrix(a, selectionAlgebra((name) => selections.get(name), () => uZero), part);
  }

  /** The depth matrix of `group`, when each large layer takes (a multiple of) one small layer. */
  depth(group: LayerGroup): Promise<Selection | undefined> {
    const d = this.plan.depth.find((x) => x.group === group);
    if (!d) throw new Error(`growth plan has no depth operator for "${group}"`);
    return this.matrix(d.parameter);
  }
}

/** One axis as a gather: per large index, the small index, its scale, and whether it is copied untouched. */
export interface AxisGather {
  index: Int32Array;
  scale: Float32Array;
  /** 1 where the segment has no operator: copied as is (no product, no -0 normalization). */
  raw: Uint8Array;
  /**
   * Means a row takes (a selection's mean rows): index small + k reads the mean of the small
   * positions means[k] (a segment's, in stored order), appended to the source (withMeans).
   */
  means?: Int32Array[];
}

/**
 * A gather in logical order (segments concatenated) moved to the stored per-group order on both
 * sides: large stored position P(l) takes small stored position P(index[l]).
 */
function interleaveGather(g: AxisGather, segments: readonly PlannedSegment[], interleave: InterleavePlan): AxisGather {
  const small = storedPositions(segments.map((s) => s.small), interleave.small);
  const large = storedPositions(segments.map((s) => s.large), interleave.large);
  const out: AxisGather = { index: new Int32Array(g.index.length), scale: new Float32Array(g.index.length), raw: new Uint8Array(g.index.length) };
  // Mean positions (past the small ones) stay where they are; their members move to stored order.
  if (g.means) out.means = g.means.map((members) => members.map((p) => small[p]));
  for (let l = 0; l < g.index.length; l++) {
    const at = large[l];
    out.index[at] = g.index[l] < small.length ? small[g.index[l]] : g.index[l];
    out.scale[at] = g.scale[l];
    out.raw[at] = g.raw[l];
  }
  return out;
}

async function axisGather(segments: readonly PlannedSegment[], op: SelectionOperator, interleave?: InterleavePlan): Promise<AxisGather | undefined | null> {
  if (segments.every((s) => s.operator === null)) return null;
  const large = segments.reduce((n, s) => n + s.large, 0);
  const smallTotal = segments.reduce((n, s) => n + s.small, 0);
  const gather: AxisGather = { index: new Int32Array(large), scale: new Float32Array(large), raw: new Uint8Array(large) };
  const means: Int32Array[] = [];
  let offSmall = 0;
  let offLarge = 0;
  for (const s of segments) {
    const sel = s.operator === null ? undefined : await op.width(s.operator, s.side, s.part);
    if (s.operator !== null && !sel) return undefined;
    // The segment's mean, when a row takes it: one appended position past the small ones.
    let meanAt = -1;
    const meanPosition = (): number => {
      if (meanAt < 0) {
        meanAt = smallTotal + means.length;
        means.push(Int32Array.from({ length: s.small }, (_, i) => offSmall + i));
      }
      return meanAt;
    };
    for (let i = 0; i < s.large; i++) {
      gather.index[offLarge + i] = sel && sel.index[i] === sel.cols ? meanPosition() : offSmall + (sel ? sel.index[i] : i);
      gather.scale[offLarge + i] = sel ? sel.scale[i] : 1;
      gather.raw[offLarge + i] = sel ? 0 : 1;
    }
    offSmall += s.small;
    offLarge += s.large;
  }
  if (means.length > 0) gather.means = means;
  return interleave ? interleaveGather(gather, segments, interleave) : gather;
}

/**
 * Rows [r0, r1) of x [rows, cols] gathered along axis 0 by `rowsG` and then axis 1 by `colsG`
 * (null: unchanged), into out[0, (r1 - r0) * outCols). Each step rounds as its own matMul would:
 * the row product is rounded to float32 (and -0 made +0) before the column product. A rank-1
 * tensor is one row with rowsG null.
 */
function gatherRows(x: Float32Array, cols: number, rowsG: AxisGather | null, colsG: AxisGather | null, r0: number, r1: number, out: Float32Array): void {
  const outCols = colsG ? colsG.index.length : cols;
  for (let r = r0; r < r1; r++) {
    const from = (rowsG ? rowsG.index[r] : r) * cols;
    const to = (r - r0) * outCols;
    const rowRaw = rowsG ? rowsG.raw[r] === 1 : true;
    const sr = rowsG ? rowsG.scale[r] : 1;
    if (!colsG) {
      if (rowRaw) out.set(x.subarray(from, from + cols), to);
      else if (sr === 1) for (let c = 0; c < cols; c++) out[to + c] = x[from + c] + 0;
      else for (let c = 0; c < cols; c++) out[to + c] = Math.fround(x[from + c] * sr) + 0;
      continue;
    }
    const { index, scale, raw } = colsG;
    if (rowRaw) {
      for (let j = 0; j < outCols; j++) {
        const v = x[from + index[j]];
        out[to + j] = raw[j] ? v : Math.fround(v * scale[j]) + 0;
      }
    } else if (sr === 1) {
      // x * 1 is x; only the -0 -> +0 of the row step remains, and the column step's + 0 covers it.
      for (let j = 0; j < outCols; j++) {
        const v = x[from + index[j]] + 0;
        out[to + j] = raw[j] ? v : Math.fround(v * scale[j]) + 0;
      }
    } else {
      for (let j = 0; j < outCols; j++) {
        const v = Math.fround(x[from + index[j]] * sr) + 0;
        out[to + j] = raw[j] ? v : Math.fround(v * scale[j]) + 0;
      }
    }
  }
}

/** Per output row, an id shared by the rows that are equal (same source row, rawness and scale). */
export function equalRowIds(rowsG: AxisGather | null, outRows: number): Int32Array {
  const rowId = new Int32Array(outRows);
  const ids = new Map<string, number>();
  for (let r = 0; r < outRows; r++) {
    const key = rowsG ? `${rowsG.index[r]}:${rowsG.raw[r]}:${rowsG.scale[r]}` : `${r}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    rowId[r] = id;
  }
  return rowId;
}

/** Where a tensor's gathers start: the small tensor it reads, its depth scale, and one gather per axis. */
export interface TensorGather {
  source: string;
  depthScale: number | undefined;
  gathers: (AxisGather | null)[];
}

export async function tensorGather(t: PlannedTensor, op: SelectionOperator): Promise<TensorGather | undefined> {
  if (t.smallShape.length > 2) return undefined;
  let source = t.sources[0];
  let depthScale: number | undefined;
  if (t.layer !== undefined && t.group !== undefined) {
    const d = await op.depth(t.group);
    if (!d) return undefined;
    source = t.sources[d.index[t.layer]];
    depthScale = d.scale[t.layer];
  }
  const gathers: (AxisGather | null)[] = [];
  for (const [axis, segments] of t.axes.entries()) {
    const g = await axisGather(segments, op, t.interleave?.axis === axis ? t.interleave : undefined);
    if (g === undefined) return undefined;
    gathers.push(g);
  }
  return { source, depthScale, gathers };
}

/** A tensor's gather as a matrix: rank 1 is one row whose columns are gathered; null is no gather. */
export function asMatrix(
  t: PlannedTensor,
  gathers: readonly (AxisGather | null)[],
): { rows: number; cols: number; rowsG: AxisGather | null; colsG: AxisGather | null; outRows: number; outCols: number } {
  const rank1 = t.smallShape.length === 1;
  const rows = rank1 ? 1 : t.smallShape[0];
  const cols = rank1 ? t.smallShape[0] : t.smallShape[1];
  const rowsG = rank1 ? null : gathers[0];
  const colsG = rank1 ? gathers[0] : gathers[1];
  return { rows, cols, rowsG, colsG, outRows: rowsG ? rowsG.index.length : rows, outCols: colsG ? colsG.index.length : cols };
}

/**
 * The stored transform (arch/types.ts) in materialize.ts's float32 steps: factor * v, then plus
 * (factor * o - 1) * offset, where o is the same gather of ones.
 */
function storedValues(transform: StoredTransform, values: Float32Array, ones: Float32Array | undefined): void {
  const factor = Math.fround(transform.factor);
  const offset = Math.fround(transform.offset);
  for (let i = 0; i < values.length; i++) {
    let v = factor === 1 ? values[i] : Math.fround(values[i] * factor);
    if (ones) {
      const o = factor === 1 ? ones[i] : Math.fround(ones[i] * factor);
      v = Math.fround(v + Math.fround(Math.fround(o - 1) * offset));
    }
    values[i] = v;
  }
}

/** The mean of x[members[i] * stride + offset], rounded to float32 once. */
function meanOf(x: Float32Array, members: Int32Array, stride: number, offset: number): number {
  let sum = 0;
  for (const p of members) sum += x[p * stride + offset];
  return Math.fround(sum / members.length);
}

/**
 * x [rows, cols] with the means the gathers take appended: rows' means below (per column), then
 * columns' means on the right (per row, the appended rows included, as the row step comes first).
 * A mean is a sum, so it equals the dense matMul's only to float32 rounding (every other gathered
 * element is bit-identical). Returns x itself when no gather takes a mean.
 */
function withMeans(x: Float32Array, rows: number, cols: number, rowsG: AxisGather | null, colsG: AxisGather | null): { x: Float32Array; cols: number } {
  const rowMeans = rowsG?.means ?? [];
  const colMeans = colsG?.means ?? [];
  if (rowMeans.length === 0 && colMeans.length === 0) return { x, cols };
  const allCols = cols + colMeans.length;
  const allRows = rows + rowMeans.length;
  const out = new Float32Array(allRows * allCols);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * cols, (r + 1) * cols), r * allCols);
  rowMeans.forEach((members, k) => {
    for (let c = 0; c < cols; c++) out[(rows + k) * allCols + c] = meanOf(x, members, cols, c);
  });
  colMeans.forEach((members, k) => {
    for (let r = 0; r < allRows; r++) out[r * allCols + cols + k] = meanOf(out, members, 1, r * allCols);
  });
  return { x: out, cols: allCols };
}

/** A float32 gather ready to build any block of rows (see row_chunks.ts), from a source it may scale in place. */
function floatRows(t: PlannedTensor, plan: TensorGather, source: Float32Array): RowGather {
  const { depthScale, gathers } = plan;
  // The depth matMul's one nonzero term: one product and a +0.
  const mix = (v: number): number => (depthScale === undefined ? v : Math.fround(v * depthScale) + 0);
  for (let i = 0; i < source.length; i++) source[i] = mix(source[i]);
  const { rows, cols: smallCols, rowsG, colsG, outRows, outCols } = asMatrix(t, gathers);
  const { x, cols } = withMeans(source, rows, smallCols, rowsG, colsG);
  const rowId = equalRowIds(rowsG, outRows);
  const transform = t.transform;
  const ones = transform && transform.offset !== 0 ? withMeans(new Float32Array(source.length).fill(mix(1)), rows, smallCols, rowsG, colsG).x : undefined;
  return {
    rows: outRows,
    rowBytes: 4 * outCols,
    rowId,
    fillRows(r0, r1, out) {
      const values = new Float32Array(out.buffer, out.byteOffset, (r1 - r0) * outCols);
      gatherRows(x, cols, rowsG, colsG, r0, r1, values);
      if (!transform) return;
      let grownOnes: Float32Array | undefined;
      if (ones) {
        grownOnes = new Float32Array(values.length);
        gatherRows(ones, cols, rowsG, colsG, r0, r1, grownOnes);
      }
      storedValues(transform, values, grownOnes);
    },
  };
}

/**
 * The F32 grown tensor as rows to build block by block, from the source tensor read as float32 by
 * `read` into an array this may overwrite; undefined as materializeBySelection, or when `accepts`
 * refuses the source tensor's name.
 */
export async function planFloatGather(
  t: PlannedTensor,
  op: SelectionOperator,
  read: (name: string) => Promise<Float32Array>,
  accepts: (source: string) => boolean = () => true,
): Promise<RowGather | undefined> {
  const plan = await tensorGather(t, op);
  if (!plan || !accepts(plan.source)) return undefined;
  return floatRows(t, plan, await read(plan.source));
}

/**
 * The grown tensor by gathers, or undefined when some operator it needs is not a selection (or
 * the tensor has rank > 2): the caller then uses materializeTensor. `read` returns a small tensor
 * by canonical name as float32 in a fresh array the caller may overwrite. Runs in plain JS: no
 * tfjs, no wasm heap.
 */
export async function materializeBySelection(
  t: PlannedTensor,
  op: SelectionOperator,
  read: (name: string) => Promise<Float32Array>,
): Promise<Float32Array | undefined> {
  const plan = await tensorGather(t, op);
  if (!plan) return undefined;
  const rows = floatRows(t, plan, await read(plan.source));
  const out = new Uint8Array(rows.rows * rows.rowBytes);
  rows.fillRows(0, rows.rows, out);
  return new Float32Array(out.buffer);
}
