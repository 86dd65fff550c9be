#!/bin/bash
# testbed-run: --no-daemon --timeout 400
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 15
# A picture whose held piece failed comes back with ERROR even when the job that completes it
# succeeds: the kernel's own guarantee, whatever the daemon answers. dv-h264client
# (--hold-fault failed-piece) sends a picture of h264-slices-gop as two requests of one
# timestamp, its first slice held; the test peer plays a daemon that fails every held piece
# (--fail-held) and answers every other job DONE, ignoring DAEDALUS_JOB_FLAG_LOST_PIECE. The
# kernel must mark the completing job LOST_PIECE and still return the CAPTURE buffer with
# V4L2_BUF_FLAG_ERROR (the client exits 1 if it came back as a good picture). Once with one
# job at a time (the finish of the running m2m job), once with jobs in flight (the completing
# job pipelined: returned in order by daedalus_return_done()).
# Then the daemon that held a piece goes away: the peer answers the held first slice DONE (so
# it keeps it) and opens a new session before the rest comes (--reopen-after-held; the client,
# --hold-fault restart-piece, waits at a gate until then). The new session never saw the first
# slice: the kernel must mark the job that completes the picture LOST_PIECE and return it with
# ERROR although every job of the picture was answered DONE.
# Normal kernel only since 2026-12-07 (CI time): the lost piece's kernel paths run under the
# debug kernel in daemon-h264-held (failed-piece at the IDR, restart-piece with a new daemon
# session), with the real daemon.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
H264=$TOOLS/dv-h264client
[ -x "$H264" ] || { echo "$TEST: FAIL: $H264 is not built (make tools)"; exit 1; }
stream=$(cd "$CK/tests/media" && python3 -c '
import sys, clips
print(clips.annexb("ffmpeg", clips.make_clip("ffmpeg", sys.argv[1], "h264-slices-gop")))' \
	"$CK/build/media/clips") || { fail=1; finish "(no clip h264-slices-gop)"; }

# jobs in flight need the module's max_inflight (read at HELLO); put back afterwards
set_max_inflight 4

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

# wait_for WHAT COMMAND...: up to 20 s for COMMAND to succeed
wait_for() {
	local what=$1
	shift
	for _ in $(seq 400); do
		"$@" && return 0
		nap 0.05
	done
	echo "    (no $what within 20 s)"
	return 1
}
new_session() { [ "$(cat "$WORK/peer.ready" 2>/dev/null)" != "$1" ]; }

for peer_args in "--expect-inflight 1" "--pipeline 4 --expect-inflight 4"; do
	what="one job at a time"
	[[ "$peer_args" != --pipeline* ]] || what="jobs in flight (${peer_args%% --expect*})"
	# shellcheck disable=SC2086 # peer_args: words
	start_peer peer --reopen-after-held $peer_args || finish "(no peer)" # start_peer sets fail
	first=$(cat "$WORK/peer.ready")
	gate=$WORK/gate
	rm -f "$gate.held"
	touch "$gate"
	out=$WORK/client.log
	"$H264" --pattern gst --hold-fault restart-piece --fault-at 2 --gate "$gate" "$stream" \
		>"$out" 2>&1 &
	client=$!
	wait_for "held piece back" test -e "$gate.held"
	wait_for "new session" new_session "$first"
	rm -f "$gate"
	wait "$client"
	rc=$?
	grep -v "^pic [0-9]* [0-9]*x" "$out" | sed 's/^/    client| /'
	check "$what: the picture whose held first slice went to the old session came back with ERROR ($(grep -c '^pic 2 FAILED$' "$out") FAILED line; sessions $first, $(cat "$WORK/peer.ready"))" \
		test "$rc" = 0 -a "$(grep -c '^pic 2 FAILED$' "$out")" = 1
	stop_peer
	check "$what: peer saw no protocol violation ($PEER_SUMMARY)" test "$PEER_RC" = 0
	check "$what: one held job answered DONE, a new session, and the job completing its picture carried LOST_PIECE (held=$(field held "$PEER_SUMMARY") errors_sent=$(field errors_sent "$PEER_SUMMARY") reopens=$(field reopens "$PEER_SUMMARY") lost_piece=$(field lost_piece "$PEER_SUMMARY"))" \
		test "$(field held "$PEER_SUMMARY")" = 1 -a "$(field errors_sent "$PEER_SUMMARY")" = 0 \
		-a "$(field reopens "$PEER_SUMMARY")" = 1 -a "$(field lost_piece "$PEER_SUMMARY")" = 1
done
finish "lost piece returned with ERROR, one at a time and in flight, failed or held by a daemon gone"
