#!/usr/bin/env bash
# kwctl bench figures (warm, one instance: kwctl's own measurement) for the policy and the floors,
# on the swapped Pod of tests/cases with the seed's settings.
set -euo pipefail
if [ -z "${KWCTL:-}" ]; then
  echo "SKIPPED kwctl bench: no kwctl (set KWCTL=/path/to/kwctl or put kwctl on PATH)"
  exit 0
fi
export HOME=${BENCH_HOME:-$PWD/build/kwctl-home}
mkdir -p "$HOME"
echo "$("$KWCTL" --version 2>/dev/null | head -1), \`kwctl bench --warm-up-time 2 --measurement-time 5\`, request tests/cases/requests/pod-create.json, settings tests/cases/settings/seed-2-global-swap.json"
echo
echo "| module | validate (min / mean / max) |"
echo "|---|---|"
for module in policy.wasm build/floors/noop.wasm build/floors/prefix.wasm; do
  line=$("$KWCTL" bench --warm-up-time 2 --measurement-time 5 --request-path tests/cases/requests/pod-create.json \
    --settings-path tests/cases/settings/seed-2-global-swap.json "$module" 2>/dev/null \
    | sed 's/\x1b\[[0-9;]*m//g' | grep -A1 '^validate ' | grep -o '\[[^]]*\]' | tail -1)
  echo "| $module | $line |"
done
