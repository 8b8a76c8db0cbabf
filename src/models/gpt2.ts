/**
 * GPT2LMHeadModel forward: learned positions, pre-LN blocks, Conv1D [in, out] projections,
 * fused c_attn (q|k|v along the output axis), lm_head tied to wte with no bias.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';
import { attention } from './attention.js';
import { activate, conv1d, layerNorm, linear, positionIds, tidyLayer } from './layers.js';
import type { ForwardInput, Weights } from './types.js';

function block(dims: ModelDims, w: Weights, i: number, x: tf.Tensor): tf.Tensor {
  const p = `transformer.h.${i}`;
  const C = dims.hiddenSize;
  const eps = dims.normEps;
  const a = layerNorm(x, w(`${p}.ln_1.weight`), w(`${p}.ln_1.bias`), eps); // [B, T, C]
  const qkv = conv1d(a, w(`${p}.attn.c_attn.weight`), w(`${p}.attn.c_attn.bias`)); // [B, T, 3C]
  const [q, k, v] = tf.split(qkv, [C, C, C], -1); // each [B, T, C]
  const ctx = attention(q, k, v, {
    numHeads: dims.numHeads,
    numKvHeads: dims.numHeads,
    headDim: dims.headDim,
    causal: true,
  }); // [B, T, C]
  const h = tf.add(x, conv1d(ctx, w(`${p}.attn.c_proj.weight`), w(`${p}.attn.c_proj.bias`)));
  const m = layerNorm(h, w(`${p}.ln_2.weight`), w(`${p}.ln_2.bias`), eps); // [B, T, C]
  const up = activate(dims.activation, conv1d(m, w(`${p}.mlp.c_fc.weight`), w(`${p}.mlp.c_fc.bias`))); // [B, T, F]
  return tf.add(h, conv1d(up, w(`${p}.mlp.c_proj.weight`), w(`${p}.mlp.c_proj.bias`))); // [B, T, C]
}

/** Final hidden states after ln_f, [B, T, C]. */
export function gpt2Hidden(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  const [, T] = input.ids.shape;
  const tok = tf.gather(w('transformer.wte.weight'), input.ids); // [B, T, C]
  const pos = tf.gather(w('transformer.wpe.weight'), positionIds(T, dims.maxPositions)); // [T, C]
  let x: tf.Tensor = tf.add(tok, pos); // [B, T, C]
  const run = input.runLayer ?? tidyLayer;
  for (let i = 0; i < dims.numLayers; i++) x = run(i, x, w, (lw, lx) => block(dims, lw, i, lx));
  return layerNorm(x, w('transformer.ln_f.weight'), w('transformer.ln_f.bias'), dims.normEps) as tf.Tensor3D;
}

export function gpt2Forward(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  const hidden = gpt2Hidden(dims, w, input); // [B, T, C]
  // Tied head: wte [V, C] is used as an nn.Linear weight.
  return linear(hidden, w('transformer.wte.weight')) as tf.Tensor3D; // [B, T, V]
}
