import { readOptionalText } from '../util/read_optional.js';
import * as path from 'node:path';
import type { GroupAdvice } from '../output/report.js';
import { scratchPeakLr, GROWN_WARMUP_FRACTION } from '../train/downstream.js';
import { DEFAULT_SOURCE_LR_FRACTION } from '../train/lr_groups.js';
import { MIN_LR_FRACTION } from '../train/schedule.js';
import { isJsonObject } from '../util/json.js';

/** The Hugging Face Trainer's record of a run, saved next to its checkpoints: its log_history has the learning rate of every logged step. */
export const TRAINER_STATE_FILE = 'trainer_state.json';

export interface SourceLr {
  lr: number;
  from: GroupAdvice['sourceLrFrom'];
}

/** The last positive `learning_rate` of trainer_state.json's log_history, or a reason it has none. */
function lastLearningRate(json: unknown): number | string {
  if (!isJsonObject(json) || !Array.isArray(json.log_history)) return 'no log_history list';
  for (let i = json.log_history.length - 1; i >= 0; i--) {
    const entry: unknown = json.log_history[i];
    if (isJsonObject(entry) && typeof entry.learning_rate === 'number' && entry.learning_rate > 0) return entry.learning_rate;
  }
  return 'no positive learning_rate in log_history';
}

/**
 * The rate the source ended its training at: --source-lr when given, else the source directory's
 * trainer_state.json when it has one (a malformed one is ignored, said in one line), else unknown.
 */
export async function sourceLearningRate(dir: string, flag: number | undefined, log: (message: string) => void): Promise<SourceLr | undefined> {
  if (flag !== undefined) return { lr: flag, from: '--source-lr' };
  const file = path.join(dir, TRAINER_STATE_FILE);
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  let found: number | string;
  try {
    found = lastLearningRate(JSON.parse(text));
  } catch {
    found = 'not valid JSON';
  }
  if (typeof found === 'number') return { lr: found, from: TRAINER_STATE_FILE };
  log(`${file}: ${found}; ignored (the source's final learning rate is taken as unknown)`);
  return undefined;
}

/** The per-group recipe for a grown width: the from-scratch peak for new parameters, the source's rate (or a tenth of the peak) for inherited ones. */
export function groupAdvice(hiddenSize: number, source: SourceLr | undefined, peak = scratchPeakLr(hiddenSize)): GroupAdvice {
  return {
    peakLr: peak,
    sourceLr: source?.lr ?? peak * DEFAULT_SOURCE_LR_FRACTION,
    sourceLrFrom: source?.from ?? 'default',
    warmupFraction: GROWN_WARMUP_FRACTION,
    minLrFraction: MIN_LR_FRACTION,
  };
}
