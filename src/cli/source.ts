import { resolveModelSource } from '../pipeline/index.js';
import type { Output } from './output.js';
import { hubSource } from './options.js';

/** Hub flags every command with a model source takes. */
export interface SourceArgs {
  token?: string;
  hubUrl?: string;
  revision?: string;
  offline?: boolean;
}

/**
 * A command's model argument as a local directory: a path is used as is, `owner/name[@rev]`
 * is fetched into the Hugging Face cache (config, tokenizer, safetensors only).
 */
export async function localSource(source: string, args: SourceArgs, env: Record<string, string | undefined>, out: Output): Promise<string> {
  const progress = out.progress('download', 'files');
  try {
    return await resolveModelSource(source, {
      ...hubSource(args, env),
      log: out.log,
      onProgress: (p) => progress.update(p.filesDone, p.filesTotal, p.file),
    });
  } finally {
    progress.stop();
  }
}
