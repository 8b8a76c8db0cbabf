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

/** B x for axis 0 (x [small, N]) or x B^T for axis 1 (x [N, small]). */
export function applyHeads(x: tf.Tensor2D, axis: 0 | 1, f: HeadFactors): tf.Tensor2D {
  if (axis === 0) return applyRows(x, f);
  return tf.transpose(applyRows(tf.transpose(x), f));
}
