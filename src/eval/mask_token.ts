import * as path from 'node:path';
import { loadTokenizer, TOKENIZER_FILE, type TextTokenizer } from '../data/index.js';
import { DataError } from '../errors.js';

const MASK_TOKEN = '[MASK]';

/**
 * BERT's [MASK] id, needed by masked-LM evaluation and training: config.json `mask_token_id`
 * when set, else the tokenizer's [MASK] token (dir/tokenizer.json is read if none is given).
 */
export async function maskTokenIdFor(dir: string, config: Record<string, unknown>, tokenizer?: TextTokenizer): Promise<number> {
  if (typeof config.mask_token_id === 'number') return config.mask_token_id;
  const source = tokenizer ?? (await loadTokenizer(dir));
  // Added special tokens are split off before the model runs, so [MASK] encodes to its one id.
  const ids = source.encode(MASK_TOKEN);
  if (ids.length !== 1) {
    const file = path.join(dir, TOKENIZER_FILE);
    throw new DataError(`${file}: no ${MASK_TOKEN} token, which the masked-LM loss of BERT needs`, {
      file,
      hint: 'set "mask_token_id" in config.json',
    });
  }
  return ids[0];
}
