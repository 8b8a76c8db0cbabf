/**
 * Phi3ForCausalLM forward: the Llama graph (llama.ts) whose q/k/v come from one fused qkv_proj
 * (rows [q | k | v]) and whose gate/up come from one fused gate_up_proj (rows [gate | up]).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';
import { linear } from './layers.js';
import { decoderForward, type DecoderProjections } from './llama.js';
import type { ForwardInput, Weights } from './types.js';

const FUSED: DecoderProjections = {
  qkv(dims, w, p, a) {
    const q = dims.numHeads * dims.headDim;
    const kv = dims.numKvHeads * dims.headDim;
    const qkv = linear(a, w(`${p}.self_attn.qkv_proj.weight`)); // [B, T, H*hd + 2*KV*hd]
    const [qs, ks, vs] = tf.split(qkv, [q, kv, kv], -1);
    return [qs, ks, vs];
  },
  gateUp(dims, w, p, m) {
    const gateUp = linear(m, w(`${p}.mlp.gate_up_proj.weight`)); // [B, T, 2F]
    const [gate, up] = tf.split(gateUp, 2, -1); // [B, T, F] each
    return [gate, up];
  },
};

export function phi3Forward(dims: ModelDims, w: Weights, input: ForwardInput): tf.Tensor3D {
  return decoderForward(dims, w, input, FUSED);
}
