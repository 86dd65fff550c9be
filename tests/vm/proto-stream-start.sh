#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=25
# A stream whose first request fails in the kernel before it reaches the daemon (its 10-bit
# SPS refused while 8-bit CAPTURE buffers exist) still starts for the daemon: the next job,
# sequence 1, carries STREAM_START, at which the daemon drops what it held from before (a
# seek), and the job after it does not. Without it the daemon saw only a gap in the sequence
# (jobs lost), kept the decoder state of the stream before the seek and decoded the new one
# against it. Then a seek (STREAMOFF and STREAMON of OUTPUT), whose first job, sequence 0,
# carries it again; then another, whose first job is queued to the stopped daemon (SIGSTOP)
# and withdrawn unfetched by the kernel's watchdog: the start passes on to the next job.
# dv-format-check plays the client, the test peer the daemon and counts the starts.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
. "$CK/tests/lib/v4l2-nodes.sh"
BIN=$TOOLS/dv-format-check
[ -x "$BIN" ] || { echo "$TEST: FAIL: $BIN is not built (make tools)"; exit 1; }
# the nodes, once udev has made them (a batch's settle may time out under the debug kernel);
# bounded by the clock, not a count of rounds: each round forks v4l2-ctl for every node, which
# takes seconds on a loaded debug kernel
video="" media="" until=$((SECONDS + 20))
while [ $SECONDS -lt $until ]; do
	video=$(find_node daedalus-v4l2)
	[ -z "$video" ] || media=$(media_node_of "$video")
	[ -z "$media" ] || break
	nap 0.2
done
if [ -z "$video" ] || [ -z "$media" ]; then
	ls -l /dev/video* /dev/media* /dev/daedalus-v4l2 2>&1 | sed 's/^/    /'
	for d in /dev/video*; do v4l2-ctl -d "$d" -D 2>&1 | sed "s|^|    $d: |"; done
	fail=1
	finish "(no video or media node after 20 s: video '$video', media '$media')"
fi

# the refused job fails in device_run as the running m2m job, and as a pipelined one
set_max_inflight 2
for peer_args in "" "--pipeline 2"; do
	what="one job at a time"
	[ -z "$peer_args" ] || what="jobs in flight ($peer_args)"
	# shellcheck disable=SC2086 # peer_args: words
	start_peer peer -v $peer_args || finish "(no peer)"
	out=$WORK/client.log
	"$BIN" "$video" "$media" stream-start "$PEER_PID" >"$out" 2>&1
	rc=$?
	sed 's/^/    client| /' "$out"
	check "$what: the client's pictures came back as they must" test "$rc" = 0
	stop_peer
	check "$what: peer saw no protocol violation ($PEER_SUMMARY)" test "$PEER_RC" = 0
	starts=$(field stream_starts "$PEER_SUMMARY")
	check "$what: 3 of 4 jobs started the stream: the first after the refused one, the first seek's first, the second seek's first after the withdrawn one (stream_starts=$starts, jobs=$(field jobs "$PEER_SUMMARY"), last_start_seq=$(field last_start_seq "$PEER_SUMMARY"))" \
		test "$starts" = 3 -a "$(field jobs "$PEER_SUMMARY")" = 4 \
		-a "$(field last_start_seq "$PEER_SUMMARY")" = 1
	check "$what: the job of sequence 1 (the stream's first to reach the daemon) carried STREAM_START" \
		grep -Eq "^dv-testpeer: job [0-9]+ ctx [0-9]+ codec [0-9]+ seq 1 flags 0x[0-9a-f]*[4-7c-f] " "$PEER_LOG"
done
finish "stream_starts=$starts"
