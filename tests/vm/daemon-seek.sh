#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 15
# Seeking: GStreamer plays a WebM clip, and after a few frames seeks (flushing, to the
# keyframe before 1.2 s). The decoder does STREAMOFF/STREAMON with jobs possibly in flight;
# every frame it outputs must match libvpx, and every frame from the keyframe on must come.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start
check_clips "--clip vp9-altref-odd --seek 8:1.2" "--clip vp8-altref-odd --seek 8:1.2"
daemon_alive
daemon_stop
media_finish daemon-seek
