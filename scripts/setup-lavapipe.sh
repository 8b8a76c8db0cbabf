#!/usr/bin/env bash
# Installs Mesa's lavapipe (a software Vulkan driver) so the webgpu backend has an adapter on a
# machine without a GPU: the webgpu tests run on it in CI. Idempotent. Dawn (inside the npm package
# `webgpu`) rejects Debian 12's own Mesa 22.3 ("Vulkan shaderUniform*ArrayDynamicIndexing required"),
# so on bookworm the driver comes from bookworm-backports (Mesa 25), fetched from the same mirror (and
# with the same signing key) as the machine's own bookworm sources: a company mirror or proxy stays in
# use, and no mirror is named here.
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

APT_ETC="${LIGO_APT_ETC:-/etc/apt}" # tests point this at a made-up sources tree
apt_source_files() {
  local f
  for f in "$APT_ETC/sources.list" "$APT_ETC"/sources.list.d/*.list "$APT_ETC"/sources.list.d/*.sources; do
    [ -r "$f" ] && echo "$f"
  done
}

# Prints "URI<TAB>signed-by path (may be empty)" of the first enabled deb source serving suite $1, read
# from one-line (*.list) and deb822 (*.sources) files; prints nothing when none does.
archive_source() {
  local suite=$1 f
  while read -r f; do
    case "$f" in
      *.sources) awk -v suite="$suite" -f <(deb822_awk) "$f" ;;
      *) awk -v suite="$suite" -f <(one_line_awk) "$f" ;;
    esac
  done < <(apt_source_files) | head -n 1
}

# `deb [opt=value ...] URI suite component...`
one_line_awk() {
  cat <<'AWK'
{ sub(/#.*/, "") }
$1 != "deb" { next }
{
  i = 2; opts = ""
  if ($2 ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ } }
  if ($(i + 1) != suite) next
  key = ""
  if (match(opts, /signed-by=[^] ]+/)) key = substr(opts, RSTART + 10, RLENGTH - 10)
  printf "%s\t%s\n", $i, key; exit
}
AWK
}

# Stanzas of `Field: value` lines separated by blank lines; a multi-line Signed-By (an inline key)
# cannot be carried into a one-line entry and is left out.
deb822_awk() {
  cat <<'AWK'
function flush() {
  if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && tolower(enabled) != "no" && uris != "") {
    split(uris, u, " "); printf "%s\t%s\n", u[1], key; found = 1; exit
  }
  types = ""; suites = ""; uris = ""; key = ""; enabled = ""
}
/^[ \t]*#/ { next }
/^[ \t]*$/ { flush(); next }
/^[ \t]/ { next }
{
  field = tolower($1); value = $0; sub(/^[^:]*:[ \t]*/, "", value)
  if (field == "types:") types = value
  else if (field == "uris:") uris = value
  else if (field == "suites:") suites = value
  else if (field == "enabled:") enabled = value
  else if (field == "signed-by:" && value ~ /^\//) key = value
}
END { if (!found) flush() }
AWK
}

# Adds "<codename>-backports main" from the mirror that serves <codename>, unless a source has it.
add_backports() {
  local codename=$1 list="$APT_ETC/sources.list.d/ligo-$1-backports.list" source uri key
  if [ ! -e "$list" ] && apt_source_files | xargs -r grep -qs "$codename-backports"; then return 0; fi
  source=$(archive_source "$codename")
  if [ -z "$source" ]; then
    say "no apt source for $codename found in $APT_ETC to take a mirror from; skipping (webgpu tests will be skipped: no adapter)"
    exit 0
  fi
  uri=${source%%$'\t'*}
  key=${source#*$'\t'}
  echo "deb ${key:+[signed-by=$key] }$uri $codename-backports main" | $SUDO tee "$list" >/dev/null
}

target=()
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  add_backports bookworm
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
