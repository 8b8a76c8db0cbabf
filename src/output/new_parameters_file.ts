/**
 * ligo_new_parameters.json, the machine-readable list of which weights of a grown model are new,
 * and its summary in growth.json. The listing is a file of its own rather than a growth.json
 * field: a trainer loads it with one `json.load` and looks tensors up by the names
 * `model.named_parameters()` gives, and growth.json stays a report a person reads (a 7B listing has
 * hundreds of entries).
 */
import { readOptionalText } from '../util/read_optional.js';
import * as path from 'node:path';
import { isJsonObject } from '../util/json.js';
import { statusCounts, type NewParameters, type NewStatus } from '../growth/index.js';
import { NEW_PARAMETERS_FILE } from './files.js';

/** The file's format tag, so a reader can refuse a layout it does not know. */
export const NEW_PARAMETERS_FORMAT = 'ligo-new-parameters/1';

export interface NewParametersFile extends NewParameters {
  format: typeof NEW_PARAMETERS_FORMAT;
  /** How to read `tensors` (for a person opening the file). */
  note: string;
}

/** growth.json's summary of the listing. */
export interface NewParametersSummary {
  file: string;
  parameters: NewParameters['parameters'];
  newLayers: number[];
  /** Tensors per status. */
  tensors: Record<NewStatus, number>;
}

const NOTE =
  'status per tensor: inherited (a copy of the source tensor), new (a repeated layer), or partly new; for a partly new tensor, `new` gives per axis the new indices as [start, end) ranges, and an element is new when any of its indices is';

export function newParametersFile(np: NewParameters): NewParametersFile {
  return { format: NEW_PARAMETERS_FORMAT, note: NOTE, ...np };
}

/** The file's text: the header pretty-printed, one line per tensor (a 7B listing stays readable and diffable). */
export function renderNewParametersFile(np: NewParameters): string {
  const { tensors, ...head } = newParametersFile(np);
  const lines = Object.entries(tensors).map(([name, t]) => `    ${JSON.stringify(name)}: ${JSON.stringify(t)}`);
  const header = JSON.stringify(head, null, 2).slice(0, -2); // without the closing "\n}"
  return `${header},\n  "tensors": {\n${lines.join(',\n')}\n  }\n}\n`;
}

export function newParametersSummary(np: NewParameters): NewParametersSummary {
  return { file: NEW_PARAMETERS_FILE, parameters: np.parameters, newLayers: np.newLayers, tensors: statusCounts(np) };
}

/** One line for `ligo inspect` and the model card: how much is new, and where. */
export function describeNewParameters(s: Pick<NewParametersSummary, 'parameters' | 'newLayers' | 'tensors'>): string {
  const share = s.parameters.total > 0 ? (100 * s.parameters.new) / s.parameters.total : 0;
  const layers = s.newLayers.length === 0 ? 'no new layers' : `new layers ${s.newLayers.join(', ')}`;
  const t = s.tensors;
  return `${share.toFixed(1)}% of the parameters are new (${layers}); tensors: ${t.inherited} inherited, ${t['partly new']} partly new, ${t.new} new`;
}

/**
 * A grown directory's listing: undefined where the directory has none (not grown by ligo, or
 * grown before it was written), a line saying why where it is unreadable.
 */
export async function readNewParametersFile(dir: string): Promise<NewParameters | { error: string } | undefined> {
  const file = path.join(dir, NEW_PARAMETERS_FILE);
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(text);
    if (!isJsonObject(json) || json.format !== NEW_PARAMETERS_FORMAT || !isJsonObject(json.tensors) || !isJsonObject(json.parameters) || !Array.isArray(json.newLayers)) {
      return { error: `${file}: not a ${NEW_PARAMETERS_FORMAT} listing` };
    }
    // A listing ligo wrote itself; the checks above keep a hand-edited one from crashing a reader.
    const { tensors, parameters, newLayers } = json as unknown as NewParameters;
    return { newLayers, parameters, tensors };
  } catch {
    return { error: `${file}: not valid JSON` };
  }
}

/** The summary of a grown directory's listing, for `ligo inspect` (see readNewParametersFile). */
export async function readNewParametersSummary(dir: string): Promise<NewParametersSummary | { error: string } | undefined> {
  const listing = await readNewParametersFile(dir);
  return listing === undefined || 'error' in listing ? listing : newParametersSummary(listing);
}
