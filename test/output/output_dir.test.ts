import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleStaging, stagingDir } from '../../src/output/output_dir.js';

/** The PID of a process that has exited (its staging directory is stale). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

const waitFor = async (ready: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 25));
};

describe('stale staging directories', () => {
  it('removes those whose process is gone, with one log line, and keeps a live one', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ligo-staging-'));
    const out = path.join(root, 'grown');
    const dead = stagingDir(out, deadPid());
    const live = stagingDir(out, process.pid);
    const otherOut = stagingDir(path.join(root, 'other'), deadPid());
    for (const dir of [dead, live, otherOut]) {
      await mkdir(dir);
      await writeFile(path.join(dir, 'model.safetensors'), 'partial');
    }
    const lines: string[] = [];
    const removed = await removeStaleStaging(out, (m) => lines.push(m));
    expect(removed).toEqual([path.basename(dead)]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path.basename(dead));
    expect((await readdir(root)).sort()).toEqual([path.basename(live), path.basename(otherOut)].sort());
  });

  it('cleans up after a writer killed with SIGKILL, never while it is alive', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ligo-staging-'));
    const out = path.join(root, 'grown');
    // A stand-in writer: makes its staging directory as writeAtomically does, then waits to be killed.
    const script = `const fs = require('node:fs'); const p = require('node:path');
      const dir = p.join(${JSON.stringify(root)}, '.grown.ligo-partial-' + process.pid);
      fs.mkdirSync(dir); fs.writeFileSync(p.join(dir, 'model.safetensors'), 'half'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    const staging = stagingDir(out, pid);
    await waitFor(async () => (await readdir(root)).includes(path.basename(staging)));
    expect(await removeStaleStaging(out)).toEqual([]);
    expect(await readdir(root)).toContain(path.basename(staging));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const lines: string[] = [];
    expect(await removeStaleStaging(out, (m) => lines.push(m))).toEqual([path.basename(staging)]);
    expect(lines).toHaveLength(1);
    expect(await readdir(root)).toEqual([]);
  });
});
