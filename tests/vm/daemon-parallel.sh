#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 15
# (Not under the debug kernel: there, in one emulated CPU with KASAN, opening three decoders at
# once takes 1.6-1.8 s per first job, past the 1 s GStreamer waits for a request, so the test
# would measure the emulator. Parallel contexts under the debug kernel are covered by
# proto-parallel.sh, 16 at once.)
# Three streams decoded at once through the device (one GStreamer process, decoder context
# and daemon worker each): every frame of each must still equal libvpx's, and the daemon's
# workers must really have overlapped.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start --verbose
check_clips_parallel vp9-altref-odd vp8-altref-odd vp9-reschange
# overlap: the daemon's "decoded" lines switch between contexts more than once per stream
runs=$(grep -E "ctx [0-9]+: job [0-9]+ .* decoded" "$DAEMON_LOG" |
	sed -E 's/.*ctx ([0-9]+):.*/\1/' | uniq | wc -l)
if [ "$runs" -ge 6 ]; then
	echo "ok   jobs of different contexts interleaved in the daemon ($runs runs of one context)"
else
	echo "FAIL the streams were not decoded concurrently ($runs runs of one context)"
	failures=$((failures + 1))
fi
daemon_alive
daemon_stop
media_finish daemon-parallel
