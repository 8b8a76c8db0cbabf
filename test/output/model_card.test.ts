import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asModelCardReport, formatCommand, licenseOfCard, readLicense, renderModelCard, repoIdFromCachePath } from '../../src/output/index.js';
import { cardSource } from '../../src/output/model_card.js';
import { APPLIED_INIT } from '../../src/output/report.js';
import { DOWNSTREAM_ADVICE } from '../../src/pipeline/report.js';
import { REPORT, tempDir } from '../hub/helpers.js';

/** The front matter as key -> value (lists as arrays), checking every line is YAML we understand. */
function frontMatter(card: string): Record<string, string | string[]> {
  const lines = card.split('\n');
  expect(lines[0]).toBe('---');
  const end = lines.indexOf('---', 1);
  expect(end).toBeGreaterThan(0);
  const out: Record<string, string | string[]> = {};
  let list: string[] | undefined;
  for (const line of lines.slice(1, end)) {
    const item = /^- (\S.*)$/.exec(line);
    if (item && list) {
      list.push(item[1]);
      continue;
    }
    const pair = /^([a-z_]+):(?: (.+))?$/.exec(line);
    expect(pair, `not a YAML key line: ${line}`).not.toBeNull();
    if (pair === null) continue;
    const value = pair[2];
    if (value === undefined) out[pair[1]] = list = [];
    else {
      out[pair[1]] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
      list = undefined;
    }
  }
  return out;
}

