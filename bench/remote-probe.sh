#!/usr/bin/env bash
# Remote probe of COUNT clip URLs (the samples, repeated) on a loopback HTTP server with Range:
# `clipkit probe URL…` (one batch: Range requests for the head, the moov, the first picture's start)
# against `ffprobe -v error -show_format -show_streams URL` per file on the first FFPROBE_COUNT URLs.
# Prints requests and bytes per clip (counted by the server) and the per-clip time ratio; then one
# clip, one process each, with hyperfine.
#   bench/remote-probe.sh [COUNT] [FFPROBE_COUNT]      (default: 1000 and 50)
#   CONFIG=debug bench/remote-probe.sh                  (the debug build: no release build needed)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000}
FFPROBE_COUNT=${2:-50}
CONFIG=${CONFIG:-release}
for product in clipkit clipkit-engine ClipKitRemoteBench; do swift build -c "$CONFIG" --product "$product" >&2; done
BIN=.build/$CONFIG
echo "build: $CONFIG; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
work=$(mktemp -d)
samples=(samples/wan*.mp4)
"$BIN/ClipKitRemoteBench" "$COUNT" "${samples[@]}" > "$work/base" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/base" ] && break; sleep 0.1; done
base=$(head -1 "$work/base")
for i in $(seq 0 $((COUNT - 1))); do printf '%s/clips/clip-%05d.mp4?X-Amz-Signature=bench%d\n' "$base" "$i" "$i"; done > "$work/urls"
bytes_served=0
for i in $(seq 0 $((COUNT - 1))); do bytes_served=$((bytes_served + $(stat -c %s "${samples[i % ${#samples[@]}]}"))); done

now() { date +%s.%N; }
stats() { curl -s "$base/_stats"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

curl -s -X POST "$base/_reset"
start=$(now)
xargs -a "$work/urls" "$BIN/clipkit" probe --format jsonl > "$work/clipkit.jsonl"
clipkit_seconds=$(python3 -c "print($(now) - $start)")
clipkit_stats=$(stats)
errors=$(python3 -c "import json,sys; print(sum(json.loads(l)['error'] is not None for l in open(sys.argv[1])))" "$work/clipkit.jsonl")
probed=$(wc -l < "$work/clipkit.jsonl")

# The same answer as a local probe of the same file (path aside).
"$BIN/clipkit" probe --format jsonl "${samples[@]}" > "$work/local.jsonl"
mismatches=$(python3 - "$work/clipkit.jsonl" "$work/local.jsonl" "${#samples[@]}" <<'PY'
import json, sys
remote = [json.loads(l) for l in open(sys.argv[1])]
local = [json.loads(l) for l in open(sys.argv[2])]
bad = 0
for i, r in enumerate(remote):
    expected = dict(local[i % int(sys.argv[3])]); expected["path"] = r["path"]
    bad += r != expected
print(bad)
PY
)

head -n "$FFPROBE_COUNT" "$work/urls" > "$work/ffprobe-urls"
curl -s -X POST "$base/_reset"
start=$(now)
while read -r url; do ffprobe -v error -show_format -show_streams "$url" > /dev/null; done < "$work/ffprobe-urls"
ffprobe_seconds=$(python3 -c "print($(now) - $start)")
ffprobe_stats=$(stats)

python3 - "$COUNT" "$FFPROBE_COUNT" "$clipkit_seconds" "$ffprobe_seconds" "$bytes_served" "$clipkit_stats" "$ffprobe_stats" \
         "$errors" "$probed" "$mismatches" <<'PY'
import json, sys
count, ff_count = int(sys.argv[1]), int(sys.argv[2])
ck_s, ff_s, served = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ck, ff = json.loads(sys.argv[6]), json.loads(sys.argv[7])
errors, probed, mismatches = sys.argv[8], sys.argv[9], sys.argv[10]
per_file = served / count
print(f"clipkit probe, {count} URLs in one batch: {ck_s:.2f} s, {ck_s / count * 1000:.2f} ms per clip; "
      f"{probed.strip()} answers, {errors} errors, {mismatches} differing from the local probe")
print(f"  requests per clip {ck['requests'] / count:.2f}, bytes per clip {ck['bytes'] / count:.0f} "
      f"({100 * ck['bytes'] / served:.2f}% of the files), at most {ck['maxInFlight']} requests at once")
print(f"ffprobe over HTTP, {ff_count} URLs one by one: {ff_s:.2f} s, {ff_s / ff_count * 1000:.1f} ms per clip; "
      f"requests per clip {ff['requests'] / ff_count:.2f}, bytes per clip {ff['bytes'] / ff_count:.0f} "
      f"({100 * ff['bytes'] / (per_file * ff_count):.1f}% of the files)")
print(f"per-clip time ratio (ffprobe / clipkit): {(ff_s / ff_count) / (ck_s / count):.1f}x (goal >= 20x)")
PY

one=$(head -1 "$work/urls")
hyperfine -N --warmup 3 --runs 30 --export-json "$work/one.json" \
    -n "clipkit probe (one URL)" "$BIN/clipkit probe $one" \
    -n "ffprobe (one URL)" "ffprobe -v error -show_format -show_streams $one" >&2
python3 - "$work/one.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(f"one URL, one process each: clipkit {r[0]['mean'] * 1000:.1f} ms, ffprobe {r[1]['mean'] * 1000:.1f} ms, "
      f"ratio {r[1]['mean'] / r[0]['mean']:.1f}x")
PY
