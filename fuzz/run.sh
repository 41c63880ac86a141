#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of ClipKitMP4's readers of untrusted bytes:
# the MP4 index reader, the file sniffer, the H.264/HEVC parameter-set parsers and the AAC
# configuration reader, and the SEI and H.264 slice-header readers (Sources/ClipKitMP4/FuzzEntry.swift).
# Pure Swift: no FFmpeg is linked.
#
#   fuzz/run.sh SECONDS [libFuzzer flags…]     e.g. fuzz/run.sh 3600 -jobs=2 -workers=2
#
# Builds in its own scratch path (.build-fuzz), starts from fuzz/seeds and keeps what it learns in
# .build-fuzz/corpus (both git-ignored but the seeds). A crash, hang (-timeout), leak or memory blow-up
# (-rss_limit_mb) stops it with a non-zero exit and the input in .build-fuzz/artifacts/; replay one
# with `swift run ClipKitFuzz FILE` and make it a regression test in Tests/ClipKitMP4Tests/FuzzRegressionTests.swift.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS [libFuzzer flags…]}
shift

scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" --product ClipKitFuzz \
    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING 2>&1 \
    | grep -v "Cannot export local symbol" >&2
mkdir -p "$scratch/corpus" "$scratch/artifacts"

# libFuzzer reports the crash itself; Swift's backtracer would only slow that down.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# The dictionary gives it the box types and the edge values of the fields the reader checks; the
# value profile rewards getting closer to a compared value (large counts, time scales, sizes).
exec "$scratch/release/ClipKitFuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -dict=fuzz/mp4.dict -use_value_profile=1 \
    -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 "$@" "$scratch/corpus" fuzz/seeds
