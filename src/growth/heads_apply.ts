/**
 * An attention operator B = M kron H applied without building B: M [heads_large, heads_small]
 * mixes whole heads and H [hd_large, hd_small] (absent: the identity) mixes dims inside a head.
 * With x's grown axis viewed as [heads, head_dim], B x is M on the heads axis, then H on the
 * head_dim axis: 2 * heads_large * heads_small * hd * N FLOPs instead of the dense B's
 * 2 * (heads * hd)^2 * N. The nonzero terms of each sum are those of the dense product, in the
 * same order, so a copy or split start gives the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface HeadFactors {
  heads: tf.Tensor2D; // M [heads_large, heads_small]
  headDim?: tf.Tensor2D; // H [hd_large, hd_small]; absent when head_dim does not change
}

/** B x for x [heads_small * hd_small, N] -> [heads_large * hd_large, N]. */
function applyRows(x: tf.Tensor2D, f: HeadFactors): tf.Tensor2D {
  const [headsLarge, headsSmall] = f.heads.shape;
  const hd = x.shape[0] / headsSmall;
  const n = x.shape[1];
  const mixed = tf.matMul(f.heads, tf.reshape(x, [headsSmall, hd * n])); // [heads_large, hd * N]
  if (!f.headDim) return tf.reshape(mixed, [headsLarge * hd, n]);
  const hdLarge = f.headDim.shape[0];
  const byDim = tf.reshape(tf.transpose(tf.reshape(mixed, [headsLarge, hd, n]), [1, 0, 2]), [hd, headsLarge * n]); // [hd, heads_large * N]
  const grown = tf.reshape(tf.matMul(f.headDim, byDim), [hdLarge, headsLarge, n]); // [hd_large, heads_large, N]
  return tf.reshape(tf.transpose(grown, [1, 0, 2]), [headsLarge * hdLarge, n]);
}

/**
 * x B^T for x [N, heads_small * hd_small] -> [N, heads_large * hd_large], without transposing
 * x: each row's [heads_small, hd] block is mixed by M as a batch of N small products, then its
 * head dims by H. M is tiled N times (N x heads^2 floats, small) rather than broadcast: tfjs's
 * batched product does not reduce a broadcast operand's gradient.
 */
function applyCols(x: tf.Tensor2D, f: HeadFactors): tf.Tensor2D {
  const [headsLarge, headsSmall] = f.heads.shape;
  const n = x.shape[0];
  const hd = x.shape[1] / headsSmall;
  const tiled = tf.tile(tf.reshape(f.heads, [1, headsLarge, headsSmall]), [n, 1, 1]); // [N, heads_large, heads_small]
  const mixed = tf.matMul(tiled, tf.reshape(x, [n, headsSmall, hd])); // [N, heads_large, hd]
  if (!f.headDim) return tf.reshape(mixed, [n, headsLarge * hd]);
  const hdLarge = f.headDim.shape[0];
  return tf.reshape(tf.matMul(tf.reshape(mixed, [n * headsLarge, hd]), f.headDim, false, true), [n, headsLarge * hdLarge]); // [N, heads_large * hd_large]
}

/** B x for axis 0 (x [small, N]) or x B^T for axis 1 (x [N, small]). */
export function applyHeads(x: tf.Tensor2D, axis: 0 | 1, f: HeadFactors): tf.Tensor2D {
  return axis === 0 ? applyRows(x, f) : applyCols(x, f);
}
