/**
 * BertForMaskedLM forward: word + position + token type embeddings, post-LN encoder blocks,
 * bidirectional attention, and the MLM head (dense, activation, LayerNorm, decoder tied to the
 * word embeddings plus `cls.predictions.bias`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';
import { attention } from './attention.js';
import { activate, layerNorm, linear, positionIds, tidyLayer } from './layers.js';
import type { ForwardInput, Weights } from './types.js';

function lin(w: Weights, prefix: string, x: tf.Tensor): tf.Tensor {
  return linear(x, w(`${prefix}.weight`), w(`${prefix}.bias`));
}

function ln(dims: ModelDims, w: Weights, prefix: string, x: tf.Tensor): tf.Tensor {
  return layerNorm(x, w(`${prefix}.weight`), w(`${prefix}.bias`), dims.normEps);
}

function embeddings(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor {
  const p = 'bert.embeddings';
  const [, T] = input.ids.shape;
  // HF defaults token_type_ids to zeros when the caller passes none.
  const types = input.tokenTypeIds ?? tf.zerosLike(input.ids);
  const word = tf.gather(w(`${p}.word_embeddings.weight`), input.ids); // [B, T, C]
  const type = tf.gather(w(`${p}.token_type_embeddings.weight`), types); // [B, T, C]
  const pos = tf.gather(w(`${p}.position_embeddings.weight`), positionIds(T, dims.maxPositions)); // [T, C]
  return ln(dims, w, `${p}.LayerNorm`, tf.add(tf.add(word, type), pos)); // [B, T, C]
}

function layer(dims: ModelDims, w: Weights, i: number, x: tf.Tensor): tf.Tensor {
  const p = `bert.encoder.layer.${i}`;
  const q = lin(w, `${p}.attention.self.query`, x); // [B, T, C]
  const k = lin(w, `${p}.attention.self.key`, x);
  const v = lin(w, `${p}.attention.self.value`, x);
  const ctx = attention(q, k, v, {
    numHeads: dims.numHeads,
    numKvHeads: dims.numHeads,
    headDim: dims.headDim,
    causal: false,
  }); // [B, T, C]
  // Post-LN: the residual sum is normalized, unlike GPT-2 / Llama.
  const a = ln(dims, w, `${p}.attention.output.LayerNorm`, tf.add(lin(w, `${p}.attention.output.dense`, ctx), x));
  const mid = activate(dims.activation, lin(w, `${p}.intermediate.dense`, a)); // [B, T, F]
  return ln(dims, w, `${p}.output.LayerNorm`, tf.add(lin(w, `${p}.output.dense`, mid), a)); // [B, T, C]
}

/** Encoder output (last hidden state), [B, T, C]. */
export function bertHidden(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  let x = embeddings(dims, w, input);
  const run = input.runLayer ?? tidyLayer;
  for (let i = 0; i < dims.numLayers; i++) x = run(i, x, w, (lw, lx) => layer(dims, lw, i, lx));
  return x as tf.Tensor3D;
}

/** MLM logits [B, T, V]. */
export function bertForward(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  const hidden = bertHidden(dims, w, input); // [B, T, C]
  const t = activate(dims.activation, lin(w, 'cls.predictions.transform.dense', hidden)); // [B, T, C]
  const normed = ln(dims, w, 'cls.predictions.transform.LayerNorm', t); // [B, T, C]
  // The decoder weight is tied to the word embeddings; its bias is cls.predictions.bias.
  return linear(normed, w('bert.embeddings.word_embeddings.weight'), w('cls.predictions.bias')) as tf.Tensor3D;
}

/**
 * Pooler output [B, C]: tanh(dense(hidden[:, 0])). Needs `bert.pooler.dense.*`, which only
 * some checkpoints carry; the MLM logits never use it.
 */
export function bertPooledOutput(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor2D {
  const hidden = bertHidden(dims, w, input); // [B, T, C]
  const [B, , C] = hidden.shape;
  const first = tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, C]), [B, C]); // [B, C]
  return tf.tanh(lin(w, 'bert.pooler.dense', first)) as tf.Tensor2D;
}
