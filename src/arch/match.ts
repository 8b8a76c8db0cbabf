import { CheckpointError } from '../errors.js';
import type { ModelDims } from './dims.js';
import { activeTemplates, tensorSpecs } from './spec.js';
import type { ArchitectureDescription, TensorSpec } from './types.js';

export interface StoredTensor {
  shape: readonly number[];
}

export interface CheckpointMatch {
  specs: TensorSpec[];
  /** canonical name -> name in the checkpoint file */
  sourceNames: Map<string, string>;
  optionalPresent: Set<string>;
  ignored: string[];
}

const MAX_LISTED = 5;

function list(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED).map((n) => `"${n}"`).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

/** Canonical name of a stored tensor, or undefined when it is a buffer or a tied copy to skip. */
export function canonicalName(description: ArchitectureDescription, name: string): string {
  for (const alias of description.aliases) {
    if (alias.from.test(name)) return name.replace(alias.from, alias.to);
  }
  return name;
}

/**
 * Pairs the tensors of a checkpoint with the description: every required tensor must be there
 * with the shape config.json implies; anything else must be a known buffer or tied copy.
 */
export function matchCheckpoint(
  description: ArchitectureDescription,
  dims: ModelDims,
  stored: ReadonlyMap<string, StoredTensor>,
  file: string,
): CheckpointMatch {
  const canonicalToSource = new Map<string, string>();
  for (const name of stored.keys()) canonicalToSource.set(canonicalName(description, name), name);

  const optionalNames = new Set(
    activeTemplates(description, dims, new Set(description.tensors.map((t) => t.name)))
      .filter((t) => t.optional)
      .map((t) => t.name),
  );
  const optionalPresent = new Set([...optionalNames].filter((n) => canonicalToSource.has(n)));
  const specs = tensorSpecs(description, dims, optionalPresent);

  const missing: string[] = [];
  const misShaped: string[] = [];
  const sourceNames = new Map<string, string>();
  for (const spec of specs) {
    const source = canonicalToSource.get(spec.name);
    const entry = source === undefined ? undefined : stored.get(source);
    if (source === undefined || entry === undefined) {
      missing.push(spec.name);
      continue;
    }
    if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
      misShaped.push(`${source} is [${entry.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
    }
    sourceNames.set(spec.name, source);
  }

  const used = new Set(sourceNames.values());
  const ignored: string[] = [];
  const unexpected: string[] = [];
  for (const name of stored.keys()) {
    if (used.has(name)) continue;
    const canonical = canonicalName(description, name);
    if (description.ignored.some((r) => r.test(name)) || description.tiedAliases.includes(canonical)) ignored.push(name);
    else unexpected.push(name);
  }

  if (missing.length > 0) {
    throw new CheckpointError(`${file}: missing ${missing.length} tensor(s) for ${dims.modelType}: ${list(missing)}`, {
      file,
      tensor: missing[0],
      hint: 'check that config.json belongs to these weights',
    });
  }
  if (misShaped.length > 0) {
    throw new CheckpointError(`${file}: ${misShaped.length} tensor(s) have the wrong shape for config.json: ${misShaped.slice(0, MAX_LISTED).join('; ')}`, {
      file,
    });
  }
  if (unexpected.length > 0) {
    throw new CheckpointError(`${file}: ${unexpected.length} unexpected tensor(s) for ${dims.modelType}: ${list(unexpected)}`, {
      file,
      tensor: unexpected[0],
    });
  }
  return { specs, sourceNames, optionalPresent, ignored };
}
