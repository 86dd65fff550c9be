#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 70
# AV1 through the device with our own Request API client (tests/tools/dv-av1client) in the
# three OUTPUT buffer layouts clients use: GStreamer's OBU payloads, Chromium's whole temporal
# unit (with Chromium's CAPTURE-index timestamps, reused, and no FILM_GRAIN control) and the
# tile data alone. The daemon may only rely on the tile entries, so every layout must give
# every picture identical to FFmpeg's libdav1d (daemon/tests/run_clips.py compares). A bad
# request fails alone: the daemon stays up and decodes again from the next key frame.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
CLIENT=$CK/build/tests/dv-av1client
[ -x "$CLIENT" ] || { echo "FAIL: $CLIENT is not built (make tools)"; exit 1; }
media_setup
daemon_start
layout() { # layout clip [client arguments]
	local l=$1 c=$2
	shift 2
	if python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
		--decode-clip "$CLIENT" --clip "$c" -- --layout "$l" "$@"; then
		echo "ok   $c in the $l layout $*"
	else
		echo "FAIL $c in the $l layout $*"
		failures=$((failures + 1))
	fi
}
layout gst av1-aom-350x198
layout gst av1-svt-10bit-grain
layout chromium av1-aom-350x198
layout chromium av1-aom-tiles
layout chromium av1-svt-350x198
layout tiles av1-aom-350x198
layout tiles av1-svt-tiles
# a request whose tile lies outside its buffer: ERROR for it (and the frames predicted from
# it), the key frame after it and everything from there on decode and match again
layout gst av1-aom-350x198 --corrupt 5
layout chromium av1-svt-350x198 --corrupt 7
daemon_alive
daemon_stop
media_finish daemon-av1-layouts
