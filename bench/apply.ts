/**
 * apply / write throughput benchmark (`npm run bench:apply`), the scale test of issue 5.
 *
 * 1. Writes a synthetic ~350M-parameter Llama-shaped source in BF16 (random weights, streamed
 *    tensor by tensor through the checkpoint writer): hidden 1024, 24 layers, 16 heads, 8 KV heads,
 *    FFN 2816, vocab 32000, untied head.
 * 2. Plans a net2net growth to hidden 2048, 25 layers (32 heads, 16 KV heads, FFN 5632): ~1.31B
 *    parameters; initializes that operator and saves it with writeOperator.
 * 3. Runs `apply` in a child process (bench/apply_child.ts), so the peak RSS is its own: sampled
 *    every 50 ms from inside (process.memoryUsage().rss) and from here (/proc/<pid>/status), and
 *    VmHWM at the end. Its output is fsynced and that time counted.
 * 4. Copies the written shards with `cp` (+ fsync) and with a Node read/write loop into fresh files
 *    (ext4 has no reflinks, and a fresh destination defeats any copy-on-write shortcut).
 *    Steps 3 and 4 take turns 3 times, each starting with nothing dirty and the previous output
 *    deleted (on this VM, writing into pages just freed is several times faster than into fresh
 *    ones, and dirty pages left over throttle writes), and the medians are compared.
 * 5. Grows the same model with `grow --method net2net` and no data (the streamed path, in a
 *    child measured like apply's) and checks its weights are byte-identical to apply's.
 * 6. Writes the same grown model through the selection prototype of bench/lib/selection.ts
 *    (gathers instead of dense matMuls, operator read one matrix at a time) in a child measured
 *    like apply's, and compares the two outputs byte for byte.
 *
 * Prints a table and writes bench/results/apply.json. Options:
 *   --quick         2 -> 3 layers at the same widths (a smoke run of about a minute)
 *   --cpu-prof      run the apply child under `node --cpu-prof` and print the top self-time functions
 *   --no-gather     skip step 6
 *   --keep          keep the temporary directory (printed)
 */
import { execFile, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, stat, statfs } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveArchitecture } from '../src/arch/index.js';
import { methodRecipe } from '../src/growth/methods.js';
import { initialSelections } from '../src/growth/start_selections.js';
import { OPERATOR_FILE } from '../src/output/files.js';
import { writeSelectionOperator } from '../src/output/operator_file.js';
import { planGrowth, type GrowthPlan } from '../src/growth/plan.js';
import { resolveTarget } from '../src/growth/target.js';
import type { ApplyChildResult, VerifyChildResult } from './apply_child.js';
import { summarizeCpuProfile, type ProfileEntry } from './lib/cpuprofile.js';
import { materializeFlops } from '../src/growth/flops.js';
import { fmt, GIB, hasFlag, machine, MB, median, printTable, writeResult } from './lib/report.js';
import { writeRandomCheckpoint } from './lib/random_checkpoint.js';

const QUICK = hasFlag('--quick');
const CPU_PROF = hasFlag('--cpu-prof');
const GATHER = !hasFlag('--no-gather');
const KEEP = hasFlag('--keep');

const SOURCE_CONFIG = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  hidden_size: 1024,
  num_hidden_layers: QUICK ? 2 : 24,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  intermediate_size: 2816,
  vocab_size: 32000,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
};
const TARGET = { hiddenSize: 2048, layers: QUICK ? 3 : 25 };
const METHOD = 'net2net';
/** Issue 5's bars: peak RSS under 2 GB, apply at least half the plain-copy throughput. */
const TARGET_PEAK_RSS_BYTES = 2e9;
const TARGET_COPY_RATIO = 0.5;
const REPEATS = 3;
/** Node copy loop buffer: large enough that syscall count does not matter. */
const COPY_CHUNK_BYTES = 64 * 1024 * 1024;
/** Parent-side RSS sampling period (ms), matching the child's. */
const SAMPLE_MS = 50;
const here = path.dirname(fileURLToPath(import.meta.url));
const log = (m: string): void => void process.stderr.write(`${m}\n`);

async function writeSource(dir: string): Promise<{ parameters: number; bytes: number; seconds: number }> {
  const start = performance.now();
  const parameters = await writeRandomCheckpoint(dir, SOURCE_CONFIG);
  return { parameters, bytes: await safetensorsBytes(dir), seconds: (performance.now() - start) / 1000 };
}

