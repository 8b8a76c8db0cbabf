import { open } from 'node:fs/promises';
import { DataError } from '../errors.js';

/** Bytes read per call; even, so a read never splits a uint16. */
const READ_BYTES = 8 << 20;

/**
 * nanoGPT's train.bin / val.bin: token ids as uint16 little-endian, nothing else (no header).
 * Read in blocks so a large file is never held twice (bytes and ids) in full.
 */
export async function readBinTokens(file: string, maxTokens = Infinity): Promise<Int32Array> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size % 2 !== 0) {
      throw new DataError(`${file} has ${size} bytes, an odd number, so it is not uint16 token ids`, {
        file,
        expected: 'an even byte length (uint16 little-endian ids, as nanoGPT writes)',
        actual: `${size} bytes`,
      });
    }
    const count = Math.min(size / 2, maxTokens);
    const tokens = new Int32Array(count);
    const block = Buffer.allocUnsafe(Math.min(READ_BYTES, count * 2));
    for (let done = 0; done < count; ) {
      const want = Math.min(block.length, (count - done) * 2);
      const { bytesRead } = await handle.read(block, 0, want, done * 2);
      if (bytesRead === 0) throw new DataError(`${file} ended early while reading tokens`, { file });
      for (let i = 0; i + 1 < bytesRead; i += 2) tokens[done++] = block.readUInt16LE(i);
    }
    return tokens;
  } finally {
    await handle.close();
  }
}
