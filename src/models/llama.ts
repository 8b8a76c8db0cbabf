/**
 * LlamaForCausalLM forward, which also serves Mistral, Qwen2, Qwen3 and Gemma (same graph; they
 * differ only in switches carried by ModelDims: q/k/v bias, o bias, mlp bias, explicit head_dim,
 * tied head, RoPE scaling, Qwen3's q/k norms, Gemma's embedding scale, 1 + w norm gains and GeGLU),
 * and Phi-3 (the same graph with fused projections and a sliding window, see phi3.ts).
 * Pre-RMSNorm blocks, RoPE on q and k, GQA, gated MLP.
 */
import * as tf from '@tensorflow/tfjs-core';
import { embeddingMultiplier, rotaryDims, type ModelDims } from '../arch/dims.js';
import { attention } from './attention.js';
import { activate, linear, rmsNorm, tidyLayer } from './layers.js';
import { ropeTables } from './rope.js';
import type { ForwardInput, Weights } from './types.js';

export function proj(w: Weights, prefix: string, hasBias: boolean, x: tf.Tensor): tf.Tensor {
  return linear(x, w(`${prefix}.weight`), hasBias ? w(`${prefix}.bias`) : undefined);
}

/** A norm gain as the forward applies it: w, or Gemma's (1 + w) computed in float32. */
function gain(dims: ModelDims, w: Weights, name: string): tf.Tensor {
  const stored = w(name);
  return dims.normGainOffset ? tf.add(stored, dims.normGainOffset) : stored;
}

/** How a layer projects its normed input: q, k, v for attention, gate and up for the MLP. */
export interface DecoderProjections {
  /** a [B, T, C] -> q [B, T, H*hd], k and v [B, T, KV*hd] */
  qkv(dims: ModelDims, w: Weights, prefix: string, a: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor];
  /** m [B, T, C] -> gate and up, each [B, T, F] (gate before the activation) */
  gateUp(dims: ModelDims, w: Weights, prefix: string, m: tf.Tensor): [tf.Tensor, tf.Tensor];
}

/** Llama's separate q/k/v and gate/up projections. */
const SEPARATE: DecoderProjections = {
  qkv: (dims, w, p, a) => [
    proj(w, `${p}.self_attn.q_proj`, dims.qkvBias, a),
    proj(w, `${p}.self_attn.k_proj`, dims.qkvBias, a),
    proj(w, `${p}.self_attn.v_proj`, dims.qkvBias, a),
  ],
  gateUp: (dims, w, p, m) => [proj(w, `${p}.mlp.gate_proj`, dims.mlpBias, m), proj(w, `${p}.mlp.up_proj`, dims.mlpBias, m)],
};

function layer(dims: ModelDims, w: Weights, i: number, x: tf.Tensor, projections: DecoderProjections): tf.Tensor {
  const p = `model.layers.${i}`;
  // Built per layer, so a layer depends only on its input and weights (it may be recomputed in backprop).
  const rope = ropeTables(x.shape[1] as number, rotaryDims(dims), dims.ropeTheta, dims.ropeScaling);
  const a = rmsNorm(x, gain(dims, w, `${p}.input_layernorm.weight`), dims.normEps); // [B, T, C]
  const [q, k, v] = projections.qkv(dims, w, p, a); // [B, T, H*hd], [B, T, KV*hd], [B, T, KV*hd]
  const ctx = attention(q, k, v, {
    numHeads: dims.numHeads,
    numKvHeads: dims.numKvHeads,
    headDim: dims.headDim,
    causal: true,
    rope,
    qkNorm: dims.qkNorm
      ? { q: gain(dims, w, `${p}.self_attn.q_norm.weight`), k: gain(dims, w, `${p}.self_attn.k_norm.weight`), eps: dims.normEps }
      : undefined,
    slidingWindow: dims.slidingWindow,
  }); // [B, T, H*hd]
  const h = tf.add(x, proj(w, `${p}.self_attn.o_proj`, dims.oBias, ctx)); // [B, T, C]
  const m = rmsNorm(h, gain(dims, w, `${p}.post_attention_layernorm.weight`), dims.normEps); // [B, T, C]
  const [gate, up] = projections.gateUp(dims, w, p, m); // [B, T, F] each
  return tf.add(h, proj(w, `${p}.mlp.down_proj`, dims.mlpBias, tf.mul(activate(dims.activation, gate), up))); // [B, T, C]
}

/** Final hidden states after model.norm, [B, T, C]. */
export function llamaHidden(dims: ModelDims, w: Weights, input: ForwardInput, projections: DecoderProjections = SEPARATE): tf.Tensor3D {
  let x: tf.Tensor = tf.gather(w('model.embed_tokens.weight'), input.ids); // [B, T, C]
  const scale = embeddingMultiplier(dims);
  if (scale !== 1) x = tf.mul(x, scale); // Gemma: times sqrt(C)
  const run = input.runLayer ?? tidyLayer;
  for (let i = 0; i < dims.numLayers; i++) x = run(i, x, w, (lw, lx) => layer(dims, lw, i, lx, projections));
  return rmsNorm(x, gain(dims, w, 'model.norm.weight'), dims.normEps) as tf.Tensor3D;
}

/** Logits [B, T, V] of the Llama graph with the given projections. */
export function decoderForward(dims: ModelDims, w: Weights, input: ForwardInput, projections: DecoderProjections): tf.Tensor3D {
  const hidden = llamaHidden(dims, w, input, projections); // [B, T, C]
  const head = dims.tiedEmbeddings ? w('model.embed_tokens.weight') : w('lm_head.weight'); // [V, C]
  return linear(hidden, head) as tf.Tensor3D; // [B, T, V]
}

export function llamaForward(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  return decoderForward(dims, w, input, SEPARATE);
}
