#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 25
# A decoder call that never returns (a library hung on what a stream sent) must not keep its
# thread, CPU and memory for ever, after its client has closed too (docs/security.md): past
# --hang-timeout the daemon aborts, for its service manager to start it again. No library
# here hangs on demand, so the daemon is given a timeout shorter than any decode under the
# emulator (1 ms): the first call into a decoder outlasts it. What must hold: the daemon
# aborts (SIGABRT, a core) within seconds, naming the context and the timeout; the client
# is not left hanging (the kernel fails what nobody serves); a daemon started again with
# the default timeout decodes a clip bit-exact.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
read -r clip < <(python3 -c "import sys; sys.path.insert(0, '$MEDIA'); import clips
print(clips.make_clip('ffmpeg', '$CLIPS', 'vp9-altref-odd'))")
[ -n "${clip:-}" ] || { echo "FAIL: cannot make the clip vp9-altref-odd"; exit 1; }
daemon_start --hang-timeout 1
out=/tmp/gst-frames
mkdir -p "$out"
timeout 120 "$GST_DECODE" "$out" "filesrc location=$clip ! ivfparse ! vp9parse !
	v4l2slvp9dec max-errors=-1 ! video/x-raw,format=NV12" >/tmp/gst.log 2>&1 &
gst=$!
# the daemon ends on its own; 30 s covers a slow first job under a loaded host
for ((i = 0; i < 300; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; nap 0.1; done
if kill -0 "$daemon_pid" 2>/dev/null; then
	echo "FAIL the daemon still runs 30 s after the stream started, with --hang-timeout 1"
	failures=$((failures + 1))
	kill -KILL "$daemon_pid"
fi
wait "$daemon_pid"
st=$?
# 128 + SIGABRT (6): abort(), not an exit or another signal
if [ "$st" = 134 ]; then
	echo "ok   the daemon aborted (status $st)"
else
	echo "FAIL the daemon ended with status $st, not SIGABRT's 134"
	failures=$((failures + 1))
fi
line=$(grep -E "ctx [0-9]+( \(closed\))?: a decoder call has not returned for [0-9]+ ms \(--hang-timeout 1\)" "$DAEMON_LOG")
if [ -n "$line" ]; then
	echo "ok   it said why: ${line#*: }"
else
	echo "FAIL no hang line in the daemon log:"
	tail -n 5 "$DAEMON_LOG"
	failures=$((failures + 1))
fi
wait "$gst"
st=$?
if [ "$st" = 124 ]; then
	echo "FAIL the GStreamer client hung after the daemon aborted"
	failures=$((failures + 1))
else
	echo "ok   the client ended (status $st): $(tail -n 1 /tmp/gst.log)"
fi
daemon_start
check_clip --clip vp9-altref-odd
daemon_stop
media_finish daemon-hang
