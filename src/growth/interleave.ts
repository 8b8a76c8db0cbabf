/**
 * Index arithmetic of interleaved axes (GPT-NeoX's query_key_value rows, [heads, q|k|v, head_dim]).
 * Growth works on the logical order, the parts concatenated ([q | k | v], each [heads, head_dim]),
 * where every part is one role that its own operator grows; the stored order is per head. The two
 * orders are a permutation of each other, so a gather (selection.ts) composes it with the growth
 * for free, and the dense path (materialize.ts) does it with reshapes.
 *
 * Why not split fused tensors into their parts at load time and fuse them again when writing: the
 * plan would then name tensors the checkpoint does not have, the streamed writers (which build a
 * tensor block of rows by block of rows straight from the source bytes) would have to hold every
 * part of a fused tensor to write any of its rows, and the forward passes, operator file and
 * apply would each need the mapping. Kept as one tensor whose axis has parts, every path (dense
 * materialization, selection gathers, 16-bit and float32 streaming, apply) grows it unchanged.
 */

/** For each logical index (parts concatenated), its position in the stored per-group order. */
export function storedPositions(partSizes: readonly number[], groups: number): Int32Array {
  const perGroup = partSizes.map((n) => n / groups);
  const stride = perGroup.reduce((a, b) => a + b, 0);
  const positions = new Int32Array(stride * groups);
  let logical = 0;
  let partOffset = 0;
  for (const [p, size] of partSizes.entries()) {
    const width = perGroup[p];
    for (let j = 0; j < size; j++) positions[logical + j] = Math.floor(j / width) * stride + partOffset + (j % width);
    logical += size;
    partOffset += width;
  }
  return positions;
}
