#!/usr/bin/env bash
# Runs every fuzz target for longer than the seed run that `go test` does in CI.
# Usage: bash scripts/fuzz.sh [duration per target, default 60s]
set -euo pipefail
cd "$(dirname "$0")/.."
time_per_target=${1:-60s}
for target in FuzzNewAPIError FuzzRateLimitPayload FuzzDecodeBatchResult FuzzOperation \
              FuzzTimestamp FuzzFieldErrorPayload FuzzDecodeLogEntry FuzzOperationLog; do
  echo "== $target ($time_per_target)"
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time_per_target" .
done
echo "== FuzzDecodeTaskFast ($time_per_target)"
go test -run '^$' -fuzz '^FuzzDecodeTaskFast$' -fuzztime "$time_per_target" ./tolokatest
