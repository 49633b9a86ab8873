#!/usr/bin/env bash
# Load benchmark of POST /sdk/v1/evaluate: FlagService in Release against a dedicated PostgreSQL,
# next to a bare Kestrel app answering the same route with a fixed body (bench/Ceiling), so that
# the numbers say how much of what this machine can serve is left to FlagService's own work.
# Prints a Markdown table and writes it to bench/latest.md (bench/results.md keeps the history). BENCH_DURATION: seconds per measured
# run (15); BENCH_WARMUP: seconds of load before the first case of each server (20).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

DURATION=${BENCH_DURATION:-15}
WARMUP=3
BENCH_WARMUP=${BENCH_WARMUP:-20}
# BENCH_PG_PORT, BENCH_SERVICE_PORT, BENCH_CEILING_PORT: move them off ports another checkout uses.
PG_PORT=${BENCH_PG_PORT:-55434}
DATABASE=flagservice_bench
SERVICE_URL=http://127.0.0.1:${BENCH_SERVICE_PORT:-5180}
CEILING_URL=http://127.0.0.1:${BENCH_CEILING_PORT:-5181}
FLAGS=20
LARGE_FLAGS=1000

log() { echo "[bench] $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION must be a whole number of seconds, got '$DURATION'"
[[ "$BENCH_WARMUP" =~ ^[1-9][0-9]*$ ]] || die "BENCH_WARMUP must be a whole number of seconds, got '$BENCH_WARMUP'"
command -v python3 >/dev/null || die "python3 is required to create the benchmark data"
command -v curl >/dev/null || die "curl is required"

WORK=$(mktemp -d)
BENCH_START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SERVICE_PID="" CEILING_PID=""

stop_process() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  stop_process "$CEILING_PID"
  stop_process "$SERVICE_PID"
  postgres_stop bench
  rm -rf "$WORK"
}
trap cleanup EXIT

# A port already answering would make the health checks below pass against the wrong process.
for url in "$SERVICE_URL" "$CEILING_URL"; do
  ! curl -s -o /dev/null --max-time 1 "$url" || die "something already listens on $url; stop it first"
done

if ! command -v wrk >/dev/null; then
  log "wrk not found: installing it with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  } || die "could not install wrk (apt-get install wrk failed)"
fi

log "building FlagService (Release: self-contained, trimmed, ReadyToRun) and the ceiling app"
# No compiler server may linger and take CPU while measuring.
# Published as the Dockerfile does: for linux-x64, so self-contained, trimmed and ReadyToRun (FlagService.csproj).
dotnet publish FlagService.csproj -c Release -r linux-x64 -o "$WORK/publish" --disable-build-servers \
  -nologo -v quiet -clp:ErrorsOnly >"$WORK/build.log" 2>&1 ||
  { cat "$WORK/build.log" >&2; die "building FlagService failed"; }
dotnet build bench/Ceiling/Ceiling.csproj -c Release --disable-build-servers -nologo -v quiet -clp:ErrorsOnly >"$WORK/build.log" 2>&1 ||
  { cat "$WORK/build.log" >&2; die "building bench/Ceiling failed"; }

# A fresh database every run: the analytics check below sums everything counted for the project.
postgres_start bench "$PG_PORT"
psql_bench() { PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER_NAME" -v ON_ERROR_STOP=1 -qtA "$@"; }
psql_bench -d postgres -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)"
postgres_create_database "$PG_PORT" "$DATABASE"

# Waits until "$@" succeeds while process $1 is alive; $2 names it and $3 is its log.
wait_until_ready() {
  local pid=$1 name=$2 logfile=$3
  shift 3
  for _ in $(seq 120); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logfile" >&2; die "$name exited during start-up"; }
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -n 20 "$logfile" >&2
  die "$name did not become ready within 60 s"
}

