#!/usr/bin/env bash
# Runs every test (vitest, all packages) against the built code and ends with one line
# `N passed, N failed` that CI reads. Exits non-zero on any failure. Run scripts/setup.sh first.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pnpm exec tsc -b || { echo "0 passed, 1 failed"; exit 1; }
# tsc -b builds src only: type-check the tests too, so a test cannot drift from the API it calls.
pnpm exec tsc -p tsconfig.test.json || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p .test-results
rm -f .test-results/vitest.json
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@"
status=$?
if [ -f .test-results/vitest.json ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(".test-results/vitest.json", "utf8"));
    const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    console.log(`${r.numPassedTests} passed, ${failed} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
    if (r.numTotalTests === 0) process.exitCode = 1;'
  [ $? -ne 0 ] && status=1
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
