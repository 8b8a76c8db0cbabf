import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { renderCurvePlot } from './curve_plot.js';

/** What `ligo compare` writes into --out. */
export const COMPARE_FILE = 'compare.json';
export const COMPARE_PLOT_FILE = 'compare.svg';

/** The part of a compare result the files need. */
export interface ComparedCurves {
  source: { path: string; layers: number; hiddenSize: number };
  target: { layers: number; hiddenSize: number };
  methods: readonly { name: string; curve: readonly (readonly [number, number])[] }[];
}

/** The held-out curves of every method as an SVG plot. */
export function renderComparePlot(result: ComparedCurves): string {
  const { source, target } = result;
  return renderCurvePlot({
    title: `${path.basename(source.path)}: ${source.layers} x ${source.hiddenSize} grown to ${target.layers} x ${target.hiddenSize}, trained further`,
    xLabel: 'training steps after growth',
    yLabel: 'held-out loss (nats/token)',
    series: result.methods.map((m) => ({ name: m.name, points: m.curve })),
  });
}

/** Writes compare.json and compare.svg into `out` (created when missing); returns their paths. */
export async function writeCompareFiles(out: string, result: ComparedCurves): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const files = [path.join(out, COMPARE_FILE), path.join(out, COMPARE_PLOT_FILE)];
  await writeFile(files[0], `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files[1], renderComparePlot(result));
  return files;
}
