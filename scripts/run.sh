#!/usr/bin/env bash
# Starts FlagService. Without ConnectionStrings__Postgres or DATABASE_URL it creates and starts a
# local PostgreSQL under .data/ first (installing PostgreSQL with apt-get when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [ -z "${ConnectionStrings__Postgres:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
  pg_port=${FLAGSERVICE_PG_PORT:-55432}
  postgres_start dev "$pg_port"
  postgres_create_database "$pg_port" flagservice
  export ConnectionStrings__Postgres
  ConnectionStrings__Postgres=$(postgres_connection_string "$pg_port" flagservice)
  echo "Using the local PostgreSQL on 127.0.0.1:$pg_port (stop it with: scripts/postgres-stop.sh)"
fi

export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
port=${PORT:-8080}
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://localhost:$port}

# The build runs npm for the admin UI (ui/).
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
dotnet build FlagService.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
echo "FlagService is starting on http://localhost:$port  (API reference: http://localhost:$port/docs in Development, OpenAPI: /openapi/v1.json)"
exec dotnet bin/Release/net10.0/FlagService.dll
