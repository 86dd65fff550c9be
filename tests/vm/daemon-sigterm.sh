#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-kernels: normal debug
# SIGTERM while a stream is being decoded: the daemon must finish or fail the jobs it holds
# and exit 0 within 5 s; the client must not hang (the kernel fails what the daemon no
# longer serves) and must get every later job failed, not stuck. A new daemon then serves
# a clean clip: nothing of the old session is left behind.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
clip=$(python3 -c "import sys; sys.path.insert(0, '$MEDIA'); import clips
print(clips.make_clip('ffmpeg', '$CLIPS', 'vp9-tiles'))")
daemon_start
out=/tmp/gst-frames
mkdir -p "$out"
timeout 120 "$GST_DECODE" "$out" "filesrc location=$clip ! ivfparse ! vp9parse !
	v4l2slvp9dec max-errors=-1 ! video/x-raw,format=NV12" >/tmp/gst.log 2>&1 &
gst=$!
# stop the daemon once a few frames have come out
for _ in $(seq 300); do
	[ "$(grep -c '^frame ' /tmp/gst.log)" -ge 5 ] && break
	sleep 0.1
done
echo "     $(grep -c '^frame ' /tmp/gst.log) frames out when SIGTERM is sent"
daemon_stop
wait "$gst"
st=$?
if [ "$st" = 124 ]; then
	echo "FAIL the GStreamer client hung after the daemon stopped"
	failures=$((failures + 1))
else
	echo "ok   the client finished (status $st): $(tail -n 1 /tmp/gst.log)"
fi
grep -q "stopping" "$DAEMON_LOG" && grep -q "stopped" "$DAEMON_LOG" ||
	{ echo "FAIL the daemon did not log a clean stop"; failures=$((failures + 1)); }
daemon_start
check_clip --clip vp9-altref-odd
daemon_stop
media_finish daemon-sigterm
