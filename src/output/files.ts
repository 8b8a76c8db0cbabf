/**
 * The names of the files a grown model directory holds, defined once. config.json and README.md
 * are Hugging Face's (checkpoint/model_dir.ts); growth.json and the operator file are ligo's.
 */
export { CONFIG_FILE, README_FILE } from '../checkpoint/model_dir.js';

/** growth.json: what was grown into what, how, and how well (see GrowthReport). */
export const REPORT_FILE = 'growth.json';

/** The growth operator, so `ligo apply` can rebuild the model or grow another checkpoint. */
export const OPERATOR_FILE = 'ligo_operator.safetensors';

/** Which weights of the grown model are new and which inherited, per tensor (growth/new_parameters.ts): what a trainer reads to treat them apart. */
export const NEW_PARAMETERS_FILE = 'ligo_new_parameters.json';

/** ligo's own files in a grown directory: fetched along with a Hub source (a grown repo can be a source, and `apply` reads its operator). */
export const LIGO_FILES: readonly string[] = [OPERATOR_FILE, REPORT_FILE];
