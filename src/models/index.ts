import type { Family, ModelDims } from '../arch/dims.js';
import type * as tf from '@tensorflow/tfjs-core';
import { bertForward } from './bert.js';
import { gpt2Forward } from './gpt2.js';
import { gptNeoxForward } from './gpt_neox.js';
import { llamaForward } from './llama.js';
import { phi3Forward } from './phi3.js';
import type { ForwardFn, ForwardInput, Weights } from './types.js';

export type { ForwardFn, ForwardInput, LayerRunner, Weights } from './types.js';
export { bertForward, bertHidden, bertPooledOutput } from './bert.js';
export { gpt2Forward, gpt2Hidden } from './gpt2.js';
export { llamaForward, llamaHidden } from './llama.js';
export { gptNeoxForward, gptNeoxHidden } from './gpt_neox.js';
export { phi3Forward } from './phi3.js';
export { activate, conv1d, gelu, geluNew, layerNorm, linear, positionIds, rmsNorm, silu, tidyLayer } from './layers.js';
export { attention, causalMask, kvHeadFor, MASK_NEGATIVE, type AttentionOptions } from './attention.js';
export { applyRope, ropeInvFreq, ropeTables, rotateHalf, type RopeTables } from './rope.js';
export { causalLmLoss, crossEntropy, IGNORE_INDEX, maskTokens, mlmLoss, type MaskTokensOptions } from './losses.js';

const FORWARDS: Record<Family, ForwardFn> = {
  gpt2: gpt2Forward,
  bert: bertForward,
  llama: llamaForward,
  // Llama's graph; Gemma's quirks are switches in ModelDims.
  gemma: llamaForward,
  gpt_neox: gptNeoxForward,
  phi3: phi3Forward,
};

/** The forward pass for a family (llama also covers mistral, qwen2 and qwen3). */
export function forwardFor(family: Family): ForwardFn {
  return FORWARDS[family];
}

/** Logits [B, T, V], dispatched on dims.family. Wrap the call in tf.tidy. */
export function forward(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  return forwardFor(dims.family)(dims, w, input);
}
