import { SingleBar } from 'cli-progress';

/** Progress of a loop that knows its total: windows evaluated, steps trained. */
export interface Progress {
  /** `detail` is free text after the counts, e.g. "loss 3.21, 5,400 tok/s". */
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  unit: string;
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  enabled: boolean;
  /** Where plain lines go when the stream is not a terminal. */
  log: (message: string) => void;
}

/** Without a terminal a bar would be noise in a log file; a line this often is enough. */
export const PROGRESS_LOG_INTERVAL_MS = 10_000;

export function createProgress(options: ProgressOptions): Progress {
  if (!options.enabled) return { update: () => undefined, stop: () => undefined };
  return options.stream.isTTY ? terminalBar(options) : logLines(options);
}

function terminalBar({ label, unit, stream }: ProgressOptions): Progress {
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {value}/{total} ${unit}{detail} | ETA {eta_formatted}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
  });
  let started = false;
  return {
    update(done, total, text) {
      const detail = text ? ` | ${text}` : '';
      if (!started) {
        bar.start(total, done, { detail });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { detail });
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function logLines({ label, unit, log }: ProgressOptions): Progress {
  let last = Date.now();
  return {
    update(done, total, detail) {
      const now = Date.now();
      if (now - last < PROGRESS_LOG_INTERVAL_MS && done < total) return;
      last = now;
      log(`${label}: ${done}/${total} ${unit}${detail ? `, ${detail}` : ''}`);
    },
    stop: () => undefined,
  };
}

/** A step shorter than this shows only its end; a longer one shows which layer it is at. */
export const LONG_STEP_MS = 2_000;

/**
 * Progress inside long learning steps (minutes each at real sizes): once a step has run for
 * LONG_STEP_MS, the steps bar names the layer and pass it is at, so a slow step is not taken for
 * a hang.
 */
export function insideStep(bar: Progress, now: () => number = Date.now): { layer(e: { step: number; steps: number; layer: number; layers: number; pass: string }): void } {
  let step = 0;
  let startedAt = now();
  return {
    layer(e) {
      if (e.step !== step) {
        step = e.step;
        startedAt = now();
      }
      if (now() - startedAt >= LONG_STEP_MS) bar.update(e.step - 1, e.steps, `step ${e.step}: layer ${e.layer + 1}/${e.layers}, ${e.pass}`);
    },
  };
}

/** Seconds as a user reads them: "0.42 s", "12 s", "3.5 min". */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(seconds < 1 ? 2 : 1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}
