import * as tf from '@tensorflow/tfjs-core';
import type { AxisSide, LayerGroup } from '../arch/types.js';
import { denseMatrix } from './init.js';
import { depthName, widthMatrixOf, type OperatorMatrices } from './operator.js';
import type { OperatorMatrix } from './operator_file.js';
import type { GrowthPlan } from './plan.js';
import type { Selection } from './selection.js';

/**
 * A saved (learned) operator for `apply`, held in tfjs only as far as the tensor being built
 * needs: `hold` reads the parameters it names from the file and frees the others. A learned
 * operator is dense per large layer (FFN and head operators), so for a billion-parameter target
 * it is GBs; held whole it would be most of apply's memory (and of the 4 GiB wasm heap).
 */
export class LazyOperator implements OperatorMatrices {
  private readonly held = new Map<string, tf.Tensor2D>();

  constructor(
    private readonly plan: GrowthPlan,
    private readonly read: (name: string) => Promise<Selection | OperatorMatrix>,
  ) {}

  async hold(names: readonly string[]): Promise<void> {
    const wanted = new Set(names);
    for (const [name, t] of this.held) {
      if (wanted.has(name)) continue;
      t.dispose();
      this.held.delete(name);
    }
    for (const name of wanted) {
      if (this.held.has(name)) continue;
      const m = await this.read(name);
      const [data, shape] = 'index' in m ? [denseMatrix(m), [m.index.length, m.cols]] : [m.data, m.shape];
      this.held.set(name, tf.tensor2d(data, shape as [number, number], 'float32'));
    }
  }

  private param = (name: string): tf.Tensor2D => {
    const t = this.held.get(name);
    if (!t) throw new Error(`operator parameter "${name}" was not read`);
    return t;
  };

  widthMatrix(id: string, side: AxisSide): tf.Tensor2D {
    return widthMatrixOf(this.plan, id, side, this.param);
  }

  depthMatrix(group: LayerGroup): tf.Tensor2D {
    return this.param(depthName(group));
  }

  dispose(): void {
    for (const t of this.held.values()) t.dispose();
    this.held.clear();
  }
}
