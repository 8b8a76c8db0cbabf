/** Self time per function from a V8 .cpuprofile (what `node --cpu-prof` writes). */
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** function, file:line; wasm frames are the tfjs kernels' compiled C++ (named when the binary has names). */
  name: string;
  selfSeconds: number;
  percent: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const fn = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return fn;
  if (url.startsWith('wasm://')) return `${fn} [wasm]`;
  const file = path.basename(url.replace(/^file:\/\//, ''));
  return `${fn} ${file}:${lineNumber + 1}`;
}

export function summarizeCpuProfile(json: string, top: number): { top: ProfileEntry[]; totalSeconds: number } {
  const profile = JSON.parse(json) as CpuProfile;
  const names = new Map(profile.nodes.map((n) => [n.id, label(n)]));
  const self = new Map<string, number>();
  let total = 0;
  // timeDeltas[i] is the time between sample i-1 and sample i; it is charged to sample i-1's frame.
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const name = names.get(profile.samples[i]) ?? '?';
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  }
  const entries = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfSeconds: us / 1e6, percent: (100 * us) / total }));
  return { top: entries, totalSeconds: total / 1e6 };
}
