#!/bin/bash
# testbed-run: --no-daemon --timeout 1200
# testbed-kernels: normal debug
# AV1 through the device end to end: GStreamer's v4l2slav1dec decodes libaom and SVT-AV1
# clips through daedalus-v4l2 and daedalus-v4l2d (dav1d fed with OBUs rebuilt from the
# controls); every frame must equal FFmpeg's libdav1d software decode, film grain included.
# Hidden alt-refs shown later (show_existing_frame), an odd size, 10-bit (P010), 2x2 and 4x2
# tiles, film grain from both encoders, screen content tools with intra block copy.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start
check_clip --clip av1-aom-odd
check_clip --clip av1-svt-odd
check_clip --clip av1-aom-10bit
check_clip --clip av1-aom-tiles
check_clip --clip av1-svt-tiles
check_clip --clip av1-aom-grain
check_clip --clip av1-svt-10bit-grain
check_clip --clip av1-aom-screen
daemon_alive
daemon_stop
media_finish daemon-av1-clips