JWT_SECRET_BENCH=$(head -c 36 /dev/urandom | base64)
# The runtime settings the image runs with (Dockerfile).
GC_GEN0_SIZE=$(sed -n 's/^ENV DOTNET_GCgen0size=\([0-9a-fx]*\)$/\1/p' Dockerfile)
[ -n "$GC_GEN0_SIZE" ] || die "the Dockerfile sets no DOTNET_GCgen0size"
start_service() {
  DOTNET_GCgen0size=$GC_GEN0_SIZE ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=$SERVICE_URL \
    ConnectionStrings__Postgres="$(postgres_connection_string "$PG_PORT" "$DATABASE")" \
    Jwt__Secret="$JWT_SECRET_BENCH" \
    Logging__LogLevel__Default=Warning RateLimiting__AuthPermitLimit=1000 \
    "$WORK/publish/FlagService" >>"$WORK/service.log" 2>&1 &
  SERVICE_PID=$!
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_mib() { awk -v k="${2:-VmRSS}:" '$1 == k {printf "%d", $2 / 1024}' "/proc/$1/status"; }

log "starting FlagService on $SERVICE_URL"
start_service
wait_until_ready "$SERVICE_PID" FlagService "$WORK/service.log" curl -fsS "$SERVICE_URL/health"

log "creating a user, 5 projects, 1 080 flags, 1 200 rules and a 10 000-identifier segment"
seeded=$(python3 bench/seed.py "$SERVICE_URL") || die "creating the benchmark data failed"
read -r PLAIN_PROJECT PLAIN_KEY ATTRIBUTE_PROJECT ATTRIBUTE_KEY STAGING_KEY MULTIVARIATE_PROJECT MULTIVARIATE_KEY SEGMENTED_PROJECT SEGMENTED_KEY \
  LARGE_PROJECT LARGE_KEY <<<"$seeded"

evaluate_once() {
  curl -fsS -X POST "$1/sdk/v1/evaluate" -H "X-SDK-Key: $2" -H 'Content-Type: application/json' -d "$3"
}
# The ceiling app sends back a real answer, so both sides move the same bytes.
evaluate_once "$SERVICE_URL" "$PLAIN_KEY" '{"user_id":"user_1"}' >"$WORK/body.json" ||
  die "POST /sdk/v1/evaluate failed on the plain project"
evaluate_once "$SERVICE_URL" "$ATTRIBUTE_KEY" '{"user_id":"user_1","custom_attributes":{"plan":"pro"}}' >/dev/null ||
  die "POST /sdk/v1/evaluate failed on the attribute project"
# Multivariate answers carry string values: the ceiling gets that body for its own run of the case.
evaluate_once "$SERVICE_URL" "$MULTIVARIATE_KEY" '{"user_id":"user_1"}' >"$WORK/multivariate-body.json" ||
  die "POST /sdk/v1/evaluate failed on the multivariate project"
# The 1 000-flag answer (about 90 KB) is the ceiling's body for that case.
evaluate_once "$SERVICE_URL" "$LARGE_KEY" '{"user_id":"user_1"}' >"$WORK/large-body.json" ||
  die "POST /sdk/v1/evaluate failed on the 1 000-flag project"
# Requests sent to the plain and the 1 000-flag project, and how many of wrk's may be served yet uncounted by wrk.
plain_evaluations=1 plain_in_flight=0 large_evaluations=1 large_in_flight=0

# A deploy: the same build restarted on the migrated database, timed from exec to /health/ready.
stop_process "$SERVICE_PID"
started_at=$(now_ms)
start_service
for _ in $(seq 600); do curl -fsS -o /dev/null "$SERVICE_URL/health/ready" 2>/dev/null && break; sleep 0.01; done
STARTUP_MS=$(( $(now_ms) - started_at ))
curl -fsS -o /dev/null "$SERVICE_URL/health/ready" || die "FlagService did not become ready after its restart"
IDLE_RSS=$(rss_mib "$SERVICE_PID")
log "restarted in $STARTUP_MS ms; idle RSS $IDLE_RSS MiB"

declare -a ROWS=()
declare -A RPS=()
OTHER_MAX=0

# Busy clock ticks of the whole machine (user, system, steal: interrupts serve the benchmark's own
# traffic), and of the server under test with its PostgreSQL. The difference, minus wrk's own, is
# CPU taken by unrelated processes, which skews the numbers.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
process_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# PostgreSQL's processes: the postmaster and its children (their exited children's time included).
postgres_ticks() {
  local postmaster pid sum=0
  postmaster=$(head -n 1 "$REPO_ROOT/.data/bench/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  for pid in "$postmaster" $(pgrep -P "$postmaster"); do sum=$((sum + $(process_ticks "$pid"))); done
  echo "$sum"
}
HZ=$(getconf CLK_TCK)
# CPU microseconds per request from clock ticks and a request count.
per_request_us() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN {printf "%.0f", (n > 0 ? t * 1000000 / hz / n : 0)}'; }
# "times" in the same subshell as wrk reports wrk's CPU time as its children's: "0m1.50s 0m0.25s".
children_ticks() { tr ',' '.' <<<"$1" | awk -v hz="$(getconf CLK_TCK)" '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }'; }
field() { sed -E "s/.*[ ]$1=([^ ]+).*/\1/" <<<"$2"; }

# wrk_run URL MODE KEY CONNECTIONS SECONDS: one wrk run; sets RESULT (its BENCH line) and WRK_TICKS.
wrk_run() {
  local url=$1 mode=$2 key=$3 connections=$4 seconds=$5 threads=2 out
  # wrk needs at least one connection per thread.
  [ "$connections" -lt "$threads" ] && threads=$connections
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" -s bench/evaluate.lua "$url" -- "$mode" "$key" 2>&1 && times) ||
    { echo "$out" >&2; die "wrk failed"; }
  RESULT=$(grep '^BENCH ' <<<"$out") || { echo "$out" >&2; die "wrk printed no result line"; }
  [ "$(field status_errors "$RESULT")" = 0 ] ||
    { echo "$out" >&2; die "$url ($mode): $(field status_errors "$RESULT") responses were not 2xx"; }
  [ "$(field socket_errors "$RESULT")" = 0 ] || log "warning: $(field socket_errors "$RESULT") socket errors"
  WRK_TICKS=$(children_ticks "$(tail -n 1 <<<"$out")")
  if [ "$key" = "$PLAIN_KEY" ] && [ "$url" = "$SERVICE_URL" ]; then
    plain_evaluations=$((plain_evaluations + $(field requests "$RESULT")))
    plain_in_flight=$((plain_in_flight + connections))
  fi
  if [ "$key" = "$LARGE_KEY" ] && [ "$url" = "$SERVICE_URL" ]; then
    large_evaluations=$((large_evaluations + $(field requests "$RESULT")))
    large_in_flight=$((large_in_flight + connections))
  fi
}

# Tiered compilation with dynamic PGO takes about 20 s of full load on 2 CPUs to reach its final
# code (half the requests/s before); the 3 s warm-ups of each case alone would measure a cold server.
# The ceiling app has far less code to compile.
warm_up() {
  local half=$(( (BENCH_WARMUP + 1) / 2 ))
  if [ "$1" = "$SERVICE_URL" ]; then
    log "the first 10 s after the restart"
    wrk_run "$1" plain "$PLAIN_KEY" 64 10
    FIRST_10S_RPS=$(field rps "$RESULT")
    log "warming up FlagService: ${BENCH_WARMUP} s plain, ${half} s attribute"
    wrk_run "$1" plain "$PLAIN_KEY" 64 "$BENCH_WARMUP"
    wrk_run "$1" attribute "$ATTRIBUTE_KEY" 64 "$half"
  else
    log "warming up the ceiling app: ${half} s"
    wrk_run "$1" plain "$PLAIN_KEY" 64 "$half"
  fi
}

# run_case LABEL URL PID MODE KEY CONNECTIONS: a warm-up, then the measured run; adds a table row
# with the server's and PostgreSQL's CPU per request and the server's peak RSS during the run.
run_case() {
  local label=$1 url=$2 pid=$3 mode=$4 key=$5 connections=$6 before after own database other requests peak
  log "$label, $connections connection(s): ${WARMUP} s warm-up, ${DURATION} s measured"
  wrk_run "$url" "$mode" "$key" "$connections" "$WARMUP"
  # Writing 5 to clear_refs resets the process's peak RSS (VmHWM) to its current RSS.
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
  read -r -a before <<<"$(machine_ticks)"
  own=$(process_ticks "$pid")
  database=$(postgres_ticks)
  wrk_run "$url" "$mode" "$key" "$connections" "$DURATION"
  read -r -a after <<<"$(machine_ticks)"
  own=$(( $(process_ticks "$pid") - own ))
  database=$(( $(postgres_ticks) - database ))
  peak=$(rss_mib "$pid" VmHWM)
  other=$(( (after[0] - before[0] - own - database - WRK_TICKS) * 100 / (after[1] - before[1]) ))
  [ "$other" -gt "$OTHER_MAX" ] && OTHER_MAX=$other
  [ "$other" -le 10 ] || log "warning: other processes used ${other}% of the CPUs during this run: the numbers are skewed"
  requests=$(field requests "$RESULT")
  RPS["$label/$connections"]=$(field rps "$RESULT")
  ROWS+=("$label|$connections|$(field rps "$RESULT")|$(field p50_ms "$RESULT")|$(field p99_ms "$RESULT")|$(per_request_us "$own" "$requests")|$(per_request_us "$database" "$requests")|$peak")
}

analytics_writes() {
  psql_bench -d "$DATABASE" -c "SELECT COALESCE(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables
    WHERE relname IN ('flag_evaluation_counts', 'evaluation_contexts', 'configuration_versions')"
}
warm_up "$SERVICE_URL"
writes_before=$(analytics_writes)
# Half-way through the measured run: the service's connections to its database.
( sleep $((WARMUP + DURATION / 2)); psql_bench -d "$DATABASE" -c \
    "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DATABASE' AND pid <> pg_backend_pid()" >"$WORK/connections" ) &
run_case "evaluate, plain rules" "$SERVICE_URL" "$SERVICE_PID" plain "$PLAIN_KEY" 64
LOAD_RSS=$(rss_mib "$SERVICE_PID")
curl -fsS "$SERVICE_URL/metrics" >"$WORK/metrics.txt" || true
metric() { awk -v m="$1" 'index($1, m "{") == 1 || $1 == m {s += $2} END {printf "%d", s / 1048576}' "$WORK/metrics.txt"; }
GC_HEAP=$(metric dotnet_gc_last_collection_heap_size_bytes)
GC_COMMITTED=$(metric dotnet_gc_last_collection_memory_committed_size_bytes)
read -r RSS_ANON RSS_FILE <<<"$(awk '/^Rss:/ {r = $2} /^Anonymous:/ {a = $2} END {printf "%d %d", a / 1024, (r - a) / 1024}' "/proc/$SERVICE_PID/smaps_rollup")"
sleep 2
flushes=$(( (WARMUP + DURATION) * 1000 / 2000 ))
ROWS_PER_FLUSH=$(( ($(analytics_writes) - writes_before) / flushes ))
DB_CONNECTIONS=$(cat "$WORK/connections" 2>/dev/null || echo "?")
run_case "evaluate, plain rules" "$SERVICE_URL" "$SERVICE_PID" plain "$PLAIN_KEY" 1
run_case "evaluate, attribute rules" "$SERVICE_URL" "$SERVICE_PID" attribute "$ATTRIBUTE_KEY" 64
# The same flags and rules, promoted to the plain project's staging environment and evaluated with
# its own key: a non-default environment costs what the default one does.
run_case "evaluate, plain rules, staging environment" "$SERVICE_URL" "$SERVICE_PID" plain "$STAGING_KEY" 64
run_case "evaluate, multivariate (3 variants, a distribution, 3 rules)" "$SERVICE_URL" "$SERVICE_PID" plain "$MULTIVARIATE_KEY" 64
# Each flag: a rule on a 10 000-identifier segment and (but one) a prerequisite. Its answers have
# the plain project's shape and size, so the plain ceiling stands beside it.
run_case "evaluate, segment rule (10 000 ids) + a prerequisite per flag" "$SERVICE_URL" "$SERVICE_PID" plain "$SEGMENTED_KEY" 64
run_case "evaluate, 1 000 flags (50 % rollout + a user-id rule each)" "$SERVICE_URL" "$SERVICE_PID" plain "$LARGE_KEY" 64

# Interleaved rounds: the service and the ceiling (with the same body) take turns, 5 s each, three
# times, so that both see the same machine: on shared machines the ceiling alone moves by a third
# between runs minutes apart. The service's analytics flush of a round ends before the ceiling's turn.
# start_ceiling BODY_FILE: (re)starts the ceiling app answering with that body.
start_ceiling() {
  stop_process "$CEILING_PID"
  CEILING_BODY_FILE="$1" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=$CEILING_URL \
    Logging__LogLevel__Default=Warning \
    dotnet bench/Ceiling/bin/Release/net10.0/Ceiling.dll >"$WORK/ceiling.log" 2>&1 &
  CEILING_PID=$!
  wait_until_ready "$CEILING_PID" "the ceiling app" "$WORK/ceiling.log" evaluate_once "$CEILING_URL" none '{}'
}
declare -a INTERLEAVED=()
# interleave LABEL KEY BODY_FILE: adds "LABEL|service rounds|ceiling rounds|ratios|median ratio".
interleave() {
  local label=$1 key=$2 service=() ceiling=() ratios=() round
  log "$label: 3 interleaved rounds of 5 s beside the ceiling"
  start_ceiling "$3"
  wrk_run "$CEILING_URL" plain "$PLAIN_KEY" 64 $(( (BENCH_WARMUP + 1) / 2 ))
  for round in 1 2 3; do
    wrk_run "$SERVICE_URL" plain "$key" 64 5
    service+=("$(field rps "$RESULT")")
    sleep 3
    wrk_run "$CEILING_URL" plain "$PLAIN_KEY" 64 5
    ceiling+=("$(field rps "$RESULT")")
    ratios+=("$(awk -v a="${service[-1]}" -v b="${ceiling[-1]}" 'BEGIN {printf "%.2f", a / b}')")
  done
  stop_process "$CEILING_PID"
  CEILING_PID=""
  INTERLEAVED+=("$label|$(printf '%.0f ' "${service[@]}")|$(printf '%.0f ' "${ceiling[@]}")|${ratios[*]}|$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 2p)")
}
interleave "evaluate, plain rules (20 flags × 3 rules)" "$PLAIN_KEY" "$WORK/body.json"
interleave "evaluate, 1 000 flags (50 % rollout + a user-id rule each)" "$LARGE_KEY" "$WORK/large-body.json"

# Throughput must not depend on the size of the analytics tables: grow each by a million rows
# (identifiers of the plain project, and minutes long past of its flags), then run the plain case again.
log "growing each analytics table by 1 000 000 rows"
psql_bench -d "$DATABASE" -c "INSERT INTO configuration_versions (environment_id, version, ruleset)
  SELECT e.id, 'grown', '{}' FROM environments e WHERE e.project_id = '$PLAIN_PROJECT' AND e.is_default" >/dev/null
psql_bench -d "$DATABASE" -c "INSERT INTO evaluation_contexts (environment_id, identifier, flag_id, version, context, evaluated_at)
  SELECT e.id, 'grown_' || i, '00000000-0000-0000-0000-000000000000', 'grown', '{\"user_id\": \"grown\"}', now()
    FROM environments e, generate_series(1, 1000000) i
   WHERE e.project_id = '$PLAIN_PROJECT' AND e.is_default" >/dev/null
psql_bench -d "$DATABASE" -c "INSERT INTO flag_evaluation_counts (environment_id, flag_id, minute, reason, variant, count)
  SELECT e.id, f.id, date_trunc('minute', timestamptz '$BENCH_START') - make_interval(mins => m), 'rollout', 'on', 1
    FROM feature_flags f JOIN environments e ON e.project_id = f.project_id AND e.is_default,
         generate_series(1, 1000000 / $FLAGS) m WHERE f.project_id = '$PLAIN_PROJECT'" >/dev/null
# Settle what the bulk insert left behind (vacuum, statistics, dirty pages), so that the run
# measures the grown tables rather than PostgreSQL's one-off housekeeping after the insert.
psql_bench -d "$DATABASE" -c "VACUUM ANALYZE evaluation_contexts, flag_evaluation_counts" >/dev/null
psql_bench -d "$DATABASE" -c "CHECKPOINT" >/dev/null
sleep 5
run_case "evaluate, plain rules, analytics tables +1M rows each" "$SERVICE_URL" "$SERVICE_PID" plain "$PLAIN_KEY" 64

kill -0 "$SERVICE_PID" 2>/dev/null || { tail -n 20 "$WORK/service.log" >&2; die "FlagService died during the runs"; }

# Analytics are flushed every 2 s off the request path; wait for the counts to catch up.
# counted_since PROJECT EXPECTED: the evaluations counted for the project's default environment
# since the benchmark started, waiting up to 10 s for them to reach EXPECTED.
counted_since() {
  local counted=0
  for _ in $(seq 10); do
    counted=$(psql_bench -d "$DATABASE" -c "SELECT COALESCE(sum(c.count), 0) FROM flag_evaluation_counts c
      JOIN environments e ON e.id = c.environment_id AND e.is_default
     WHERE e.project_id = '$1' AND c.minute >= date_trunc('minute', timestamptz '$BENCH_START')")
    [ "$counted" -ge "$2" ] && break
    sleep 1
  done
  echo "$counted"
}
expected=$((plain_evaluations * FLAGS))
sleep 3
counted=$(counted_since "$PLAIN_PROJECT" "$expected")
large_expected=$((large_evaluations * LARGE_FLAGS))
large_counted=$(counted_since "$LARGE_PROJECT" "$large_expected")
large_identifiers=$(psql_bench -d "$DATABASE" -c "SELECT count(*) FROM evaluation_contexts c
    JOIN environments e ON e.id = c.environment_id AND e.is_default WHERE e.project_id = '$LARGE_PROJECT'")
analytics_warnings=$(grep -c AnalyticsFlusher "$WORK/service.log" || true)
# PostgreSQL once the load has ended: its CPU over 5 quiet seconds.
quiet_before=$(postgres_ticks); sleep 5
POSTGRES_AFTER_LOAD=$(awk -v t="$(( $(postgres_ticks) - quiet_before ))" -v hz="$HZ" 'BEGIN {printf "%.1f", t * 100 / hz / 5}')

# The ceiling runs alone, so that the service's background work does not slow it down.
stop_process "$SERVICE_PID"
SERVICE_PID=""

log "starting the ceiling app on $CEILING_URL"
start_ceiling "$WORK/body.json"
warm_up "$CEILING_URL"
run_case "ceiling (Kestrel, fixed body)" "$CEILING_URL" "$CEILING_PID" plain "$PLAIN_KEY" 64
run_case "ceiling (Kestrel, fixed body)" "$CEILING_URL" "$CEILING_PID" plain "$PLAIN_KEY" 1

# Again with the multivariate and the 1 000-flag answers as bodies, for those cases' ratios.
start_ceiling "$WORK/multivariate-body.json"
wrk_run "$CEILING_URL" plain "$PLAIN_KEY" 64 5
run_case "ceiling (Kestrel, multivariate body)" "$CEILING_URL" "$CEILING_PID" plain "$PLAIN_KEY" 64
start_ceiling "$WORK/large-body.json"
wrk_run "$CEILING_URL" plain "$PLAIN_KEY" 64 5
run_case "ceiling (Kestrel, 1 000-flag body)" "$CEILING_URL" "$CEILING_PID" plain "$PLAIN_KEY" 64

ratio() {
  local ceiling=${RPS["ceiling (Kestrel, fixed body)/$2"]:-}
  [[ "$1" == *multivariate* ]] && ceiling=${RPS["ceiling (Kestrel, multivariate body)/$2"]:-}
  [[ "$1" == *"1 000 flags"* ]] && ceiling=${RPS["ceiling (Kestrel, 1 000-flag body)/$2"]:-}
  [[ "$1" == evaluate* && -n "$ceiling" ]] && awk -v a="${RPS["$1/$2"]}" -v b="$ceiling" 'BEGIN {printf "%.2f", a / b}' || echo "—"
}

aspnet=$(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App 10\./ {v = $2} END {print v}')
{
  echo "# FlagService evaluate benchmark"
  echo
  echo "\`scripts/bench.sh\`, $(date -u +%Y-%m-%d): wrk, ${DURATION} s per run after a ${WARMUP} s warm-up (and ${BENCH_WARMUP} s before the first), 2 threads"
  echo "(1 with a single connection), $FLAGS flags per project with 3 rules each, 10 000 distinct users."
  echo
  echo "| case | connections | requests/s | p50 (ms) | p99 (ms) | requests/s ÷ ceiling | server CPU µs/req | PostgreSQL CPU µs/req | peak RSS (MiB) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r label connections rps p50 p99 cpu database peak <<<"$row"
    [[ "$label" == ceiling* ]] && database="—"
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$label" "$connections" "$rps" "$p50" "$p99" "$(ratio "$label" "$connections")" \
      "$cpu" "$database" "$peak"
  done
  echo
  echo "Interleaved rounds (64 connections, 5 s each, service and ceiling with the same body taking turns):"
  echo
  echo "| case | service requests/s | ceiling requests/s | ratio per round | median ratio |"
  echo "|---|---:|---:|---:|---:|"
  for row in "${INTERLEAVED[@]}"; do
    IFS='|' read -r label service ceiling ratios median <<<"$row"
    printf '| %s | %s | %s | %s | %s |\n' "$label" "${service% }" "${ceiling% }" "$ratios" "$median"
  done
  echo
  echo "- Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, Linux $(uname -r)"
  echo "- .NET: SDK $(dotnet --version), ASP.NET Core runtime $aspnet; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  echo "- FlagService build and settings: self-contained, trimmed, ReadyToRun (as the Dockerfile publishes it), DOTNET_GCgen0size=$GC_GEN0_SIZE (as the image sets it); the ceiling app: a plain Release build on the shared runtime"
  echo "- FlagService memory: idle $IDLE_RSS MiB RSS after a restart; $LOAD_RSS MiB RSS after the plain 64-connection run, of which $RSS_ANON MiB anonymous (GC heap committed $GC_COMMITTED MiB, live heap after the last GC $GC_HEAP MiB) and $RSS_FILE MiB file-backed (code); the table gives each run's peak (VmHWM, reset before it)"
  echo "- Start-up: $STARTUP_MS ms from exec to /health/ready 200 on the migrated database; the first 10 s of load after it: $FIRST_10S_RPS requests/s (steady state: ${RPS["evaluate, plain rules/64"]} requests/s)"
  echo "- Database, plain 64-connection run: $DB_CONNECTIONS connections from the service; $ROWS_PER_FLUSH analytics rows written per 2 s flush (flag_evaluation_counts, evaluation_contexts and configuration_versions inserts and updates); PostgreSQL used ${POSTGRES_AFTER_LOAD}% of a CPU in the 5 s after the last run"
  # wrk counts completed requests only: those in flight when a run stops are served and counted by
  # the service alone, at most one per connection per run.
  slack=$((plain_in_flight * FLAGS))
  verdict="MISMATCH: requests in flight when wrk's runs stop explain 0 to $slack"
  [ $((counted - expected)) -ge 0 ] && [ $((counted - expected)) -le "$slack" ] &&
    verdict="OK: requests in flight when wrk's runs stop explain 0 to $slack"
  echo "- Analytics, plain project's production environment: $expected evaluations (wrk's completed requests × $FLAGS flags)," \
    "$counted counted in flag_evaluation_counts, difference $((counted - expected)) ($verdict)"
  large_slack=$((large_in_flight * LARGE_FLAGS))
  verdict="MISMATCH"
  [ $((large_counted - large_expected)) -ge 0 ] && [ $((large_counted - large_expected)) -le "$large_slack" ] && verdict="OK"
  echo "- Analytics, 1 000-flag project: $large_expected evaluations, $large_counted counted, difference $((large_counted - large_expected))" \
    "($verdict: in-flight requests explain 0 to $large_slack); latest evaluations of $large_identifiers identifiers stored (one row each)"
  if [ "$OTHER_MAX" -le 10 ]; then
    echo "- Other processes used at most ${OTHER_MAX}% of the CPUs during a measured run"
  else
    echo "- **Other processes used up to ${OTHER_MAX}% of the CPUs during a measured run: these numbers are skewed**"
  fi
  [ "$analytics_warnings" = 0 ] || echo "- The service logged $analytics_warnings analytics warnings (write failures or dropped data)"
} | tee bench/latest.md
