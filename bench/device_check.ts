/**
 * The webgpu correctness checks of test/backend/webgpu.test.ts, as one script that runs where there is
 * no vitest (the device bundle, bench/device.sh): the adapter and its limits, forward parity on every
 * golden case, LiGO operator gradients against wasm's, and tensors across learning steps.
 * Prints one line per check and a JSON summary as the last line; exits 1 when a check fails.
 */
import { initBackend } from '../src/backend/index.js';
import { goldenDiffs, learnSteps, operatorGradients, relativeDiff } from '../test/backend/webgpu_helpers.js';

const LOGIT_TOLERANCE = 1e-4;
const GRADIENT_TOLERANCE = 1e-4;
const log = (m: string): void => void process.stderr.write(`${m}\n`);

const checks: { check: string; ok: boolean; value: number | string }[] = [];
const record = (check: string, ok: boolean, value: number | string): void => {
  checks.push({ check, ok, value });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${check}: ${typeof value === 'number' ? value.toExponential(2) : value}`);
};

const info = await initBackend({ backend: 'webgpu', log });
const adapter = info.adapter;
console.log(`adapter: ${JSON.stringify(adapter)}`);

for (const r of await goldenDiffs()) record(`golden ${r.name} max |logit diff| (<= ${LOGIT_TOLERANCE}, leaked ${r.leaked})`, r.diff <= LOGIT_TOLERANCE && r.leaked === 0, r.diff);

for (const recompute of [false, true]) {
  await initBackend({ backend: 'wasm', log });
  const reference = await operatorGradients('llama-gqa-untied', { hiddenSize: 96, layers: 3 }, recompute);
  await initBackend({ backend: 'webgpu' });
  const got = await operatorGradients('llama-gqa-untied', { hiddenSize: 96, layers: 3 }, recompute);
  const worst = Math.max(...[...reference.grads].map(([k, g]) => relativeDiff(got.grads.get(k) ?? new Float32Array(g.length), g)));
  record(`operator gradients vs wasm, max relative difference${recompute ? ' (--recompute)' : ''}`, worst <= GRADIENT_TOLERANCE, worst);
}

{
  const { losses, counts } = await learnSteps({ steps: 4, lr: 1e-2, warmup: 1, weightDecay: 0.01, clip: 1, gradAccum: 2, recompute: true, distill: 0.5, seed: 0 });
  record('live tensors constant across learning steps (--recompute --grad-accum 2 --distill 0.5)', new Set(counts).size === 1, counts.join('/'));
  record('learning losses finite', losses.every(Number.isFinite), losses.map((l) => l.toFixed(4)).join(' '));
}

const failed = checks.filter((c) => !c.ok).length;
console.log(JSON.stringify({ benchmark: 'device_check', backend: 'webgpu', adapter, failed, checks }));
process.exitCode = failed === 0 ? 0 : 1;
