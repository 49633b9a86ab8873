#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL: Testcontainers when a Docker engine is
# reachable, otherwise a throwaway local cluster under .data/test that this script starts and stops.
# Ends with one line "N passed, M failed" counted from the TRX results.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [ -z "${FLAGSERVICE_TEST_POSTGRES:-}" ] && ! { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
  pg_port=${FLAGSERVICE_TEST_PG_PORT:-55433}
  postgres_start test "$pg_port"
  trap 'postgres_stop test' EXIT
  export FLAGSERVICE_TEST_POSTGRES
  FLAGSERVICE_TEST_POSTGRES=$(postgres_connection_string "$pg_port" postgres)
fi

rm -rf TestResults
status=0
dotnet test FlagService.sln -c Release --logger "trx" --results-directory TestResults "$@" || status=$?

# Sum the counters of every TRX file, so that a run that executed nothing shows as "0 passed".
passed=0; failed=0
for trx in TestResults/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
echo "$passed passed, $failed failed"
exit "$status"
