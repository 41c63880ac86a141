#!/usr/bin/env bash
# Set-up in one command on a fresh Debian 12 machine with Swift 6.3: installs the FFmpeg libraries,
# builds clipkit (release) and runs the main job on the bundled samples (no API key, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
clipkit=.build/release/clipkit
echo "== clipkit probe samples/*.mp4"
$clipkit probe samples/*.mp4
echo "== clipkit verify (the 720P wan2.5 sample, billed 5 s with audio)"
$clipkit verify samples/wan25-720p-1280x720-24fps-audio.mp4 --tier 720P --duration 5 --fps 24 --audio yes
echo "== clipkit frame --last (the exact last frame, the next clip's first frame)"
$clipkit frame samples/wan22-t2v-480p-832x480-30fps.mp4 -o last-frame.png --force
