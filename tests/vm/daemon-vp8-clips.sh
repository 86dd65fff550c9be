#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 5
# VP8 through the device end to end: GStreamer's v4l2slvp8dec decodes libvpx clips through
# daedalus-v4l2 and daedalus-v4l2d; every frame must equal FFmpeg's libvpx software decode.
# Hidden alt-ref frames, an odd size, four token partitions, resolution changes at keyframes.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start
check_clips "--clip vp8-altref-odd" "--clip vp8-reschange"
daemon_alive
daemon_stop
media_finish daemon-vp8-clips
