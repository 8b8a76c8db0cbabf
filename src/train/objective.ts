import * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';
import { causalLmLoss, forward, maskTokens, mlmLoss, type LayerRunner, type Weights } from '../models/index.js';

/** What a batch is trained on: causal LM for decoders, masked LM (seeded masking) for BERT. */
export interface Objective {
  /** Model inputs and the loss of logits computed from them. */
  prepare(ids: tf.Tensor2D, seed: number): { inputIds: tf.Tensor2D; loss: (logits: tf.Tensor3D) => tf.Scalar; dispose(): void };
}

export function objectiveFor(dims: ModelDims, maskTokenId: number): Objective {
  if (dims.objective === 'masked') {
    return {
      prepare(ids, seed) {
        const { inputIds, labels } = maskTokens(ids, { vocabSize: dims.vocabSize, maskTokenId, seed });
        return {
          inputIds,
          loss: (logits) => mlmLoss(logits, labels),
          dispose: () => {
            inputIds.dispose();
            labels.dispose();
          },
        };
      },
    };
  }
  return {
    prepare: (ids) => ({ inputIds: ids, loss: (logits) => causalLmLoss(logits, ids), dispose: () => undefined }),
  };
}

/** Mean KL(teacher || student) of next-token distributions over all positions. */
export function distillationLoss(studentLogits: tf.Tensor3D, teacherLogits: tf.Tensor3D): tf.Scalar {
  const teacherLogProbs = tf.logSoftmax(teacherLogits);
  const studentLogProbs = tf.logSoftmax(studentLogits);
  const kl = tf.sum(tf.mul(tf.exp(teacherLogProbs), tf.sub(teacherLogProbs, studentLogProbs)), -1); // [B, T]
  return tf.mean(kl) as tf.Scalar;
}

export function logits(dims: ModelDims, w: Weights, inputIds: tf.Tensor2D, runLayer?: LayerRunner): tf.Tensor3D {
  return forward(dims, w, { ids: inputIds, runLayer });
}
