#!/usr/bin/env bash
# Installs Debian's chromium for the `ingest-cli report` browser test (playwright-core drives it
# with executablePath). Never a browser download of playwright's own: that fails on machines
# without internet; the distribution's package is what the test expects at /usr/bin/chromium.
# Skipped when chromium is already there or when this is not a Debian-like system (the report
# itself needs no browser; only its test does, and that test then says it cannot run).
set -euo pipefail
say() { printf '[setup] %s\n' "$*"; }
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "chromium is missing and this is not a Debian-like system: the report's browser test will fail until chromium is at /usr/bin/chromium"
  exit 0
fi
say "installing chromium (headless browser for the report test)"
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
