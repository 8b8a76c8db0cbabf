export {
  DTYPE_BYTES,
  decodeToFloat32,
  decodeToInt32,
  encodeFromFloat32,
  isDType,
  isFloatDType,
  parseDType,
} from './dtypes.js';
export type { DType } from './dtypes.js';
export { MAX_HEADER_BYTES, parseSafetensorsHeader } from './header.js';
export type { SafetensorsHeader, TensorEntry } from './header.js';
export { SafetensorsFile, serializeSafetensors } from './safetensors.js';
export type { SerializableTensor } from './safetensors.js';
export { INDEX_FILE, SINGLE_FILE, openCheckpoint } from './checkpoint.js';
export type { CheckpointReader } from './checkpoint.js';
export { BufferPool, isChunkStream, type ByteChunk, type ChunkStream } from './chunks.js';
export { DEFAULT_MAX_SHARD_BYTES, createCheckpointWriter, planShards } from './writer.js';
export type { CheckpointWriter, CheckpointWriterOptions, PlannedTensor } from './writer.js';
export { parseSize } from './size.js';
export { AUXILIARY_FILES, CONFIG_FILE, README_FILE, copyAuxiliaryFiles, readConfig } from './model_dir.js';
export { isShardName, parseWeightMap, shardFiles } from './weight_map.js';
