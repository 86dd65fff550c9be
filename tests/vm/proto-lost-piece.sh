#!/bin/bash
# testbed-run: --no-daemon --timeout 400
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 20 debug=80
# A picture whose held piece failed comes back with ERROR even when the job that completes it
# succeeds: the kernel's own guarantee, whatever the daemon answers. dv-h264client
# (--hold-fault failed-piece) sends a picture of h264-slices-gop as two requests of one
# timestamp, its first slice held; the test peer plays a daemon that fails every held piece
# (--fail-held) and answers every other job DONE, ignoring DAEDALUS_JOB_FLAG_LOST_PIECE. The
# kernel must mark the completing job LOST_PIECE and still return the CAPTURE buffer with
# V4L2_BUF_FLAG_ERROR (the client exits 1 if it came back as a good picture). Once with one
# job at a time (the finish of the running m2m job), once with jobs in flight (the completing
# job pipelined: returned in order by daedalus_return_done()).
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
H264=$TOOLS/dv-h264client
[ -x "$H264" ] || { echo "$TEST: FAIL: $H264 is not built (make tools)"; exit 1; }
stream=$(cd "$CK/tests/media" && python3 -c '
import sys, clips
print(clips.annexb("ffmpeg", clips.make_clip("ffmpeg", sys.argv[1], "h264-slices-gop")))' \
	"$CK/build/media/clips") || { fail=1; finish "(no clip h264-slices-gop)"; }

# jobs in flight need the module's max_inflight (read at HELLO); put back afterwards
param=/sys/module/daedalus_v4l2/parameters/max_inflight
old_max=$(cat "$param" 2>/dev/null) || { fail=1; finish "(no max_inflight parameter)"; }
trap 'echo "$old_max" >"$param"' EXIT
echo 4 >"$param"

for peer_args in "--expect-inflight 1" "--pipeline 4 --expect-inflight 4"; do
	what="one job at a time"
	[[ "$peer_args" != --pipeline* ]] || what="jobs in flight (${peer_args%% --expect*})"
	# shellcheck disable=SC2086 # peer_args: words
	start_peer peer --fail-held $peer_args || finish "(no peer)" # start_peer sets fail
	out=$WORK/client.log
	"$H264" --pattern gst --hold-fault failed-piece --fault-at 2 "$stream" >"$out" 2>&1
	rc=$?
	grep -v "^pic [0-9]* [0-9]*x" "$out" | sed 's/^/    client| /'
	check "$what: the picture whose held first slice failed came back with ERROR ($(grep -c '^pic 2 FAILED$' "$out") FAILED line)" \
		test "$rc" = 0 -a "$(grep -c '^pic 2 FAILED$' "$out")" = 1
	stop_peer
	check "$what: peer saw no protocol violation ($PEER_SUMMARY)" test "$PEER_RC" = 0
	check "$what: one held job failed, and the job completing its picture carried LOST_PIECE (held=$(field held "$PEER_SUMMARY") errors_sent=$(field errors_sent "$PEER_SUMMARY") lost_piece=$(field lost_piece "$PEER_SUMMARY"))" \
		test "$(field held "$PEER_SUMMARY")" = 1 -a "$(field errors_sent "$PEER_SUMMARY")" = 1 \
		-a "$(field lost_piece "$PEER_SUMMARY")" = 1
done
finish "lost piece returned with ERROR, one at a time and in flight"
