import { describe, expect, it } from 'vitest';
import { errorLines, GPT2_DIR, ligo, ligoProcess } from './helpers.js';

describe('ligo (top level)', () => {
  it('no command exits 2 with a usage hint', async () => {
    const run = await ligo([]);
    expect(run.code).toBe(2);
    expect(errorLines(run)).toEqual(['ligo: name a command: ligo <command>']);
    expect(run.stderr).toMatch(/^hint: see ligo --help$/m);
  });

  it('a mistyped command exits 2 and suggests the right one', async () => {
    const run = await ligo(['inspec', GPT2_DIR]);
    expect(run.code).toBe(2);
    expect(errorLines(run)[0]).toBe('ligo: unknown command "inspec". Did you mean inspect?');
  });

  it('--version prints the package version', async () => {
    const run = await ligoProcess(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help lists every command', async () => {
    const run = await ligo(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ligo inspect <dir>/);
    expect(run.stdout).toMatch(/ligo eval <dir>/);
  });

  for (const command of ['inspect', 'eval']) {
    it(`${command} --help shows at least two examples and exits 0`, async () => {
      const run = await ligo([command, '--help']);
      expect(run.code).toBe(0);
      const examples = run.stdout.split('Examples:')[1] ?? '';
      expect(examples.split('\n').filter((l) => l.trim().startsWith(`ligo ${command}`)).length).toBeGreaterThanOrEqual(2);
    });
  }

  it('an invalid LIGO_BACKEND is a usage error naming the variable', async () => {
    const run = await ligoProcess(['eval', GPT2_DIR, '--data', 'x.txt'], { LIGO_BACKEND: 'quantum' });
    expect(run.code).toBe(2);
    expect(errorLines(run)[0]).toMatch(/LIGO_BACKEND "quantum"/);
  });

  it('LIGO_DEBUG=1 adds the stack trace', async () => {
    const run = await ligo(['inspect', '/definitely/not/here'], { LIGO_DEBUG: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\n\s+at /);
  });
});
