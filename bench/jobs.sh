#!/usr/bin/env bash
# Job throughput of the ledger's durable queue: no-op jobs per second (enqueue + claim + complete) on
# SQLite and on PostgreSQL, with 1, 2 and 4 JobWorkers in one process (each running up to CONCURRENCY
# handlers). PostgreSQL is a private cluster the bench starts from Debian's binaries with PostgreSQL's
# durable defaults (fsync, synchronous_commit on), on 127.0.0.1; it is stopped at the end. Goal on a
# 2-core machine: ≥ 1,000 jobs/s on PostgreSQL.
#
#   bench/jobs.sh                              # 20,000 jobs per run, both backends, workers 1,2,4
#   JOBS=5000 WORKERS=1,2,4,8 bench/jobs.sh
#   BACKEND=postgres bench/jobs.sh
#   BUILD_DIR=.build-bench bench/jobs.sh       # build somewhere other than .build
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-.build}
swift build -c release --scratch-path "$build_dir" --product ClipKitBench >&2
"$build_dir/release/ClipKitBench" --jobs "${JOBS:-20000}" --workers "${WORKERS:-1,2,4}" \
    --processes "${PROCESSES:-1,2,4}" --concurrency "${CONCURRENCY:-16}" --producers "${PRODUCERS:-8}" --backend "${BACKEND:-both}"
