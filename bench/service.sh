#!/usr/bin/env bash
# The service under load, on one SQLite ledger: POST /v1/probe and POST /v1/clips from 16 keep-alive
# clients at once (the clip's bytes, then {"url"} on a loopback server), against `clipkit probe FILE` run
# once per file (16 processes at a time), what a pipeline shells out to today; then webhook intake: 200
# signed WaveSpeed deliveries sent at the same moment, latency p50/p99, beside the same burst of GET /healthz
# (no database, no signature): the most this generator can resolve. POST /v1/probe probes and
# verifies; POST /v1/clips also decodes the first and last frames to PNG and records the clip. The clients
# are bench/service_load.py (Python's standard library; its latencies include its own overhead); the bursts
# are bench/Burst (one thread over poll(2), each request timed from its own write: microseconds of its own),
# ROUNDS bursts of 200 over the same connections, every latency pooled.
#   bench/service.sh [REQUESTS] [ROUNDS]   (default 400 per mode, 5 bursts)
#   CONFIG=debug bench/service.sh      (the debug build: no release build needed)
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${1:-400}
ROUNDS=${2:-5}
CONFIG=${CONFIG:-release}
for product in clipkit clipkit-engine ClipKitBurstBench; do swift build -c "$CONFIG" --product "$product" >&2; done
BIN=$PWD/.build/$CONFIG
sample=$PWD/samples/wan22-t2v-480p-832x480-30fps.mp4
echo "build: $CONFIG; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
secret=whsec_$(head -c 24 /dev/urandom | base64)
token=$("$BIN/clipkit" token create --name bench --data "$work/data" 2>/dev/null)
WAVESPEED_WEBHOOK_SECRET=$secret "$BIN/clipkit" serve --listen "127.0.0.1:$port" --data "$work/data" \
    2> "$work/serve.log" &
server=$!
for _ in $(seq 200); do curl -fs "$base/healthz" > /dev/null && break; sleep 0.1; done
curl -fs "$base/healthz" > /dev/null || { echo "clipkit serve did not start:"; cat "$work/serve.log"; exit 1; }

load() { python3 bench/service_load.py "$@"; }
probe_upload=$(load clips "$base" "$token" "$sample" --route /v1/probe --mode upload --requests "$REQUESTS")
probe_url=$(load clips "$base" "$token" "$sample" --route /v1/probe --mode url --requests "$REQUESTS")
upload=$(load clips "$base" "$token" "$sample" --mode upload --requests "$REQUESTS")
by_url=$(load clips "$base" "$token" "$sample" --mode url --requests "$REQUESTS")
hooks=$("$BIN/ClipKitBurstBench" webhooks "$base" "$secret" --deliveries 200 --rounds "$ROUNDS")
floor=$("$BIN/ClipKitBurstBench" floor "$base" --deliveries 200 --rounds "$ROUNDS")

# The reference: one `clipkit probe` process per file, 16 at a time, over as many files.
for i in $(seq 1 "$REQUESTS"); do ln -f "$sample" "$work/clip$i.mp4"; done
start=$(date +%s.%N)
ls "$work"/clip*.mp4 | xargs -n 1 -P 16 "$BIN/clipkit" probe > /dev/null
probe_seconds=$(python3 -c "print($(date +%s.%N) - $start)")

python3 - "$probe_upload" "$probe_url" "$upload" "$by_url" "$hooks" "$floor" "$probe_seconds" "$REQUESTS" <<'PY'
import json, sys
probe_upload, probe_url, upload, by_url, hooks, floor = (json.loads(a) for a in sys.argv[1:7])
probe_rate = int(sys.argv[8]) / float(sys.argv[7])
print(f"{'clipkit probe per file':26} {sys.argv[8]} processes, 16 at a time: {probe_rate:7.1f}/s")
for name, r in (("POST /v1/probe, upload", probe_upload), ("POST /v1/probe, {url}", probe_url),
                ("POST /v1/clips, upload", upload), ("POST /v1/clips, {url}", by_url)):
    print(f"{name:26} {r['requests']} requests, 16 clients: {r['per_second']:7.1f}/s ({r['per_second'] / probe_rate:5.2f}x)"
          f"  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  statuses {r['statuses']}")
print("(x: against clipkit probe per file; goal: 500 probes/s over HTTP)")
print(f"webhooks, bursts of 200 signed deliveries at once, {hooks['requests']} in all: p50 {hooks['p50_ms']:.1f} ms  "
      f"p99 {hooks['p99_ms']:.1f} ms  max {hooks['max_ms']:.1f} ms  {hooks['per_second']:.0f}/s  statuses {hooks['statuses']}"
      "  (goal: p99 <= 20 ms)")
print(f"the floor, the same bursts of GET /healthz (no database, no signature): p50 {floor['p50_ms']:.1f} ms  "
      f"p99 {floor['p99_ms']:.1f} ms  max {floor['max_ms']:.1f} ms (webhook p99 {hooks['p99_ms'] / floor['p99_ms']:.2f}x the floor)")
print(f"the generator's own CPU per burst (mostly the kernel's loopback TCP): {hooks['generator_cpu_ms_per_burst']:.1f} ms "
      f"with webhooks, {floor['generator_cpu_ms_per_burst']:.1f} ms with the floor")
PY
