#!/usr/bin/env bash
# Rewrites fuzz/seeds/ from samples/ and the test fixtures (made with ffmpeg by the test support):
# every clip stored without its media data, its avcC/hvcC/esds payloads alone, and its record with
# its first pictures' NAL units (cut to their headers). The test that writes them checks that every
# reader takes each seed without a fault. Written aside and swapped in, so a running fuzzer keeps its seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf fuzz/seeds.new
CLIPKIT_FUZZ_SEEDS="$PWD/fuzz/seeds.new" swift test --filter 'ByteSourceTests/fuzzSeeds'
rm -rf fuzz/seeds.old
[ -d fuzz/seeds ] && mv fuzz/seeds fuzz/seeds.old
mv fuzz/seeds.new fuzz/seeds
rm -rf fuzz/seeds.old
ls fuzz/seeds | wc -l
