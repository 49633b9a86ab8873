#!/usr/bin/env bash
# Stops the local PostgreSQL clusters that run.sh, test.sh and bench.sh started.
set -euo pipefail
source "$(dirname "$0")/lib/postgres.sh"
for name in dev test bench; do postgres_stop "$name"; done
