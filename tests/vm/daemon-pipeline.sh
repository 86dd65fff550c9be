#!/bin/bash
# testbed-run: --no-daemon --timeout 1500
# testbed-kernels: normal debug
# testbed-seconds: 200 debug=170
# Several frames of one stream in flight through the whole device (docs/frame-parallel.md):
# the module's max_inflight set to 2, the daemon asks for 2 and decodes AV1 with dav1d frame
# threads (max_frame_delay 2), finishing the jobs in flight with a complete drain when the
# client sends no further job within the grace period, or at once when both granted jobs are
# in flight.
# - GStreamer (two requests queued, waits for the older) decodes AV1, VP9 and VP8 clips, every
#   frame equal to FFmpeg's software decode; H.264 too, MBAFF and B-pyramid included, with
#   jobs in flight in frame-based mode, and in slice-based mode (slices held with
#   HOLD_CAPTURE_BUF run one at a time);
# - a client that waits for each request before sending the next (tests/tools/dv-av1client,
#   like FFmpeg's hwaccel) does not deadlock and gets identical pictures, also across a
#   damaged request;
# - the daemon's log shows jobs of one context in flight together (its "in flight 2" hint),
#   and that its workers learnt which clients keep requests queued and which wait for each
#   (daemon/process/grace.c: the wait for a next job is kept only for the former).
# Under the debug kernel (KASAN, lockdep) one clip per codec and mode: the kernel paths are the
# same for every clip, and each GStreamer decode there risks GStreamer's one-second limit per
# request (a CI run lost av1-svt-10bit-grain to two 1.4 s jobs under load); the full list runs
# under the normal kernel.
# The testbed checks the kernel log (no WARN; KASAN and lockdep under the debug kernel).
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
param=/sys/module/daedalus_v4l2/parameters/max_inflight
old_max=$(cat "$param" 2>/dev/null) || { echo "FAIL no max_inflight module parameter"; exit 1; }
trap 'echo "$old_max" >"$param"; echo 0 >/sys/module/daedalus_v4l2/parameters/h264_slice_based' EXIT
echo 2 >"$param"
CLIENT=$CK/build/tests/dv-av1client
[ -x "$CLIENT" ] || { echo "FAIL: $CLIENT is not built (make tools)"; exit 1; }
media_setup
daemon_start --verbose --max-inflight 2
if grep -q "2 per context (asked 2)" "$DAEMON_LOG"; then
	echo "ok   the module granted 2 jobs per context"
else
	echo "FAIL the daemon was not granted 2 jobs per context:"
	grep "attached to" "$DAEMON_LOG"
	failures=$((failures + 1))
fi
debug_kernel() { [ -e /proc/lockdep ]; }
debug_kernel && echo "NOTE debug kernel (lockdep): one clip per codec and mode, the normal kernel runs the full list"
if ! debug_kernel; then
	check_clip --clip av1-aom-tiles
	check_clip --clip av1-svt-10bit-grain
	check_clip --clip av1-svt-intraonly
fi
check_clip --clip av1-aom-odd
check_clip --clip vp9-altref-odd
check_clip --clip vp8-altref-odd
in_flight_since() { # earlier count: prints how many more jobs went out beside another
	echo $(($(grep -c "in flight 2," "$DAEMON_LOG") - $1))
}
inflight=$(in_flight_since 0)
if [ "$inflight" -gt 0 ]; then
	echo "ok   $inflight jobs were sent with another of their context in flight"
else
	echo "FAIL no job was sent while another of its context was in flight"
	failures=$((failures + 1))
fi
# H.264 frame based: whole pictures, no HOLD, pipelined like the others
before=$(in_flight_since 0)
check_clip --clip h264-main-bpyramid
debug_kernel || check_clip --clip h264-mbaff
inflight=$(in_flight_since "$before")
if [ "$inflight" -gt 0 ]; then
	echo "ok   H.264 frame based: $inflight jobs sent with another of their context in flight"
else
	echo "FAIL H.264 frame based: no job was sent while another of its context was in flight"
	failures=$((failures + 1))
fi
# H.264 slice based: every slice but a picture's last asks for HOLD and runs alone; the last
# may go out beside the picture before it
slice_param=/sys/module/daedalus_v4l2/parameters/h264_slice_based
echo 1 >"$slice_param"
check_clip --clip h264-slices
debug_kernel || check_clip --clip h264-main-bpyramid
echo 0 >"$slice_param"
# one request at a time: after a few grace periods that time out the worker drains at once
# (daemon/process/grace.c), and it must still decode every frame, none waiting for a next job
layout() { # layout clip [client arguments]
	local l=$1 c=$2
	shift 2
	if python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
		--decode-clip "$CLIENT" --clip "$c" -- --layout "$l" "$@"; then
		echo "ok   $c, one request at a time ($l layout $*)"
	else
		echo "FAIL $c, one request at a time ($l layout $*)"
		failures=$((failures + 1))
	fi
}
layout gst av1-aom-350x198
layout chromium av1-svt-350x198 --corrupt 7
daemon_alive
daemon_stop
# each context's closing line says what its worker learnt: GStreamer keeps requests queued
# (it must never be taken for a client that waits, or its pairs would decode one by one),
# dv-av1client sends one request at a time (each of its frames would wait out the grace)
learnt() { grep -E "waited for a next job .*: the client $1" "$DAEMON_LOG" | wc -l; }
queued=$(learnt "keeps requests queued") waits=$(learnt "waits for each request")
if [ "$queued" -gt 0 ] && [ "$waits" -ge 2 ]; then
	echo "ok   the worker learnt the clients: $queued contexts keep requests queued (GStreamer), $waits wait for each request"
else
	echo "FAIL the worker took $queued contexts for pipelining and $waits for synchronous (want > 0 and at least the 2 one-request clients):"
	grep -E "waited for a next job" "$DAEMON_LOG" | sed 's/^/     /'
	failures=$((failures + 1))
fi
media_finish daemon-pipeline
