#!/usr/bin/env bash
# The test command the README gives (npm test): type-check, start the services the connector tests
# need, then run every uvu suite under spec/ in one process and print a plain summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

if [ -x scripts/services.sh ]; then
  echo "== services"
  bash scripts/services.sh
fi

echo "== tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node --import tsx node_modules/uvu/bin.js spec '\.spec\.ts$' 2>&1 | tee "$log" || status=$?
total=$(grep -E '^\s*Total:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
passed=$(grep -E '^\s*Passed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -E '^\s*Skipped:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$((total - passed - skipped))
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$total" -eq 0 ]; then exit 1; fi
