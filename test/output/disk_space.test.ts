import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDiskSpace } from '../../src/output/disk_space.js';

const TIB = 2 ** 40;
const GIB = 2 ** 30;

describe('checkDiskSpace', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ligo-disk-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('an output larger than the free space is refused with both sizes, measured where --out will be made', async () => {
    const asked: string[] = [];
    const bytesFree = async (dir: string) => {
      asked.push(dir);
      return 74 * GIB;
    };
    const out = path.join(root, 'not', 'yet', 'grown');
    const check = checkDiskSpace(out, 18 * TIB, { bytesFree });
    await expect(check).rejects.toMatchObject({ name: 'SystemError', message: `not enough space on ${root}: the grown model needs about 18.0 TiB, 74.0 GiB free`, code: 'ENOSPC' });
    await expect(checkDiskSpace(out, 18 * TIB, { bytesFree })).rejects.toMatchObject({ code: 'ENOSPC', flag: '--out', hint: expect.stringMatching(/--dtype/) });
    expect(asked).toEqual([root, root]);
  });

  it('an output that fits, and a file system statfs cannot read, pass', async () => {
    await expect(checkDiskSpace(path.join(root, 'g'), GIB, { bytesFree: async () => 2 * GIB })).resolves.toBeUndefined();
    await expect(checkDiskSpace(path.join(root, 'g'), GIB, { bytesFree: async () => Promise.reject(new Error('ENOSYS')) })).resolves.toBeUndefined();
  });

  it('statfs itself measures this disk (a byte always fits)', async () => {
    await expect(checkDiskSpace(path.join(root, 'g'), 1)).resolves.toBeUndefined();
  });
});
