/**
 * Shared building blocks with Hugging Face semantics. Every function is pure tensor code over
 * tfjs-core ops; callers wrap whole forward passes in `tf.tidy`, which frees the intermediates.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTanhGelu, type Activation } from '../arch/dims.js';
import { fusedGeluNew, fusedLayerNorm } from '../backend/fused_ops.js';
import type { LayerRunner } from './types.js';

/**
 * Position ids 0..T-1 as int32 [T] (no padding offsets: inputs are unpadded). Checked against the
 * learned position table because an out-of-range gather does not fail on every backend.
 */
export function positionIds(seqLen: number, maxPositions: number): tf.Tensor1D {
  if (seqLen > maxPositions) {
    throw new Error(`sequence length ${seqLen} exceeds the ${maxPositions} learned positions of this model`);
  }
  return tf.range(0, seqLen, 1, 'int32');
}

/**
 * LayerNorm over the last axis with biased variance, as torch.nn.LayerNorm. One fused kernel where
 * the backend has one (backend/fused_ops.ts), else composed from stock ops.
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  return fusedLayerNorm(x, weight, bias, eps) ?? layerNormComposed(x, weight, bias, eps);
}

/** LayerNorm from stock ops: the form every backend runs without a fused kernel, and the tests' reference. */
export function layerNormComposed(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, weight), bias);
}

/** RMSNorm as LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight (no mean subtraction, no bias). */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const meanSquare = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
}

/** Multiplies [..., in] by a 2-D weight after flattening the leading axes, then restores them. */
function projectLastAxis(
  x: tf.Tensor,
  weight: tf.Tensor,
  transposeWeight: boolean,
  bias: tf.Tensor | undefined,
): tf.Tensor {
  if (weight.rank !== 2) throw new Error(`projection weight must be 2-D, got shape [${weight.shape.join(', ')}]`);
  const [rows, cols] = weight.shape as [number, number];
  const inFeatures = x.shape[x.rank - 1];
  const outFeatures = transposeWeight ? rows : cols;
  // A 2-D matMul is one GEMM; a rank-3 batched matMul against a 2-D weight would need broadcasting.
  const flat = tf.reshape(x, [-1, inFeatures]); // [N, in]
  let y: tf.Tensor = tf.matMul(flat, weight as tf.Tensor2D, false, transposeWeight); // [N, out]
  if (bias) y = tf.add(y, bias);
  return tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]);
}

/** torch.nn.Linear: weight is [out, in], y = x W^T + b. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return projectLastAxis(x, weight, true, bias);
}

/** GPT-2's Conv1D: weight is [in, out], y = x W + b. */
export function conv1d(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return projectLastAxis(x, weight, false, bias);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/**
 * HF NewGELUActivation (`gelu_new`): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). One fused
 * kernel where the backend has one (backend/fused_ops.ts), else composed from stock ops.
 */
export function geluNew(x: tf.Tensor): tf.Tensor {
  return fusedGeluNew(x) ?? geluNewComposed(x);
}

/** gelu_new from stock ops: the form every backend runs without a fused kernel, and the tests' reference. */
export function geluNewComposed(x: tf.Tensor): tf.Tensor {
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, GELU_CUBIC)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** HF GELUActivation (`gelu`): the exact erf form 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** SiLU / swish: x * sigmoid(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** Applies the activation named by config (`activation_function` / `hidden_act`). */
export function activate(name: Activation, x: tf.Tensor): tf.Tensor {
  if (isTanhGelu(name)) return geluNew(x);
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'silu':
      return silu(x);
    case 'relu':
      return tf.relu(x);
  }
}

/** The default LayerRunner: the layer in its own tf.tidy (the tape keeps what backprop needs). */
export const tidyLayer: LayerRunner = (_layer, x, w, body) => tf.tidy(() => body(w, x));
