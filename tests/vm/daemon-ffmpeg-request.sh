#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal debug
# testbed-batch: yes
# testbed-seconds: 70 debug=60
# FFmpeg's v4l2-request hwaccel (Jonas Karlman's series, what mpv and Kodi decode through),
# emulated call for call by our clients' --pattern ffmpeg (tests/tools/dv_request_pipe.h):
# the decoder found through the media topology, no REQBUFS ever but one CREATE_BUFS per buffer
# (CAPTURE ones while both queues stream, as the frame pool grows), 4 OUTPUT buffers with a
# request each, round robin, so up to 4 requests in flight, pictures named by CAPTURE index and
# read through exported dma-bufs, every control of the codec in every request (H.264: the PPS's
# scaling-matrix flag always set with the effective lists; VP9: the first frame header set
# outside any request before the CAPTURE format is chosen), the video node closed before the
# buffers' mappings, dma-bufs and requests are released. Every picture must equal the software
# decode (FFmpeg's h264 for H.264 in decoding order, libvpx for VP8 and VP9 and libdav1d for AV1
# in display order: hidden frames, show_existing_frame, key frames of another size that set
# the hwaccel up anew; AV1 with the tile data only in OUTPUT, as the hwaccel sends it). Under the debug kernel one clip per codec and depth: what the pattern does differently
# reaches the kernel.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
T=$CK/build/tests
for b in dv-vpxclient dv-h264client dv-av1client; do
	[ -x "$T/$b" ] || { echo "FAIL: $T/$b is not built (make tools)"; exit 1; }
done
media_setup
daemon_start

h264() { # clip
	python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$T/dv-h264client" \
		--clip "$1" --pattern ffmpeg || failures=$((failures + 1))
}
# The pattern must have run as it should: several requests in flight, and the CAPTURE pool
# grown past its first buffers while streaming (else the client ran another way); "-" for a
# clip too short to need more buffers than the first pool.
pipelined() { # name "client summary line" first-pool|-
	local line=$2 inflight pool
	inflight=$(echo "$line" | sed -n 's/.*up to \([0-9]*\) in flight.*/\1/p')
	pool=$(echo "$line" | sed -n 's/.*CAPTURE pool \(grew to\|up to\) \([0-9]*\).*/\2/p')
	if [ "${inflight:-0}" -ge 2 ] && { [ "$3" = - ] || [ "${pool:-0}" -gt "$3" ]; }; then
		echo "ok   $1: up to $inflight requests in flight, CAPTURE pool $3 -> $pool buffers"
	else
		echo "FAIL $1: not FFmpeg's pattern: '${line:-no summary line}'"
		failures=$((failures + 1))
	fi
}
h264_pipelined() { # clip
	local f line
	f=$(ls "$CLIPS/$1"-[0-9a-f]*.h264 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "FAIL no clip $1 in $CLIPS"; failures=$((failures + 1)); return; }
	line=$("$T/dv-h264client" --pattern ffmpeg "$f" 2>&1 >/dev/null | grep "in flight")
	pipelined "$1 through dv-h264client" "$line" 3
}
# run_clips.py: every shown picture against libvpx / libdav1d, in display order
clip() { # client option clip first-pool|-
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
	pipelined "$c through $client" "$(echo "$out" | grep "in flight" | tail -n 1)" "$4"
}
vpx() { clip dv-vpxclient --pattern "$@"; }
av1() { clip dv-av1client --layout "$@"; }

# first pools: FFmpeg's initial_pool_size for VP8 (4) and VP9 (10); 8 for AV1
h264_pipelined h264-main-bpyramid
if [ "${DAEDALUS_KERNEL:-normal}" = debug ]; then
	h264 h264-main-bpyramid
	h264 h264-high10
	vpx vp8-350x198 4
	vpx vp9-p2-10bit 10
	av1 av1-svt-10bit-grain 8
else
	for c in h264-main-bpyramid h264-high-cqm h264-odd h264-high10 h264-slices h264-mbaff \
		h264-opengop h264-intra-refresh; do
		h264 "$c"
	done
	vpx vp8-350x198 4
	vpx vp8-reschange 4
	for c in vp9-350x198 vp9-tiles vp9-p2-10bit; do
		vpx "$c" 10
	done
	vpx vp9-reschange -
	for c in av1-aom-350x198 av1-svt-350x198 av1-aom-10bit av1-svt-10bit-grain av1-aom-tiles \
		av1-svt-tiles av1-aom-grain av1-svt-intraonly av1-svt-superres av1-aom-tools; do
		av1 "$c" -
	done
fi
daemon_alive
daemon_stop
media_finish daemon-ffmpeg-request
