#!/usr/bin/env bash
# In-process cost of one probe: ClipKitMP4's pure-Swift index reader vs FFmpeg's mov demuxer, on the
# same clip in one process (no start-up cost on either side). Prints both and the ratio.
#   bench/probe-cost.sh [CLIP] [RUNS]      (default: the 720p sample with audio, 200 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ClipKitProbeBench >&2
.build/release/ClipKitProbeBench "$@"
