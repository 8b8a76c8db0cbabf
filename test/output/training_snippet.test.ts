import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderModelCard, type ModelCardReport } from '../../src/output/model_card.js';
import { trainingSnippet } from '../../src/output/training_snippet.js';

const PYTHON = 'python3';
const hasPython = spawnSync(PYTHON, ['-c', 'import ast'], { encoding: 'utf8' }).status === 0;

/** The ```python block of a model card. */
function pythonBlock(card: string): string {
  const match = /```python\n([\s\S]*?)\n```/.exec(card);
  if (match === null) throw new Error('the card has no python block');
  return match[1];
}

const RATES = { peakLr: 1.23e-3, sourceLr: 1e-4, warmupFraction: 1 / 3, minLrFraction: 0.1 };

const report: ModelCardReport = {
  family: 'gpt2',
  sourceDims: { numLayers: 2, hiddenSize: 48 } as ModelCardReport['sourceDims'],
  targetDims: { numLayers: 4, hiddenSize: 96 } as ModelCardReport['targetDims'],
  parameters: { source: 100, target: 400, operator: 0 },
  method: 'net2net',
  steps: 0,
  data: null,
  heldOut: { source: null, grownAtInit: null, grown: null, tokens: 0 },
  downstream: { peakLrFraction: 1, warmupFraction: 1 / 3, schedule: 's', note: 'n', groups: { ...RATES, sourceLrFrom: 'default' } },
  newParameters: { file: 'ligo_new_parameters.json', parameters: { total: 400, new: 300 }, newLayers: [2, 3], tensors: { inherited: 1, 'partly new': 10, new: 12 } },
};

describe('the model card\'s PyTorch snippet', () => {
  it('names the rates and the listing, and is the card\'s python block', () => {
    const card = renderModelCard({ ...report, sourceDims: { ...report.sourceDims, numHeads: 4, numKvHeads: 4, headDim: 12 }, targetDims: { ...report.targetDims, numHeads: 8, numKvHeads: 8, headDim: 12 } }, { baseModel: 'src' });
    const block = pythonBlock(card);
    expect(block).toBe(trainingSnippet(RATES).join('\n'));
    expect(block).toContain('PEAK_LR, SOURCE_LR = 0.00123, 0.0001');
    expect(card).toContain('75.0% of the parameters are new (new layers 2, 3)');
  });

  it.skipIf(!hasPython)('is valid Python (python3 parses it)', () => {
    const parsed = spawnSync(PYTHON, ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: trainingSnippet(RATES).join('\n'), encoding: 'utf8' });
    expect(parsed.stderr).toBe('');
    expect(parsed.status).toBe(0);
  });
  // Without python3 the parse test is skipped (reported by vitest as skipped): nothing else on this machine parses Python.
});
