#!/bin/bash
# testbed-run: --no-daemon --timeout 400
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 45
# A decoder call that never returns (a library hung on what a stream sent) must not keep its
# thread, CPU and memory for ever, after its client has closed too (docs/security.md): past
# --hang-timeout the daemon exits (status 70), for its service manager to start it again.
# No library hangs on demand, so:
# - a timeout shorter than any decode under the emulator (1 ms): the first real call into a
#   decoder outlasts it, and the daemon exits naming the context;
# - a closed context: every decoder call sleeps 60 s first (--test-stall-ms, inside the
#   watched call), the client is killed while the first one sleeps, and the daemon exits
#   naming the context as closed;
# - time the whole daemon was stopped (SIGSTOP, a debugger) is not a decoder's: calls of
#   2.5 s against a timeout of 4 s, the daemon stopped for 6 s in the middle of one, must
#   not end it.
# Each time the client must not be left hanging (the kernel fails what nobody serves), and a
# daemon started again with the defaults decodes a clip bit-exact.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
read -r clip < <(python3 -c "import sys; sys.path.insert(0, '$MEDIA'); import clips
print(clips.make_clip('ffmpeg', '$CLIPS', 'vp9-altref-odd'))")
[ -n "${clip:-}" ] || { echo "FAIL: cannot make the clip vp9-altref-odd"; exit 1; }

client_start() {
	timeout 120 "$GST_DECODE" /tmp/gst-frames "filesrc location=$clip ! ivfparse ! vp9parse !
		v4l2slvp9dec max-errors=-1 ! video/x-raw,format=NV12" >/tmp/gst.log 2>&1 &
	gst=$!
}

# the daemon has taken a job (its --verbose dispatch line), up to 30 s
job_taken() {
	local i
	for ((i = 0; i < 300; i++)); do
		log_has "$DAEMON_LOG" "ctx [0-9]+: job [0-9]+, sequence" && return 0
		nap 0.1
	done
	echo "FAIL no job reached the daemon in 30 s"
	failures=$((failures + 1))
	return 1
}

# exits_hung WHAT PATTERN: the daemon ends by itself within 30 s, status 70, and its log
# has the hang line with PATTERN in it
exits_hung() {
	local what=$1 pat=$2 st line i
	for ((i = 0; i < 300; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; nap 0.1; done
	if kill -0 "$daemon_pid" 2>/dev/null; then
		echo "FAIL $what: the daemon still runs 30 s later"
		failures=$((failures + 1))
		kill -KILL "$daemon_pid"
	fi
	wait "$daemon_pid"
	st=$?
	line=$(grep -E "ctx [0-9]+${pat}: a decoder call has not returned for [0-9]+ ms" "$DAEMON_LOG")
	if [ "$st" = 70 ] && [ -n "$line" ]; then
		echo "ok   $what: the daemon exited (status $st): ${line#*: }"
	else
		echo "FAIL $what: the daemon ended with status $st (want 70); its log:"
		tail -n 5 "$DAEMON_LOG"
		failures=$((failures + 1))
	fi
}

client_ends() {
	local st
	wait "$gst"
	st=$?
	if [ "$st" = 124 ]; then
		echo "FAIL the GStreamer client hung"
		failures=$((failures + 1))
	else
		echo "ok   the client ended (status $st): $(tail -n 1 /tmp/gst.log)"
	fi
}

mkdir -p /tmp/gst-frames

# 1. real decoder calls against a 1 ms timeout
daemon_start --hang-timeout 1
client_start
exits_hung "a 1 ms timeout" "( \(closed\))?"
client_ends

# 2. a closed context's call that does not return. The close itself waits for the kernel's
# watchdog (2 s) to take the job from the stalled daemon; the timeout leaves room for that
daemon_start --hang-timeout 6000 --test-stall-ms 60000 --verbose
client_start
if job_taken; then
	kill -KILL "$gst"
	exits_hung "a closed context's call of 60 s, timeout 6 s" " \(closed\)"
else
	kill -KILL "$daemon_pid"
fi
wait "$gst" 2>/dev/null

# 3. stopped, not hung
daemon_start --hang-timeout 4000 --test-stall-ms 2500 --verbose
client_start
if job_taken; then
	nap 0.5 # inside the first call
	kill -STOP "$daemon_pid"
	nap 6
	kill -CONT "$daemon_pid"
	nap 4
	if kill -0 "$daemon_pid" 2>/dev/null; then
		echo "ok   stopped for 6 s inside a 2.5 s call, timeout 4 s: the daemon runs on"
	else
		echo "FAIL the daemon ended after it was stopped and continued; its log:"
		tail -n 5 "$DAEMON_LOG"
		failures=$((failures + 1))
	fi
fi
kill -KILL "$daemon_pid" 2>/dev/null
wait "$daemon_pid" 2>/dev/null
client_ends

daemon_start
check_clip --clip vp9-altref-odd
daemon_stop
media_finish daemon-hang
