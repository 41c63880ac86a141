#!/usr/bin/env bash
# Audit throughput: clips per second over PAIRS clip+record pairs (default 2,000), with and without
# --deep. Builds clipkit in release, makes the pairs in a temporary folder (hard links of the sample
# clips, one DashScope query response and one bill line per clip), and times `clipkit audit` with
# hyperfine. Goal: ≥ 500 clips/s without --deep on a 2-core machine.
#
#   bench/audit.sh                      # 2,000 pairs, 5 runs without --deep, 1 run with it
#   PAIRS=500 DEEP_RUNS=3 bench/audit.sh
#   BUILD_DIR=.build-bench bench/audit.sh   # build somewhere other than .build
#   CLIPKIT=/path/to/clipkit bench/audit.sh # time an existing binary, build nothing
#   DEEP=0 bench/audit.sh                   # skip --deep (about 5 minutes for 2,000 pairs on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pairs=${PAIRS:-2000}
runs=${RUNS:-5}
deep_runs=${DEEP_RUNS:-1}
build_dir=${BUILD_DIR:-.build}

command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
if [ -n "${CLIPKIT:-}" ]; then
    clipkit=$CLIPKIT
else
    # Both binaries: clipkit execs clipkit-engine for the audit.
    swift build -c release --scratch-path "$build_dir" >&2
    clipkit="$root/$build_dir/release/clipkit"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/clipkit-audit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/clips" "$work/records"

# Sample clip → the model, tier, SR and price (CNY for 5 s) it is billed as.
samples=(
    "wan22-t2v-480p-832x480-30fps.mp4 wan2.2-t2v-plus 480P 480 0.70"
    "wan22-a14b-480x832-16fps.mp4 wan2.2-i2v-plus 480P 480 0.70"
    "wan25-720p-1280x720-24fps-audio.mp4 wan2.5-i2v-preview 720P 720 3.00"
    "wan22-1080p-1920x1080-30fps.mp4 wan2.2-i2v-flash 1080P 1080 2.40"
)
bill="$work/records/bill.csv"
queries="$work/records/tasks.jsonl"
echo "task_id,model,resolution,billed_seconds,amount,currency" > "$bill"
: > "$queries"
for ((i = 0; i < pairs; i++)); do
    read -r file model tier sr amount <<< "${samples[i % 4]}"
    id=$(printf "%08x-0000-4000-8000-%012x" "$i" "$i")
    ln "samples/$file" "$work/clips/$id.mp4" 2>/dev/null || cp "samples/$file" "$work/clips/$id.mp4"
    echo "$id,$model,$tier,5,$amount,CNY" >> "$bill"
    printf '{"request_id":"r-%s","output":{"task_id":"%s","task_status":"SUCCEEDED","video_url":"https://example.invalid/%s.mp4?Expires=1"},"usage":{"video_duration":5,"video_count":1,"SR":%s,"video_ratio":"16:9"}}\n' \
        "$i" "$id" "$id" "$sr" >> "$queries"
done
echo "bench: $pairs clip+record pairs in $work ($(du -sh "$work/records" | cut -f1) of records)" >&2

audit=("$clipkit" audit --records "$work/records" --clips "$work/clips" --format json)
# Every pair is as billed, so the audit exits 0; -i keeps hyperfine going if that ever changes.
hyperfine -i --warmup 1 --runs "$runs" --export-csv "$work/fast.csv" --command-name "audit ($pairs pairs)" \
    "${audit[*]} > /dev/null"
if [ "${DEEP:-1}" != 0 ]; then
    hyperfine -i --runs "$deep_runs" --export-csv "$work/deep.csv" --command-name "audit --deep ($pairs pairs)" \
        "${audit[*]} --deep > /dev/null"
fi

rate() { awk -F, -v n="$pairs" 'NR == 2 { printf "%.0f clips/s (mean %.3f s)", n / $2, $2 }' "$1"; }
echo
echo "audit without --deep: $(rate "$work/fast.csv")  [goal ≥ 500 clips/s]"
[ -f "$work/deep.csv" ] && echo "audit with --deep:    $(rate "$work/deep.csv")"
echo "verdict:              $("${audit[@]}" 2>&1 >/dev/null | tail -1 || true)"
