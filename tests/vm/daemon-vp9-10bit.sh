#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 10
# VP9 profile 2 (10-bit) through the device: GStreamer must be offered P010 on CAPTURE once
# it has set a 10-bit VP9_FRAME, and every P010 frame must equal libvpx's 10-bit output.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start
check_clip --clip vp9-profile2-10bit
daemon_alive
daemon_stop
media_finish daemon-vp9-10bit
