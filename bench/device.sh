#!/usr/bin/env bash
# The learning phase on a GPU through WebGPU, on a machine with no Node and no registry (the lent
# device machine): unpacks the bundle of scripts/pack-device.sh and runs, on --backend webgpu,
#   1. bench/device_check.ts: adapter, golden parity, operator gradients against wasm, tensor leaks;
#   2. bench:learn at its defaults (GPT-2 4x128 -> 8x256, vocab 256, B=4 T=128);
#   3. a GPT-2-small-sized learning phase: 12x768 -> 24x1024, vocab 50,257, T=512;
# and prints tokens/s, GFLOP/s and the share of the GPU's float32 peak for 2 and 3.
#
# Usage: bench/device.sh [BUNDLE]   (default .device-bundle/ligo-device.tar.xz)
# Environment:
#   PEAK_GFLOPS   the GPU's float32 peak in GFLOP/s (default 67000: H200 FP32 without tensor cores)
#   GPT2_BATCH    batch size of run 3 (default 8); GPT2_STEPS steps per timed call (default 4)
#   QUICK=1       tiny sizes everywhere (checks the script itself on a software adapter in minutes)
#   OUT           where logs and JSON results go (default: a folder beside the unpacked bundle)
#   TIMEOUTS      seconds for the three stages (default "100 170 270": under 10 minutes in all); a
#                 stage that runs out is reported and the next one runs
# The Vulkan loader: where `ldconfig -p` has no libvulkan.so.1, the Debian packages in the bundle's
# gl/ (or ./.gl/*.deb) are unpacked into /, as the device README prescribes.
set -uo pipefail

BUNDLE=${1:-.device-bundle/ligo-device.tar.xz}
PEAK_GFLOPS=${PEAK_GFLOPS:-67000}
GPT2_BATCH=${GPT2_BATCH:-8}
GPT2_STEPS=${GPT2_STEPS:-4}
read -r -a STAGE_TIMEOUTS <<<"${TIMEOUTS:-100 170 270}"
[ -f "$BUNDLE" ] || { echo "device.sh: no bundle at $BUNDLE; build it with scripts/pack-device.sh (npm run pack:device)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ligo-device.XXXXXX)
tar -xJf "$BUNDLE" -C "$WORK" || { echo "device.sh: cannot unpack $BUNDLE" >&2; exit 1; }
B=$WORK/ligo-device
NODE=$B/node
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
echo "device.sh: bundle $(cat "$B/COMMIT"), unpacked in $B, results in $OUT"

# The Vulkan loader (libvulkan.so.1), which dawn.node loads, and the GPU's driver manifest.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  for f in "$B"/gl/*.deb .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
  ldconfig
fi
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || echo "device.sh: no libvulkan.so.1 (the Vulkan loader): Dawn will find no adapter"
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NVIDIA_ICD" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$NVIDIA_ICD
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | sed 's/^/gpu: /'
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp} LIGO_BACKEND=webgpu

if [ "${QUICK:-0}" = 1 ]; then
  LEARN_ARGS=(--batch-size 1 --seq-len 16 --repeats 1 --steps 2 --parts 0 --matmul-sizes 256)
  GPT2_ARGS=(--source 2x64x2 --target 3x96 --vocab 512 --seq-len 16 --batch-size 1 --repeats 1 --steps 2 --parts 0 --matmul-sizes 256)
else
  LEARN_ARGS=(--repeats 2 --steps 8 --parts 2)
  GPT2_ARGS=(--source 12x768x12 --target 24x1024 --vocab 50257 --seq-len 512 --batch-size "$GPT2_BATCH" --repeats 1 --steps "$GPT2_STEPS" --parts 0 --matmul-sizes 1024,4096)
fi

status=0
stage() {
  local name=$1 limit=$2
  shift 2
  echo "== $name: $*"
  local start=$SECONDS
  timeout "$limit" "$NODE" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  grep -v 'artificially reduced' "$OUT/$name.log" | tail -n 25
  [ "$rc" = 124 ] && echo "== $name: ran out of its $limit s (TIMEOUTS)"
  echo "== $name: exit $rc after $((SECONDS - start)) s"
  [ "$rc" = 0 ] || status=1
}

stage device_check "${STAGE_TIMEOUTS[0]}" "$B/app/bin/device_check.mjs"
stage learn "${STAGE_TIMEOUTS[1]}" "$B/app/bin/learn.mjs" "${LEARN_ARGS[@]}" --peak-gflops "$PEAK_GFLOPS" --result learn_webgpu
stage learn_gpt2 "${STAGE_TIMEOUTS[2]}" "$B/app/bin/learn.mjs" "${GPT2_ARGS[@]}" --peak-gflops "$PEAK_GFLOPS" --result learn_webgpu_gpt2
cp "$B"/app/results/*.json "$OUT"/ 2>/dev/null

# One line per learning run, from its JSON result.
"$NODE" -e '
  const fs = require("fs");
  for (const name of ["learn_webgpu", "learn_webgpu_gpt2"]) {
    const file = `${process.argv[1]}/${name}.json`;
    if (!fs.existsSync(file)) { console.log(`${name}: no result`); continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const s = r.source, t = r.target, l = r.learn;
    const adapter = r.adapter ? (r.adapter.info.description || r.adapter.info.device) + (r.adapter.software ? " (software)" : "") : r.backend;
    console.log(`${name}: ${s.layers}x${s.width} -> ${t.layers}x${t.width} vocab ${t.vocab}, B=${r.batchSize} T=${r.seqLen} on ${adapter}: ` +
      `${l.tokensPerSecond.toFixed(1)} tokens/s, ${l.gflopsPerSecond.toFixed(1)} GFLOP/s, ` +
      `${(100 * (l.fractionOfDevicePeak ?? NaN)).toFixed(2)}% of ${(l.devicePeakGflops / 1000).toFixed(1)} TFLOP/s float32 peak, ` +
      `matMul peak ${Math.max(...r.matmulPeak.map((p) => p.gflops)).toFixed(1)} GFLOP/s`);
  }
' "$OUT" | tee "$OUT/summary.txt"
exit "$status"
