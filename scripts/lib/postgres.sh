# Sourced by run.sh, test.sh and bench.sh: a private PostgreSQL cluster for this checkout, kept under
# .data/ (ignored by git), listening on 127.0.0.1 only, run as a non-root user even when we are root.
# Usage: postgres_start NAME PORT; postgres_stop NAME; postgres_url NAME PORT DATABASE.

PG_USER_NAME=flagservice
PG_PASSWORD=flagservice
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

pg_log() { echo "[postgres] $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else pg_log "need root to run: $*"; return 1
  fi
}

# Installs Debian packages; refreshes the package index first when it is missing or stale (a fresh
# machine has none, so "Unable to locate package").
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
}

pg_find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

pg_ensure_installed() {
  if ! PG_BIN=$(pg_find_bin); then
    pg_log "PostgreSQL not found: installing it with apt-get"
    apt_install postgresql postgresql-contrib
    PG_BIN=$(pg_find_bin) || { pg_log "PostgreSQL is still missing after apt-get install"; return 1; }
  fi
  export PG_BIN
}

# Runs a command as the cluster's owner: ourselves, or the postgres user when we are root.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    # From /, which the postgres user can always enter (the checkout may be under /root).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The data folder is .data/NAME in the repo. As root, when the postgres user cannot reach the repo
# (a clone under /root), the cluster lives under /var/tmp and .data/NAME is a link to it.
pg_data_dir() {
  local name=$1 dir="$REPO_ROOT/.data/$1"
  mkdir -p "$REPO_ROOT/.data"
  if [ "$(id -u)" = 0 ] && [ ! -L "$dir" ]; then
    mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      rmdir "$dir" 2>/dev/null || rm -rf "$dir"
      local outside
      outside="/var/tmp/flagservice-$(echo "$REPO_ROOT" | md5sum | cut -c1-10)/$name"
      mkdir -p "$outside" && chown -R postgres: "$(dirname "$outside")" && chmod 700 "$outside"
      ln -sfn "$outside" "$dir"
    fi
  fi
  mkdir -p "$dir" 2>/dev/null || true
  echo "$dir"
}

postgres_start() {
  local name=$1 port=$2 dir
  pg_ensure_installed
  dir=$(pg_data_dir "$name")
  dir=$(readlink -f "$dir")

  if [ ! -f "$dir/PG_VERSION" ]; then
    pg_log "creating cluster in $dir"
    local pwfile
    pwfile=$(mktemp)
    echo "$PG_PASSWORD" > "$pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
    pg_as_owner "$PG_BIN/initdb" -D "$dir" -U "$PG_USER_NAME" --pwfile="$pwfile" \
      --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
CONF
  fi

  if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    return 0
  fi
  pg_log "starting $name cluster on 127.0.0.1:$port"
  local extra=""
  # The test cluster holds throwaway data: durability only slows it down.
  [ "$name" != dev ] && extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port $extra" start >/dev/null || { tail -n 20 "$dir/server.log" >&2; return 1; }
}

postgres_stop() {
  local name=$1 dir="$REPO_ROOT/.data/$1"
  [ -e "$dir/PG_VERSION" ] || return 0
  pg_ensure_installed
  pg_as_owner "$PG_BIN/pg_ctl" -D "$(readlink -f "$dir")" -m fast -w stop >/dev/null 2>&1 || true
}

postgres_create_database() {
  local port=$1 database=$2
  PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_USER_NAME" -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 ||
  PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_USER_NAME" -d postgres -q \
    -c "CREATE DATABASE \"$database\""
}

postgres_connection_string() {
  echo "Host=127.0.0.1;Port=$1;Username=$PG_USER_NAME;Password=$PG_PASSWORD;Database=$2"
}
