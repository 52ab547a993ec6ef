#!/usr/bin/env bash
# Sets up Fly and Snap on a machine that has Node 20+ and npm: pnpm, socat (virtual serial ports),
# dependencies (better-sqlite3 compiled against this Node's own headers), the build, and the three
# commands on PATH. Safe to run again: every step is skipped when already done.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '[setup] %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "[setup] Node $(node --version) is too old: Fly and Snap needs Node 20 or newer." >&2
  exit 1
fi

# pnpm: pinned in package.json's packageManager; pnpm 11 crashes on Node 20, 12.4.2 works.
want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$want_pnpm" ]; then
  say "installing pnpm $want_pnpm with npm"
  npm install -g "pnpm@$want_pnpm" --loglevel=error
fi

# socat makes the pseudo-terminal pairs that stand in for serial ports (hardware-sim).
if ! command -v socat >/dev/null 2>&1; then
  say "installing socat (virtual serial ports for hardware-sim)"
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq socat >/dev/null
  else
    echo "[setup] socat is missing and this is not a Debian-like system: install socat, then run again." >&2
    exit 1
  fi
fi

# Debian's chromium for the report's browser test (never a browser download).
bash "$root/scripts/setup-report-browser.sh"

# better-sqlite3 compiles with node-gyp, which would download Node's headers: point it at the
# headers that come with the running Node instead (its install prefix holds include/node).
node_prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
if [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

say "installing dependencies"
pnpm install --reporter=append-only

say "building (tsc -b)"
pnpm exec tsc -b

# The three commands on PATH: into /usr/local/bin when we may write there, else ~/.local/bin.
bin_dir=${FLYSNAP_BIN_DIR:-}
if [ -z "$bin_dir" ]; then
  if [ -w /usr/local/bin ]; then bin_dir=/usr/local/bin; else bin_dir="$HOME/.local/bin"; fi
fi
mkdir -p "$bin_dir"
for cmd in capture-agent:packages/capture-agent ingest-cli:packages/ingest-cli hardware-sim:hardware-sim; do
  name=${cmd%%:*}; dir=${cmd#*:}
  chmod +x "$root/$dir/dist/cli.js"
  ln -sf "$root/$dir/dist/cli.js" "$bin_dir/$name"
done
case ":$PATH:" in *":$bin_dir:"*) ;; *) say "add $bin_dir to your PATH to call the commands by name";; esac
say "ready: capture-agent, ingest-cli, hardware-sim in $bin_dir"