describe('renderModelCard', () => {
  it('recommends the downstream schedule growth.json carries, with the converged-source caveat', () => {
    const card = renderModelCard({ ...REPORT, downstream: DOWNSTREAM_ADVICE }, { baseModel: 'a/b', license: 'mit' });
    const section = card.slice(card.indexOf('## Training it further'));
    expect(section).toContain(`Recommended schedule: ${DOWNSTREAM_ADVICE.schedule}`);
    expect(section).toContain(`A converged source: ${DOWNSTREAM_ADVICE.convergedSource}.`);
    expect(renderModelCard(REPORT, { baseModel: 'a/b', license: 'mit' })).not.toContain('## Training it further');
  });

  it('writes Hub metadata and the growth report', () => {
    const command = formatCommand(['grow', 'openai-community/gpt2', '--out', 'grown', '--layers', '24', '--data', 'my text.txt', '--token', 'hf_secret']);
    const card = renderModelCard(REPORT, { baseModel: 'openai-community/gpt2@main', license: 'mit', command });
    expect(frontMatter(card)).toEqual({
      base_model: 'openai-community/gpt2',
      library_name: 'transformers',
      license: 'mit',
      pipeline_tag: 'text-generation',
      tags: ['ligo', 'model-growth'],
    });
    for (const text of ['| layers | 12 | 24 |', '| hidden size | 768 | 1024 |', '| parameters | 124,439,808 | 354,823,168 |', '- method: `ligo` (depth init `stack`)']) {
      expect(card).toContain(text);
    }
    expect(card).toContain('- operator-learning steps: 100, learning rate 0.001');
    expect(card).toContain('- data: `fixtures/text.txt` (12,345 tokens)');
    expect(card).toContain('| source | 3.2109 |');
    expect(card).toContain('| grown, before operator learning | 3.3456 |');
    expect(card).toContain('| grown, after operator learning | 2.9876 |');
    expect(card).toContain("```sh\nligo grow openai-community/gpt2 --out grown --layers 24 --data 'my text.txt'\n```");
    expect(card).not.toContain('hf_secret');
    expect(card).toContain('learns that map briefly');
  });

  it('says when the starting map was written as is, with one grown loss', () => {
    const start = { rule: 'exact' as const, exact: true, notes: [] };
    const card = renderModelCard({ ...REPORT, start, steps: 0, heldOut: { source: 3.2109, grownAtInit: 3.2109, grown: 3.2109, tokens: 100 } }, { baseModel: 'a/b' });
    expect(card).toContain('starting from a map that keeps the small model\'s function');
    expect(card).not.toContain('learns that map briefly');
    expect(card).toContain('- operator-learning steps: none (the starting map as written)');
    expect(card).not.toContain('- batches:');
    expect(card).toContain('| grown | 3.2109 |');
    expect(card).not.toContain('before operator learning');
    // An inexact start does not claim to keep the function; an applied operator says where it came from.
    const copied = renderModelCard({ ...REPORT, start: { ...start, rule: 'copy', exact: false }, steps: 0 }, { baseModel: 'a/b' });
    expect(copied).not.toContain('keeps the small model');
    const applied = renderModelCard({ ...REPORT, init: APPLIED_INIT, steps: 0 }, { baseModel: 'a/b' });
    expect(applied).toContain('with a growth operator saved by an earlier run (`ligo apply`)');
    expect(applied).not.toContain('operator-learning steps');
  });

  it('picks the pipeline tag by family, leaves out unknown licenses and local-path base models', () => {
    const bert = renderModelCard({ ...REPORT, family: 'bert', heldOut: { source: null, grownAtInit: null, grown: null, tokens: 0 } }, { baseModel: '/models/bert-small' });
    const meta = frontMatter(bert);
    expect(meta.pipeline_tag).toBe('fill-mask');
    // The Hub rejects a base_model that is not a model id; the path is named in the body instead.
    expect(meta.base_model).toBeUndefined();
    expect(meta.license).toBeUndefined();
    // A published card names a local source by its directory's name, never its path.
    expect(bert).toContain('Grown from `bert-small` with ligo');
    expect(bert).not.toContain('/models/');
    expect(bert).toContain('| grown, after operator learning | n/a |');
    const cached = renderModelCard(REPORT, { baseModel: `/home/u/.cache/huggingface/hub/models--meta-llama--Llama-3.2-1B/snapshots/${'a'.repeat(40)}` });
    expect(frontMatter(cached).base_model).toBe('meta-llama/Llama-3.2-1B');
    expect(frontMatter(renderModelCard(REPORT, { baseModel: 'a/b', license: 'other: see LICENSE' })).license).toBe('other: see LICENSE');
  });

  it('names the source by its Hub id when it came from the Hub, else by the directory\'s base name', () => {
    const snapshot = `/home/u/.cache/huggingface/hub/models--owner--small/snapshots/${'c'.repeat(40)}`;
    const fromHub = renderModelCard(REPORT, { baseModel: 'owner/small@v1', sourceDir: snapshot });
    expect(fromHub).toContain('Grown from [`owner/small@v1`](https://huggingface.co/owner/small)');
    expect(frontMatter(fromHub).base_model).toBe('owner/small');
    expect(fromHub).not.toContain('/home/u');
    // A local directory whose relative path reads like owner/name is still a local directory.
    const local = renderModelCard(REPORT, { baseModel: 'models/small', sourceDir: 'models/small' });
    expect(local).toContain('Grown from `small` with ligo');
    expect(frontMatter(local).base_model).toBeUndefined();
    const absolute = renderModelCard(REPORT, { baseModel: '/srv/team/checkpoints/tiny-gpt2', sourceDir: '/srv/team/checkpoints/tiny-gpt2' });
    expect(absolute).toContain('Grown from `tiny-gpt2` with ligo');
    expect(absolute).not.toContain('/srv/team');
    expect(cardSource('.', process.cwd())).toEqual({ name: path.basename(process.cwd()) });
    // From growth.json alone (push): a repo id is taken as one.
    expect(cardSource('owner/small')).toEqual({ name: 'owner/small', hubId: 'owner/small' });
  });

  it('accepts growth.json and rejects what is not one', () => {
    expect(asModelCardReport(JSON.parse(JSON.stringify(REPORT)))).toEqual(REPORT);
    expect(asModelCardReport({ family: 'gpt2' })).toBeUndefined();
    expect(asModelCardReport([])).toBeUndefined();
  });
});

describe('licenses and commands', () => {
  it('reads license from README front matter only', async () => {
    expect(licenseOfCard('---\nlanguage: en\nlicense: apache-2.0\ntags:\n- x\n---\n# Model\nlicense: not-this')).toBe('apache-2.0');
    expect(licenseOfCard('---\nlicense: "llama3.2"  # see LICENSE\n---\n')).toBe('llama3.2');
    expect(licenseOfCard('# Model\nlicense: mit\n')).toBeUndefined();
    expect(licenseOfCard('---\ntags: []\n---\nlicense: mit')).toBeUndefined();
    const dir = await tempDir();
    expect(await readLicense(dir)).toBeUndefined();
    await writeFile(path.join(dir, 'README.md'), '\uFEFF---\r\nlicense: mit\r\n---\r\n');
    expect(await readLicense(dir)).toBe('mit');
  });

  it('formats argv as a shell line without the token', () => {
    expect(formatCommand(['push', 'dir', 'a/b', '--token=hf_x', '--commit-message', "it's done"])).toBe("ligo push dir a/b --commit-message 'it'\\''s done'");
    expect(repoIdFromCachePath('/tmp/x')).toBeUndefined();
  });
});
