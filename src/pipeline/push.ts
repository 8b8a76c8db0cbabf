import { readFile } from 'node:fs/promises';
import { uploadDirectory, type ExtraFile, type LocalFile, type PushOptions, type PushResult } from '../hub/index.js';
import { README_FILE, REPORT_FILE } from '../output/files.js';
import { asModelCardReport, renderModelCard } from '../output/model_card.js';
import { isJsonObject } from '../util/json.js';

/**
 * A model card for a grown directory without one, built in memory from growth.json: uploaded,
 * never written into `dir` (a push only reads the directory).
 */
async function generatedCard(dir: string, files: readonly LocalFile[]): Promise<ExtraFile[]> {
  if (files.some((f) => f.path === README_FILE)) return [];
  const report = files.find((f) => f.path === REPORT_FILE);
  if (report === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(await readFile(report.file, 'utf8'));
  } catch {
    return [];
  }
  const card = asModelCardReport(json);
  if (card === undefined) return [];
  const source = isJsonObject(json) && typeof json.source === 'string' ? json.source : 'unknown';
  return [
    {
      path: README_FILE,
      content: new Blob([renderModelCard(card, { baseModel: source })]),
      reason: `no ${README_FILE} in ${dir}: uploading a model card made from ${REPORT_FILE}`,
    },
  ];
}

/**
 * Uploads a grown model directory to a Hub repo (see hub's uploadDirectory), adding a model card
 * made from growth.json when the directory has none.
 */
export function pushToHub(options: PushOptions): Promise<PushResult> {
  return uploadDirectory({ ...options, extraFiles: (local) => generatedCard(options.dir, local) });
}
