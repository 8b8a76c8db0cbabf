/**
 * The start growth begins from, and whether it keeps the small model's function.
 *
 * `copy` (Net2Net): every large unit is a copy of small unit i mod small. Along the residual
 * stream that is exact only when the width grows by an integer factor: copied unequally (768 ->
 * 1024), units change the mean and variance LayerNorm sees and the mean square RMSNorm sees.
 *
 * `exact` (after LEMON, Wang et al. 2024, lossless expansion at indivisible widths): the residual
 * stream of width d grows to D = k d + m as k whole copies plus m filled dimensions, so that every
 * norm over it sees its statistic times s = k d / D for every input:
 *   - LayerNorm: filled dims are the mean of the small ones (their rows of every producing
 *     weight, bias and embedding are the mean of the small rows): the mean is unchanged, the
 *     variance times s, and the filled dims normalize to exactly 0;
 *   - RMSNorm: filled dims are zero: the mean square times s.
 * The epsilon is scaled by s as well (the plan's target dims carry it, and the written config), so
 * each norm's normalized output is its small output times 1/sqrt(s), which the norm gains absorb
 * (their own operator, scaled by sqrt(s)). A LayerNorm bias has its own operator too: 0 on the
 * filled dims, so they stay 0 after the norm. What reads the filled dims (the consuming side)
 * starts as a copy of a small unit's weights, not zero: the filled dims get gradients from the
 * first step. At integer factors (m = 0, s = 1) this is exactly the copy start.
 * FFN units and attention heads keep their copy/split start, which is exact at any factor.
 *
 * `ligo-paper` (the LiGO paper's own start, as its official code initializes the operators):
 * lossy by design, for the learning phase to repair. Each width operator keeps the source's units
 * as its first ones and starts every new unit as a random mixture of them, on both sides
 * (paper_start.ts); depth starts as the paper's noisy stacking (depth_start.ts). Its mixtures are
 * dense, so it takes the dense operator form.
 */
import { rotaryDims, type ModelDims } from '../arch/dims.js';
import type { ArchitectureDescription, AxisRole, TensorTemplate } from '../arch/types.js';
import { UsageError } from '../errors.js';
import { PAPER_DEPTH_NOISE, resolveDepthStart, type DepthStart } from './depth_start.js';
import type { GrowthMethod } from './methods.js';

export const START_RULES = ['exact', 'copy', 'ligo-paper'] as const;
export type StartRule = (typeof START_RULES)[number];

/** The fixed methods keep their published (copy) rule unless asked; ligo starts exact. */
export const defaultStart = (method: GrowthMethod): StartRule => (method === 'ligo' ? 'exact' : 'copy');

/** How the exact start grows the residual stream when the width factor is not an integer. */
export interface ResidualStart {
  /** Whole copies of the small stream: floor(large / small). */
  copies: number;
  /** What the remaining dims start as: the mean of the small ones (LayerNorm) or zero (RMSNorm). */
  fill: 'mean' | 'zero';
  /** What every norm's statistic (variance, mean square) and epsilon are multiplied by: copies * small / large. */
  statScale: number;
}

/** Which start a plan's operator begins from, and whether it keeps the source's function. */
export interface StartPlan {
  rule: StartRule;
  /** The start computes the source's function (logits equal to float32 rounding). */
  exact: boolean;
  /** Why it does not, one reason a line (empty when exact). */
  notes: string[];
  /** Present when the exact rule differs from copying: the residual width grows by a non-integer factor. */
  residual?: ResidualStart;
  /** Present when head_dim grows by an integer factor and the exact rule keeps attention (see headDimStart). */
  headDim?: HeadDimStart;
  /** How the depth operator starts the layers (depth_start.ts); absent in plans made before it was a choice: the method's default. */
  depth?: DepthStart;
}

/** The start is drawn at random (the paper's mixtures, noisy stacking): not a selection, so it is made and measured in memory. */
export const drawnStart = (start: StartPlan | undefined): boolean => start?.rule === 'ligo-paper' || start?.depth === 'noisy';

/** The paper's mixtures are dense: a low-rank operator's fixed start is a selection and cannot hold them. */
export const startNeedsDense = (rule: StartRule | undefined): boolean => rule === 'ligo-paper';

/**
 * head_dim grown by an integer factor f, exactly: every query head's scores q.k / sqrt(hd) stay
 * what they were when the query's old dims are scaled by sqrt(f) and the key's new dims start at
 * zero (q'.k' = sqrt(f) q.k, divided by sqrt(f hd)). Under RoPE, old rotary pair i moves to new
 * pair i f, whose frequency theta^(-2 i f / (f rd)) is its old one, and the rest start at zero in
 * the keys. Values are copied and split like any unit, so they are exact already.
 */
