#!/usr/bin/env bash
# Installs Mesa's lavapipe (a software Vulkan driver) so the webgpu backend has an adapter on a
# machine without a GPU: the webgpu tests run on it in CI. Idempotent. Dawn (inside the npm package
# `webgpu`) rejects Debian 12's own Mesa 22.3 ("Vulkan shaderUniform*ArrayDynamicIndexing required"),
# so on bookworm the driver comes from bookworm-backports (Mesa 25).
# Never fails the caller: where it cannot install, it prints one line saying why and exits 0, and the
# webgpu tests skip with "no WebGPU adapter".
set -uo pipefail

say() { echo "setup-lavapipe: $*"; }

ICD_GLOB='/usr/share/vulkan/icd.d/lvp_icd*.json'
have_lavapipe() {
  # shellcheck disable=SC2086
  ls $ICD_GLOB >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'
}
mesa_version() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null; }

if have_lavapipe && dpkg --compare-versions "$(mesa_version)" ge 24 2>/dev/null; then
  say "lavapipe already installed (mesa-vulkan-drivers $(mesa_version))"
  exit 0
fi
if [ ! -r /etc/os-release ] || ! command -v apt-get >/dev/null 2>&1; then
  say "not a Debian system with apt-get; skipping (webgpu tests will be skipped: no adapter)"
  exit 0
fi
# shellcheck disable=SC1091
. /etc/os-release
if [ "${ID:-}" != debian ] && [[ " ${ID_LIKE:-} " != *" debian "* ]]; then
  say "not Debian (${ID:-unknown}); skipping (webgpu tests will be skipped: no adapter)"
  exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO='sudo -n'; else
    say "not root and no passwordless sudo; skipping (webgpu tests will be skipped: no adapter)"
    exit 0
  fi
fi

target=()
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  list=/etc/apt/sources.list.d/ligo-bookworm-backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee "$list" >/dev/null
  fi
  target=(-t bookworm-backports)
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq >/tmp/ligo-lavapipe-apt.log 2>&1 ||
  ! $SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1 \
    >>/tmp/ligo-lavapipe-apt.log 2>&1; then
  say "apt-get failed ($(tail -n 1 /tmp/ligo-lavapipe-apt.log)); skipping (webgpu tests will be skipped: no adapter)"
  exit 0
fi
say "installed mesa-vulkan-drivers $(mesa_version)"
