#!/usr/bin/env bash
# Runs the cargo-fuzz targets of crates/core (nightly + libFuzzer).
#   bash scripts/fuzz.sh                 # every target, 600 s each
#   bash scripts/fuzz.sh endpoint 120    # one target, 120 s
# Installs cargo-fuzz once if missing. Findings land in crates/core/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../crates/core"
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
targets=("${1:-packet}")
[ $# -eq 0 ] && targets=(packet endpoint)
secs="${2:-600}"
for t in "${targets[@]}"; do
  echo "fuzz: $t for $secs s" >&2
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1
done
