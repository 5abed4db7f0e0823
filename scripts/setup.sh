#!/usr/bin/env bash
# Makes a Debian 12 machine able to build and test gamewire, as root. Idempotent: a run that finds
# everything in place takes seconds.
#
#   Debian packages   build tools, nats-server (cluster tests), chromium (dashboard test)
#   Rust              rustup's stable (native addon), clippy, rustfmt
#   wasm32            rustup's wasm32-unknown-unknown target where it can be had, else Debian's
#                     rustc-web + rust-web-src + lld linked as the rustup toolchain `debweb`
#   wasm-bindgen-cli  the exact version Cargo.toml pins; wasm-pack (both from crates.io, cached
#                     in ~/.cargo/bin)
#   Python            a virtualenv with mpgameserver 0.2.4 from PyPI, the interop peer
#   cross builds      rustup's targets and Debian's cross linkers and qemu-user for every native
#                     target in scripts/targets.mjs (linux-arm64-gnu: gcc-aarch64-linux-gnu)
#
# Environment: GAMEWIRE_CACHE (default ~/.cache/gamewire) holds the virtualenv;
# GAMEWIRE_WASM_ROUTE=debweb forces the Debian route even where rustup could add the target.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GAMEWIRE_CACHE:-$HOME/.cache/gamewire}"
WASM_PACK_VERSION=0.13.1
MPGS_VERSION=0.2.4
export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
T0=$SECONDS

log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31msetup: %s\033[0m\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || die "need root to install Debian packages: ${missing[*]}"
  log "apt-get install ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Debian packages -----------------------------------------------------------------------------
apt_install ca-certificates curl git build-essential pkg-config python3 python3-venv nats-server chromium

# --- Node ----------------------------------------------------------------------------------------
# 20.19 and 22.12 are the first releases that require() ES modules without a flag (package.json engines).
have node || die "Node.js 20.19+, 22.12+ or newer is needed (node not found)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit((a===20&&b>=19)||(a===22&&b>=12)||a>22?0:1)' \
  || die "Node.js 20.19+, 22.12+ or newer is needed (found $(node --version))"

# --- Rust: stable by rustup ----------------------------------------------------------------------
have rustup || die "rustup is needed (Rust stable by rustup; see https://rustup.rs)"
rustup toolchain list | grep -q '^stable' || rustup toolchain install stable --profile minimal
for c in clippy rustfmt; do
  rustup component list --toolchain stable --installed | grep -q "^$c" || rustup component add --toolchain stable "$c"
done

# --- wasm32 toolchain ----------------------------------------------------------------------------
has_wasm_target() { rustup target list --toolchain stable --installed | grep -qx wasm32-unknown-unknown; }
debweb_ready() { rustup toolchain list | grep -q '^debweb' && [ -d /usr/lib/rustlib/src/rust/library ] && have rust-lld; }
if [ "${GAMEWIRE_WASM_ROUTE:-}" != debweb ] && ! has_wasm_target; then
  log "rustup target add wasm32-unknown-unknown"
  timeout 300 rustup target add --toolchain stable wasm32-unknown-unknown >&2 || log "rustup could not add wasm32 here; using Debian's rustc-web"
fi
if [ "${GAMEWIRE_WASM_ROUTE:-}" = debweb ] || ! has_wasm_target; then
  if ! debweb_ready; then
    apt_install rustc-web cargo-web rust-web-src lld-22
    rustup toolchain list | grep -q '^debweb' || rustup toolchain link debweb /usr
  fi
fi

# --- cross builds of the native addon (scripts/targets.mjs) ---------------------------------------
# shellcheck disable=SC2046 # one word per package
apt_install $(node "$ROOT/scripts/targets.mjs" debian)
for t in $(node "$ROOT/scripts/targets.mjs" rust); do
  rustup target list --toolchain stable --installed | grep -qx "$t" && continue
  log "rustup target add $t"
  timeout 300 rustup target add --toolchain stable "$t" >&2
done

# --- wasm-bindgen-cli (the version Cargo.toml pins) and wasm-pack --------------------------------
WBG_VERSION="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")"
[ -n "$WBG_VERSION" ] || die "Cargo.toml must pin wasm-bindgen with \"=x.y.z\""
cargo_install() { # name version
  log "cargo install $1 $2 (once; cached in ~/.cargo/bin)"
  cargo install --locked "$1" --version "$2" >&2 2>/dev/null || cargo install "$1" --version "$2" >&2
}
[ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" = "$WBG_VERSION" ] || cargo_install wasm-bindgen-cli "$WBG_VERSION"
[ "$(wasm-pack --version 2>/dev/null | cut -d' ' -f2)" = "$WASM_PACK_VERSION" ] || cargo_install wasm-pack "$WASM_PACK_VERSION"

# --- Python: mpgameserver for the interop tests --------------------------------------------------
VENV="$CACHE/mpgs-venv"
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mpgameserver') != '$MPGS_VERSION')" 2>/dev/null; then
  log "python venv with mpgameserver==$MPGS_VERSION in $VENV"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "mpgameserver==$MPGS_VERSION" >&2
fi

log "ready ($((SECONDS - T0)) s)"
