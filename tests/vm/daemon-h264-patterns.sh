#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 40
# H.264 through the device with our own Request API client (tests/tools/dv-h264client), in
# GStreamer's and Chromium's submission patterns: Chromium sends SPS, PPS, scaling matrix,
# decode parameters and DECODE_MODE in every request, names pictures by CAPTURE index
# (timestamps reused) and sets the PPS's scaling-matrix flag only for lists in the PPS. Every
# request's picture, in decoding order, must equal FFmpeg's software decode of that packet.
# --no-matrix-flag is Chromium on a stream with lists in the SPS only: the matrix must apply
# because the control is in the request.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
CLIENT=$CK/build/tests/dv-h264client
[ -x "$CLIENT" ] || { echo "FAIL: $CLIENT is not built (make tools)"; exit 1; }
media_setup
daemon_start
pattern() { # clip pattern [client arguments]
	local c=$1 p=$2
	shift 2
	python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$CLIENT" \
		--clip "$c" --pattern "$p" -- "$@" || failures=$((failures + 1))
}
for c in h264-main-bpyramid h264-high-cqm h264-odd h264-high10 h264-slices h264-mbaff; do
	pattern "$c" gst
	pattern "$c" chromium
done
pattern h264-high-cqm chromium --no-matrix-flag
daemon_alive
daemon_stop
media_finish daemon-h264-patterns
