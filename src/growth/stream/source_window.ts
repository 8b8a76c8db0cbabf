import * as tf from '@tensorflow/tfjs-core';
import type { OpenedModel } from '../../arch/load.js';
import { mapGetter } from '../../util/map_getter.js';

/**
 * Keeps the small model's tensors of one kind (all its layers) in memory, read on demand. Tensors
 * are written kind by kind, so peak memory is one kind of the small model plus one grown tensor.
 */
export class SourceWindow {
  private readonly held = new Map<string, tf.Tensor>();
  constructor(private readonly model: OpenedModel) {}

  async hold(names: readonly string[]): Promise<void> {
    const wanted = new Set(names);
    for (const [name, t] of this.held) {
      if (!wanted.has(name)) {
        t.dispose();
        this.held.delete(name);
      }
    }
    for (const name of names) {
      if (this.held.has(name)) continue;
      const shape = this.model.match.specs.find((s) => s.name === name)?.shape;
      this.held.set(name, tf.tensor(await this.model.readFloat32(name), shape, 'float32'));
    }
  }

  get = mapGetter(this.held, (name) => new Error(`source tensor "${name}" was not read`));

  dispose(): void {
    for (const t of this.held.values()) t.dispose();
    this.held.clear();
  }
}
