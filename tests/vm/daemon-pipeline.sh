#!/bin/bash
# testbed-run: --no-daemon --timeout 1500
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 55
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
# - a one-request client of an FFmpeg codec (dv-h264client, dv-vpxclient) gets its stream
#   decoded one job at a time (no frame threads) from its first key frame, identical pictures;
# - the daemon's log shows jobs of one context in flight together (its "in flight 2" hint),
#   and that its workers learnt which clients keep requests queued and which wait for each
#   (daemon/process/grace.c: the wait for a next job is kept only for the former).
# Run by hand under the debug kernel (make check runs it under the normal kernel only, its kernel
# paths being the protocol tests'; docs/testing.md) one clip per codec and mode: the kernel paths are the
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
# check_kind CLIP... [-- CLIP...]: the clips (those after -- under the normal kernel only) in
# one check-clip.py and one gst-decode process (check_clips: each start costs seconds)
check_kind() {
	local c checks=()
	for c; do
		[ "$c" = -- ] && { debug_kernel && break; continue; }
		checks+=("--clip $c")
	done
	check_clips "${checks[@]}"
}
check_kind av1-aom-odd vp9-altref-odd vp8-altref-odd -- av1-aom-tiles av1-svt-10bit-grain \
	av1-svt-intraonly
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
# (h264-mbaff is interlaced: its decoder runs one frame at a time, its jobs still come in pairs)
check_kind h264-main-bpyramid -- h264-mbaff
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
check_kind h264-slices -- h264-main-bpyramid
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
# the same kind of client with FFmpeg's codecs: its first request comes alone (the worker's
# start probe), so the engine decodes its stream one job at a time from the first key frame
# on (slice threads, no frame threads and no fillers: docs/frame-parallel.md, "The mode
# follows the client"), and every picture stays the software decoder's
switched_before=$(grep -c "stream: decoding for a lookahead of 1 " "$DAEMON_LOG")
if python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$CK/build/tests/dv-h264client" \
	--clip h264-main-bpyramid --pattern chromium; then
	echo "ok   h264-main-bpyramid, one request at a time (chromium pattern)"
else
	echo "FAIL h264-main-bpyramid, one request at a time (chromium pattern)"
	failures=$((failures + 1))
fi
if python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
	--decode-clip "$CK/build/tests/dv-vpxclient" --clip vp9-350x198; then
	echo "ok   vp9-350x198, one request at a time"
else
	echo "FAIL vp9-350x198, one request at a time"
	failures=$((failures + 1))
fi
switched=$(($(grep -c "stream: decoding for a lookahead of 1 " "$DAEMON_LOG") - switched_before))
if [ "$switched" -ge 2 ]; then
	echo "ok   the engine decoded both one-request clients' FFmpeg streams one job at a time"
else
	echo "FAIL $switched of the 2 one-request clients' FFmpeg streams left frame threads:"
	grep -E "lookahead of|first request came" "$DAEMON_LOG" | sed 's/^/     /'
	failures=$((failures + 1))
fi
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
# and the start probe: the four one-request clients' first requests came alone (GStreamer's
# come with a second one on real cores; under TCG a second request may take longer than the
# probe, which only delays its frame threads to its next key frame: printed, not judged)
alone=$(grep -c "its first request came alone" "$DAEMON_LOG")
second=$(grep -c "its first request came with a second one" "$DAEMON_LOG")
if [ "$alone" -ge 4 ]; then
	echo "ok   start probe: $alone contexts' first request came alone, $second with a second one"
else
	echo "FAIL start probe: only $alone contexts' first request came alone (want the 4 one-request clients), $second with a second one"
	grep -E "first request came" "$DAEMON_LOG" | sed 's/^/     /'
	failures=$((failures + 1))
fi
media_finish daemon-pipeline
