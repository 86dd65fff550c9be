#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 20
# VP9 through the device end to end: GStreamer's v4l2slvp9dec decodes libvpx clips through
# daedalus-v4l2 and daedalus-v4l2d; every frame must equal FFmpeg's libvpx software decode.
# Hidden alt-refs shown later (show_existing_frame), an odd size, four tile columns, and
# resolution changes at keyframes. (10-bit profile 2: daemon-vp9-10bit.sh.)
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start
check_clips "--clip vp9-altref-odd" "--clip vp9-tiles" "--clip vp9-reschange"
daemon_alive
daemon_stop
# the tile columns decoded by three threads inside the stream (--threads)
daemon_start --threads 3
check_clip --clip vp9-tiles
grep -q "VP9 1024x192 .*threads 3" "$DAEMON_LOG" ||
	{ echo "FAIL the daemon did not use 3 threads"; failures=$((failures + 1)); }
daemon_stop
media_finish daemon-vp9-clips
