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