export interface HeadDimStart {
  factor: number;
}

/** The exact start's head_dim growth, or why there is none (one line for the notes). */
function headDimStart(source: ModelDims, target: ModelDims): HeadDimStart | string {
  const [hd, HD] = [source.headDim, target.headDim];
  const change = `head_dim ${hd} -> ${HD}: the attention scale 1/sqrt(head_dim)${source.rotary ? ' and the RoPE frequencies' : ''} change`;
  if (HD % hd !== 0) return `${change}, and ${HD} is not a multiple of ${hd}`;
  const factor = HD / hd;
  if (source.rotary && rotaryDims(target) !== factor * rotaryDims(source)) return `${change}, and the rotated dims ${rotaryDims(source)} -> ${rotaryDims(target)} do not grow by ${factor}`;
  // Qwen3's per-head RMSNorm over head_dim sees the zero key dims: its statistic would change.
  if (target.qkNorm) return `${change}, and the per-head query/key norm sees the new dims`;
  return { factor };
}

/** Residual-stream tensors the exact start grows with operators of their own (see the module comment). */
export type ResidualUse = 'normGain' | 'normBias';
const USE_IDS: Record<ResidualUse, string> = { normGain: 'width.gain', normBias: 'width.bias' };
export const residualOperatorId = (use: ResidualUse): string => USE_IDS[use];

/** The operator use of a template's segment: norm gains and biases over the residual stream, under a filled start. */
export function residualUse(template: TensorTemplate, role: AxisRole, start: StartPlan): ResidualUse | undefined {
  if (!start.residual || role !== 'width') return undefined;
  return template.normGain ? 'normGain' : template.normBias ? 'normBias' : undefined;
}

/** Every copied query head reads the copy of its own key/value head (true whenever the group size is kept). */
function headsAgree(source: ModelDims, target: ModelDims): boolean {
  const groupSmall = source.numHeads / source.numKvHeads;
  const groupLarge = target.numHeads / target.numKvHeads;
  for (let h = 0; h < target.numHeads; h++) {
    const smallHead = h % source.numHeads;
    if (Math.floor(smallHead / groupSmall) !== Math.floor(h / groupLarge) % source.numKvHeads) return false;
  }
  return true;
}

/**
 * The start of a plan: the rule (default per method), the residual stream's fill under the exact
 * rule, and every reason the start is not exact. Refuses `--start exact` where no start is exact
 * (post-norm at a non-integer width); by default such a family falls back to copy, said in the notes.
 */
export function planStart(options: {
  description: ArchitectureDescription;
  source: ModelDims;
  target: ModelDims;
  method: GrowthMethod;
  start?: StartRule;
  /** --depth-start (ligo only); default: the method's (depth_start.ts). */
  depthStart?: DepthStart;
}): StartPlan {
  const { description, source, target, method } = options;
  if (options.start !== undefined && !START_RULES.includes(options.start)) {
    throw new UsageError(`--start: expected one of ${START_RULES.join(', ')}, got "${String(options.start)}"`, { flag: '--start' });
  }
  if (options.start === 'ligo-paper' && method !== 'ligo') {
    throw new UsageError(`--start ligo-paper: the paper's random start is made for ligo's learning phase to repair; use it with --method ligo`, { flag: '--start' });
  }
  const depth = resolveDepthStart({ description, method, start: options.start, asked: options.depthStart });
  if (options.start === 'ligo-paper') return { rule: 'ligo-paper', exact: false, notes: paperNotes(description, source, target, depth), depth };
  let rule = options.start ?? defaultStart(method);
  const notes: string[] = [];
  if (method === 'random') notes.push('random: fresh tensors, nothing of the source is kept');
  const [d, D] = [source.hiddenSize, target.hiddenSize];
  const copies = Math.floor(D / d);
  let residual: ResidualStart | undefined;
  if (D % d !== 0 && method !== 'random') {
    if (!description.preNorm) {
      const why = `${source.modelType} normalizes after each residual add (post-norm): at hidden size ${d} -> ${D}, not a multiple, no start keeps its function`;
      if (options.start === 'exact') throw new UsageError(`--start exact: ${why}`, { flag: '--start', hint: `use --start copy, or a hidden size that is a multiple of ${d}` });
      rule = 'copy';
      notes.push(why);
    } else if (rule === 'exact') residual = { copies, fill: description.norm === 'layerNorm' ? 'mean' : 'zero', statScale: (copies * d) / D };
    else notes.push(`hidden size ${d} -> ${D} is not a multiple: units copied unequally change what every norm sees (--start exact keeps it)`);
  }
  let headDim: HeadDimStart | undefined;
  if (target.headDim !== source.headDim && method !== 'random') {
    const grown = headDimStart(source, target);
    if (typeof grown !== 'string' && rule === 'exact') headDim = grown;
    else notes.push(typeof grown === 'string' ? grown : `head_dim ${source.headDim} -> ${target.headDim}: copied head dims change every attention score (--start exact keeps them)`);
  }
  if (!headsAgree(source, target)) {
    notes.push(`${source.numHeads} -> ${target.numHeads} query heads over ${source.numKvHeads} -> ${target.numKvHeads} key/value heads: a copied query head reads another key/value head than its source`);
  }
  if (method !== 'random') notes.push(...depthNotes(description, source, target, method, depth));
  return { rule, exact: notes.length === 0, notes, ...(residual ? { residual } : {}), ...(headDim ? { headDim } : {}), depth };
}

