#!/usr/bin/env bash
# Packs a self-contained bundle for a linux-x64 GPU machine that has no Node and no registry
# (the lent device machine): the Node binary running this script, the CLI and the benchmarks
# bundled with their JS dependencies by esbuild, Dawn's dawn.node (npm `webgpu`), the tfjs wasm
# files, the golden cases and the PyTorch peer (bench/peer/ligo_torch.py). bench/device.sh unpacks and runs it. Must stay under 64 MiB (what
# travels to the device machine, the working tree included).
#
# Usage: scripts/pack-device.sh [OUT_FILE]   (default .device-bundle/ligo-device.tar.xz; npm run pack:device)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_FILE=${1:-.device-bundle/ligo-device.tar.xz}
MAX_BYTES=$((64 * 1024 * 1024))

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "pack-device: builds a linux-x64 bundle; run it on linux-x64" >&2; exit 1; }
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$DAWN" ] || { echo "pack-device: $DAWN missing; run npm ci (webgpu is an optional dependency)" >&2; exit 1; }
ESBUILD=node_modules/.bin/esbuild
[ -x "$ESBUILD" ] || { echo "pack-device: $ESBUILD missing; run npm ci" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
B=$STAGE/ligo-device
APP=$B/app
mkdir -p "$APP/bin" "$APP/data" "$APP/node_modules/webgpu/dist/linux-x64" "$APP/node_modules/@tensorflow/tfjs-backend-wasm"

# The bundles are ES modules (top-level await); tfjs's CommonJS parts read __dirname and require,
# which an ES module lacks, so the banner defines them (the wasm glue finds its .wasm beside the bundle).
BANNER="import { createRequire as __ligoRequire } from 'node:module'; import { fileURLToPath as __ligoPath } from 'node:url'; import { dirname as __ligoDir } from 'node:path'; const require = __ligoRequire(import.meta.url); const __filename = __ligoPath(import.meta.url); const __dirname = __ligoDir(__filename);"
# webgpu stays outside: it loads dawn.node by a path relative to its own index.js.
"$ESBUILD" ligo=src/cli/main.ts learn=bench/learn.ts device_check=bench/device_check.ts device_adapters=bench/device_adapters.ts \
  device_matmul=bench/device_matmul.ts device_summary=bench/device_summary.ts \
  --bundle --platform=node --target=node20 --format=esm --outdir="$APP/bin" --out-extension:.js=.mjs \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="$BANNER" --log-level=warning

cp "$(node -p 'process.execPath')" "$B/node"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$APP/bin/"
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$APP/node_modules/@tensorflow/tfjs-backend-wasm/"
cp -r node_modules/@tensorflow/tfjs-backend-wasm/wasm-out "$APP/node_modules/@tensorflow/tfjs-backend-wasm/"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md "$APP/node_modules/webgpu/"
cp "$DAWN" "$APP/node_modules/webgpu/dist/linux-x64/"
# Paths the bundled code resolves from its own location: ../../package.json (--version, as from
# dist/cli/), ../fixtures (the bundled tiny model) and ../data/golden (device_check, as
# test/models/helpers.ts finds it).
node -e 'const p = require("./package.json"); console.log(JSON.stringify({ name: p.name, version: p.version }))' >"$B/package.json"
cp -r fixtures "$APP/fixtures"
cp -r test/data/golden "$APP/data/golden"
cp bench/device.sh "$B/device.sh"
# The PyTorch peer that device.sh runs on CUDA beside the webgpu step.
mkdir -p "$B/peer"
cp bench/peer/ligo_torch.py "$B/peer/"
# The Vulkan loader and GL dispatch libraries the device machine lacks (its README lists them):
# Debian amd64 packages, unpacked there into / by device.sh when ldconfig has no libvulkan.so.1.
GL_DEBS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
mkdir -p "$B/gl"
if command -v apt-get >/dev/null && (cd "$B/gl" && apt-get download "${GL_DEBS[@]}" >/dev/null 2>&1); then :; else
  echo "pack-device: could not apt-get download ${GL_DEBS[*]}; device.sh will need the Vulkan loader there (.gl/*.deb)" >&2
fi
# The commit it was packed from; "+changes" where the working tree differed from it.
git -C "$ROOT" log -1 --format='%H %cI %s' >"$B/COMMIT" 2>/dev/null || echo unknown >"$B/COMMIT"
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || sed -i '1s/ / +changes /' "$B/COMMIT"

mkdir -p "$(dirname "$OUT_FILE")"
tar -C "$STAGE" -cf - ligo-device | xz -T0 "${XZ_LEVEL:--9}" >"$OUT_FILE"
bytes=$(stat -c %s "$OUT_FILE")
echo "pack-device: $OUT_FILE $((bytes / 1024 / 1024)) MiB ($(du -sh "$B" | cut -f1) unpacked; node $(node --version), commit $(cut -c1-12 "$B/COMMIT"))"
if [ "$bytes" -gt "$MAX_BYTES" ]; then
  echo "pack-device: larger than 64 MiB, the most that travels to the device machine" >&2
  exit 1
fi
