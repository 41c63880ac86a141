#!/usr/bin/env bash
# Regenerates the sample clips in samples/: small real MP4s shaped like the clips Wan 2.2 / 2.5
# providers deliver. Needs ffmpeg with libx264. The clips are committed; run this only to remake them.
set -euo pipefail
cd "$(dirname "$0")"

# BT.709-tagged H.264 like the providers' MP4s, with the moov atom at the front.
h264=(-c:v libx264 -preset medium -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc bt709
      -color_range tv -movflags +faststart -map_metadata -1 -fflags +bitexact -y)
scene() { # scene W H FPS SECONDS: a moving test pattern with a frame counter, converted with the BT.709 matrix
    echo "testsrc2=size=$1x$2:rate=$3:duration=$4,scale=out_color_matrix=bt709:out_range=tv"
}

# DashScope wan2.2 t2v/i2v 480P: 832×480, 30 fps, 5 s = 150 frames, no audio.
ffmpeg -v error -f lavfi -i "$(scene 832 480 30 5)" "${h264[@]}" -crf 30 wan22-t2v-480p-832x480-30fps.mp4
# The open Wan2.2 A14B model: portrait 480×832, 16 fps, 81 frames (4n+1).
ffmpeg -v error -f lavfi -i "$(scene 480 832 16 5.0625)" "${h264[@]}" -crf 30 -frames:v 81 wan22-a14b-480x832-16fps.mp4
# wan2.5 720P with audio on: 1280×720, 24 fps, 5 s, AAC stereo 48 kHz.
ffmpeg -v error -f lavfi -i "$(scene 1280 720 24 5)" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=5" \
    -ac 2 -c:a aac -b:a 96k "${h264[@]}" -crf 32 wan25-720p-1280x720-24fps-audio.mp4
# 1080P: 1920×1080, 30 fps, 5 s.
ffmpeg -v error -f lavfi -i "$(scene 1920 1080 30 5)" "${h264[@]}" -crf 34 wan22-1080p-1920x1080-30fps.mp4

du -ch ./*.mp4 | tail -1
