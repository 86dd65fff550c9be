#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=10
# Format negotiation and request validation that v4l2-compliance cannot reach: the CAPTURE
# formats follow the bit depth set through the SPS / VP9 frame / AV1 sequence control (NV12
# and YUV420M for 8 bit, P010 for 10 bit) with the documented padding, and a depth change is
# refused with EBUSY while CAPTURE buffers of the old depth exist (in a request: its job
# fails and the control keeps its value; in the held first piece of an H.264 picture, the
# picture keeps its sequence number through its second piece); try_ctrl refuses what
# the daemon cannot decode; ENUM_FRAMESIZES states 4096x2304; an OUTPUT buffer queued
# without a request is refused with EBADR; a request without its codec's per-frame control,
# or without a buffer, is refused with ENOENT; CREATE_BUFS refuses planes larger than any
# format of the queue can need (4 GiB - 1 used to be allocated, page by page); a file closed
# with a control event subscribed (the debug kernel reported its unsubscription).
set -u
BIN=$(cd "$(dirname "$0")/../.." && pwd)/build/tests/dv-format-check
[ -x "$BIN" ] || { echo "FAIL: $BIN is not built (make tools)"; exit 1; }
. "$(dirname "$0")/../lib/v4l2-nodes.sh"
video=$(find_node daedalus-v4l2)
[ -n "$video" ] || { echo "FAIL: no daedalus-v4l2 node"; exit 1; }
media=$(media_node_of "$video")
[ -n "$media" ] || { echo "FAIL: no media node for $video"; exit 1; }
"$BIN" "$video" "$media"
rc=$?
if [ $rc = 0 ]; then echo "kernel-formats: PASS"; else echo "kernel-formats: FAIL"; fi
exit $rc
