#!/usr/bin/env bash
# The first run of ligo on a GPU, in at most 5 minutes, on a machine with no Node and no registry
# (the lent device machine): unpacks the bundle of scripts/pack-device.sh and prints, in order,
#
#   stage        budget  what
#   adapters       15 s  the Dawn adapters (requested high-performance, low-power and
#                        forceFallbackAdapter), the one ligo takes, or Dawn's own message when
#                        there is none; the adapter's limits (buffer and binding sizes, workgroup
#                        storage and invocations) and the features shader-f16 and subgroups
#   matmul         25 s  a 4096^3 float32 matMul on webgpu, TFLOP/s
#   step_webgpu   120 s  the GPT-2 124M -> 355M-shape learning step on webgpu (random weights of the
#                        real shapes: 12x768 -> 24x1024, vocab 50,257, T=512): s/step, tokens/s
#                        (again at FALLBACK_VOCAB where the adapter cannot hold GPT-2's embedding)
#   step_peer      50 s  the same step in the PyTorch peer (bench/peer/ligo_torch.py) on CUDA, and
#                        the ratio; one line instead where python3 has no CUDA torch
#   check          35 s  correctness on this adapter: golden parity, operator gradients against
#                        wasm, live tensors across steps (bench/device_check.ts)
#   profile        40 s  the same webgpu step taken apart (materialize, forward, backward, optimizer,
#                        each behind a read-back) and its kernels: what bounds it on this GPU
#
# then a summary block. Each stage runs under its own timeout (a stage cut short is reported and the
# next one runs), and the whole under DEADLINE_S: a stage gets what is left when that is less than
# its budget. Results: $OUT/device.json (every stage's result and the summary), $OUT/summary.txt,
# $OUT/device.log (this output) and $OUT/stages.log (every stage's stdout and stderr in full).
#
# Usage: bench/device.sh [BUNDLE]   (default .device-bundle/ligo-device.tar.xz)
# Environment:
#   GPT2_BATCH    batch of the learning step (default 4; lowered to what the adapter's buffer limit
#                 allows); GPT2_STEPS timed steps (default 3) after one warm-up step
#   FALLBACK_VOCAB  the step's vocabulary where GPT-2's passes the adapter's buffer limit (32000)
#   PEAK_GFLOPS   the GPU's float32 peak in GFLOP/s, for the share of it (default 67000: H100/H200 SXM)
#   PYTHON        the python with torch (default python3); PEER_DEVICE (default cuda; cpu runs the
#                 peer on the CPU, e.g. to check this script where there is no GPU)
#   TIMEOUTS      the six budgets in seconds (default "15 25 120 50 35 40"); DEADLINE_S the whole (290)
#   QUICK=1       tiny sizes and long budgets: checks the script itself on a software adapter
#   OUT           where results go (default: a folder beside the unpacked bundle)
# The Vulkan loader: where `ldconfig -p` has no libvulkan.so.1, the Debian packages in the bundle's
# gl/ (or ./.gl/*.deb) are unpacked into /, as the device README prescribes.
set -uo pipefail

