#!/usr/bin/env bash
# The whole test suite, as CI runs it (README: `npm test`). Type-check, lint, then every vitest
# file; privileged namespace tests skip with a reason when not root. Ends with one plain line
# "tests: N passed, N failed, N skipped" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/install-system-deps.sh --if-root || exit 1
tsc -p tsconfig.json --noEmit || { echo "tests: 0 passed, 1 failed (typecheck)"; exit 1; }
biome check . || { echo "tests: 0 passed, 1 failed (lint)"; exit 1; }
report=$(mktemp /tmp/ferry-vitest.XXXXXX.json)
trap 'rm -f "$report"' EXIT
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" 2>/dev/null || echo "tests: 0 passed, 1 failed (no report)"
exit $rc
