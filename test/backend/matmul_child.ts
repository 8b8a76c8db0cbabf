/**
 * Child process for wasm_threads.test.ts: starts the wasm backend (threads from LIGO_WASM_THREADS),
 * multiplies fixed matrices through the paths training uses, and prints the thread count and a
 * hash of the result bytes as JSON. It must exit on its own (the pool's threads are unreferenced).
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';

await initBackend({ backend: 'wasm' });
const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);
const a = tf.tensor2d(values(300 * 500, 1), [300, 500]);
const b = tf.tensor2d(values(500 * 400, 2), [500, 400]);
const batched = tf.tensor3d(values(4 * 64 * 96, 3), [4, 64, 96]);
const hash = createHash('sha256');
for (const t of [tf.matMul(a, b), tf.matMul(b, a, true, true), tf.matMul(batched, batched, false, true)]) hash.update(t.dataSync());
console.log(JSON.stringify({ threads: getThreadsCount(), hash: hash.digest('hex') }));
