/**
 * What Dawn offers on this machine (bench/device.sh, first stage): an adapter requested three ways
 * (powerPreference high-performance and low-power, forceFallbackAdapter), each distinct one's info,
 * the one ligo takes with --backend webgpu and what --backend auto picks, then the picked adapter's
 * limits that bound ligo's kernels and whether it has the features shader-f16 and subgroups.
 *
 * Dawn prints its own reasons (e.g. "vkCreateInstance: Found no drivers!") on stderr; device.sh
 * keeps them beside this output. --json FILE writes the result as JSON. Exits 1 when no adapter.
 */
import { writeFile } from 'node:fs/promises';
import { initBackend } from '../src/backend/index.js';
import { dawnGpu, describeAdapter, isSoftwareAdapter, probeWebGpu, type AdapterLike, type GpuLike } from '../src/backend/webgpu.js';
import { argValue } from './lib/report.js';

/** The requests, as named in the output. */
const REQUESTS = [
  { name: 'high-performance', options: { powerPreference: 'high-performance' } },
  { name: 'low-power', options: { powerPreference: 'low-power' } },
  { name: 'forceFallbackAdapter', options: { forceFallbackAdapter: true } },
] as const satisfies readonly { name: string; options: Parameters<GpuLike['requestAdapter']>[0] }[];

/** The limits printed, in this order: buffer and binding sizes bound one tensor, the rest the kernels' tiles. */
const LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;
const FEATURES = ['shader-f16', 'subgroups'] as const;
const INFO_FIELDS = ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter'] as const;

interface AdapterReport {
  info: Record<string, string | number | boolean>;
  software: boolean;
  limits: Record<string, number>;
  features: string[];
}

/** dawn.node's info and limits are getters on the prototype: read each by name. */
function report(adapter: AdapterLike): AdapterReport {
  const rawInfo = (adapter.info ?? {}) as Record<string, unknown>;
  const info: AdapterReport['info'] = {};
  for (const field of INFO_FIELDS) {
    const v = rawInfo[field];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') info[field] = v;
  }
  const rawLimits = adapter.limits as unknown as Record<string, unknown>;
  const limits: Record<string, number> = {};
  // Every limit the object has (own, inherited getters, enumerable or not), the named ones whatever is found.
  const proto = (Object.getPrototypeOf(rawLimits) ?? {}) as object;
  for (const name of new Set([...LIMITS, ...Object.getOwnPropertyNames(proto), ...keysIn(rawLimits)])) {
    const v = rawLimits[name];
    if (typeof v === 'number') limits[name] = v;
  }
  const fallback = rawInfo.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  return { info, software: isSoftwareAdapter(rawInfo, fallback), limits, features: featureNames(adapter.features) };
}

/** A GPUSupportedFeatures is set-like; where it does not iterate, the named features are asked one by one. */
function featureNames(features: ReadonlySet<string> | undefined): string[] {
  if (features === undefined) return [];
  try {
    return [...features].sort();
  } catch {
    return FEATURES.filter((f) => features.has(f));
  }
}

function keysIn(o: object): string[] {
  const keys: string[] = [];
  for (const k in o) keys.push(k);
  return keys;
}

const bytes = (n: number | undefined): string => (n === undefined ? 'not reported' : `${n}${n >= 2 ** 20 ? ` (${(n / 2 ** 20).toFixed(0)} MiB)` : ''}`);
const named = (a: AdapterReport): string => describeAdapter({ vendor: String(a.info.vendor ?? ''), architecture: String(a.info.architecture ?? ''), device: String(a.info.device ?? ''), description: String(a.info.description ?? '') });

async function main(): Promise<void> {
  const result: Record<string, unknown> = {};
  let gpu: GpuLike;
  try {
    gpu = await dawnGpu();
  } catch (err) {
    console.log(`Dawn: ${err instanceof Error ? err.message : String(err)}`);
    result.error = String(err);
    await save(result);
    process.exitCode = 1;
    return;
  }
  const distinct: AdapterReport[] = [];
  const requests: { request: string; adapter?: number; error?: string }[] = [];
  for (const { name, options } of REQUESTS) {
    try {
      const adapter = await gpu.requestAdapter(options);
      if (adapter === null) {
        requests.push({ request: name, error: 'null (no adapter; Dawn says why on stderr)' });
        continue;
      }
      const r = report(adapter);
      let index = distinct.findIndex((d) => JSON.stringify(d) === JSON.stringify(r));
      if (index < 0) index = distinct.push(r) - 1;
      requests.push({ request: name, adapter: index });
    } catch (err) {
      requests.push({ request: name, error: `threw: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  console.log('Dawn adapters:');
  for (const r of requests) console.log(`  request ${r.request.padEnd(20)} -> ${r.adapter === undefined ? r.error : `adapter ${r.adapter}`}`);
  distinct.forEach((a, i) => console.log(`  adapter ${i}: ${named(a)}${a.software ? ' (software)' : ''}; ${Object.entries(a.info).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`));
  result.requests = requests;
  result.adapters = distinct;

  try {
    const picked = await probeWebGpu();
    const index = requests.find((r) => r.request === 'high-performance')?.adapter;
    console.log(`ligo --backend webgpu takes: ${describeAdapter(picked.info)}${picked.software ? ' (software)' : ''}${index === undefined ? '' : ` (adapter ${index})`}`);
    result.picked = index;
  } catch (err) {
    console.log(`ligo --backend webgpu: ${err instanceof Error ? err.message : String(err)}`);
    result.pickedError = String(err);
  }
  try {
    const auto = await initBackend({ backend: 'auto' });
    const tried = auto.tried.map((t) => `${t.name}: ${t.error}`).join('; ');
    console.log(`ligo --backend auto picks: ${auto.name}${auto.adapter ? ` (${describeAdapter(auto.adapter.info)})` : ''}${tried ? `; passed over ${tried}` : ''}`);
    result.auto = { name: auto.name, tried: auto.tried };
  } catch (err) {
    console.log(`ligo --backend auto: ${err instanceof Error ? err.message : String(err)}`);
  }

  const chosen = typeof result.picked === 'number' ? distinct[result.picked] : distinct[0];
  if (chosen === undefined) {
    console.log('limits: no adapter');
    process.exitCode = 1;
  } else {
    console.log(`limits of ${named(chosen)}:`);
    for (const name of LIMITS) console.log(`  ${name.padEnd(34)} ${bytes(chosen.limits[name])}`);
    console.log(`features: ${FEATURES.map((f) => `${f} ${chosen.features.includes(f) ? 'yes' : 'no'}`).join(', ')}; all: ${chosen.features.join(' ') || 'none'}`);
    result.limits = Object.fromEntries(LIMITS.map((n) => [n, chosen.limits[n]]));
    result.features = Object.fromEntries(FEATURES.map((f) => [f, chosen.features.includes(f)]));
  }
  await save(result);
}

async function save(result: Record<string, unknown>): Promise<void> {
  const file = argValue('--json', '');
  if (file) await writeFile(file, `${JSON.stringify({ benchmark: 'device_adapters', date: new Date().toISOString(), ...result }, null, 2)}\n`);
}

await main();
