/**
 * WebGPU under Node: Dawn's `dawn.node` from the npm package `webgpu` provides `navigator.gpu`, and
 * @tensorflow/tfjs-backend-webgpu runs on it. It reaches NVIDIA, AMD and Intel GPUs through Vulkan
 * (Apple's through Metal) with nothing downloaded at install, which tfjs-node-gpu cannot offer.
 *
 * Order matters: the tfjs backend reads `navigator.gpu` when it is imported and registers itself only
 * if it is there, so the adapter is probed (and navigator.gpu installed) before that import.
 */

import { readdirSync } from 'node:fs';

/** The npm package that provides navigator.gpu under Node. */
export const DAWN_PACKAGE = 'webgpu';

/** The subset of GPUAdapterInfo we read (dawn.node exposes these as getters). */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** What an adapter can hold: the limits that bound one tensor. */
export interface WebGpuLimits {
  /** Largest single GPU buffer, bytes. */
  maxBufferSize: number;
  /** Largest buffer one shader may bind, bytes: the practical per-tensor ceiling in tfjs. */
  maxStorageBufferBindingSize: number;
}

export interface WebGpuAdapter {
  info: WebGpuAdapterInfo;
  limits: WebGpuLimits;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP): correct, and about 1 GFLOP/s. */
  software: boolean;
}

/** navigator.gpu as Dawn provides it: the part ligo and its device benchmarks use. */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power'; forceFallbackAdapter?: boolean }): Promise<AdapterLike | null>;
}
/** A GPUAdapter: info and limits are objects of getters (read them by name; JSON.stringify sees nothing). */
export interface AdapterLike {
  info?: Partial<WebGpuAdapterInfo> & { isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number };
  isFallbackAdapter?: boolean;
  limits: WebGpuLimits;
  features?: ReadonlySet<string>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** Names in adapter info that mean a CPU rasterizer rather than a GPU. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|\bwarp\b/i;

/** True for adapters that emulate a GPU on the CPU. */
export function isSoftwareAdapter(info: Partial<WebGpuAdapterInfo>, isFallbackAdapter = false): boolean {
  if (isFallbackAdapter) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => s !== undefined && SOFTWARE_ADAPTER.test(s));
}

/** "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)" or "nvidia hopper NVIDIA H200": the adapter in a few words. */
export function describeAdapter(info: WebGpuAdapterInfo): string {
  const text = info.description || [info.vendor, info.architecture, info.device].filter((s) => s).join(' ');
  return text.trim() || 'unnamed adapter';
}

let probed: Promise<WebGpuAdapter> | undefined;

/**
 * Installs navigator.gpu from Dawn (once) and asks it for a high-performance adapter. Throws one line
 * when the package is missing or Dawn finds no adapter (Dawn prints its own reasons, such as
 * "vkCreateInstance: Found no drivers!", on stderr just before).
 */
export function probeWebGpu(): Promise<WebGpuAdapter> {
  probed ??= probe();
  probed.catch(() => {
    probed = undefined;
  });
  return probed;
}

/** Installs navigator.gpu from Dawn (once) and returns it; throws when the package is missing. */
export async function dawnGpu(): Promise<GpuLike> {
  // Dawn warns about an unset XDG_RUNTIME_DIR on headless machines; any writable directory quiets it.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  return installNavigatorGpu(await loadDawn());
}

async function probe(): Promise<WebGpuAdapter> {
  const gpu = await dawnGpu();
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    throw new Error(`Dawn could not request a WebGPU adapter: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (adapter === null) {
    throw new Error(
      'Dawn found no WebGPU adapter (its reasons, e.g. "vkCreateInstance: Found no drivers!", are printed above): no Vulkan driver or loader (libvulkan.so.1) is installed',
    );
  }
  const raw = adapter.info ?? {};
  const info: WebGpuAdapterInfo = {
    vendor: raw.vendor ?? '',
    architecture: raw.architecture ?? '',
    device: raw.device ?? '',
    description: raw.description ?? '',
  };
  const limits = { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize };
  return { info, limits, software: isSoftwareAdapter(info, raw.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false) };
}

async function loadDawn(): Promise<DawnModule> {
  const specifier: string = DAWN_PACKAGE; // a variable: the package is optional
  const mod = (await import(specifier)) as Partial<DawnModule> & { default?: Partial<DawnModule> };
  const create = mod.create ?? mod.default?.create;
  const globals = mod.globals ?? mod.default?.globals ?? {};
  if (typeof create !== 'function') throw new Error(`${DAWN_PACKAGE} loaded but has no create()`);
  return { create, globals };
}

/**
 * Node has no navigator.gpu. Node 21+ has a navigator object (a getter on globalThis), so the gpu is
 * added to it; on Node 20 a navigator is defined. The GPU* classes (GPUBufferUsage and friends) that
 * tfjs reads as globals come with it.
 */
function installNavigatorGpu(dawn: DawnModule): GpuLike {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu !== undefined) return g.navigator.gpu;
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  shimRequestAdapterInfo(dawn.globals.GPUAdapter);
  const gpu = dawn.create([]);
  if (g.navigator !== undefined) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  return gpu;
}

/**
 * tfjs-backend-webgpu 4.22 reads `adapter.info` and falls back to `requestAdapterInfo()`, which the
 * WebGPU spec removed (tfjs PR #8392, unmerged): give adapters whichever form they lack, so that
 * neither an older tfjs nor a newer Dawn breaks the other.
 */
function shimRequestAdapterInfo(adapterClass: unknown): void {
  const proto = (adapterClass as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (proto === undefined || 'requestAdapterInfo' in proto || !('info' in proto)) return;
  Object.defineProperty(proto, 'requestAdapterInfo', {
    configurable: true,
    value: function requestAdapterInfo(this: { info: unknown }) {
      return Promise.resolve(this.info);
    },
  });
}

/** Where the Vulkan loader looks for driver manifests on Linux (besides the VK_* variables). */
const VULKAN_ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
/** Lavapipe's manifest: a CPU driver, never a reason to probe in auto mode. */
const SOFTWARE_ICD = /^lvp_icd/;

/**
 * GPU device nodes: a Vulkan driver for real hardware answers only where the kernel exposes the
 * GPU (a DRM render node, NVIDIA's device files, WSL's /dev/dxg). Mesa's package installs manifests
 * for Intel, Radeon and virtio drivers on every machine, GPU or not, so a manifest alone proves little.
 */
const GPU_DEVICE_NODES: readonly { dir: string; name: RegExp }[] = [
  { dir: '/dev/dri', name: /^renderD\d+$/ },
  { dir: '/dev', name: /^(nvidia\d+|dxg)$/ },
];

/**
 * Auto mode asks Dawn for an adapter only where a GPU driver could answer: on Linux, where a Vulkan
 * manifest other than lavapipe's is installed and a GPU device node exists (or a driver is named by
 * VK_ICD_FILENAMES / VK_DRIVER_FILES), so a machine without a GPU is not shown Dawn's "Found no
 * drivers!" or its limit warnings on every run. Other systems always probe.
 */
export function gpuDriverMaybePresent(
  env: Record<string, string | undefined> = process.env,
  listDir: (dir: string) => string[] = readDirOrEmpty,
  platform: string = process.platform,
): boolean {
  if (platform !== 'linux') return true;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return true;
  const hardwareIcd = VULKAN_ICD_DIRS.some((dir) => listDir(dir).some((f) => f.endsWith('.json') && !SOFTWARE_ICD.test(f)));
  return hardwareIcd && GPU_DEVICE_NODES.some(({ dir, name }) => listDir(dir).some((f) => name.test(f)));
}

function readDirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
