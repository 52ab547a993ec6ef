#!/usr/bin/env bash
# Command 1 of the README: set everything up, then run the demo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
out=${FLYSNAP_DEMO_DIR:-$root/demo-out}
node scripts/demo.mjs "$out"
