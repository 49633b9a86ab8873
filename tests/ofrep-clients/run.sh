#!/usr/bin/env bash
# Runs the OFREP client suite (Node's test runner; its summary ends with "# pass N" / "# fail N").
# With FLAGSERVICE_URL set it runs against that service. Otherwise it starts FlagService on a free
# local port against ConnectionStrings__Postgres (e.g. the cluster scripts/test.sh starts), and stops
# it afterwards: the published build in FLAGSERVICE_PUBLISHED when set (scripts/test.sh), else the
# Release build, built here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"
npm ci --no-audit --no-fund --loglevel=error

if [ -n "${FLAGSERVICE_URL:-}" ]; then
  exec npm test
fi

: "${ConnectionStrings__Postgres:?set FLAGSERVICE_URL, or ConnectionStrings__Postgres so that the service can be started here}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
if [ -n "${FLAGSERVICE_PUBLISHED:-}" ]; then
  service_command=("$FLAGSERVICE_PUBLISHED/FlagService")
else
  dotnet build "$root/FlagService.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
  service_command=(dotnet "$root/bin/Release/net10.0/FlagService.dll")
fi
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
log=$(mktemp)
Jwt__Secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n') ASPNETCORE_URLS="http://127.0.0.1:$port" \
  "${service_command[@]}" >"$log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; rm -f "$log"' EXIT

export FLAGSERVICE_URL="http://127.0.0.1:$port"
if ! node -e "
  const deadline = Date.now() + 60000;
  (async () => {
    while (Date.now() < deadline) {
      try { if ((await fetch(process.env.FLAGSERVICE_URL + '/health')).ok) process.exit(0); } catch {}
      await new Promise((r) => setTimeout(r, 250));
    }
    process.exit(1);
  })();"; then
  echo "FlagService did not become healthy on $FLAGSERVICE_URL; its log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi

status=0
npm test || status=$?
if [ "$status" != 0 ]; then
  echo "--- last lines of the FlagService log ---" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"
