/**
 * Rotary position embedding as Hugging Face's Llama/Mistral/Qwen2 (default rope type):
 * inv_freq = 1 / theta^(2i / head_dim), angles duplicated over both halves of head_dim, and
 * rotate_half pairing element j with element j + head_dim/2 (not interleaved pairs).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface RopeTables {
  /** [T, hd] */
  cos: tf.Tensor2D;
  /** [T, hd] */
  sin: tf.Tensor2D;
}

/**
 * inv_freq exactly as HF computes it in float32: arange(0, hd, 2) / hd, then base ** that,
 * then its reciprocal, each step rounded to float32 (Math.fround), so tables agree to the ulp.
 */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround(Math.fround(2 * i) / headDim);
    inv[i] = Math.fround(1 / Math.fround(Math.pow(Math.fround(theta), exponent)));
  }
  return inv;
}

/**
 * cos/sin tables for positions 0..T-1 over the `headDim` rotated dims (all of a head's, or the
 * first ones under partial rotary). Built on the host: they are constants, never trained.
 */
export function ropeTables(seqLen: number, headDim: number, theta: number): RopeTables {
  if (headDim % 2 !== 0) throw new Error(`RoPE needs an even head_dim, got ${headDim}`);
  const half = headDim / 2;
  const invFreq = ropeInvFreq(headDim, theta);
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < half; i++) {
      // HF: freqs = position (f32) * inv_freq (f32), rounded to f32 before cos/sin.
      const angle = Math.fround(t * invFreq[i]);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      // emb = cat(freqs, freqs): the same angle drives element i and element i + half.
      cos[t * headDim + i] = c;
      cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = s;
      sin[t * headDim + i + half] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [seqLen, headDim]), sin: tf.tensor2d(sin, [seqLen, headDim]) };
}

/** HF rotate_half: split the last axis into halves [x1, x2] and return [-x2, x1]. */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1);
  return tf.concat([tf.neg(x2), x1], -1);
}

/**
 * x * cos + rotate_half(x) * sin for x [B, heads, T, hd]; tables broadcast over B and heads.
 * Tables narrower than hd (partial rotary, GPT-NeoX's rotary_pct) rotate the first dims of each
 * head, rotate_half within them, and pass the rest through, as Hugging Face does.
 */
export function applyRope(x: tf.Tensor, rope: RopeTables): tf.Tensor {
  const hd = x.shape[x.rank - 1];
  const rot = rope.cos.shape[1];
  if (rot === hd) return tf.add(tf.mul(x, rope.cos), tf.mul(rotateHalf(x), rope.sin));
  const [rotated, passed] = tf.split(x, [rot, hd - rot], -1); // [B, heads, T, rot], [B, heads, T, hd - rot]
  return tf.concat([tf.add(tf.mul(rotated, rope.cos), tf.mul(rotateHalf(rotated), rope.sin)), passed], -1);
}
