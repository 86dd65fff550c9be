#!/bin/bash
# testbed-run: --no-daemon --timeout 1200
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 35
# H.264 through the device end to end: GStreamer's v4l2slh264dec decodes x264 clips (and a clip
# of field pictures, which no encoder here makes: tests/media/h264-paff.py) through
# daedalus-v4l2 and daedalus-v4l2d (SPS/PPS rebuilt from the controls); every frame must equal
# FFmpeg's software decode. First in the default mode (frame based, Annex-B start codes), then
# slice based without start codes (one request per slice, held with HOLD_CAPTURE_BUF): the
# module parameters set the defaults GStreamer reads. That each clip uses the tools it is
# meant to test is checked on the host (tests/unit/h264-clip-features.sh). GStreamer's own
# bug with field pairs (it may read a frame it drains before its second field is decoded) is a
# known failure: intermittent in the clip checks, certain with a slowed-down decoder at the end.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
PARAMS=/sys/module/daedalus_v4l2/parameters
all="h264-baseline h264-main-bpyramid h264-high-cqm h264-slices h264-high10 h264-odd
	h264-mbaff h264-paff h264-opengop"
daemon_start
# Each group of checks in one process (check_clips); the module parameters are read when a
# client opens the device, so they hold for every clip of the group.
# GStreamer may read a frame of field pairs it drains (the last, the last before an IDR) before
# its second field is decoded (a client bug: check-clip.py's FIELD_DRAIN_RACE): wrong drained
# frames alone are a known failure
race="--field-drain-race intermittent"
checks=()
for c in $all; do
	case $c in h264-paff) checks+=("--clip $c $race") ;; *) checks+=("--clip $c") ;; esac
done
echo "--- frame based, Annex B"
# with a seek into an open GOP: the B-frames before the landing I-frame refer to pictures
# this stream never decoded, so they fail (and GStreamer drops them); everything shown matches
check_clips "${checks[@]}" "--clip h264-opengop --seek 8:0.8"

echo "--- slice based, no start codes"
echo 1 >"$PARAMS/h264_slice_based"
echo 1 >"$PARAMS/h264_no_start_code"
check_clips "--clip h264-slices" "--clip h264-main-bpyramid" "--clip h264-mbaff" "--clip h264-high10" \
	"--clip h264-paff $race" "--clip h264-slices-sized"
# h264-paff's 24 frames are 48 field pictures of two slices each: one request per field
# frame based, one per slice slice based (no clip of the others has as many jobs)
check "h264-paff came as field pictures: a stream of 48 jobs, frame based" \
	log_has "$DAEMON_LOG" "ctx [0-9]+: closed after 48 jobs, 0 failed"
check "h264-paff came as field pictures: a stream of 96 jobs, slice based" \
	log_has "$DAEMON_LOG" "ctx [0-9]+: closed after 96 jobs, 0 failed"
echo "--- slice based, Annex B"
echo 0 >"$PARAMS/h264_no_start_code"
check_clip --clip h264-slices
echo 0 >"$PARAMS/h264_slice_based"
daemon_alive
daemon_stop

# The known failure made certain: every decoder call slowed to 300 ms (GStreamer waits up
# to 1 s per request), so the frames GStreamer drains (the one before the IDR at frame 2,
# and the last) are always read before their second field is decoded. Only those may be
# wrong, and both must be; if they are right, the mark is stale.
echo "--- a slowed-down decoder: GStreamer's early read of the field pairs it drains"
daemon_start --test-stall-ms 300
check_clips "--clip h264-paff-short --field-drain-race always"
daemon_stop
media_finish daemon-h264-clips
