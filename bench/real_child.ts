/**
 * One grow at a real size in its own process, for bench/real.ts: `grow` as a user runs it (the
 * library call behind `ligo grow`, no memory flag), with the step times, the per-phase profile,
 * the process's peak RSS and the machine's sgemm rate measured in the same process. Prints one
 * JSON line (RealChildResult) on stdout.
 */
import { initBackend, measureMatmulRate } from '../src/backend/index.js';
import { grow, type GrowEvent } from '../src/pipeline/index.js';

export interface RealChildResult {
  backend: string;
  /** The learning phase's own lines: its memory and time estimate, and the recomputation choice. */
  plan: string[];
  stepSeconds: number[];
  secondsPerStep: number;
  phases: Record<string, number>;
  /** Wall time of the learning phase: every step and the selection passes. */
  phaseSeconds: number;
  recompute: boolean;
  operatorParameters: number;
  sgemmFlops: number;
  wallSeconds: number;
  maxRssBytes: number;
  /** The largest RSS sampled at progress events, by the phase it was sampled in (where the peak is). */
  rssByPhase: Record<string, number>;
}

/** The product the machine's sgemm rate is measured with (the learning phase's GEMMs are this size and larger). */
const SGEMM_PROBE_SIZE = 1024;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof grow>[0];
  const backend = await initBackend({ backend: options.backend });
  const sgemmFlops = await measureMatmulRate(SGEMM_PROBE_SIZE);
  const plan: string[] = [];
  const stepSeconds: number[] = [];
  const rssByPhase: Record<string, number> = {};
  const onProgress = (e: GrowEvent): void => {
    const phase = e.phase === 'learn-layer' ? 'learn' : e.phase;
    rssByPhase[phase] = Math.max(rssByPhase[phase] ?? 0, process.memoryUsage().rss);
    if (e.phase === 'learn') {
      stepSeconds.push(e.stepSeconds);
      process.stderr.write(`  step ${e.step}/${e.steps}: ${e.stepSeconds.toFixed(1)} s, loss ${e.loss.toFixed(3)}\n`);
    } else if (e.phase === 'learn-layer') {
      if (e.layer % 8 === 0) process.stderr.write(`  step ${e.step}: layer ${e.layer + 1}/${e.layers} ${e.pass}\n`);
    } else if (e.phase === 'load' || e.phase === 'evaluate') {
      if (/learning phase|recomput/.test(e.message)) plan.push(e.message);
      process.stderr.write(`  ${e.message}\n`);
    }
  };
  const report = await grow({ ...options, onProgress });
  const learning = report.learning;
  const result: RealChildResult = {
    backend: backend.name,
    plan,
    stepSeconds,
    secondsPerStep: learning?.secondsPerStep ?? Number.NaN,
    phases: learning?.phases ?? {},
    phaseSeconds: learning?.phaseSeconds ?? Number.NaN,
    recompute: learning?.recompute ?? false,
    operatorParameters: report.parameters.operator,
    sgemmFlops,
    wallSeconds: report.wallSeconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    rssByPhase,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
