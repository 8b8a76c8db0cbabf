/**
 * Rotary position embedding as Hugging Face's Llama/Mistral/Qwen2: inv_freq = 1 / theta^(2i /
 * head_dim) (then scaled as `rope_scaling` says), angles duplicated over both halves of head_dim,
 * and rotate_half pairing element j with element j + head_dim/2 (not interleaved pairs).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RopeScaling } from '../arch/dims.js';

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
export function ropeInvFreq(headDim: number, theta: number, scaling?: RopeScaling): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround(Math.fround(2 * i) / headDim);
    inv[i] = Math.fround(1 / Math.fround(Math.pow(Math.fround(theta), exponent)));
  }
  if (scaling?.type === 'linear') for (let i = 0; i < half; i++) inv[i] = Math.fround(inv[i] / Math.fround(scaling.factor));
  if (scaling?.type === 'llama3') llama3Scale(inv, scaling);
  return inv;
}

const f = Math.fround;

/**
 * Hugging Face's `_compute_llama3_parameters`, in place, each float32 tensor step rounded (a
 * Python scalar meets a float32 tensor as float32; `scalar / t` is computed as 1/t * scalar):
 * wavelengths shorter than original / high_freq_factor keep their frequency, longer than
 * original / low_freq_factor are divided by factor, and those in between are interpolated.
 */
function llama3Scale(inv: Float32Array, s: Extract<RopeScaling, { type: 'llama3' }>): void {
  const lowWavelen = f(s.originalMaxPositions / s.lowFreqFactor);
  const highWavelen = f(s.originalMaxPositions / s.highFreqFactor);
  const factor = f(s.factor);
  for (let i = 0; i < inv.length; i++) {
    const wavelen = f(f(1 / inv[i]) * f(2 * Math.PI));
    const kept = wavelen > lowWavelen ? f(inv[i] / factor) : inv[i];
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (!medium) {
      inv[i] = kept;
      continue;
    }
    const smooth = f(f(f(f(1 / wavelen) * f(s.originalMaxPositions)) - f(s.lowFreqFactor)) / f(s.highFreqFactor - s.lowFreqFactor));
    inv[i] = f(f(f(f(1 - smooth) * kept) / factor) + f(smooth * kept));
  }
}

/**
 * cos/sin tables for positions 0..T-1 over the `headDim` rotated dims (all of a head's, or the
 * first ones under partial rotary). Built on the host: they are constants, never trained.
 */
export function ropeTables(seqLen: number, headDim: number, theta: number, scaling?: RopeScaling): RopeTables {
  if (headDim % 2 !== 0) throw new Error(`RoPE needs an even head_dim, got ${headDim}`);
  const half = headDim / 2;
  const invFreq = ropeInvFreq(headDim, theta, scaling);
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
