#!/usr/bin/env bash
# Refreshes docs/screenshots (the README's pictures): runs the admin UI's end-to-end suite, which
# takes them at desktop and phone widths, against the service on a fresh database in the test
# cluster. scripts/test.sh runs the same suite but keeps its screenshots under TestResults/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

pg_port=${FLAGSERVICE_TEST_PG_PORT:-55433}
postgres_start test "$pg_port"
trap 'postgres_stop test' EXIT
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
[ -x /usr/bin/chromium ] || apt_install chromium

PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U "$PG_USER_NAME" -d postgres -qc \
  "DROP DATABASE IF EXISTS flagservice_screenshots WITH (FORCE)"
postgres_create_database "$pg_port" flagservice_screenshots
ConnectionStrings__Postgres=$(postgres_connection_string "$pg_port" flagservice_screenshots) \
  SCREENSHOTS_DIR="$PWD/docs/screenshots" ui/e2e/run.sh "$@"
git status --short docs/screenshots
