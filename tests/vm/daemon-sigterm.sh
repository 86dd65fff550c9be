#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 20
# SIGTERM while a stream is being decoded: the daemon must finish or fail the jobs it holds
# and exit 0 within 5 s; the client must not hang (the kernel fails what the daemon no
# longer serves) and must get every later job failed, not stuck. A new daemon then serves
# a clean clip: nothing of the old session is left behind.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
# the clip and its frame count from one Python (each start takes seconds under the debug kernel)
read -r clip total < <(python3 -c "import sys; sys.path.insert(0, '$MEDIA'); import clips
c = clips.make_clip('ffmpeg', '$CLIPS', 'vp9-tiles')
print(c, len(clips.read_ivf(c)[1]))")
[ -n "${total:-}" ] || { echo "FAIL: cannot make the clip vp9-tiles"; exit 1; }
daemon_start
out=/tmp/gst-frames
mkdir -p "$out"
# identity paces the input (0.1 s a frame), so the stream is still going when SIGTERM comes
timeout 120 "$GST_DECODE" "$out" "filesrc location=$clip ! ivfparse ! identity sleep-time=100000 !
	vp9parse ! v4l2slvp9dec max-errors=-1 ! video/x-raw,format=NV12" >/tmp/gst.log 2>&1 &
gst=$!
# Stop the daemon once a few frames have come out, however long the first one takes: under a
# loaded host the pipeline's start took more than the 30 s this loop once allowed ("0 of 40
# frames out"). The client's own 120 s limit bounds the wait; once frames flow, the paced input
# leaves seconds of stream after the fifth.
# (counted and napped in bash, tests/lib/forkless.sh: no process started every 0.1 s)
while kill -0 "$gst" 2>/dev/null; do
	count_lines /tmp/gst.log "frame "
	[ "$COUNT" -lt 5 ] || break
	nap 0.1
done
count_lines /tmp/gst.log "frame "
n=$COUNT
# SIGTERM must come mid-stream: with the client finished, or before any frame, this test
# would check nothing of what it is about
if kill -0 "$gst" 2>/dev/null && [ "$n" -ge 5 ] && [ "$n" -lt "$total" ]; then
	echo "ok   SIGTERM sent mid-stream: $n of $total frames out, the client still decoding"
else
	echo "FAIL SIGTERM not sent mid-stream: $n of $total frames out, client $(kill -0 "$gst" 2>/dev/null && echo running || echo finished)"
	failures=$((failures + 1))
fi
daemon_stop
wait "$gst"
st=$?
# gst-decode ends with "frames N seconds S" and exits 0 at EOS (the kernel fails the jobs
# nobody serves; GStreamer shows those buffers anyway) or 1 on a pipeline error. Anything
# else (124: hung and killed by timeout; a signal; no final line) is a failure.
last=$(tail -n 1 /tmp/gst.log)
if [ "$st" = 124 ]; then
	echo "FAIL the GStreamer client hung after the daemon stopped"
	failures=$((failures + 1))
elif { [ "$st" = 0 ] || { [ "$st" = 1 ] && grep -q '^error ' /tmp/gst.log; }; } &&
	[[ "$last" =~ ^frames\ [0-9]+\ seconds ]]; then
	echo "ok   the client finished (status $st): $last"
else
	echo "FAIL the client ended with status $st: $last"
	tail -n 5 /tmp/gst.log
	failures=$((failures + 1))
fi
grep -qE "daedalus-v4l2d info: [^:]*: stopping$" "$DAEMON_LOG" &&
	grep -qE "daedalus-v4l2d info: stopped$" "$DAEMON_LOG" ||
	{ echo "FAIL the daemon did not log a clean stop"; failures=$((failures + 1)); }
daemon_start
check_clip --clip vp9-altref-odd
daemon_stop
media_finish daemon-sigterm
