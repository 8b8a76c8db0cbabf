import type { LayerGroup } from '../arch/types.js';
import type { Selection } from './selection.js';

/**
 * Width and depth initializations in selection form (row r is scale[r] times unit vector
 * index[r]), so they are testable without tensors and never need a dense matrix at scale. Width
 * copies use i mod small: every small unit is copied the same number of times when large is a
 * multiple of small, which is what makes LayerNorm/RMSNorm statistics, and so the whole function,
 * exactly preserved.
 */
export function copySelection(large: number, small: number): Selection {
  const index = Int32Array.from({ length: large }, (_, i) => i % small);
  return { index, scale: new Float32Array(large).fill(1), cols: small };
}

/** The `in` side of a copy: each copy gets 1/count of the weight so sums over the axis are unchanged. */
export function splitSelection(large: number, small: number): Selection {
  const sel = copySelection(large, small);
  const counts = new Float32Array(small);
  for (let i = 0; i < large; i++) counts[i % small] += 1;
  for (let i = 0; i < large; i++) sel.scale[i] = 1 / counts[i % small];
  return sel;
}

/**
 * Breaks the symmetry between copies without changing the function: each copy of a small unit
 * gets (1 + e) / count of its consuming weight instead of 1 / count, with e ~ N(0, sigma) made
 * zero-mean within the unit's copies, so the copies' shares still sum to 1 (Net2Net's random
 * split). Copies with equal outgoing weights receive equal gradients forever; unequal shares make
 * them train apart. Units copied once are left alone. Returns a new selection.
 */
export function jitterSplit(sel: Selection, sigma: number, gaussian: () => number): Selection {
  const scale = sel.scale.slice();
  const rowsOf = new Map<number, number[]>();
  sel.index.forEach((j, r) => {
    if (sel.scale[r] !== 0) rowsOf.set(j, [...(rowsOf.get(j) ?? []), r]);
  });
  for (const rows of rowsOf.values()) {
    if (rows.length < 2) continue;
    const e = rows.map(() => sigma * gaussian());
    const mean = e.reduce((a, b) => a + b, 0) / e.length;
    rows.forEach((r, i) => (scale[r] = sel.scale[r] * (1 + e[i] - mean)));
  }
  return { index: sel.index, scale, cols: sel.cols };
}

/**
 * How the copies of a unit share its consuming weights: `even` (Net2Net: 1/count each) or `first`
 * (the first copy keeps the whole weight and the others start at zero). Both preserve the
 * function. Even shares keep the copies bit-identical under training (their gradients are equal),
 * so the grown model keeps the source's width however long it trains; unequal shares
 * (jitterSplit) make the gradients of a unit's copies proportional at first, which Adam's
 * per-entry normalization turns into nearly equal updates. With `first`, a new copy's consuming
 * weights start at zero, so the copies get different gradients from the first step and train
 * apart.
 */
export const SPLIT_MODES = ['even', 'first'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];

/**
 * The `first` split of a selection: each small unit's share summed onto its first copy, later
 * copies 0. Zero rows point at column 0, the form a dense matrix reads back as (selection.ts
 * asSelection), so a saved operator has the same bytes however it was built. Returns a new selection.
 */
export function firstSplit(sel: Selection): Selection {
  const scale = new Float32Array(sel.scale.length);
  const index = new Int32Array(sel.index.length);
  const first = new Map<number, number>();
  sel.index.forEach((j, r) => {
    const at = first.get(j);
    if (at === undefined) {
      first.set(j, r);
      index[r] = j;
    }
    scale[at ?? r] += sel.scale[r];
  });
  return { index, scale, cols: sel.cols };
}

/** The dense row-major [rows, cols] matrix a selection stands for (a mean row: scale / cols in every column). */
export function denseMatrix(sel: Selection): Float32Array {
  const m = new Float32Array(sel.index.length * sel.cols);
  for (let r = 0; r < sel.index.length; r++) {
    if (sel.scale[r] === 0) continue;
    if (sel.index[r] === sel.cols) m.fill(sel.scale[r] / sel.cols, r * sel.cols, (r + 1) * sel.cols);
    else m[r * sel.cols + sel.index[r]] = sel.scale[r];
  }
  return m;
}

export const copyMatrix = (large: number, small: number): Float32Array => denseMatrix(copySelection(large, small));
export const splitMatrix = (large: number, small: number): Float32Array => denseMatrix(splitSelection(large, small));

export const DEPTH_PATTERNS = ['stack', 'interlace'] as const;
export type DepthPattern = (typeof DEPTH_PATTERNS)[number];

/**
 * Which small layer each large layer starts from, and whether repeats start as identities.
 * stack: large layer l copies small layer l mod L_small (StackBERT);
 * interlace: each small layer is repeated in place (l -> floor(l * L_small / L_large)).
 * preserve: every repeat of a small layer has its output projections (attn_out, mlp_out) zeroed,
 * so in a pre-norm network it adds nothing to the residual stream and the grown model computes
 * the small model's function exactly, while its other weights are real copies that train.
 */
export interface DepthInit {
  pattern: DepthPattern;
  preserve: boolean;
  /**
   * The paper's noisy stacking (depth_start.ts): U(0, noise) on every coefficient of a large
   * layer, then its row normalized to sum to 1. Not a selection: drawn in initial_operator.ts.
   */
  noise?: number;
}

export function sourceLayer(pattern: DepthPattern, layer: number, large: number, small: number): number {
  return pattern === 'stack' ? layer % small : Math.floor((layer * small) / large);
}

/** A zeroed repeat is a zero row: index 0, scale 0, as the selection form of the dense matrix reads. */
export function depthSelection(pattern: DepthPattern, large: number, small: number, zeroRepeats: boolean): Selection {
  const index = new Int32Array(large);
  const scale = new Float32Array(large);
  const seen = new Set<number>();
  for (let l = 0; l < large; l++) {
    const j = sourceLayer(pattern, l, large, small);
    if (!(zeroRepeats && seen.has(j))) {
      index[l] = j;
      scale[l] = 1;
    }
    seen.add(j);
  }
  return { index, scale, cols: small };
}

export const depthMatrix = (pattern: DepthPattern, large: number, small: number, zeroRepeats: boolean): Float32Array =>
  denseMatrix(depthSelection(pattern, large, small, zeroRepeats));

/** Depth groups whose repeated layers are zeroed by `preserve`. */
export const OUTPUT_GROUPS: readonly LayerGroup[] = ['attn_out', 'mlp_out'];

export function describeDepthInit(init: DepthInit, split: SplitMode = 'even'): string {
  const how = init.preserve ? ', repeated layers start as identities' : (init.noise ?? 0) > 0 ? `, noisy (each layer its source plus U(0, ${init.noise}) of every source layer, normalized)` : '';
  const depth = `${init.pattern}${how}`;
  return split === 'first' ? `${depth}; copies split onto the first` : depth;
}
