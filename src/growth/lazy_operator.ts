import * as tf from '@tensorflow/tfjs-core';
import { mapGetter } from '../util/map_getter.js';
import type { AxisSide, LayerGroup } from '../arch/types.js';
import type { HeadFactors } from './heads_apply.js';
import { selectionTensors, type LowRankFactor, type SelectionTensors } from './low_rank.js';
import type { OperatorMatrix } from './initial_operator.js';
import { operatorMatrices, type OperatorMatrices } from './operator_matrices.js';
import type { Selection } from './selection.js';
import type { GrowthPlan, OperatorParameter } from './plan_types.js';

/**
 * A saved (learned) operator for `apply`, held in tfjs only as far as the tensor being built
 * needs: `hold` reads the parameters it names from the file and frees the others. A learned
 * operator is dense per large layer (FFN and head operators), so for a billion-parameter target
 * it is GBs; held whole it would be most of apply's memory (and of the 4 GiB wasm heap).
 */
export class LazyOperator implements OperatorMatrices {
  private readonly held = new Map<string, tf.Tensor2D>();
  private readonly starts = new Map<string, SelectionTensors>();
  private readonly matrices: OperatorMatrices;

  /**
   * `read` gives a parameter's dense values by name (OpenedOperator.read); `readSelection` a
   * low-rank operator's start (saved in selection form).
   */
  constructor(
    plan: GrowthPlan,
    private readonly read: (name: string) => Promise<OperatorMatrix>,
    private readonly readSelection?: (name: string) => Promise<Selection>,
  ) {
    this.matrices = operatorMatrices(plan, this.param, this.start);
  }

  /** Holds the parameters a tensor reads (operator_matrices.ts operatorReads): dense ones and a low-rank operator's selections; frees the rest. */
  async hold(params: readonly OperatorParameter[]): Promise<void> {
    const wanted = new Set(params.filter((p) => p.role !== 'selection').map((p) => p.name));
    const starts = new Set(params.filter((p) => p.role === 'selection').map((p) => p.name));
    for (const [name, t] of this.held) {
      if (wanted.has(name)) continue;
      t.dispose();
      this.held.delete(name);
    }
    for (const [name, t] of this.starts) {
      if (starts.has(name)) continue;
      tf.dispose([t.index, t.scale]);
      this.starts.delete(name);
    }
    for (const name of wanted) {
      if (this.held.has(name)) continue;
      const { data, shape } = await this.read(name);
      this.held.set(name, tf.tensor2d(data, shape as [number, number], 'float32'));
    }
    for (const name of starts) {
      if (this.starts.has(name)) continue;
      if (!this.readSelection) throw new Error(`operator parameter "${name}" is a low-rank start, and no selection reader was given`);
      this.starts.set(name, selectionTensors(await this.readSelection(name)));
    }
  }

  private readonly start = mapGetter(this.starts, (name) => new Error(`low-rank start "${name}" was not read`));
  private readonly param = mapGetter(this.held, (name) => new Error(`operator parameter "${name}" was not read`));

  widthMatrix(id: string, side: AxisSide, part?: 'headDim'): tf.Tensor2D {
    return this.matrices.widthMatrix(id, side, part);
  }

  lowRank(id: string, side: AxisSide): LowRankFactor | undefined {
    return this.matrices.lowRank(id, side);
  }

  headFactors(id: string, side: AxisSide): HeadFactors | undefined {
    return this.matrices.headFactors(id, side);
  }

  depthMatrix(group: LayerGroup): tf.Tensor2D {
    return this.matrices.depthMatrix(group);
  }

  dispose(): void {
    for (const t of this.held.values()) t.dispose();
    this.held.clear();
    for (const t of this.starts.values()) tf.dispose([t.index, t.scale]);
    this.starts.clear();
  }
}
