#!/usr/bin/env bash
# Runs the admin UI's end-to-end suite: Playwright driving Debian's Chromium (/usr/bin/chromium).
# With FLAGSERVICE_URL set it runs against that service (FLAGSERVICE_LOG: its log, for the reset
# link). Otherwise it starts FlagService on a free local port against ConnectionStrings__Postgres,
# and stops it afterwards: the published build in FLAGSERVICE_PUBLISHED when set (scripts/test.sh),
# else the Release build, built here (which builds the UI).
set -euo pipefail
ui=$(cd "$(dirname "$0")/.." && pwd)
root=$(dirname "$ui")
cd "$ui"

if [ -z "${FLAGSERVICE_URL:-}" ]; then
  : "${ConnectionStrings__Postgres:?set FLAGSERVICE_URL, or ConnectionStrings__Postgres so that the service can be started here}"
  export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
  if [ -n "${FLAGSERVICE_PUBLISHED:-}" ]; then
    # Run from its own folder, whose wwwroot/ holds the UI it was published with.
    service_dir=$FLAGSERVICE_PUBLISHED service_command=("$FLAGSERVICE_PUBLISHED/FlagService")
  else
    dotnet build "$root/FlagService.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
    service_dir=$root service_command=(dotnet bin/Release/net10.0/FlagService.dll)
  fi
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  export FLAGSERVICE_URL="http://127.0.0.1:$port" FLAGSERVICE_LOG
  FLAGSERVICE_LOG=$(mktemp)
  # From a folder whose wwwroot/ holds the built UI. Sign-ups of every test come from one address,
  # so the auth rate limit is raised; analytics are flushed often for the chart. Development, so that
  # without SMTP the reset and invitation links are logged, where the tests read them.
  (cd "$service_dir" && ASPNETCORE_ENVIRONMENT=Development Jwt__Secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n') ASPNETCORE_URLS="$FLAGSERVICE_URL" \
    App__PublicUrl="$FLAGSERVICE_URL" Logging__LogLevel__Default=Warning RateLimiting__AuthPermitLimit=1000 Analytics__FlushIntervalMilliseconds=250 \
    exec "${service_command[@]}") >"$FLAGSERVICE_LOG" 2>&1 &
  service=$!
  trap 'kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; rm -f "$FLAGSERVICE_LOG"' EXIT
  for _ in $(seq 240); do
    curl -fsS "$FLAGSERVICE_URL/health" >/dev/null 2>&1 && break
    kill -0 "$service" 2>/dev/null || break
    sleep 0.25
  done
  if ! curl -fsS "$FLAGSERVICE_URL/health" >/dev/null 2>&1; then
    echo "FlagService did not become healthy on $FLAGSERVICE_URL; its log:" >&2
    tail -n 40 "$FLAGSERVICE_LOG" >&2
    exit 1
  fi
fi

status=0
npx playwright test "$@" || status=$?
if [ "$status" != 0 ] && [ -n "${service:-}" ]; then
  echo "--- last lines of the FlagService log ---" >&2
  tail -n 40 "$FLAGSERVICE_LOG" >&2
fi
exit "$status"
