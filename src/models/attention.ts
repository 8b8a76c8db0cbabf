/**
 * Scaled dot-product attention with Hugging Face semantics: scale 1/sqrt(head_dim), additive
 * causal mask, float32 softmax, grouped-query attention (query head h reads kv head
 * floor(h / (H / KV)), which is what HF's repeat_kv produces).
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedMaskedSoftmax } from '../backend/fused_ops.js';
import { rmsNorm } from './layers.js';
import { applyRope, type RopeTables } from './rope.js';

/**
 * Added to scores above the diagonal. Finite (unlike -Infinity) so a masked score never turns
 * into NaN through inf - inf, yet exp() of it underflows to exactly 0 in float32.
 */
export const MASK_NEGATIVE = -1e9;

export interface AttentionOptions {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  causal: boolean;
  /** Rotary tables applied to q and k after the head split (llama family). */
  rope?: RopeTables;
  /** Qwen3: RMSNorm of each query and key head over head_dim (gains [hd]), before RoPE. */
  qkNorm?: { q: tf.Tensor; k: tf.Tensor; eps: number };
  /** Causal attention limited to this many positions, the query's own included (Phi-3 sliding_window). */
  slidingWindow?: number;
}

/** The kv head a query head reads under GQA (HF repeat_kv: kv heads repeated in blocks). */
export function kvHeadFor(queryHead: number, numHeads: number, numKvHeads: number): number {
  return Math.floor(queryHead / (numHeads / numKvHeads));
}

/**
 * [T, T] additive mask: 0 where key s <= query t, MASK_NEGATIVE where s > t, and with a sliding
 * window also where t - s >= window (Hugging Face keeps keys with t - s < sliding_window).
 */
export function causalMask(seqLen: number, window = Infinity): tf.Tensor2D {
  const mask = new Float32Array(seqLen * seqLen);
  for (let t = 0; t < seqLen; t++) {
    for (let s = 0; s < seqLen; s++) if (s > t || t - s >= window) mask[t * seqLen + s] = MASK_NEGATIVE;
  }
  return tf.tensor2d(mask, [seqLen, seqLen]);
}

/** [B, T, heads*hd] -> [B, heads, T, hd] */
function splitHeads(x: tf.Tensor, heads: number, headDim: number): tf.Tensor4D {
  const [B, T] = x.shape;
  return tf.transpose(tf.reshape(x, [B, T, heads, headDim]), [0, 2, 1, 3]);
}

/** softmax(scores / sqrt(hd) + mask) from stock ops, where the backend has no fused kernel. */
function composedSoftmax(raw: tf.Tensor, [B, H, T]: number[], hd: number, mask: tf.Tensor | undefined): tf.Tensor {
  let scores: tf.Tensor = tf.mul(tf.reshape(raw, [B, H, T, T]), 1 / Math.sqrt(hd)); // [B, H, T, T]
  if (mask) scores = tf.add(scores, mask);
  return tf.softmax(scores, -1); // [B, H, T, T]
}

/**
 * q [B, T, H*hd], k and v [B, T, KV*hd] (already projected) -> [B, T, H*hd] (before o_proj).
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions): tf.Tensor3D {
  const { numHeads: H, numKvHeads: KV, headDim: hd } = opts;
  if (H % KV !== 0) throw new Error(`num_heads ${H} is not a multiple of num_kv_heads ${KV}`);
  const [B, T] = q.shape;
  const rep = H / KV;
  let qh: tf.Tensor = splitHeads(q, H, hd); // [B, H, T, hd]
  let kh: tf.Tensor = splitHeads(k, KV, hd); // [B, KV, T, hd]
  const vh = splitHeads(v, KV, hd); // [B, KV, T, hd]
  if (opts.qkNorm) {
    qh = rmsNorm(qh, opts.qkNorm.q, opts.qkNorm.eps); // [B, H, T, hd]
    kh = rmsNorm(kh, opts.qkNorm.k, opts.qkNorm.eps); // [B, KV, T, hd]
  }
  if (opts.rope) {
    qh = applyRope(qh, opts.rope);
    kh = applyRope(kh, opts.rope);
  }
  // Query heads h = g*rep .. g*rep+rep-1 share kv head g, so fold them into the row axis of one
  // batched matMul per kv head instead of materializing repeated k and v.
  const qg = tf.reshape(qh, [B, KV, rep * T, hd]); // [B, KV, rep*T, hd]
  const raw = tf.matMul(qg, kh, false, true); // [B, KV, rep*T, T]
  const mask = opts.causal ? causalMask(T, opts.slidingWindow) : undefined; // [T, T]
  const probs = (mask ? fusedMaskedSoftmax(tf.reshape(raw, [B, H, T, T]), mask, 1 / Math.sqrt(hd)) : undefined) ?? composedSoftmax(raw, [B, H, T], hd, mask); // [B, H, T, T]
  const ctx = tf.matMul(tf.reshape(probs, [B, KV, rep * T, T]), vh); // [B, KV, rep*T, hd]
  const merged = tf.transpose(tf.reshape(ctx, [B, H, T, hd]), [0, 2, 1, 3]); // [B, T, H, hd]
  return tf.reshape(merged, [B, T, H * hd]);
}
