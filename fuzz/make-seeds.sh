#!/usr/bin/env bash
# Rewrites fuzz/seeds/ from samples/ and the test fixtures (made with ffmpeg by the test support):
# every clip stored without its media data, and its avcC/hvcC/esds payloads alone. The test that
# writes them checks that every reader takes each seed without a fault.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf fuzz/seeds
CLIPKIT_FUZZ_SEEDS="$PWD/fuzz/seeds" swift test --filter 'ByteSourceTests/fuzzSeeds'
ls fuzz/seeds | wc -l
