#!/usr/bin/env bash
# The test command (`npm test`). Needs nothing run before it: it sets the machine up (seconds when
# already done), installs npm dependencies if missing, builds what changed, then runs every check.
#
#   cargo fmt --check, cargo clippy -D warnings, cargo test   (the Rust workspace)
#   tsc --noEmit                                             (the TypeScript, strict)
#   vitest                                                   (every backend-facing suite on native and wasm)
#   package                                                  (the packed tarballs installed into empty projects and run
#                                                             there: this machine's on Node 20, 22 and 24, the cross-built
#                                                             ones under qemu-user; test/package)
#
# The build includes the cross-built native targets of scripts/targets.mjs (linux-arm64-gnu):
# GAMEWIRE_TARGETS=linux-x64-gnu (a list of platform triples, default `all`) narrows the build
# and the package test to those.
#   bench --quick                                            (a smoke run of the benchmarks; asserts nothing about speed)
#   bench:load --quick                                       (a smoke run of the end-to-end load benchmarks, ~30 s; same)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# Each step's time is listed at the end (CI must stay under 30 minutes).
STEP=""; STEP_T0=$SECONDS; TIMES=()
end_step() { if [ -n "$STEP" ]; then TIMES+=("$(printf '%5d s  %s' $((SECONDS - STEP_T0)) "$STEP")"); fi; }
step() { end_step; STEP="$*"; STEP_T0=$SECONDS; printf '\n\033[1;36m== %s\033[0m\n' "$*" >&2; }

step setup;        bash scripts/setup.sh
step deps;         bash scripts/ensure-deps.sh
export GAMEWIRE_TARGETS="${GAMEWIRE_TARGETS:-all}"
step build;        node scripts/build.mjs native wasm ts browser testing --target="$GAMEWIRE_TARGETS"
step "cargo fmt";  cargo fmt --all --check
step "cargo clippy"; cargo clippy --workspace --all-targets -- -D warnings
step "cargo test"; cargo test --workspace
step tsc;          npx tsc -p tsconfig.json --noEmit
step vitest;       npx vitest run
step package;      npx vitest run --config test/package/vitest.config.ts
if [ -f bench/run.ts ]; then
  step "bench --quick"; node scripts/run-ts.mjs bench/run.ts --quick
fi
if [ -f bench/load/run.ts ]; then
  step "bench:load --quick"; node scripts/run-ts.mjs bench/load/run.ts --quick
fi
end_step
printf '\n%s\n' "${TIMES[@]}" >&2
printf '\n\033[1;32mall checks passed\033[0m\n' >&2