function planBenchGrowth(): GrowthPlan {
  const { description, dims } = resolveArchitecture(SOURCE_CONFIG);
  const target = resolveTarget(dims, TARGET, description);
  return planGrowth({ description, source: dims, target, method: METHOD, optionalPresent: new Set() });
}

/** The net2net operator (copy/split width matrices, stacked depth) saved as apply reads it, built in selection form as `grow` builds it. */
async function writeNet2NetOperator(plan: GrowthPlan, dir: string): Promise<string> {
  const { description } = resolveArchitecture(SOURCE_CONFIG);
  const recipe = methodRecipe(METHOD, description, 'stack');
  if (!recipe.depth) throw new Error(`${METHOD} has no operator`);
  await mkdir(dir, { recursive: true });
  await writeSelectionOperator(dir, plan, initialSelections(plan, recipe.depth), []);
  return path.join(dir, OPERATOR_FILE);
}

/** The model's weight files (the operator file apply also writes is counted apart). */
async function safetensorsFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.safetensors') && f !== OPERATOR_FILE)
    .sort()
    .map((f) => path.join(dir, f));
}

async function fileBytes(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

async function safetensorsBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await safetensorsFiles(dir)) n += (await stat(f)).size;
  return n;
}

function procStatusBytes(pid: number, field: string): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0; // the child has exited
  }
}

/** Runs bench/apply_child.ts in a fresh Node process and returns its one IPC message. */
function runChild<T>(args: string[], cpuProfDir?: string): Promise<{ result: T; parentSampledPeakBytes: number }> {
  const execArgv = ['--import', 'tsx', ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [])];
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'apply_child.ts'), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: T | undefined;
    let peak = 0;
    const pid = child.pid;
    const timer = setInterval(() => {
      if (pid !== undefined) peak = Math.max(peak, procStatusBytes(pid, 'VmRSS'));
    }, SAMPLE_MS);
    child.on('message', (m) => {
      result = m as T;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0 && result !== undefined) resolve({ result, parentSampledPeakBytes: peak });
      else reject(new Error(`apply_child ${args[0]} exited with ${code}`));
    });
  });
}

const execFileAsync = promisify(execFile);

