/**
 * The float32 matMul rate of the webgpu backend (bench/device.sh, second stage): square products of
 * --sizes (default 4096), each timed as a chain of --chain products behind one read-back (median of
 * --repeats). A size whose matrix would pass the adapter's buffer limit is skipped with a line.
 * --json FILE writes the result as JSON.
 */
import { writeFile } from 'node:fs/promises';
import { initBackend } from '../src/backend/index.js';
import { describeAdapter } from '../src/backend/webgpu.js';
import { matmulPeak, type MatmulRate } from './lib/matmul_peak.js';
import { argValue, fmt, fmtRate } from './lib/report.js';

const SIZES = argValue('--sizes', '4096').split(',').map(Number);
const CHAIN = Number(argValue('--chain', '8'));
const REPEATS = Number(argValue('--repeats', '5'));
const FLOAT32_BYTES = 4;

const backend = await initBackend({ backend: process.env.LIGO_BACKEND || 'webgpu', log: (m) => void process.stderr.write(`${m}\n`) });
const limit = backend.profile.tensorLimit?.bytes ?? Infinity;
const sizes = SIZES.filter((n) => {
  const fits = n * n * FLOAT32_BYTES <= limit;
  if (!fits) console.log(`matmul ${n}: skipped, a ${n} x ${n} float32 matrix is past the adapter's ${limit} byte buffer limit`);
  return fits;
});
const device = backend.adapter ? describeAdapter(backend.adapter.info) : backend.name;
const file = argValue('--json', '');
const rates: MatmulRate[] = [];
// One size at a time, each printed and saved as it ends: a run cut short keeps the sizes it finished.
for (const n of sizes) {
  const [r] = await matmulPeak([n], { repeats: REPEATS, chain: CHAIN });
  rates.push(r);
  console.log(`matmul ${n} x ${n} x ${n} float32 on ${backend.name} (${device}): ${fmt(r.ms, 2)} ms, ${fmtRate(r.gflops)} (median of ${REPEATS}, ${CHAIN} chained per read-back)`);
  if (file) await writeFile(file, `${JSON.stringify({ benchmark: 'device_matmul', date: new Date().toISOString(), backend: backend.name, device, chain: CHAIN, repeats: REPEATS, rates }, null, 2)}\n`);
}
