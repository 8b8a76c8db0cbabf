import { readFile, stat } from 'node:fs/promises';
import { openModel, type LoadedModel } from '../arch/load.js';
import { resolveArchitecture } from '../arch/resolve.js';
import { readConfig } from '../checkpoint/index.js';
import { UsageError } from '../errors.js';
import { checkStartKnobs, drawnStart } from '../growth/exact_start.js';
import { planGrowth, type GrowthPlan } from '../growth/plan.js';
import { resolveTarget, targetOptionsFromDims, type TargetOptions } from '../growth/target.js';
import type { MemoryEstimate } from '../train/estimate.js';
import { chooseRecompute, stepTime } from './memory.js';
import { initBackend, measureMatmulRate } from '../backend/index.js';
import { checkInputs } from './inputs.js';
import { resolveGrowOptions, type GrowOptions, type ResolvedGrowOptions } from './options.js';
import { REPAIR_STEPS, repairHint, withRepair } from './repair.js';
import { measureStartGap, type StartGap } from './start_gap.js';
import { resolveRun, type RunSettings } from './run_settings.js';

/** --target-config: a config.json file, or a model directory holding one. */
async function readTargetConfig(file: string): Promise<Record<string, unknown>> {
  if ((await stat(file).catch(() => undefined))?.isDirectory()) return readConfig(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--target-config: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { flag: '--target-config', file });
  }
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`--target-config: ${file} is not a JSON object (expected a config.json)`, { flag: '--target-config', file });
}

/** The source, target and plan of a growth run; no data is read and nothing is written. */
export async function planFromOptions(o: ResolvedGrowOptions, run: RunSettings, source: Pick<LoadedModel, 'description' | 'dims' | 'match'>): Promise<GrowthPlan> {
  let targetOptions: TargetOptions = o;
  if (o.targetConfig) {
    const file = o.targetConfig;
    const config = await readTargetConfig(file);
    const resolved = resolveArchitecture(config, file);
    if (resolved.description !== source.description) {
      throw new UsageError(`--target-config: ${file} is a ${resolved.dims.modelType} config but the source is ${source.dims.modelType}`, { flag: '--target-config' });
    }
    targetOptions = { ...targetOptionsFromDims(resolved.dims), ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  }
  const target = resolveTarget(source.dims, targetOptions, source.description);
  const plan = planGrowth({
    description: source.description,
    source: source.dims,
    target,
    method: o.method,
    optionalPresent: source.match.optionalPresent,
    operator: run.form,
    start: o.start,
    depthStart: o.depthStart,
  });
  // Only a learning method uses the symmetry-breaking knobs (growth/operator.ts startingOperator).
  if (plan.start && run.recipe.learns) checkStartKnobs(plan.start, { ...o, split: o.given.has('split') ? o.split : undefined });
  return plan;
}

/** What needs text: a learning phase, or a random start (drawn and measured in memory). */
export function refuseWhatNeedsData(o: ResolvedGrowOptions, run: RunSettings): void {
  if (run.learningPhase) {
    throw new UsageError(`--data: --steps ${o.steps} learns the operator on text; pass --data <file> (.txt, .jsonl or .bin), or leave --steps out for the start alone`, { flag: '--data' });
  }
  if (!run.recipe.learns) return;
  const flag = o.noise > 0 ? '--noise' : o.splitNoise > 0 ? '--split-noise' : o.copyNoise > 0 ? '--copy-noise' : undefined;
  if (flag) throw new UsageError(`${flag}: a noisy start is drawn and measured in memory, with text; pass --data <file>, or leave ${flag} out`, { flag });
}

/** A drawn start (the paper's mixtures, noisy stacking) is made and measured in memory: without text, refused naming the flag that asked for it. */
function refuseDrawnStart(plan: GrowthPlan): void {
  if (!drawnStart(plan.start)) return;
  const flag = plan.start?.rule === 'ligo-paper' ? '--start ligo-paper' : '--depth-start noisy';
  throw new UsageError(`--data: ${flag} draws a random start, made and measured in memory with text; pass --data <file> (it then learns ${REPAIR_STEPS} steps to repair it), or leave ${flag} out`, { flag: '--data' });
}

/** What a run decided from config.json and the headers: its options (a lossy start's repair steps in), settings and plan. */
export interface PlannedRun {
  o: ResolvedGrowOptions;
  settings: RunSettings;
  plan: GrowthPlan;
}

/**
 * The one sequence every grow path plans by: the run's settings, what it refuses without text,
 * the plan, and a lossy start's repair (learned by default with --data, one line saying how
 * without it).
 */
export async function planRun(o: ResolvedGrowOptions, source: Pick<LoadedModel, 'description' | 'dims' | 'match'>, log: (line: string) => void): Promise<PlannedRun> {
  const asked = resolveRun(o, source, log);
  if (!o.data) refuseWhatNeedsData(o, asked);
  const plan = await planFromOptions(o, asked, source);
  if (!o.data) refuseDrawnStart(plan);
  if (o.data) return { ...withRepair(o, asked, plan, source, log), plan };
  const hint = repairHint(o, asked, plan);
  if (hint) log(hint);
  return { o, settings: asked, plan };
}

/**
 * The plan, plus for LiGO what its learning phase needs in memory and whether it recomputes layers,
 * and for a lossy start its measured gap to the source (or why it is not measured).
 */
export type GrowthDryRun = GrowthPlan & { learningMemory?: MemoryEstimate; recompute?: boolean; stepTime?: string; startGap?: StartGap };

/** What `grow` would do (`--dry-run`): the plan, from config.json and tensor headers only (and a small lossy start measured on --data). */
export async function planGrow(options: GrowOptions): Promise<GrowthDryRun> {
  const asked = resolveGrowOptions(options);
  // What grow would refuse, the plan refuses too: its inputs first, then what the model allows.
  await checkInputs({ data: asked.data, targetConfig: asked.targetConfig, out: asked.out });
  const source = await openModel(options.source);
  try {
    const log = (message: string): void => asked.onProgress?.({ phase: 'load', message });
    const { plan, settings, o } = await planRun(asked, source, log);
    const lossy = plan.start?.exact === false;
    // The backend the run would start, for its memory limit, its measured speed and the start's gap.
    const backend = settings.learningPhase || (lossy && o.data) ? await initBackend({ backend: o.backend, threads: o.threads, log }) : undefined;
    const startGap = lossy ? { startGap: await measureStartGap(o, settings, plan, source.description) } : {};
    if (!settings.learningPhase || !backend) return { ...plan, ...startGap };
    const shape = { batchSize: o.batchSize, seqLen: settings.seqLen, gradAccum: o.gradAccum };
    const choice = chooseRecompute(plan, shape, o.recompute, backend.profile);
    const stepTimeText = stepTime(plan, { ...shape, recompute: choice.recompute }, await measureMatmulRate());
    return { ...plan, ...startGap, learningMemory: choice.estimate, recompute: choice.recompute, stepTime: `${stepTimeText} on ${backend.name}` };
  } finally {
    await source.close();
  }
}
