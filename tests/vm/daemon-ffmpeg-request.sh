#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal debug
# testbed-batch: yes
# testbed-seconds: 80 debug=50
# FFmpeg's v4l2-request hwaccel (Jonas Karlman's series, what mpv and Kodi decode through),
# emulated call for call by our clients' --pattern ffmpeg (tests/tools/dv_request_pipe.h):
# the decoder found through the media topology, no REQBUFS ever but one CREATE_BUFS per buffer
# (CAPTURE ones while both queues stream, as the frame pool grows), 4 OUTPUT buffers with a
# request each, round robin, a picture waited for only when FFmpeg hands it to the application
# (H.264 after its reorder delay, VP8/VP9/AV1 hidden frames never), so several requests are in
# flight; pictures named by CAPTURE index and read through exported dma-bufs, every control of
# the codec in every request (H.264: the PPS's scaling-matrix flag always set with the
# effective lists; VP9 and AV1: the first frame or sequence header set outside any request
# before the CAPTURE format is chosen); at the end the node closed while the frame pool's
# dma-bufs are still exported. AV1 follows the hwaccel's device handling with complete
# controls and the tile data in OUTPUT: its AV1 file is unfinished (no tile group entries).
# Every picture must equal the software decode (FFmpeg's h264 for H.264 in decoding order,
# libvpx for VP8 and VP9 and libdav1d for AV1 in display order: hidden frames,
# show_existing_frame, size changes that set the hwaccel up anew). What the client did is
# checked from its summary line (pipelined(), below); the ioctl sequence itself is the
# client's code, read against the hwaccel's. Under the debug kernel one clip per codec
# family: what the pattern does differently reaches the kernel.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
T=$CK/build/tests
for b in dv-vpxclient dv-h264client dv-av1client; do
	[ -x "$T/$b" ] || { echo "FAIL: $T/$b is not built (make tools)"; exit 1; }
done
media_setup
daemon_start

# The pattern must have run as it should (else the client ran another way): at least
# @min-in-flight requests in flight (a stream without B-frames or hidden frames hands each
# picture out, and so waits for it, as soon as it is queued), and the CAPTURE pool grown past
# its first buffers while streaming ("-" for a clip that never needs more).
pipelined() { # name "client summary line" min-in-flight first-pool|-
	local line=$2 inflight pool
	inflight=$(echo "$line" | sed -n 's/.*up to \([0-9]*\) in flight.*/\1/p')
	pool=$(echo "$line" | sed -n 's/.*CAPTURE pool \(grew to\|up to\) \([0-9]*\).*/\2/p')
	if [ "${inflight:-0}" -ge "$3" ] && { [ "$4" = - ] || [ "${pool:-0}" -gt "$4" ]; }; then
		echo "ok   $1: up to $inflight requests in flight, CAPTURE pool $4 -> $pool buffers"
	else
		echo "FAIL $1: not FFmpeg's pattern: '${line:-no summary line}'"
		failures=$((failures + 1))
	fi
}
# every request's picture, in decoding order, against FFmpeg's h264
h264() { # clip min-in-flight first-pool|-
	local out rc
	out=$(python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$T/dv-h264client" \
		--clip "$1" --pattern ffmpeg 2>&1)
	rc=$?
	echo "$out" | grep -v "in flight"
	if [ $rc != 0 ]; then
		failures=$((failures + 1))
		return
	fi
	pipelined "$1 through dv-h264client" "$(echo "$out" | grep "in flight" | tail -n 1)" "$2" "$3"
}
# run_clips.py: every shown picture against libvpx / libdav1d, in display order
clip() { # client option clip min-in-flight first-pool|-
	local client=$1 opt=$2 c=$3 out rc
	out=$(python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
		--decode-clip "$T/$client" --clip "$c" -- "$opt" ffmpeg 2>&1)
	rc=$?
	echo "$out" | grep -E "pictures match|ERROR|differ|exited|picture [0-9]+:" | head -n 20
	if [ $rc != 0 ]; then
		echo "$out" | tail -n 5 | sed 's/^/     /'
		echo "FAIL $c through $client, FFmpeg's pattern"
		failures=$((failures + 1))
		return
	fi
	pipelined "$c through $client" "$(echo "$out" | grep "in flight" | tail -n 1)" "$4" "$5"
}
vpx() { clip dv-vpxclient --pattern "$@"; }
av1() { clip dv-av1client --layout "$@"; }

# At least 2 requests in flight wherever FFmpeg keeps pictures back (B-frames: the SPS's
# reorder depth; VP8, VP9 and AV1: hidden frames), not more, so that a fast machine passes
# too; the pool's growth is asserted for AV1, whose 8 reference slots need more than the
# first 6 buffers whatever the timing.
# The clips are those where the pattern differs from the other clients' (the scaling-matrix
# flag, the DPB's order and POCs, reordering, P010 from the first controls, re-setup at a
# size change, hidden frames, superres against the sequence's largest size); the other
# clients' tests cover the rest of each codec's tools. Under the debug kernel one clip per
# codec family: the pipe is the same for all.
if [ "${DAEDALUS_KERNEL:-normal}" = debug ]; then
	h264 h264-main-bpyramid 2 -
	vpx vp9-p2-10bit 2 -
	av1 av1-svt-10bit-grain 2 6
else
	for c in h264-main-bpyramid h264-high-cqm h264-high10 h264-mbaff h264-opengop; do
		h264 "$c" 2 -
	done
	# no B-frames: each picture is handed out, and waited for, as soon as it is queued
	h264 h264-intra-refresh 1 -
	# field pictures, each field a request of its own: the second goes into the first's
	# CAPTURE buffer once that is back (no HOLD_CAPTURE_BUF), so one request at a time
	h264 h264-paff 1 -
	for c in vp8-reschange vp9-tiles vp9-p2-10bit vp9-reschange; do
		vpx "$c" 2 -
	done
	for c in av1-svt-10bit-grain av1-aom-tiles av1-svt-intraonly av1-svt-superres \
		av1-aom-tools; do
		av1 "$c" 2 6
	done
fi
daemon_alive
daemon_stop
media_finish daemon-ffmpeg-request
