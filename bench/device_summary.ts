/**
 * The closing block of bench/device.sh: reads what each stage left in --dir (adapters.json,
 * matmul.json, step_webgpu.json, step_peer.json or step_peer.skip, check.json, profile.json,
 * stages.tsv, and the stderr of a stage that failed), prints one line per result and writes them all, with the summary, to
 * --out FILE as one JSON document.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { argValue, fmt, fmtRate, median } from './lib/report.js';

const DIR = argValue('--dir', '.');
const OUT_FILE = argValue('--out', path.join(DIR, 'device.json'));

const text = (name: string): string | undefined => (existsSync(path.join(DIR, name)) ? readFileSync(path.join(DIR, name), 'utf8') : undefined);
function json<T>(name: string): T | undefined {
  const t = text(name)?.trim();
  if (!t) return undefined;
  try {
    return JSON.parse(t) as T;
  } catch {
    return undefined;
  }
}

interface Adapters {
  adapters?: { info: Record<string, unknown>; software: boolean }[];
  picked?: number;
  limits?: Record<string, number | undefined>;
  features?: Record<string, boolean>;
  error?: string;
}
interface Matmul {
  device: string;
  rates: { size: number; ms: number; gflops: number }[];
}
interface Learn {
  batchSize: number;
  seqLen: number;
  source: { layers: number; width: number };
  target: { layers: number; width: number; vocab: number };
  adapter?: { info: { description: string; device: string }; software: boolean };
  learn: { stepSecondsRuns: number[][]; flopsPerStep: { total: number }; devicePeakGflops?: number };
}
interface Profile {
  breakdownSeconds: Record<'materialize' | 'forward' | 'modelForwardBackward' | 'fullGradient' | 'optimizer' | 'operatorBackward', number>;
  kernels: { stepSeconds: number; kernelSeconds: number; byKernel: { name: string; ms: number; calls: number }[] };
}
interface Peer {
  stepSeconds: number[];
  sgemmFlops: number;
  torch: string;
  device: string;
  gpu?: string;
  maxGpuBytes?: number;
  batchSize: number;
  seqLen: number;
}
interface Check {
  failed: number;
  checks: { check: string; ok: boolean }[];
}

const stages = (text('stages.tsv') ?? '')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => {
    const [name, status, seconds, limit] = l.split('\t');
    return { name, status, seconds: Number(seconds), limit: Number(limit) };
  });
const adapters = json<Adapters>('adapters.json');
const matmul = json<Matmul>('matmul.json');
const webgpu = json<Learn>('step_webgpu.json');
const peer = json<Peer>('step_peer.json');
const check = json<Check>('check.json');
const profile = json<Profile>('profile.json');
/** A stage's status, with the last error line of its stderr where it failed. */
const stageOf = (name: string): string => {
  const s = stages.filter((x) => x.name === name).at(-1);
  if (!s) return 'not run';
  const error = (text(`${name}.err`) ?? '')
    .split('\n')
    .filter((l) => /^\w*Error\b/.test(l.trim()))
    .at(-1);
  return `${s.status} after ${s.seconds} s of ${s.limit}${s.status !== 'ok' && error ? `: ${error.trim()}` : ''}`;
};

const lines: string[] = [];
const summary: Record<string, unknown> = {};
const mib = (n: number | undefined): string => (n === undefined ? '?' : `${fmt(n / 2 ** 20)} MiB`);

// 1-2. The adapter, its limits and features.
const picked = adapters?.adapters?.[adapters.picked ?? 0];
if (picked) {
  const name = String(picked.info.description || [picked.info.vendor, picked.info.architecture, picked.info.device].filter(Boolean).join(' '));
  const l = adapters?.limits ?? {};
  const f = adapters?.features ?? {};
  lines.push(
    `adapter      ${name}${picked.software ? ' (software)' : ''}; maxBufferSize ${mib(l.maxBufferSize)}, maxStorageBufferBindingSize ${mib(l.maxStorageBufferBindingSize)}, ` +
      `workgroup storage ${l.maxComputeWorkgroupStorageSize ?? '?'} B, invocations ${l.maxComputeInvocationsPerWorkgroup ?? '?'}; shader-f16 ${f['shader-f16'] ? 'yes' : 'no'}, subgroups ${f.subgroups ? 'yes' : 'no'}`,
  );
  summary.adapter = { name, software: picked.software, limits: l, features: f };
} else {
  lines.push(`adapter      none (${stageOf('adapters')}${adapters?.error ? `: ${adapters.error}` : ''}; Dawn's words are in the adapters stage above)`);
}

// 3. The large matMul.
const big = matmul?.rates.at(-1);
if (big) {
  lines.push(`matmul       ${big.size}^3 float32 on webgpu: ${fmtRate(big.gflops)} (${fmt(big.ms, 2)} ms)${peer?.gpu ? `; torch cuBLAS 4096^3 float32: ${fmtRate(peer.sgemmFlops / 1e9)}` : ''}`);
  summary.matmul = { size: big.size, tflops: big.gflops / 1000, peerSgemmTflops: peer?.gpu ? peer.sgemmFlops / 1e12 : undefined };
} else {
  lines.push(`matmul       no result (${stageOf('matmul')})`);
}