/** fsync each file: what is still only in the page cache goes to the disk. */
async function fsyncFiles(files: string[]): Promise<number> {
  const start = performance.now();
  for (const f of files) {
    const h = await open(f, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
  return (performance.now() - start) / 1000;
}

/** `cp` into a fresh directory: seconds to the page cache, and seconds until fsync returns (the disk). */
async function timeCp(files: string[], destDir: string): Promise<{ cached: number; synced: number }> {
  await rm(destDir, { recursive: true, force: true });
  await mkdir(destDir, { recursive: true });
  const start = performance.now();
  for (const f of files) await execFileAsync('cp', [f, path.join(destDir, path.basename(f))]);
  const cached = (performance.now() - start) / 1000;
  await fsyncFiles(files.map((f) => path.join(destDir, path.basename(f))));
  return { cached, synced: (performance.now() - start) / 1000 };
}

/** A plain userland copy, the way the checkpoint writer does its I/O (FileHandle reads and writes). */
async function timeNodeCopy(files: string[], destDir: string): Promise<number> {
  await rm(destDir, { recursive: true, force: true });
  await mkdir(destDir, { recursive: true });
  const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  const start = performance.now();
  for (const f of files) {
    const src = await open(f, 'r');
    const dst = await open(path.join(destDir, path.basename(f)), 'w');
    try {
      let position = 0;
      for (;;) {
        const { bytesRead } = await src.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        let written = 0;
        while (written < bytesRead) written += (await dst.write(buffer, written, bytesRead - written, position + written)).bytesWritten;
        position += bytesRead;
      }
    } finally {
      await src.close();
      await dst.close();
    }
  }
  return (performance.now() - start) / 1000;
}

const kindOf = (name: string): string => name.replace(/\.\d+\./, '.{i}.');

/** Seconds apply spent per tensor kind, from the times each tensor finished writing. */
function secondsByKind(written: ApplyChildResult['written']): Map<string, number> {
  const out = new Map<string, number>();
  let last = 0;
  for (const w of written) {
    out.set(kindOf(w.tensor), (out.get(kindOf(w.tensor)) ?? 0) + (w.at - last));
    last = w.at;
  }
  return out;
}

/** The benchmark's folders under one temporary work dir. */
interface Dirs {
  work: string;
  source: string;
  out: string;
  copy: string;
  nodeCopy: string;
  profile: string;
  gathered: string;
}

const dirsIn = (work: string): Dirs => ({
  work,
  source: path.join(work, 'source'),
  out: path.join(work, 'grown'),
  copy: path.join(work, 'copy'),
  nodeCopy: path.join(work, 'node-copy'),
  profile: path.join(work, 'profile'),
  gathered: path.join(work, 'gathered'),
});

/** Step 1: refuses a temporary file system without room for every output of the run. */
async function checkRoom(plan: GrowthPlan, work: string): Promise<void> {
  const tmp = path.dirname(work);
  // Source (BF16) + operator (F32) + output (BF16) + two copies of it + the prototype's output, with a 10% margin.
  const needed = 1.1 * (2 * plan.parameters.source + 4 * plan.parameters.operator + 8 * plan.parameters.target);
  const fsStat = await statfs(tmp);
  const free = fsStat.bavail * fsStat.bsize;
  if (free < needed) throw new Error(`${tmp} has ${fmt(free / GIB, 1)} GiB free; this benchmark needs ${fmt(needed / GIB, 1)} GiB (set TMPDIR elsewhere)`);
  log(`work dir ${work} (${fmt(free / GIB, 1)} GiB free, needs ${fmt(needed / GIB, 1)} GiB)`);
}

/** Step 2: the synthetic source and its net2net operator, written and synced. */
async function writeInputs(plan: GrowthPlan, d: Dirs): Promise<{ source: Awaited<ReturnType<typeof writeSource>>; operatorFile: string }> {
  log(`writing the synthetic source: ${fmt(plan.parameters.source / 1e6)}M parameters, BF16`);
  const source = await writeSource(d.source);
  log(`  ${fmt(source.bytes / MB)} MB in ${fmt(source.seconds, 1)} s`);
  const operatorFile = await writeNet2NetOperator(plan, path.join(d.work, 'operator'));
  log(`operator (${METHOD}) for ${fmt(plan.parameters.target / 1e6)}M parameters: ${fmt(plan.parameters.operator / 1e6)}M entries`);
  // A source on disk is clean (written back long ago); dirty pages left from writing it here
  // would slow apply's writes and not cp's, which run later.
  await fsyncFiles([...(await safetensorsFiles(d.source)), operatorFile]);
  return { source, operatorFile };
}

type ApplyRun = { result: ApplyChildResult; syncSeconds: number; peakRss: number };
type Turns = { applyRuns: ApplyRun[]; cpSeconds: number[]; cpSyncedSeconds: number[]; nodeSeconds: number[]; files: string[] };

/**
 * Step 3: apply and the plain copies take turns, each starting with nothing dirty and its own
 * previous output deleted just before, so all find the page cache in the same state.
 */
async function applyAndCopies(d: Dirs, operatorFile: string): Promise<Turns> {
  log(`apply (child process) and plain copies of its output, taking turns, ${REPEATS} times...`);
  const t: Turns = { applyRuns: [], cpSeconds: [], cpSyncedSeconds: [], nodeSeconds: [], files: [] };
  for (let i = 0; i < REPEATS; i++) {
    await rm(d.out, { recursive: true, force: true });
    const applied = await runChild<ApplyChildResult>(['apply', d.source, operatorFile, d.out], CPU_PROF && i === 0 ? d.profile : undefined);
    t.files = await safetensorsFiles(d.out);
    // apply does not fsync; whatever of its output the kernel has not written back yet is flushed here.
    const syncSeconds = await fsyncFiles([...t.files, path.join(d.out, OPERATOR_FILE)]);
    const r = applied.result;
    t.applyRuns.push({ result: r, syncSeconds, peakRss: Math.max(r.vmHwmBytes, r.rssSampledPeakBytes, applied.parentSampledPeakBytes) });
    log(`  apply ${fmt(r.seconds, 1)} s + fsync ${fmt(syncSeconds, 1)} s`);
    const cp = await timeCp(t.files, d.copy);
    t.cpSeconds.push(cp.cached);
    t.cpSyncedSeconds.push(cp.synced);
    t.nodeSeconds.push(await timeNodeCopy(t.files, d.nodeCopy));
    await fsyncFiles(await safetensorsFiles(d.nodeCopy));
    log(`  cp ${fmt(cp.cached, 1)} s + fsync ${fmt(cp.synced - cp.cached, 1)} s; node copy ${fmt(t.nodeSeconds[i], 1)} s`);
  }
  await rm(d.copy, { recursive: true, force: true });
  await rm(d.nodeCopy, { recursive: true, force: true });
  return t;
}

type Checked = { run: ApplyChildResult; peakRss: number; verify: VerifyChildResult };

/** Step 4: the streamed `grow --method net2net`, and its weights against apply's. */
async function growNet2Net(d: Dirs): Promise<Checked & { syncSeconds: number }> {
  log('grow --method net2net without data (streamed, child process)...');
  const grownDir = path.join(d.work, 'grown-net2net');
  const g = await runChild<ApplyChildResult>(['grow', d.source, JSON.stringify(TARGET), grownDir]);
  const syncSeconds = await fsyncFiles(await safetensorsFiles(grownDir));
  log('  comparing its weights with apply\'s...');
  const verify = (await runChild<VerifyChildResult>(['verify', d.out, grownDir, '-'])).result;
  await rm(grownDir, { recursive: true, force: true });
  return { run: g.result, syncSeconds, peakRss: Math.max(g.result.vmHwmBytes, g.result.rssSampledPeakBytes, g.parentSampledPeakBytes), verify };
}

/** Step 5 (--gather): the selection prototype, and its output against apply's. */
async function gatherPrototype(d: Dirs, operatorFile: string): Promise<Checked | undefined> {
  if (!GATHER) return undefined;
  log('selection prototype (child process)...');
  const g = await runChild<ApplyChildResult>(['gather', d.source, operatorFile, d.gathered]);
  log('  comparing its output with apply\'s...');
  const verify = (await runChild<VerifyChildResult>(['verify', d.out, d.gathered, '-'])).result;
  await rm(d.gathered, { recursive: true, force: true });
  return { run: g.result, peakRss: Math.max(g.result.vmHwmBytes, g.result.rssSampledPeakBytes, g.parentSampledPeakBytes), verify };
}

/** Step 6 (--cpu-prof): the apply child's top self time. */
async function applyProfile(d: Dirs): Promise<{ file: string; top: ProfileEntry[]; totalSeconds: number } | undefined> {
  if (!CPU_PROF) return undefined;
  const prof = (await readdir(d.profile)).find((f) => f.endsWith('.cpuprofile'));
  return prof ? { file: prof, ...summarizeCpuProfile(readFileSync(path.join(d.profile, prof), 'utf8'), 15) } : undefined;
}

/** Everything the report and the tables read. */
interface Results {
  plan: GrowthPlan;
  source: Awaited<ReturnType<typeof writeSource>>;
  turns: Turns;
  grown: Checked & { syncSeconds: number };
  gathered: Checked | undefined;
  profile: Awaited<ReturnType<typeof applyProfile>>;
  outputBytes: number;
  operatorFileBytes: number;
}

/** The median apply run and the rates against the copies. */
function rates(r: Results) {
  const { applyRuns, cpSeconds, cpSyncedSeconds, nodeSeconds } = r.turns;
  const totalOf = (run: ApplyRun): number => run.result.seconds + run.syncSeconds;
  const medianRun = [...applyRuns].sort((x, y) => totalOf(x) - totalOf(y))[Math.floor(applyRuns.length / 2)];
  const a = medianRun.result;
  const mb = r.outputBytes / MB;
  const applyMBps = mb / (a.seconds + medianRun.syncSeconds);
  const cpSyncedMBps = mb / median(cpSyncedSeconds);
  return {
    a,
    applySyncSeconds: medianRun.syncSeconds,
    peakRss: Math.max(...applyRuns.map((run) => run.peakRss)),
    applyMBps,
    cpMBps: mb / median(cpSeconds),
    cpSyncedMBps,
    nodeMBps: mb / median(nodeSeconds),
    // The bar is the disk's ceiling: cp until fsync returns; apply is timed until its output is synced too.
    ratio: applyMBps / cpSyncedMBps,
    flops: materializeFlops(r.plan),
  };
}

type Rates = ReturnType<typeof rates>;

function applyReport(r: Results, x: Rates) {
  const { plan, source, turns, grown, gathered, profile, outputBytes, operatorFileBytes } = r;
  const { a } = x;
  return {
    benchmark: 'apply',
    date: new Date().toISOString(),
    ...machine(),
    backend: 'wasm',
    quick: QUICK,
    method: METHOD,
    source: { config: SOURCE_CONFIG, parameters: source.parameters, bytes: source.bytes, dtype: 'BF16', writeSeconds: source.seconds },
    target: { dims: plan.target, parameters: plan.parameters.target, operatorParameters: plan.parameters.operator },
    apply: {
      seconds: a.seconds,
      fsyncSeconds: x.applySyncSeconds,
      outputBytes,
      shards: turns.files.length,
      operatorFileBytes,
      MBps: x.applyMBps,
      peakRssBytes: x.peakRss,
      vmHwmBytes: a.vmHwmBytes,
      rssSampledPeakBytes: a.rssSampledPeakBytes,
      runs: turns.applyRuns.map((run) => ({ seconds: run.result.seconds, fsyncSeconds: run.syncSeconds, peakRssBytes: run.peakRss })),
      rssBeforeBytes: a.rssBeforeBytes,
      wasmHeapBytes: a.wasmHeapBytes,
      materializeGflop: x.flops / 1e9,
      materializeGflopPerSecond: x.flops / 1e9 / a.seconds,
      secondsByKind: Object.fromEntries(secondsByKind(a.written)),
    },
    copy: { repeats: REPEATS, cpSeconds: turns.cpSeconds, cpSyncedSeconds: turns.cpSyncedSeconds, nodeSeconds: turns.nodeSeconds, cpMBps: x.cpMBps, cpSyncedMBps: x.cpSyncedMBps, nodeMBps: x.nodeMBps },
    ratio: x.ratio,
    ratioToPageCacheCp: outputBytes / MB / a.seconds / x.cpMBps,
    targets: { peakRssBytes: TARGET_PEAK_RSS_BYTES, copyRatio: TARGET_COPY_RATIO, peakRssMet: x.peakRss < TARGET_PEAK_RSS_BYTES, throughputMet: x.ratio >= TARGET_COPY_RATIO },
    growNet2Net: {
      seconds: grown.run.seconds,
      fsyncSeconds: grown.syncSeconds,
      MBps: outputBytes / MB / (grown.run.seconds + grown.syncSeconds),
      peakRssBytes: grown.peakRss,
      sameBytesAsApply: grown.verify.identical === grown.verify.tensors,
      verify: grown.verify,
    },
    gatherPrototype: gathered && {
      seconds: gathered.run.seconds,
      MBps: outputBytes / MB / gathered.run.seconds,
      ratioToCpSynced: outputBytes / MB / gathered.run.seconds / x.cpSyncedMBps,
      ratioToCp: outputBytes / MB / gathered.run.seconds / x.cpMBps,
      peakRssBytes: gathered.peakRss,
      vmHwmBytes: gathered.run.vmHwmBytes,
      wasmHeapBytes: gathered.run.wasmHeapBytes,
      sameValuesAsApply: gathered.verify.different.length === 0,
      verify: gathered.verify,
    },
    profile,
  };
}

/** The table of apply against the copies, grow and the prototype. */
function printRates(r: Results, x: Rates): void {
  const { plan, source, turns, grown, gathered, outputBytes, operatorFileBytes } = r;
  console.log(
    `apply on wasm: synthetic Llama ${fmt(source.parameters / 1e6)}M BF16 (${SOURCE_CONFIG.num_hidden_layers} x ${SOURCE_CONFIG.hidden_size}) -> ` +
      `${fmt(plan.parameters.target / 1e6)}M (${plan.target.numLayers} x ${plan.target.hiddenSize}), ${METHOD}`,
  );
  console.log(`MB/s are grown weights (${fmt(outputBytes / MB)} MB BF16) per second; apply also writes the ${fmt(operatorFileBytes / MB)} MB operator file into the output, in its time.`);
  const pct = (mbps: number, of: number): string => `${fmt((100 * mbps) / of, mbps / of < 0.1 ? 1 : 0)}%`;
  const mb = outputBytes / MB;
  const growMBps = mb / (grown.run.seconds + grown.syncSeconds);
  const gatherMBps = gathered ? mb / gathered.run.seconds : 0;
  printTable([
    ['', 'weights MB', 'seconds', 'MB/s', 'vs cp+fsync', 'vs cp', 'peak RSS MB'],
    ['apply (+ fsync of its output)', fmt(mb), `${fmt(x.a.seconds, 1)} + ${fmt(x.applySyncSeconds, 1)}`, fmt(x.applyMBps, 1), pct(x.applyMBps, x.cpSyncedMBps), pct(x.applyMBps, x.cpMBps), fmt(x.peakRss / MB)],
    ['cp + fsync (disk)', fmt(mb), fmt(median(turns.cpSyncedSeconds), 2), fmt(x.cpSyncedMBps), '100%', pct(x.cpSyncedMBps, x.cpMBps), ''],
    ['cp (page cache)', fmt(mb), fmt(median(turns.cpSeconds), 2), fmt(x.cpMBps), pct(x.cpMBps, x.cpSyncedMBps), '100%', ''],
    ['node read/write copy', fmt(mb), fmt(median(turns.nodeSeconds), 2), fmt(x.nodeMBps), pct(x.nodeMBps, x.cpSyncedMBps), pct(x.nodeMBps, x.cpMBps), ''],
    ['grow --method net2net (+ fsync)', fmt(mb), `${fmt(grown.run.seconds, 1)} + ${fmt(grown.syncSeconds, 1)}`, fmt(growMBps, 1), pct(growMBps, x.cpSyncedMBps), pct(growMBps, x.cpMBps), fmt(grown.peakRss / MB)],
    ...(gathered ? [['gather prototype', fmt(mb), fmt(gathered.run.seconds, 1), fmt(gatherMBps, 1), pct(gatherMBps, x.cpSyncedMBps), pct(gatherMBps, x.cpMBps), fmt(gathered.peakRss / MB)]] : []),
  ]);
}

/** The checks under the table: identical bytes, the targets, the profile. */
function printChecks(r: Results, x: Rates, report: ReturnType<typeof applyReport>): void {
  const { grown, gathered, profile } = r;
  console.log(`apply and copies: median of ${REPEATS} turns; peak RSS: max of VmHWM and RSS sampled every ${SAMPLE_MS} ms`);
  console.log(`grow --method net2net vs apply: ${grown.verify.identical} of ${grown.verify.tensors} weight tensors byte-identical`);
  if (gathered) {
    const v = gathered.verify;
    console.log(
      `apply vs gather prototype: ${v.identical} of ${v.tensors} tensors byte-identical, ${v.signedZerosOnly} equal up to the sign of zeros, ${v.different.length} different` +
        (v.different.length > 0
          ? `; differing: ${v.different.slice(0, 5).map((d) => `${d.tensor} (max |diff| ${d.maxAbsDiff.toExponential(2)}${d.nonFinite > 0 ? `, ${d.nonFinite} non-finite` : ''})`).join(', ')}${v.different.length > 5 ? ', ...' : ''}`
          : ''),
    );
  }
  console.log(
    `targets: peak RSS < ${fmt(TARGET_PEAK_RSS_BYTES / MB)} MB ${report.targets.peakRssMet ? 'met' : 'MISSED'}; ` +
      `apply >= ${TARGET_COPY_RATIO * 100}% of cp+fsync throughput ${report.targets.throughputMet ? 'met' : 'MISSED'}`,
  );
  console.log(`apply gathers instead of ${fmt(x.flops / 1e9)} GFLOP of dense operator matMuls; wasm heap ${fmt(x.a.wasmHeapBytes / MB)} MB, RSS before apply ${fmt(x.a.rssBeforeBytes / MB)} MB`);
  if (profile) {
    console.log(`cpu profile of the apply child (${profile.file}), top self time of ${fmt(profile.totalSeconds, 1)} s:`);
    printTable([['function', 'self s', '%'], ...profile.top.map((e) => [e.name, fmt(e.selfSeconds, 1), fmt(e.percent, 1)])]);
  }
}

async function bench(): Promise<void> {
  const d = dirsIn(await mkdtemp(path.join(os.tmpdir(), 'ligo-bench-apply-')));
  try {
    const plan = planBenchGrowth();
    await checkRoom(plan, d.work);
    const { source, operatorFile } = await writeInputs(plan, d);
    const turns = await applyAndCopies(d, operatorFile);
    const outputBytes = await safetensorsBytes(d.out);
    const operatorFileBytes = await fileBytes(path.join(d.out, OPERATOR_FILE));
    const grown = await growNet2Net(d);
    const results: Results = { plan, source, turns, grown, gathered: await gatherPrototype(d, operatorFile), profile: await applyProfile(d), outputBytes, operatorFileBytes };
    const x = rates(results);
    const report = applyReport(results, x);
    const written = await writeResult('apply', report);
    printRates(results, x);
    printChecks(results, x, report);
    console.log(`wrote ${written}`);
  } finally {
    if (KEEP) log(`kept ${d.work}`);
    else await rm(d.work, { recursive: true, force: true });
  }
}

await bench();
