#!/bin/bash
# testbed-run: --no-daemon --timeout 1200
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 30
# AV1 through the device end to end: GStreamer's v4l2slav1dec decodes libaom and SVT-AV1
# clips through daedalus-v4l2 and daedalus-v4l2d (dav1d fed with OBUs rebuilt from the
# controls); every frame must equal FFmpeg's libdav1d software decode, film grain included.
# The daemon's per-frame debug lines then prove the clips used what they are meant to test:
# hidden frames shown later (show_existing_frame), intra-only frames, an odd size, 10-bit
# (P010), 2x2 and 4x2 tiles, film grain from both encoders, intra block copy, superres,
# segmentation, quantizer matrices, global motion, loop restoration.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
daemon_start --verbose
check_clips "--clip av1-aom-odd" "--clip av1-svt-odd" "--clip av1-aom-10bit" \
	"--clip av1-aom-tiles" "--clip av1-svt-tiles" "--clip av1-aom-grain" \
	"--clip av1-svt-10bit-grain" "--clip av1-aom-screen" "--clip av1-svt-intraonly" \
	"--clip av1-svt-superres" "--clip av1-aom-tools"
daemon_alive
daemon_stop

# used() WHAT REGEX: at least one decoded frame's line matches
used() {
	local n
	n=$(grep "AV1 frame ts" "$DAEMON_LOG" | grep -cE "$2")
	if [ "$n" -gt 0 ]; then
		echo "ok   $n frames with $1"
	else
		echo "FAIL no frame with $1: the clips do not test it"
		failures=$((failures + 1))
	fi
}
used "hidden showable frames" "hidden-showable"
used "intra-only frames" "INTRA_ONLY"
used "the odd size 350x198" " 350x198 "
used "2x2 tiles" "tiles 2x2"
used "4x2 tiles" "tiles 4x2"
used "film grain" " grain"
used "intra block copy" " intrabc"
used "superres" " superres"
used "segmentation" " segmentation"
used "quantizer matrices" " qmatrix"
used "global motion" " global-motion"
used "loop restoration" " loop-restoration"
grep -q "AV1 350x198 into P010" "$DAEMON_LOG" ||
	{ echo "FAIL no 10-bit stream into P010"; failures=$((failures + 1)); }
media_finish daemon-av1-clips
