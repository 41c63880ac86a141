#!/usr/bin/env bash
# Regenerates the extra clips in samples/audit/ that the billing-audit samples (samples/records/)
# refer to: each is shaped like one trap a bill can hide. Needs ffmpeg with libx264 and the clips
# made by make-samples.sh. The clips are committed; run this only to remake them.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p audit

h264=(-c:v libx264 -preset medium -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc bt709
      -color_range tv -movflags +faststart -map_metadata -1 -fflags +bitexact -y)
scene() { # scene W H FPS SECONDS
    echo "testsrc2=size=$1x$2:rate=$3:duration=$4,scale=out_color_matrix=bt709:out_range=tv"
}

# Billed 5 s, delivered 4.2 s (126 frames at 30 fps): durationShort. The task id is the file name.
ffmpeg -v error -f lavfi -i "$(scene 832 480 30 4.2)" "${h264[@]}" -crf 40 \
    audit/d4a3f6e5-9e4b-4f88-8d4b-5c0e6f7a8b04.mp4
# Billed as 1080P, delivered 1280×720: tierMismatch. The task id sits inside the file name.
ffmpeg -v error -f lavfi -i "$(scene 1280 720 30 5)" "${h264[@]}" -crf 42 \
    audit/wan-i2v-flash_e5b4a7f6-af5c-4a99-9e5c-6d1f7a8b9c05_1080p.mp4
# What an expired DashScope result URL returns: an object-storage XML error, saved as .mp4: notVideo.
# The file has the URL's name (matched by the output URL, not the task id).
cat > audit/7f0e5b1d-2a3c-4b8e-9d6f-1a2b3c4d5e6f.mp4 <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>AccessDenied</Code>
  <Message>Request has expired.</Message>
  <RequestId>68CB9F4E2A1D3C0031E7B5A2</RequestId>
  <HostId>dashscope-result-bj.oss-cn-beijing.aliyuncs.com</HostId>
  <Expires>2025-09-19T08:20:00.000Z</Expires>
  <ServerTime>2025-09-20T10:02:41.000Z</ServerTime>
  <EC>0002-00000069</EC>
</Error>
XML
# wan2.5 billed with audio requested, delivered silent (1280×720, 24 fps): audioMissing. A ClipKit task
# record (wan25-t2v-3d4e5f6a.task.json) sits beside it.
ffmpeg -v error -f lavfi -i "$(scene 1280 720 24 5)" "${h264[@]}" -crf 42 audit/wan25-t2v-3d4e5f6a.mp4
# A download cut off at 60 %: truncated (the moov index is at the front, the media data is short).
ffmpeg -v error -f lavfi -i "$(scene 832 480 30 5)" "${h264[@]}" -crf 36 /tmp/clipkit-full-$$.mp4
head -c $(( $(stat -c %s /tmp/clipkit-full-$$.mp4) * 6 / 10 )) /tmp/clipkit-full-$$.mp4 \
    > audit/4e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a14.mp4
rm -f /tmp/clipkit-full-$$.mp4
# wan2.2-s2v bills fractional seconds: 10.23 s billed, 307 frames at 30 fps (10.233 s) delivered, with audio.
ffmpeg -v error -f lavfi -i "$(scene 832 480 30 10.2333)" -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=10.2333" \
    -ac 1 -c:a aac -b:a 32k "${h264[@]}" -crf 42 audit/5f6a7b8c-9d0e-4f1a-9b2c-4d5e6f7a8b15.mp4
# Two WaveSpeed predictions (480p): the same bytes as the DashScope 480P sample, so git stores them once.
cp wan22-t2v-480p-832x480-30fps.mp4 audit/9a7c3e1f5b2d4e6f8a0b1c2d3e4f5a07.mp4
cp wan22-t2v-480p-832x480-30fps.mp4 audit/8b6d2f0e4a1c3e5f7a9b0c1d2e3f4a08.mp4

du -ch audit/* | tail -1