/** Why the depth start is not exact, one reason a line (none for identity repeats, or copies where no layer is added). */
function depthNotes(description: ArchitectureDescription, source: ModelDims, target: ModelDims, method: GrowthMethod, depth: DepthStart): string[] {
  if (depth === 'noisy') return [`every layer starts as a noisy stack (the paper's): its source layer plus U(0, ${PAPER_DEPTH_NOISE}) of every source layer, normalized`];
  if (depth === 'identity' || target.numLayers === source.numLayers) return [];
  if (!description.preservation.identityRepeats) return [`${source.modelType} is post-norm: a repeated layer cannot start as an identity`];
  return [`${method === 'ligo' ? 'new layers start as plain copies of source layers (G_stack)' : `${method} repeats layers as plain copies`}, which add to the residual stream again`];
}

/** What the paper's start changes, one reason a line: its width mixtures where any width grows, then its depth start's. */
function paperNotes(description: ArchitectureDescription, source: ModelDims, target: ModelDims, depth: DepthStart): string[] {
  const keys = ['hiddenSize', 'intermediateSize', 'numHeads', 'numKvHeads', 'headDim'] as const;
  const notes = keys.some((k) => target[k] !== source[k]) ? ["new units start as random mixtures of the source's, read as such by every consuming weight (not split): the paper's init"] : [];
  notes.push(...depthNotes(description, source, target, 'ligo', depth));
  return notes.length > 0 ? notes : ["the paper's start, with no new unit to mix and no noise on the layers"];
}

/** The target dims the start needs: under a filled residual start, every norm's epsilon times s. */
export function startTarget(target: ModelDims, source: ModelDims, start: StartPlan): ModelDims {
  return start.residual ? { ...target, normEps: source.normEps * start.residual.statScale } : target;
}

/**
 * Symmetry-breaking knobs that assume every consuming row of a unit is one of its copies, which a
 * filled start's readers are not, and the paper's start has no copies at all: refused in one line
 * rather than silently inexact or ignored. `split`: --split where given.
 */
export function checkStartKnobs(start: StartPlan, knobs: { splitNoise?: number; copyNoise?: number; split?: string }): void {
  if (start.rule === 'ligo-paper') {
    const knob = knobs.split !== undefined ? '--split' : (knobs.splitNoise ?? 0) > 0 ? '--split-noise' : (knobs.copyNoise ?? 0) > 0 ? '--copy-noise' : undefined;
    if (knob === undefined) return;
    throw new UsageError(`${knob}: shapes how copies share their weights, and --start ligo-paper has no copies (its new units are random mixtures)`, { flag: knob, hint: 'leave it out, or use --start exact or copy' });
  }
  if (!start.residual) return;
  const flag = (knobs.splitNoise ?? 0) > 0 ? '--split-noise' : (knobs.copyNoise ?? 0) > 0 ? '--copy-noise' : undefined;
  if (flag === undefined) return;
  throw new UsageError(`${flag}: not function-preserving with --start exact at a non-integer width (its filled residual dims are read by weights that are not copies)`, {
    flag,
    hint: 'leave it out, or use --start copy',
  });
}

/** One line for --dry-run, growth.json readers and the model card: one word for the start, then what it did or every reason it is not exact. */
export function describeStart(start: StartPlan): string {
  if (!start.exact) return `lossy (${start.rule} rule): ${start.notes.join('; ')}`;
  const r = start.residual;
  const f = start.headDim?.factor;
  const how = [
    ...(r ? [`residual dims past ${r.copies} whole ${r.copies === 1 ? 'copy' : 'copies'} start as ${r.fill === 'mean' ? "the mean of the source's" : 'zero'}; norm gains x sqrt(${r.statScale.toFixed(4)}), epsilon x ${r.statScale.toFixed(4)}`] : []),
    ...(f ? [`head_dim x ${f}: queries x sqrt(${f}), new key dims start at zero`] : []),
  ];
  return `exact (keeps the source's function)${how.length > 0 ? `: ${how.join('; ')}` : ''}`;
}