BUNDLE=${1:-.device-bundle/ligo-device.tar.xz}
QUICK=${QUICK:-0}
T0=$(date +%s)
[ -f "$BUNDLE" ] || { echo "device.sh: no bundle at $BUNDLE; build it with scripts/pack-device.sh (npm run pack:device)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ligo-device.XXXXXX)
OUT=${OUT:-$WORK/out}
RUN=$WORK/run
mkdir -p "$OUT" "$RUN"

if [ "$QUICK" = 1 ]; then
  SRC=(2 64 2) TGT=(3 96) VOCAB=512 SEQ=16 BATCH=${GPT2_BATCH:-1} STEPS=${GPT2_STEPS:-2}
  MATMUL=(--sizes 256 --chain 2 --repeats 2) LEARN_MATMUL=64
  DEFAULT_TIMEOUTS="120 120 600 120 600 600" DEADLINE_S=${DEADLINE_S:-2400}
else
  SRC=(12 768 12) TGT=(24 1024) VOCAB=50257 SEQ=512 BATCH=${GPT2_BATCH:-4} STEPS=${GPT2_STEPS:-3}
  MATMUL=(--sizes 1024,4096 --chain 8 --repeats 5) LEARN_MATMUL=1024
  DEFAULT_TIMEOUTS="15 25 120 50 35 40" DEADLINE_S=${DEADLINE_S:-290}
fi
read -r -a BUDGETS <<<"${TIMEOUTS:-$DEFAULT_TIMEOUTS}"
[ "${#BUDGETS[@]}" = 6 ] || { echo "device.sh: TIMEOUTS needs six budgets in seconds (adapters matmul step_webgpu step_peer check profile), got '${TIMEOUTS:-}'" >&2; exit 1; }
PEAK_GFLOPS=${PEAK_GFLOPS:-67000}
PYTHON=${PYTHON:-python3}
PEER_DEVICE=${PEER_DEVICE:-cuda}
# The vocabulary of a second try where GPT-2's (50,257 x 1024 floats, 196 MiB) passes the adapter's
# buffer limit: 32,000 x 1024 floats fit WebGPU's default 128 MiB.
FALLBACK_VOCAB=${FALLBACK_VOCAB:-32000}
# Seconds kept back from the deadline for the summary.
RESERVE_S=5
# Dawn repeats this warning for every limit it lowers to WebGPU's tiers: noise here.
NOISE='artificially reduced'
# Node's stack frames and source excerpt under an uncaught error: the error line says enough.
TRACE='^\s+at |^Node\.js v|^\s*\^+\s*$|^file://|^\s*$|^\s+throw '

elapsed() { echo $(($(date +%s) - T0)); }

# stage NAME BUDGET SHOW SOFT CMD...: runs CMD under `timeout` (its budget, or what the deadline
# leaves), stdout to $RUN/NAME.out and stderr to $RUN/NAME.err; prints stdout, the stderr lines
# matching the regex SHOW, and on failure the end of stderr, except where stderr matches the regex
# SOFT: then one line says what is missing and the stage returns 3 ("unavailable", not a failure).
# Appends NAME, status, seconds, limit to stages.tsv.
stage() {
  local name=$1 budget=$2 show=$3 soft=$4
  shift 4
  local left=$((DEADLINE_S - $(elapsed) - RESERVE_S)) limit=$budget
  [ "$left" -lt "$limit" ] && limit=$left
  echo
  echo "== $name (budget $budget s$([ "$limit" -lt "$budget" ] && echo ", $limit s left")): ${*##*/}"
  if [ "$limit" -lt 5 ]; then
    echo "== $name: skipped, $left s left before the deadline (DEADLINE_S=$DEADLINE_S)"
    printf '%s\tskipped\t0\t%s\n' "$name" "$budget" >>"$RUN/stages.tsv"
    return 1
  fi
  local start rc seconds status
  start=$(date +%s)
  timeout -k 5 "$limit" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err"
  rc=$?
  seconds=$(($(date +%s) - start))
  # JSON lines (the peer's result, device_check's) go to the files, not the screen; so do the lines
  # matching HIDE (a variable set for one call).
  grep -v "$NOISE" "$RUN/$name.out" | grep -v '^{' | grep -vE "${HIDE:-x^}" | sed 's/^/  /'
  [ -n "$show" ] && grep -v "$NOISE" "$RUN/$name.err" | grep -E "$show" | sed 's/^/  stderr: /'
  case $rc in
    0) status=ok ;;
    124 | 137) status=timeout ;;
    *) status="exit-$rc" ;;
  esac
  if [ "$rc" != 0 ] && [ "$status" != timeout ] && [ -n "$soft" ] && grep -qE "$soft" "$RUN/$name.err"; then
    grep -E "$soft" "$RUN/$name.err" | tail -n 1 >"$RUN/$name.skip"
    echo "== $name: unavailable: $(cat "$RUN/$name.skip")"
    printf '%s\tunavailable\t%s\t%s\n' "$name" "$seconds" "$limit" >>"$RUN/stages.tsv"
    return 3
  fi
  if [ "$rc" != 0 ]; then
    echo "  -- end of stderr:"
    grep -v "$NOISE" "$RUN/$name.err" | grep -vE "$TRACE" | tail -n 12 | sed 's/^/  stderr: /'
    [ "$status" = timeout ] && echo "== $name: ran out of its $limit s"
  fi
  echo "== $name: $status after $seconds s"
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$seconds" "$limit" >>"$RUN/stages.tsv"
  return "$rc"
}

