/**
 * GPTNeoXForCausalLM forward (Pythia): LayerNorm with bias, one fused query_key_value whose rows
 * are per head [H, 3 (q, k, v), hd], RoPE on the first rotary_pct of each head's dims, and a
 * parallel residual (attention and MLP both read the layer input) unless use_parallel_residual is
 * false. Untied embed_out head by default.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rotaryDims, type ModelDims } from '../arch/dims.js';
import { attention } from './attention.js';
import { activate, layerNorm, linear, tidyLayer } from './layers.js';
import { ropeTables } from './rope.js';
import type { ForwardInput, Weights } from './types.js';

function proj(w: Weights, prefix: string, hasBias: boolean, x: tf.Tensor): tf.Tensor {
  return linear(x, w(`${prefix}.weight`), hasBias ? w(`${prefix}.bias`) : undefined);
}

function ln(dims: ModelDims, w: Weights, prefix: string, x: tf.Tensor): tf.Tensor {
  return layerNorm(x, w(`${prefix}.weight`), w(`${prefix}.bias`), dims.normEps);
}

function selfAttention(dims: ModelDims, w: Weights, p: string, a: tf.Tensor): tf.Tensor {
  const { numHeads: H, headDim: hd } = dims;
  const [B, T] = a.shape;
  const qkv = proj(w, `${p}.attention.query_key_value`, dims.qkvBias, a); // [B, T, H*3*hd]
  // Per head [q, k, v]: split the 3*hd of each head, then flatten back to [B, T, H*hd] each.
  const [q, k, v] = tf.split(tf.reshape(qkv, [B, T, H, 3 * hd]), 3, -1).map((x) => tf.reshape(x, [B, T, H * hd]));
  const ctx = attention(q, k, v, {
    numHeads: H,
    numKvHeads: H,
    headDim: hd,
    causal: true,
    rope: ropeTables(T, rotaryDims(dims), dims.ropeTheta),
  }); // [B, T, H*hd]
  return proj(w, `${p}.attention.dense`, dims.oBias, ctx); // [B, T, C]
}

function mlp(dims: ModelDims, w: Weights, p: string, m: tf.Tensor): tf.Tensor {
  const up = activate(dims.activation, proj(w, `${p}.mlp.dense_h_to_4h`, true, m)); // [B, T, F]
  return proj(w, `${p}.mlp.dense_4h_to_h`, true, up); // [B, T, C]
}

function layer(dims: ModelDims, w: Weights, i: number, x: tf.Tensor): tf.Tensor {
  const p = `gpt_neox.layers.${i}`;
  const attn = selfAttention(dims, w, p, ln(dims, w, `${p}.input_layernorm`, x)); // [B, T, C]
  if (dims.parallelResidual ?? true) {
    // x + attn(ln1(x)) + mlp(ln2(x)), summed in Hugging Face's order.
    return tf.add(tf.add(mlp(dims, w, p, ln(dims, w, `${p}.post_attention_layernorm`, x)), attn), x); // [B, T, C]
  }
  const h = tf.add(attn, x); // [B, T, C]
  return tf.add(mlp(dims, w, p, ln(dims, w, `${p}.post_attention_layernorm`, h)), h); // [B, T, C]
}

/** Final hidden states after final_layer_norm, [B, T, C]. */
export function gptNeoxHidden(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  let x: tf.Tensor = tf.gather(w('gpt_neox.embed_in.weight'), input.ids); // [B, T, C]
  const run = input.runLayer ?? tidyLayer;
  for (let i = 0; i < dims.numLayers; i++) x = run(i, x, w, (lw, lx) => layer(dims, lw, i, lx));
  return ln(dims, w, 'gpt_neox.final_layer_norm', x) as tf.Tensor3D;
}

export function gptNeoxForward(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  const hidden = gptNeoxHidden(dims, w, input); // [B, T, C]
  const head = dims.tiedEmbeddings ? w('gpt_neox.embed_in.weight') : w('embed_out.weight'); // [V, C]
  return linear(hidden, head) as tf.Tensor3D; // [B, T, V]
}
