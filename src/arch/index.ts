export type { Family, Activation, ModelDims } from './dims.js';
export { defaultPreservation } from './types.js';
export { FAMILIES } from './dims.js';
export type { ActivationCost, ArchitectureDescription, FamilyCapabilities, PipelineTag, Preservation, Axis, AxisRole, AxisSegment, AxisSide, LayerGroup, TensorSpec, TensorTemplate } from './types.js';
export { ARCHITECTURES, SUPPORTED_MODEL_TYPES, descriptionOf, resolveArchitecture, checkDims, type ResolvedArchitecture } from './resolve.js';
export { tensorSpecs, templateShape, roleSize, axisSize, parameterCount, layerName } from './spec.js';
export { matchCheckpoint, canonicalName, type CheckpointMatch } from './match.js';
export { openModel, loadModel, type OpenedModel, type LoadedModel } from './load.js';
