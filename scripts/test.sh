#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL: the xunit suite (Testcontainers when a Docker
# engine is reachable, otherwise a throwaway local cluster under .data/test that this script starts
# and stops), then the OpenFeature client suite (Node) and the admin UI's end-to-end suite
# (Playwright on Debian's Chromium) against the service as the Dockerfile publishes it, and the
# README's shell blocks (tests/readme). Ends with one line "N passed, M failed" counted from all four.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

pg_port=${FLAGSERVICE_TEST_PG_PORT:-55433}
postgres_start test "$pg_port"

# A real SMTP server for the password-reset tests: every message it receives lands in a folder
# that the tests read (tests/smtp-sink.py, on aiosmtpd).
# (Debian's package installs for the system interpreter, which may not be the first python3 on PATH.)
smtp_python=python3
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null \
    || apt_install python3-aiosmtpd
  smtp_python=/usr/bin/python3
fi
export FLAGSERVICE_TEST_SMTP_PORT=${FLAGSERVICE_TEST_SMTP_PORT:-$((pg_port + 1))}
export FLAGSERVICE_TEST_MAIL_DIR
FLAGSERVICE_TEST_MAIL_DIR=$(mktemp -d)
"$smtp_python" tests/smtp-sink.py "$FLAGSERVICE_TEST_SMTP_PORT" "$FLAGSERVICE_TEST_MAIL_DIR" >/dev/null &
smtp_pid=$!
trap 'kill "$smtp_pid" 2>/dev/null || true; rm -rf "$FLAGSERVICE_TEST_MAIL_DIR"; postgres_stop test' EXIT
if [ -z "${FLAGSERVICE_TEST_POSTGRES:-}" ] && ! { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
  export FLAGSERVICE_TEST_POSTGRES
  FLAGSERVICE_TEST_POSTGRES=$(postgres_connection_string "$pg_port" postgres)
fi

# Node and npm: the build runs npm for the admin UI (ui/), and two suites below are Node's.
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

rm -rf TestResults && mkdir -p TestResults
status=0 publish_failed=0
# The build the Dockerfile ships (self-contained, trimmed, ReadyToRun: FlagService.csproj). The
# tests that start the service as a process of its own, the OpenFeature suite and the admin UI suite
# all run this build, so that what trimming removed is exercised where it runs in production.
published=$(mktemp -d)
trap 'kill "$smtp_pid" 2>/dev/null || true; rm -rf "$FLAGSERVICE_TEST_MAIL_DIR" "$published"; postgres_stop test' EXIT
if dotnet publish FlagService.csproj -c Release -r linux-x64 -o "$published" -nologo -v quiet -clp:ErrorsOnly; then
  export FLAGSERVICE_TEST_PUBLISHED=$published FLAGSERVICE_PUBLISHED=$published
else
  echo "test: publishing FlagService for linux-x64 failed; the suites below run the plain build" >&2
  status=1 publish_failed=1
fi
dotnet test FlagService.sln -c Release --logger "trx" --results-directory TestResults "$@" || status=$?

# The OpenFeature providers from npm, against the service on a fresh database.
PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U "$PG_USER_NAME" -d postgres -qc \
  "DROP DATABASE IF EXISTS flagservice_ofrep WITH (FORCE)"
postgres_create_database "$pg_port" flagservice_ofrep
ConnectionStrings__Postgres=$(postgres_connection_string "$pg_port" flagservice_ofrep) \
  tests/ofrep-clients/run.sh 2>&1 | tee TestResults/ofrep-clients.tap || status=$?

# The admin UI in a browser: Playwright drives Debian's Chromium (Playwright's own browser download
# is not used), against the service on a fresh database.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U "$PG_USER_NAME" -d postgres -qc \
  "DROP DATABASE IF EXISTS flagservice_ui_e2e WITH (FORCE)"
postgres_create_database "$pg_port" flagservice_ui_e2e
ConnectionStrings__Postgres=$(postgres_connection_string "$pg_port" flagservice_ui_e2e) \
  PLAYWRIGHT_JSON="$PWD/TestResults/ui-e2e.json" ui/e2e/run.sh || status=$?

# The README as a user runs it: its shell blocks in order against the service on a fresh database.
PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U "$PG_USER_NAME" -d postgres -qc \
  "DROP DATABASE IF EXISTS flagservice_readme WITH (FORCE)"
postgres_create_database "$pg_port" flagservice_readme
ConnectionStrings__Postgres=$(postgres_connection_string "$pg_port" flagservice_readme) \
  tests/readme/run.sh 2>&1 | tee TestResults/readme.tap || status=$?

# Sum the counters of every TRX file, the Node runner's summary and Playwright's report, so that a
# run that executed nothing shows as "0 passed".
passed=0; failed=0
for trx in TestResults/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' TestResults/ofrep-clients.tap | tail -n 1)
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' TestResults/ofrep-clients.tap | tail -n 1)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' TestResults/readme.tap | tail -n 1)
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' TestResults/readme.tap | tail -n 1)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
[ -n "$p" ] || failed=$((failed + 1))   # the README run did not get as far as its summary
if [ -f TestResults/ui-e2e.json ]; then
  read -r p f < <(node -e "const s = require('./TestResults/ui-e2e.json').stats; console.log(s.expected + s.flaky, s.unexpected)")
  passed=$((passed + p)); failed=$((failed + f))
else
  failed=$((failed + 1))   # the suite did not get as far as running (its output says why)
fi
failed=$((failed + publish_failed))
echo "$passed passed, $failed failed"
exit "$status"
