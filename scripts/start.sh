#!/usr/bin/env bash
# The main job (`npm start`): sets the machine up, builds, and runs the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/ensure-deps.sh
node scripts/build.mjs
exec node bin/gamewire.js demo "$@"
