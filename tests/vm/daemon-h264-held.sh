#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal debug
# testbed-batch: yes
# testbed-seconds: 35 debug=30
# A held CAPTURE buffer (V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF: the first of several slices, a
# first field) whose rest never comes: the m2m core hands it back by itself when the next
# request has another timestamp (an unpaired field), on V4L2_DEC_CMD_FLUSH with nothing
# pending, and at the end of the held job when FLUSH came while it ran. The daemon only kept
# the pieces, so nothing was written into it: tests/tools/dv-h264client --hold-fault checks
# that it comes back with V4L2_BUF_FLAG_ERROR, and h264-client-check.py that no picture
# differs from FFmpeg's and that every request decodes again from the next IDR. The first
# case holds the stream's first IDR, whose pieces carry the SPS and PPS: the daemon must
# drop them (and say so) and still give the decoder the parameter sets at the next IDR.
# failed-piece: a picture sent as two pieces, the first (held) damaged so that the daemon
# fails it, the second decodable: the picture lacks a slice, so its CAPTURE buffer must come
# back with ERROR although the job that completed it could decode (the kernel keeps the lost
# piece and tells the daemon, DAEDALUS_JOB_FLAG_LOST_PIECE), and the pictures predicted from it
# must fail rather than be shown, until the next IDR. Its IDR case is the stream's first one.
# restart-piece: the daemon answers the held first slice of the stream's first IDR (keeping it)
# and is then killed; the client sends the rest once a new daemon runs. The new daemon never got
# the first slice: the kernel tells it (LOST_PIECE, another bridge session than the piece's),
# it fails the job, and the picture comes back with ERROR rather than decoded from its later
# slices alone; decoding resumes at the next IDR. The IDR, because a picture with references
# would fail in the new daemon anyway (it never decoded them).
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
CLIENT=$CK/build/tests/dv-h264client
[ -x "$CLIENT" ] || { echo "FAIL: $CLIENT is not built (make tools)"; exit 1; }
media_setup
daemon_start
dropped() { grep -c "held request(s) of ts .* dropped" "$DAEMON_LOG"; }
damaged() { grep -c "failed: no H.264 start code" "$DAEMON_LOG"; }
cases=("unpaired 0" "flush 2" "flush-running 1" "failed-piece 0" "failed-piece 2")
# Under the debug kernel the failed piece once: at a non-IDR picture (2) the kernel does what it
# does at the IDR; what differs is the daemon failing the pictures predicted from it (normal)
[ "${DAEDALUS_KERNEL:-normal}" = debug ] && unset 'cases[4]'
for c in "${cases[@]}"; do
	set -- $c
	before=$(dropped) before_damaged=$(damaged)
	python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$CLIENT" \
		--clip h264-slices-gop --pattern gst --fault -- --hold-fault "$1" --fault-at "$2" ||
		failures=$((failures + 1))
	if [ "$1" = failed-piece ]; then
		# the damaged piece itself fails in the daemon, and it says why (once per stream)
		if [ "$(damaged)" -gt "$before_damaged" ]; then
			echo "ok   $1 $2: the daemon failed the damaged piece"
		else
			echo "FAIL $1 $2: the daemon did not say it failed the damaged piece"
			failures=$((failures + 1))
		fi
	elif [ "$(dropped)" -gt "$before" ]; then
		echo "ok   $1: the daemon dropped the held pieces"
	else
		echo "FAIL $1: the daemon did not say it dropped the held pieces"
		failures=$((failures + 1))
	fi
	daemon_alive
done

gate=/tmp/daemon-h264-held.gate
out=/tmp/daemon-h264-held.restart.log
rm -f "$gate.held"
touch "$gate"
python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$CLIENT" \
	--clip h264-slices-gop --pattern gst --fault -- --hold-fault restart-piece --fault-at 0 \
	--gate "$gate" >"$out" 2>&1 &
check=$!
# the checker decodes the clip with FFmpeg first: seconds under TCG
for _ in $(seq 1200); do
	[ -e "$gate.held" ] || ! kill -0 "$check" 2>/dev/null && break
	nap 0.1
done
if [ -e "$gate.held" ]; then
	kill -KILL "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	echo "ok   restart-piece: the daemon killed after it answered the held first slice"
	# what the killed daemon said is lost with its log, which daemon_start empties
	grep -E "error|warning" "$DAEMON_LOG" | sed 's/^/    killed daemon| /' | head -n 20
	daemon_start
else
	echo "FAIL restart-piece: the client never got its held first slice back"
	failures=$((failures + 1))
fi
rm -f "$gate"
wait "$check" || failures=$((failures + 1))
cat "$out"
rm -f "$gate.held" "$out"
if grep -q "an earlier request of this picture" "$DAEMON_LOG"; then
	echo "ok   restart-piece: the new daemon failed the rest of the picture (lost piece)"
else
	echo "FAIL restart-piece: the new daemon was not told that the picture lacks a piece"
	failures=$((failures + 1))
fi
daemon_alive
daemon_stop
media_finish daemon-h264-held
