#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal debug
# testbed-batch: yes
# testbed-seconds: 25 debug=100
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
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
CLIENT=$CK/build/tests/dv-h264client
[ -x "$CLIENT" ] || { echo "FAIL: $CLIENT is not built (make tools)"; exit 1; }
media_setup
daemon_start
dropped() { grep -c "held request(s) of ts .* dropped" "$DAEMON_LOG"; }
damaged() { grep -c "failed: no H.264 start code" "$DAEMON_LOG"; }
for c in "unpaired 0" "flush 2" "flush-running 1" "failed-piece 0" "failed-piece 2"; do
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
daemon_stop
media_finish daemon-h264-held
