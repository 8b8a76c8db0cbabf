export { inspectModel, type InspectOptions, type ModelInspection, type ShardInfo, type TensorInfo } from './inspect.js';
