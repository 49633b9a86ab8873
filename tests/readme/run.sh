#!/usr/bin/env bash
# Runs the README as a user would: its shell blocks in order, in a fresh shell, against FlagService
# started here on a free port over ConnectionStrings__Postgres (which should name a fresh database),
# checking every output the README shows (readme_test.py). Runs the published build in
# FLAGSERVICE_PUBLISHED when set (scripts/test.sh), else the Release build, built here. Prints TAP.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${ConnectionStrings__Postgres:?set ConnectionStrings__Postgres to a fresh database}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
if [ -n "${FLAGSERVICE_PUBLISHED:-}" ]; then
  service_dir=$FLAGSERVICE_PUBLISHED service_command=("$FLAGSERVICE_PUBLISHED/FlagService")
else
  dotnet build "$root/FlagService.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
  service_dir=$root service_command=(dotnet bin/Release/net10.0/FlagService.dll)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
log=$(mktemp)
# As scripts/run.sh runs it (Development), on another port.
(cd "$service_dir" && ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$url" exec "${service_command[@]}") >"$log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 240); do
  curl -fsS "$url/health" >/dev/null 2>&1 && break
  kill -0 "$service" 2>/dev/null || break
  sleep 0.25
done
if ! curl -fsS "$url/health" >/dev/null 2>&1; then
  echo "FlagService did not become healthy on $url; its log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
status=0
python3 "$root/tests/readme/readme_test.py" "$root/README.md" "$url" || status=$?
if [ "$status" != 0 ]; then
  echo "# --- last lines of the FlagService log ---"
  tail -n 20 "$log" | sed 's/^/# /'
fi
exit "$status"
