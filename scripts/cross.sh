#!/usr/bin/env bash
# Builds every native target of scripts/targets.mjs (linux-arm64-gnu by cross-compiling) and
# verifies each platform package the way a user gets it: the consumer test packs them, installs
# them with npm as that platform (--cpu=arm64) and runs the README example under qemu-user with
# that platform's Node.js from the npm registry. `npm run test:cross`; not part of `npm test`:
# the first arm64 release build alone takes minutes (see README, "Install").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n\033[1;36m== %s\033[0m\n' "$*" >&2; }
T0=$SECONDS

step setup;  bash scripts/setup.sh
step deps;   bash scripts/ensure-deps.sh
step build;  node scripts/build.mjs native --target=all && node scripts/build.mjs wasm ts
# The emulated platforms, plus this machine's on the running Node (npm test covers its others).
step "package (every target)"
GAMEWIRE_PACKAGE_TARGETS=all GAMEWIRE_PACKAGE_NODES="$(node -p 'process.versions.node.split(".")[0]')" \
  npx vitest run --config test/package/vitest.config.ts
printf '\n\033[1;32mcross: every target built and verified (%s s)\033[0m\n' "$((SECONDS - T0))" >&2
