#!/usr/bin/env bash
# Makes a native BLAS (OpenBLAS, with cblas_sgemm) available to ligo's blas backend: on Debian or
# Ubuntu as root, installs libopenblas0-pthread. Idempotent. Anywhere else it prints one line and
# changes nothing: ligo then falls back to wasm and the blas tests are skipped with the reason.
set -uo pipefail

if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
  echo "setup-blas: OpenBLAS present"
  exit 0
fi
if [ "$(uname -s)" = Darwin ]; then
  echo "setup-blas: macOS: ligo uses Accelerate's cblas_sgemm"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "setup-blas: no OpenBLAS, and no apt-get as root to install it; the blas backend tests will be skipped"
  exit 0
fi
if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread) >/tmp/setup_blas.log 2>&1; then
  echo "setup-blas: installed libopenblas0-pthread"
else
  echo "setup-blas: apt-get install libopenblas0-pthread failed (see /tmp/setup_blas.log); the blas backend tests will be skipped"
fi
exit 0
