#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-batch: yes
# testbed-seconds: 25
# The daemon built with ASan/UBSan (build/daemon-asan, made by tests/unit/daemon-engine.sh,
# or here) serving real GStreamer clients: clean clips, two streams at once, a
# damaged frame and a seek. Any sanitizer report, a crash or a non-zero exit after SIGTERM
# (LeakSanitizer runs then) fails the test. It runs unprivileged, without the seccomp filter
# (docs/security.md).
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
ASAN_DIR=$CK/build/daemon-asan
# up to date with the sources (a no-op when tests/unit/daemon-engine.sh just built it)
{ [ -f "$ASAN_DIR/build.ninja" ] ||
	meson setup --buildtype=debugoptimized -Db_sanitize=address,undefined \
		-Db_lundef=false "$ASAN_DIR" "$CK/daemon" >/dev/null; } &&
	ninja -C "$ASAN_DIR" daedalus-v4l2d >/dev/null ||
	{ echo "FAIL: cannot build the sanitizer daemon"; exit 1; }
DAEMON=$ASAN_DIR/daedalus-v4l2d
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
media_setup
if ! readelf -s "$DAEMON" | grep -q __asan_init; then
	echo "FAIL: $DAEMON is not an ASan build"
	exit 1
fi
daemon_start
# unprivileged like any daemon, but without the seccomp filter, which ASan and LeakSanitizer
# cannot work under (docs/security.md); the daemon must say so
st=$(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$daemon_pid/status" | tr -s '\t\n' '  ')
if [[ "$st" == *"CapEff: 0000000000000000 NoNewPrivs: 1 Seccomp: 0 "* ]] && [[ "$st" != "Uid: 0 "* ]] &&
	grep -q "sandbox: uid [1-9][0-9]*, .*no seccomp filter (address-sanitizer build)" "$DAEMON_LOG"; then
	echo "ok   unprivileged, no seccomp filter, and the log says so: $st"
else
	echo "FAIL the sanitizer daemon is not unprivileged without a filter as documented: $st"
	failures=$((failures + 1))
fi
check_clip --clip vp9-altref-odd
check_clips_parallel vp8-altref-odd vp9-reschange
check_clip --clip vp9-altref-odd --corrupt 7:garbage
check_clip --clip vp9-altref-odd --seek 8:1.2
daemon_alive
daemon_stop
media_finish daemon-asan
