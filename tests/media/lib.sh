# SPDX-License-Identifier: BSD-2-Clause
# Shared by tests/vm/daemon-*.sh (sourced; runs in the testbed VM): builds the GStreamer
# frame dumper, starts daedalus-v4l2d with its log in a file, and checks clips with
# check-clip.py. The tests use --no-daemon and start the daemon here so they can check its
# log, that it survives bad input, and that SIGTERM stops it cleanly.
CK=${DAEDALUS_CHECKOUT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
. "$CK/tests/lib/known-failure.sh"
. "$CK/tests/lib/forkless.sh"
MEDIA=$CK/tests/media
# This architecture's build products (build/arm64/ in the arm64 lane; see guest-init). The
# clips are inputs, shared by both architectures: the reference decode is made on the spot by
# the FFmpeg of the machine the test runs on.
BUILD=${DAEDALUS_BUILD:-$CK/build}
WORK=$BUILD/media
CLIPS=$CK/build/media/clips
DAEMON=${DAEMON:-$BUILD/daemon/daedalus-v4l2d}
DAEMON_LOG=/tmp/daedalus-v4l2d.log
GST_DECODE=$WORK/gst-decode
daemon_pid=
notify_pid=
failures=0

media_setup() {
	mkdir -p "$CLIPS" "$WORK"
	if [ ! -x "$GST_DECODE" ] || [ "$MEDIA/gst-decode.c" -nt "$GST_DECODE" ]; then
		# A unique temporary name: parallel VMs share build/ and hand out the same pids.
		local tmp
		tmp=$(mktemp "$GST_DECODE.XXXXXX")
		# shellcheck disable=SC2046
		gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp" "$MEDIA/gst-decode.c" \
			$(pkg-config --cflags --libs gstreamer-1.0) && chmod 0755 "$tmp" && mv "$tmp" "$GST_DECODE" ||
			{ rm -f "$tmp"; echo "FAIL: cannot build gst-decode"; exit 1; }
	fi
	[ -x "$DAEMON" ] || { echo "FAIL: $DAEMON is not built (make daemon)"; exit 1; }
}

daemon_start() { # extra daemon arguments
	: >"$DAEMON_LOG"
	"$DAEMON" --foreground "$@" >>"$DAEMON_LOG" 2>&1 &
	daemon_pid=$!
	# Its own line, "daedalus-v4l2d VERSION ready", once the bridge handshake is done ("ready"
	# alone would also match "another daedalus-v4l2d is already attached"), and still running.
	# Up to 60 s: in the KASAN VM loading the libraries took 11-18 s of a restart and the
	# warm-up of each codec (docs/daemon-engine.md) 1.6-3.2 s more, on a loaded host.
	# (polled in bash, tests/lib/forkless.sh: a grep and a sleep every 0.1 s slowed the start)
	local i
	for ((i = 0; i < 600; i++)); do
		if log_has "$DAEMON_LOG" "daedalus-v4l2d info: daedalus-v4l2d [^ ]+ ready$"; then
			kill -0 "$daemon_pid" 2>/dev/null && return 0
			break
		fi
		kill -0 "$daemon_pid" 2>/dev/null || break
		nap 0.1
	done
	echo "FAIL: the daemon did not start:"
	cat "$DAEMON_LOG"
	exit 1
}

# check WHAT COMMAND...: one "ok"/"FAIL" line; a failure counts for media_finish.
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		failures=$((failures + 1))
	fi
}

daemon_alive() {
	if kill -0 "$daemon_pid" 2>/dev/null; then
		echo "ok   daemon still running (pid $daemon_pid)"
	else
		echo "FAIL the daemon died"
		failures=$((failures + 1))
	fi
}

