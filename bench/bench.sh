#!/usr/bin/env bash
# ClipKit media benchmarks against ffprobe/ffmpeg, measured together in one hyperfine session each.
# Builds release, makes its inputs under bench/out/, prints each ratio (ClipKit time / ffmpeg tool time).
# Usage: bench/bench.sh [SECTION…]  (needs hyperfine, ffmpeg, ffprobe, python3)
#   sections: probe batch verify last-frame concat (default: all); probe, batch and verify need only
#   the launcher, so they build only it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out/batch"
sections=" ${*:-probe batch verify last-frame concat} "
want() { [[ "$sections" == *" $1 "* ]]; }

if want last-frame || want concat; then
    swift build -c release --static-swift-stdlib >&2
else
    swift build -c release --static-swift-stdlib --product clipkit >&2
fi
clipkit="$PWD/.build/release/clipkit"
sample="$PWD/samples/wan22-t2v-480p-832x480-30fps.mp4"

# A 1080p 30 fps 5 s clip encoded as a single GOP (B-frames on): the worst case for a last frame.
onegop="$out/onegop-1080p30.mp4"
want last-frame && [ ! -f "$onegop" ] && ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=5 \
    -c:v libx264 -preset veryfast -g 1000 -pix_fmt yuv420p "$onegop"
# 500 provider-shaped clips (hard links: the files are identical, the page cache is warm for both tools).
for i in $(seq 1 500); do ln -f "$sample" "$out/batch/clip$i.mp4"; done

ratio() { # ratio NAME JSON: mean of command 0 / mean of command 1
    python3 - "$1" "$2" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))["results"]
a, b = r[0]["mean"], r[1]["mean"]
print(f"{name}: clipkit {a*1000:.1f} ms, reference {b*1000:.1f} ms, ratio {a/b:.3f} ({b/a:.1f}x faster)")
PY
}

want probe && hyperfine -N --warmup 3 --runs 30 --export-json "$out/probe.json" \
    "$clipkit probe --format json $sample" \
    "ffprobe -v error -show_streams -show_format $sample"

want batch && hyperfine --warmup 1 --runs 3 --export-json "$out/batch.json" \
    -n "clipkit probe (500 files)" "$clipkit probe --format jsonl $out/batch/clip*.mp4 > /dev/null" \
    -n "ffprobe loop (500 files)" "for f in $out/batch/clip*.mp4; do ffprobe -v error -show_streams -show_format \$f; done > /dev/null"

# verify, the per-clip pipeline step, against the ffprobe call that reads the same four properties
# (size, rate, video duration, whether there is audio); the launcher answers it without FFmpeg.
want verify && hyperfine -N --warmup 10 --runs 100 --export-json "$out/verify.json" \
    -n "clipkit verify" "$clipkit verify $sample --tier 480P --duration 5 --fps 30 --audio no" \
    -n "ffprobe (the same properties)" "ffprobe -v error -show_entries stream=codec_type,width,height,avg_frame_rate,duration -of json $sample"

want last-frame && hyperfine -N --warmup 2 --runs 15 --export-json "$out/last-frame.json" \
    "$clipkit frame $onegop -o $out/last-clipkit.png --force" \
    "ffmpeg -v error -y -sseof -1 -i $onegop -update 1 $out/last-ffmpeg.png"


# --- concat: 12 × 5 s 1080p30 clips from one encoder (compatible, so packets can be copied) ---
if want concat; then
mkdir -p "$out/concat"
list="$out/concat/list.txt"; : > "$list"; clips=()
for i in $(seq 0 11); do
    clip="$out/concat/clip$i.mp4"
    # Each clip starts with the previous clip's last picture, as a chained i2v clip does.
    [ -f "$clip" ] || ffmpeg -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=62" \
        -vf "select=between(n\,$((i * 149))\,$((i * 149 + 149))),setpts=N/FRAME_RATE/TB" -frames:v 150 \
        -c:v libx264 -preset veryfast -pix_fmt yuv420p "$clip"
    echo "file '$PWD/$clip'" >> "$list"; clips+=("$PWD/$clip")
done
hyperfine -N --warmup 1 --runs 10 --export-json "$out/concat-copy.json" \
    -n "clipkit concat (copy)" "$clipkit concat ${clips[*]} -o $out/concat-clipkit.mp4 --force" \
    -n "ffmpeg concat demuxer -c copy" "ffmpeg -v error -y -f concat -safe 0 -i $list -c copy $out/concat-ffmpeg.mp4"

# Seam-dropping re-encode: drop each following clip's first frame, libx264 veryfast CRF 14 on both sides.
inputs=""; chain=""
for i in $(seq 0 11); do
    inputs="$inputs -i ${clips[$i]}"
    start=$([ "$i" -eq 0 ] && echo 0 || echo 1)
    chain="$chain[$i:v]trim=start_frame=$start,setpts=PTS-STARTPTS[v$i];"
done
chain="$chain$(for i in $(seq 0 11); do printf "[v$i]"; done)concat=n=12:v=1:a=0[out]"
hyperfine -N --warmup 0 --runs 2 --export-json "$out/concat-reencode.json" \
    -n "clipkit concat --seam drop=always" "$clipkit concat ${clips[*]} -o $out/reencode-clipkit.mp4 --force --seam drop=always" \
    -n "ffmpeg concat filter + trim, libx264" "ffmpeg -v error -y $inputs -filter_complex $chain -map [out] -c:v libx264 -preset veryfast -crf 14 $out/reencode-ffmpeg.mp4"
fi

echo
echo "== ClipKit vs ffprobe/ffmpeg (lower ratio is better) =="
want probe && ratio "probe one file (target <= 0.5)" "$out/probe.json"
want batch && ratio "probe 500 files vs ffprobe loop (target >= 100x faster)" "$out/batch.json"
want verify && ratio "verify one file vs ffprobe of the same properties (target <= 0.1)" "$out/verify.json"
want last-frame && ratio "last frame, 1080p single GOP (target <= 0.35)" "$out/last-frame.json"
want concat && ratio "concat 12 x 5 s 1080p, stream copy (target <= 1.0)" "$out/concat-copy.json"
want concat && ratio "concat 12 x 5 s 1080p, seam-dropping re-encode (target <= 1.0)" "$out/concat-reencode.json"
true
