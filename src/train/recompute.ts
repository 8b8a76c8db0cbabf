/**
 * Activation recomputation for the learning phase: each transformer layer keeps only its input
 * for backpropagation, and its intermediates (attention scores, MLP activations) are recomputed
 * layer by layer during the backward pass. Activation memory drops from every layer's
 * intermediates to one layer's plus a [B, T, C] input per layer, for about one more forward pass
 * of compute. Gradients are the same computation, so the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { materializeTensor, type DepthStacks, type SmallWeights } from '../growth/materialize.js';
import type { GrowthOperator } from '../growth/operator.js';
import { operatorMatrices, parametersFor } from '../growth/operator_matrices.js';
import { tensorsByLayer, type GrowthPlan } from '../growth/plan.js';
import { tidyLayer, type LayerRunner, type Weights } from '../models/index.js';
import { timed, type StepProfile } from './step_profile.js';

/**
 * tf.grads inside a custom gradient, which tfjs does not support as is: the nested call replaces
 * the engine's active tape and clears it when done, so the outer backward pass would then fail
 * to release its own tape. The outer tape is put back.
 */
function nestedGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
  const outer = state.activeTape;
  try {
    return tf.grads(f)(xs, dy).map((g, i) => g ?? tf.zerosLike(xs[i]));
  } finally {
    state.activeTape = outer;
  }
}

/** What a learning step reports from inside its layers: progress and where the time goes. */
export interface LayerHooks {
  /** A layer starts its forward pass, or its backward pass (which recomputes it first). */
  onLayer?: (layer: number, pass: 'forward' | 'backward') => void;
  profile?: StepProfile;
}

/**
 * `run` over its inputs, keeping only the inputs for backpropagation and recomputing `run` there
 * (charged to the profile's recompute phase; its backward to the backward phase around it).
 */
function checkpointed(run: (inputs: tf.Tensor[]) => tf.Tensor, onBackward: () => void, profile?: StepProfile): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = args as tf.Tensor[];
    save(inputs);
    return {
      value: tf.tidy(() => run(inputs)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        onBackward();
        return nestedGrads((...xs) => timed(profile, 'recompute', () => run(xs)), saved, dy);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
}

/** Layers run as usual (each in a tidy), reporting when each starts: progress inside a long step without recomputation. */
export function reportingLayers(onLayer: (layer: number, pass: 'forward' | 'backward') => void): LayerRunner {
  return (layer, x, w, body) => {
    onLayer(layer, 'forward');
    return tidyLayer(layer, x, w, body);
  };
}

/**
 * Recomputation that also materializes each layer's grown weights inside the layer, from the
 * operator parameters it reads (passed as the layer's inputs, so gradients reach them) and the
 * frozen small weights (captured: they live for the whole run). Only the tensors outside the layers
 * (embeddings, final norm, head) are materialized up front: the grown model never exists whole.
 */
export function materializingLayers(plan: GrowthPlan, small: SmallWeights, operator: GrowthOperator, hooks: LayerHooks = {}, stacks?: DepthStacks): LayerRunner {
  const byLayer = tensorsByLayer(plan.tensors);
  return (layer, x, _w, body) => {
    hooks.onLayer?.(layer, 'forward');
    const tensors = byLayer.get(layer) ?? [];
    const names = [...new Set(tensors.flatMap((t) => parametersFor(plan, t)))];
    const index = new Map(names.map((n, i) => [n, i]));
    const run = (inputs: tf.Tensor[]): tf.Tensor => {
      const param = (name: string): tf.Tensor2D => {
        const i = index.get(name);
        if (i === undefined) throw new Error(`layer ${layer} needs operator parameter "${name}", which is not among its inputs`);
        return inputs[i + 1] as tf.Tensor2D;
      };
      const op = operatorMatrices(plan, param, operator.start);
      const built = new Map<string, tf.Tensor>();
      const weights: Weights = (name) => {
        let t = built.get(name);
        if (!t) {
          const planned = tensors.find((p) => p.name === name);
          if (!planned) throw new Error(`layer ${layer} read "${name}", which is not one of its grown tensors`);
          t = timed(hooks.profile, 'materialize', () => materializeTensor(planned, small, op, stacks));
          built.set(name, t);
        }
        return t;
      };
      return body(weights, inputs[0]);
    };
    return checkpointed(run, () => hooks.onLayer?.(layer, 'backward'), hooks.profile)(x, ...names.map((n) => {
      const p = operator.params.get(n);
      if (!p) throw new Error(`growth operator has no parameter "${n}"`);
      return p;
    }));
  };
}