# SIGTERM must stop it within 5 s with status 0.
daemon_stop() {
	local t0=${EPOCHREALTIME//[!0-9]/} st i
	kill -TERM "$daemon_pid"
	for ((i = 0; i < 50; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; nap 0.1; done
	if kill -0 "$daemon_pid" 2>/dev/null; then
		echo "FAIL the daemon ignored SIGTERM for 5 s"
		kill -KILL "$daemon_pid"
		failures=$((failures + 1))
	fi
	wait "$daemon_pid"
	st=$?
	if [ "$st" = 0 ]; then
		echo "ok   daemon stopped on SIGTERM in $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms, status 0"
	else
		echo "FAIL the daemon exited with status $st"
		failures=$((failures + 1))
	fi
}

# notify_listen NAME LOG: what a service manager gives a daemon as $NOTIFY_SOCKET (@NAME: an
# abstract datagram socket), for a daemon the test starts itself: every notice becomes one
# line of LOG (a notice's own lines joined by |) until STOPPING=1. Returns once the socket is
# bound, with the listener's pid in notify_pid.
notify_listen() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"\0" + sys.argv[1].encode())
print("listening", flush=True)
while True:
    msg = s.recv(4096).decode()
    print(msg.replace("\n", "|"), flush=True)
    if "STOPPING=1" in msg:
        break
' "$1" >"$2" 2>&1 &
	notify_pid=$!
	local i
	for ((i = 0; i < 150; i++)); do log_has "$2" "^listening$" && return 0; nap 0.1; done
	echo "FAIL no listener on @$1: $(cat "$2")"
	failures=$((failures + 1))
	return 1
}

check_clip() { # check-clip.py arguments
	python3 "$MEDIA/check-clip.py" --workdir "$CLIPS" --gst-decode "$GST_DECODE" "$@" ||
		failures=$((failures + 1))
}

# Several checks, one after the other, in one Python and one gst-decode process: starting
# those costs about 3.5 s per clip under TCG with the normal kernel and 9 s with the debug
# kernel, more than many clips take to decode. Each pipeline still has its own decoder
# element, so each clip opens, uses and closes a device context of its own, as with
# check_clip. Each argument is one check's check-clip.py options ("--clip NAME [...]").
check_clips() {
	local c a=() st
	for c in "$@"; do a+=(--check "$c"); done
	python3 "$MEDIA/check-clip.py" --workdir "$CLIPS" --gst-decode "$GST_DECODE" "${a[@]}"
	st=$?
	# the number of failed checks (a crash, status 1 or more, fails at least one)
	failures=$((failures + st))
}

media_finish() { # test name
	# errors first: in a long test (the soak) the per-stream lines would crowd them out
	echo "--- daemon log (errors and warnings):"
	grep -E "error|warning|ASan|runtime error|Sanitizer" "$DAEMON_LOG" | head -n 40
	echo "--- daemon log (per-stream lines):"
	grep -E "ctx [0-9]+: (VP|AV|H\.264|closed)" "$DAEMON_LOG" | head -n 30
	if grep -qE "AddressSanitizer|runtime error:|LeakSanitizer" "$DAEMON_LOG"; then
		echo "FAIL sanitizer report in the daemon log"
		failures=$((failures + 1))
	fi
	if [ "$failures" = 0 ]; then
		echo "$1: PASS"
		exit 0
	fi
	# GStreamer's v4l2codecs wait at most one second for a request (gst_v4l2_request_set_done,
	# GST_SECOND); a slower job leaves its OUTPUT buffer taken and the element fails with "Not
	# enough memory to decode ... stream". Say so, so that a loaded machine is not mistaken for
	# a decoding bug (the failure stands).
	if grep -qE "job [0-9]+ took [0-9]{4,} ms" "$DAEMON_LOG"; then
		echo "NOTE a job took a second or more (above); GStreamer gives up on a request after one" \
			"second, so a GStreamer error after it may come from the machine's load"
	fi
	echo "$1: FAIL ($failures failed checks)"
	exit 1
}

# Several clips at once, each in its own GStreamer process (so its own decoder context and
# daemon worker); the outputs are printed one after the other. The clips are made first, one
# after the other: a clip missing from the host's `make clips` is encoded here in the guest, for
# up to minutes under TCG, and the decodes would then no longer overlap (daemon-parallel.sh
# checks that they do; it once failed in CI that way, its streams 110 s apart).
check_clips_parallel() { # clip names
	local pids=() c i=0 out=/tmp/parallel.$$
	python3 - "$MEDIA" "$CLIPS" "$@" <<-'EOT' || failures=$((failures + 1))
		import sys
		sys.path.insert(0, sys.argv[1])
		import clips
		for name in sys.argv[3:]:
		    clips.make_clip("ffmpeg", sys.argv[2], name)
	EOT
	for c in "$@"; do
		python3 "$MEDIA/check-clip.py" --workdir "$CLIPS" --gst-decode "$GST_DECODE" \
			--clip "$c" >"$out.$i" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || failures=$((failures + 1))
		cat "$out.$i"
	done
	rm -f "$out".*
}