main() {
  echo "device.sh: budgets (s): adapters ${BUDGETS[0]}, matmul ${BUDGETS[1]}, step_webgpu ${BUDGETS[2]}, step_peer ${BUDGETS[3]}, check ${BUDGETS[4]}, profile ${BUDGETS[5]}; all within $DEADLINE_S s$([ "$QUICK" = 1 ] && echo ' (QUICK=1: tiny sizes)')"
  # Python's lzma where tar has no xz to call.
  tar -xJf "$BUNDLE" -C "$WORK" 2>/dev/null || "$PYTHON" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$BUNDLE" "$WORK" ||
    { echo "device.sh: cannot unpack $BUNDLE (neither tar -J nor $PYTHON's tarfile)"; return 1; }
  local B=$WORK/ligo-device
  local NODE=$B/node APP=$B/app/bin
  cp "$B/COMMIT" "$RUN/commit.txt"
  echo "device.sh: bundle $(cut -d' ' -f1-2 "$B/COMMIT"); unpacked in $B in $(elapsed) s; results in $OUT"

  # The Vulkan loader (libvulkan.so.1), which dawn.node loads, and the GPU's driver manifest.
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    for f in "$B"/gl/*.deb .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
    ldconfig
  fi
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || echo "device.sh: no libvulkan.so.1 (the Vulkan loader): Dawn will find no adapter"
  local NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NVIDIA_ICD" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$NVIDIA_ICD
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  echo "device.sh: Vulkan drivers: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-those on the default search path}}"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader >"$RUN/gpu.txt" 2>&1
    sed 's/^/gpu: /' "$RUN/gpu.txt"
  fi
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp} LIGO_BACKEND=webgpu

  local failed=0
  stage adapters "${BUDGETS[0]}" . '' "$NODE" "$APP/device_adapters.mjs" --json "$RUN/adapters.json" || failed=1

  stage matmul "${BUDGETS[1]}" '' '' "$NODE" "$APP/device_matmul.mjs" "${MATMUL[@]}" --json "$RUN/matmul.json" || failed=1

  local shape=(--source "${SRC[0]}x${SRC[1]}x${SRC[2]}" --target "${TGT[0]}x${TGT[1]}" --vocab "$VOCAB" --seq-len "$SEQ")
  rm -f "$B/app/results/learn_device.json"
  stage step_webgpu "${BUDGETS[2]}" 'step [0-9]+/|fit-batch|^backend' '' "$NODE" "$APP/learn.mjs" "${shape[@]}" --batch-size "$BATCH" --fit-batch \
    --warmup-steps 1 --steps "$STEPS" --repeats 1 --parts 0 --matmul-sizes "$LEARN_MATMUL" --peak-gflops "$PEAK_GFLOPS" --log-steps --result learn_device || failed=1
  if grep -q 'the largest tensor takes' "$RUN/step_webgpu.err"; then
    # A tensor of the real vocabulary (the embedding, 50,257 x 1024) passes the adapter's buffer
    # limit even at B=1: the step's speed is still worth knowing, at a vocabulary that fits.
    VOCAB=$FALLBACK_VOCAB
    shape=(--source "${SRC[0]}x${SRC[1]}x${SRC[2]}" --target "${TGT[0]}x${TGT[1]}" --vocab "$VOCAB" --seq-len "$SEQ")
    echo "== step_webgpu: the real vocabulary does not fit this adapter's buffer limit; again at vocab $VOCAB (the peer follows)"
    stage step_webgpu "${BUDGETS[2]}" 'step [0-9]+/|fit-batch|^backend' '' "$NODE" "$APP/learn.mjs" "${shape[@]}" --batch-size "$BATCH" --fit-batch \
      --warmup-steps 1 --steps "$STEPS" --repeats 1 --parts 0 --matmul-sizes "$LEARN_MATMUL" --peak-gflops "$PEAK_GFLOPS" --log-steps --result learn_device || failed=1
  fi
  [ -f "$B/app/results/learn_device.json" ] && cp "$B/app/results/learn_device.json" "$RUN/step_webgpu.json"

  # The peer at the batch the webgpu step ran (the adapter's limit may have lowered it).
  local step_batch
  step_batch=$(grep -oE 'fit-batch: B=[0-9]+' "$RUN/step_webgpu.err" | grep -oE '[0-9]+$' || true)
  step_batch=${step_batch:-$BATCH}
  local config
  config=$(printf '{"model_type":"gpt2","n_embd":%s,"n_layer":%s,"n_head":%s,"vocab_size":%s,"n_positions":%s}' "${SRC[1]}" "${SRC[0]}" "${SRC[2]}" "$VOCAB" $((SEQ > 256 ? SEQ : 256)))
  if ! command -v "$PYTHON" >/dev/null; then
    echo
    echo "no $PYTHON here" >"$RUN/step_peer.skip"
    echo "== step_peer: unavailable: no $PYTHON here"
  else
    stage step_peer "${BUDGETS[3]}" 'peer step' "has no CUDA device|No module named 'torch'" "$PYTHON" -u "$B/peer/ligo_torch.py" --source "$config" --layers "${TGT[0]}" --width "${TGT[1]}" \
      --batch-size "$step_batch" --seq-len "$SEQ" --steps $((STEPS + 1)) --device "$PEER_DEVICE"
    # No CUDA torch (stage's 3) is a fact about the machine, not a failure of the run.
    case $? in
      0) tail -n 1 "$RUN/step_peer.out" >"$RUN/step_peer.json" ;;
      3) ;;
      *) failed=1 ;;
    esac
  fi

  HIDE='^(ok |adapter: )' stage check "${BUDGETS[4]}" '' '' "$NODE" "$APP/device_check.mjs" || failed=1
  grep '^{"benchmark"' "$RUN/check.out" 2>/dev/null | tail -n 1 >"$RUN/check.json"

  # Last, in what time is left: one step taken apart behind read-backs, and its kernels.
  stage profile "${BUDGETS[5]}" 'fit-batch' '' "$NODE" "$APP/learn.mjs" "${shape[@]}" --batch-size "$step_batch" --fit-batch \
    --warmup-steps 1 --steps 1 --repeats 1 --parts 1 --kernel-rows 12 --matmul-sizes "$LEARN_MATMUL" --result learn_device_profile || failed=1
  [ -f "$B/app/results/learn_device_profile.json" ] && cp "$B/app/results/learn_device_profile.json" "$RUN/profile.json"

  for f in "$RUN"/*.out "$RUN"/*.err; do
    [ -s "$f" ] && { echo "===== ${f##*/}"; cat "$f"; }
  done >"$OUT/stages.log"
  echo
  echo "== summary ($(elapsed) s in all; bundle $(cut -c1-12 "$RUN/commit.txt"); $(cat "$RUN/gpu.txt" 2>/dev/null || echo 'no nvidia-smi'))"
  "$NODE" "$APP/device_summary.mjs" --dir "$RUN" --out "$OUT/device.json" | tee "$OUT/summary.txt"
  echo "results: $OUT/device.json, summary.txt, device.log, stages.log"
  return "$failed"
}

main 2>&1 | tee "$OUT/device.log"
exit "${PIPESTATUS[0]}"
