import type { ModelDims } from './dims.js';
import { axisSegments, type ArchitectureDescription, type Axis, type AxisRole, type InterleavedAxis, type TensorSpec, type TensorTemplate } from './types.js';

export function roleSize(role: AxisRole, dims: ModelDims): number {
  switch (role) {
    case 'width':
      return dims.hiddenSize;
    case 'q':
      return dims.numHeads * dims.headDim;
    case 'k':
    case 'v':
      return dims.numKvHeads * dims.headDim;
    case 'ffn':
      return dims.intermediateSize;
    case 'vocab':
      return dims.vocabSize;
    case 'positions':
      return dims.maxPositions;
    case 'types':
      return dims.typeVocabSize;
    case 'qHeadDim':
    case 'kHeadDim':
      return dims.headDim;
  }
}

export function axisSize(axis: Axis, dims: ModelDims): number {
  if (typeof axis === 'number') return axis;
  return axisSegments(axis).reduce((sum, s) => sum + roleSize(s.role, dims), 0);
}

/** How many groups (heads) an interleaved axis is stored in. */
export function groupCount(groups: InterleavedAxis['groups'], dims: ModelDims): number {
  return groups === 'heads' ? dims.numHeads : dims.numKvHeads;
}

export function templateShape(template: TensorTemplate, dims: ModelDims): number[] {
  return template.axes.map((a) => axisSize(a, dims));
}

export const layerName = (template: TensorTemplate, layer: number): string => template.name.replace('{i}', String(layer));

/** The templates this model has: `when` conditions hold, optional ones only if the source had them. */
export function activeTemplates(
  description: ArchitectureDescription,
  dims: ModelDims,
  optionalPresent: ReadonlySet<string>,
): TensorTemplate[] {
  return description.tensors.filter(
    (t) => (t.when ? t.when(dims) : true) && (t.optional ? optionalPresent.has(t.name) : true),
  );
}

/**
 * Every tensor of a model, in write order: global tensors before the first layer, then layer by
 * layer, then global tensors after the layers (as they appear in the description).
 */
export function tensorSpecs(
  description: ArchitectureDescription,
  dims: ModelDims,
  optionalPresent: ReadonlySet<string> = new Set(),
): TensorSpec[] {
  const templates = activeTemplates(description, dims, optionalPresent);
  const firstLayerIndex = templates.findIndex((t) => t.group !== undefined);
  const before = templates.slice(0, Math.max(firstLayerIndex, 0)).filter((t) => !t.group);
  const perLayer = templates.filter((t) => t.group);
  const after = templates.slice(Math.max(firstLayerIndex, 0)).filter((t) => !t.group);
  const specs: TensorSpec[] = before.map((t) => ({ name: t.name, shape: templateShape(t, dims), template: t }));
  for (let layer = 0; layer < dims.numLayers; layer++) {
    for (const t of perLayer) specs.push({ name: layerName(t, layer), shape: templateShape(t, dims), template: t, layer });
  }
  for (const t of after) specs.push({ name: t.name, shape: templateShape(t, dims), template: t });
  return specs;
}

export const parameterCount = (specs: readonly TensorSpec[]): number =>
  specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