// 4. The learning step on webgpu: the median step of the timed call (a warm-up call came before it).
let webgpuTokens: number | undefined;
let shape = '';
if (webgpu) {
  const steps = webgpu.learn.stepSecondsRuns.flat();
  const s = median(steps);
  const tokens = webgpu.batchSize * webgpu.seqLen;
  webgpuTokens = tokens / s;
  shape = `GPT-2 ${webgpu.source.layers}x${webgpu.source.width} -> ${webgpu.target.layers}x${webgpu.target.width}, vocab ${webgpu.target.vocab}, B=${webgpu.batchSize} T=${webgpu.seqLen}`;
  const gflops = webgpu.learn.flopsPerStep.total / s / 1e9;
  const peak = webgpu.learn.devicePeakGflops;
  lines.push(
    `webgpu step  ${shape}: ${fmt(s, 3)} s/step, ${fmt(webgpuTokens, 1)} tokens/s, ${fmtRate(gflops)}` +
      `${peak ? ` (${fmt((100 * gflops) / peak, 2)}% of ${fmt(peak / 1000)} TFLOP/s)` : ''} [median of ${steps.length} steps after a warm-up step]`,
  );
  summary.webgpu = { batchSize: webgpu.batchSize, seqLen: webgpu.seqLen, stepSeconds: s, steps, tokensPerSecond: webgpuTokens, tflops: gflops / 1000 };
} else {
  // A run cut short leaves no JSON, but its log has a line per step it finished (--log-steps).
  const seen = [...(text('step_webgpu.err') ?? '').matchAll(/(warm-up call|call \d+\/\d+), step (\d+)\/(\d+): ([\d.,]+) s/g)].map((m) => `${m[1]} step ${m[2]}: ${m[4]} s`);
  lines.push(`webgpu step  no result (${stageOf('step_webgpu')})${seen.length ? `; steps it finished: ${seen.join(', ')}` : '; no step finished'}`);
  summary.webgpu = { error: stageOf('step_webgpu'), stepsSeen: seen };
}

// 5. The PyTorch peer: the median step after its first (CUDA's start-up falls in the first).
const peerSkip = text('step_peer.skip')?.trim();
let peerTokens: number | undefined;
if (peer) {
  const timed = peer.stepSeconds.length > 1 ? peer.stepSeconds.slice(1) : peer.stepSeconds;
  const s = median(timed);
  peerTokens = (peer.batchSize * peer.seqLen) / s;
  lines.push(`peer step    torch ${peer.torch} on ${peer.gpu ?? peer.device}, B=${peer.batchSize} T=${peer.seqLen}: ${fmt(s, 3)} s/step, ${fmt(peerTokens, 1)} tokens/s [median of ${timed.length} steps after the first]`);
  summary.peer = { device: peer.device, gpu: peer.gpu, torch: peer.torch, stepSeconds: s, steps: peer.stepSeconds, tokensPerSecond: peerTokens, maxGpuBytes: peer.maxGpuBytes };
} else {
  lines.push(`peer step    ${peerSkip ? `unavailable: ${peerSkip}` : `no result (${stageOf('step_peer')})`}`);
  summary.peer = { error: peerSkip ?? stageOf('step_peer') };
}
if (webgpuTokens !== undefined && peerTokens !== undefined) {
  const ratio = webgpuTokens / peerTokens;
  lines.push(`webgpu/peer  ${fmt(ratio, 3)}x the peer's tokens/s (${ratio >= 1 ? `webgpu ${fmt(ratio, 2)}x faster` : `the peer ${fmt(1 / ratio, 2)}x faster`})`);
  summary.ratio = ratio;
} else {
  lines.push('webgpu/peer  no ratio (a side has no result)');
}

// Correctness on this adapter and the stages' times.
lines.push(check ? `checks       ${check.checks.length - check.failed}/${check.checks.length} passed${check.failed ? `; failed: ${check.checks.filter((c) => !c.ok).map((c) => c.check).join('; ')}` : ''}` : `checks       no result (${stageOf('check')})`);
// What bounds the step: its parts behind read-backs, and the kernels' enqueue time against the step's.
if (profile) {
  const p = profile.breakdownSeconds;
  const k = profile.kernels;
  const calls = k.byKernel.reduce((n, x) => n + x.calls, 0);
  const top = k.byKernel.slice(0, 3).map((x) => `${x.name} ${fmt(x.ms / 1000, 3)} s`);
  lines.push(
    `profile      one step behind read-backs: materialize ${fmt(p.materialize, 3)} s, model forward ${fmt(p.forward, 3)} s, forward+backward ${fmt(p.modelForwardBackward, 3)} s, ` +
      `operator backward ${fmt(p.operatorBackward, 3)} s, optimizer ${fmt(p.optimizer, 3)} s (full gradient ${fmt(p.fullGradient, 3)} s); ` +
      `${calls} kernel calls enqueued in ${fmt(k.kernelSeconds, 3)} s of a ${fmt(k.stepSeconds, 3)} s step; most: ${top.join(', ')}`,
  );
  summary.profile = { breakdownSeconds: p, kernelCalls: calls, kernelSeconds: k.kernelSeconds, stepSeconds: k.stepSeconds };
} else {
  lines.push(`profile      no result (${stageOf('profile')})`);
}
lines.push(`stages       ${stages.map((s) => `${s.name} ${s.status} ${s.seconds}/${s.limit} s`).join(', ')}`);

for (const l of lines) console.log(l);
writeFileSync(
  OUT_FILE,
  `${JSON.stringify(
    { benchmark: 'device', date: new Date().toISOString(), bundle: text('commit.txt')?.trim(), gpu: text('gpu.txt')?.trim(), summary, stages, adapters, matmul, webgpu, peer: peer ?? peerSkip, check, profile },
    null,
    2,
  )}\n`,
);
