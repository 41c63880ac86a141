#!/usr/bin/env bash
# Set-up in one command on a fresh Debian 12 machine with Swift 6.3: installs the FFmpeg libraries,
# builds clipkit and clipkit-engine (release; install the two side by side) and runs the main job
# offline: a storyboard of four 5-second generations against the in-process sandbox, joined into
# long.mp4 (no API key, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# A static Swift runtime keeps the launcher's start-up at a few milliseconds.
swift build -c release --static-swift-stdlib
clipkit=.build/release/clipkit
$clipkit chain samples/storyboard.json --provider sandbox -o long.mp4
$clipkit probe long.mp4
echo "seams: long.mp4.work/seams.png, report: long.mp4.work/chain-report.json"
