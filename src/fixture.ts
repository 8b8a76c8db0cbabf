import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetOptions } from './growth/target.js';

/** The package root: two levels above this file in src/ (tsx) and in dist/ (compiled) alike. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The model and text that ship with ligo, so `ligo grow --out grown` works out of the box: a
 * 2-layer, 64-wide byte-level GPT-2 pretrained on chapters of Pride and Prejudice; and chapters
 * of Persuasion, a text it has not seen, on which `ligo compare` shows what growth saves.
 */
export const BUNDLED_FIXTURE = {
  model: path.join(ROOT, 'fixtures', 'tiny-gpt2'),
  data: path.join(ROOT, 'fixtures', 'text', 'corpus.txt'),
  target: { layers: 4, hiddenSize: 128 } satisfies TargetOptions,
  /** compare's default text: another Austen novel, which the fixture was not trained on. */
  unseenData: path.join(ROOT, 'fixtures', 'text', 'persuasion.txt'),
};
