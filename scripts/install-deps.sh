#!/usr/bin/env bash
# Installs the Debian packages ClipKit builds and tests with (FFmpeg 5.1 libraries, ffmpeg/ffprobe
# as test oracles, Chromium to render the audit's HTML report in a test, PostgreSQL's server programs,
# from which the ledger tests start a private cluster of their own), and schemathesis from PyPI in
# .tools/schemathesis, which a server test runs against the served OpenAPI document. Needs root or sudo.
set -euo pipefail
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    pkg-config libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev \
    ffmpeg chromium fonts-dejavu-core postgresql python3-venv >/dev/null
cd "$(dirname "$0")/.."
if [ ! -x .tools/schemathesis/bin/st ]; then
    /usr/bin/python3 -m venv .tools/schemathesis
    .tools/schemathesis/bin/pip install -q --disable-pip-version-check schemathesis==4.32.5
fi
