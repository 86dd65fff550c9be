#!/bin/bash
# testbed-run: --no-daemon --timeout 900 --module-params job_timeout_ms=30000
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 60
# One client exhausting what the daemon and the kernel share must not take the decoder from
# another (issue 13, docs/security.md). A stream decodes a VP9 clip the way Chromium does
# (dv-vpxclient, every picture against libvpx); once all its CAPTURE buffers have their fds in
# the daemon, the daemon's fd limit is lowered to what it holds plus a few, and a hostile client
# (dv-reqclient) starts 24 decoder instances of 32 YUV420M CAPTURE and 16 OUTPUT buffers each (up
# to 2688 fds) with 4 jobs each in flight (96 jobs for a table of 64). What must hold:
# - the stream's every picture still equals libvpx's;
# - the hostile client is refused (ERROR buffers: the kernel fails the jobs whose fds it
#   cannot install, and says so), and gets every buffer back: no hang;
# - the daemon never exits, and afterwards a new stream decodes bit-exact.
# (Under the debug kernel one emulated CPU with KASAN serves 24 contexts too slowly for the
# timing of the stream; the kernel paths are covered there by proto-dos.sh.)
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
T=$CK/build/tests
for b in dv-vpxclient dv-reqclient; do
	[ -x "$T/$b" ] || { echo "FAIL: $T/$b is not built (make tools)"; exit 1; }
done
need_cpus 2
media_setup
# jobs in flight per context, as the daemon asks by default, so that the hostile contexts
# can fill the table
echo 4 >/sys/module/daedalus_v4l2/parameters/max_inflight
daemon_start --max-inflight 4
STATE=/sys/kernel/debug/daedalus-v4l2/state
WORKD=$(mktemp -d /tmp/daemon-dos.XXXXXX)
fds() { ls "/proc/$daemon_pid/fd" | wc -l; }
klines() { dmesg | grep -c "$1"; }
# The test may share its boot with others (testbed-batch): count only the lines it causes.
full0=$(klines 'job table full')
held() { sed -n 's/.*held back by a full table \([0-9]*\).*/\1/p' "$STATE"; }

stream() { # clip, output file: the Chromium-style client, every picture against libvpx
	python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
		--decode-clip "$T/dv-vpxclient" --clip "$1" -- --capture mmap --cycle --pace-ms 150 \
		>"$2" 2>&1
}
# the clip and its reference decode first, so that the stream's decode is what overlaps
stream vp9-350x198 "$WORKD/warmup.log" ||
	{ sed 's/^/    /' "$WORKD/warmup.log" | tail -n 5; echo "FAIL the stream alone"; failures=$((failures + 1)); }

# the warm-up's BUF_GONEs close its fds as the main loop gets to them
for _ in $(seq 50); do
	base=$(fds)
	nap 0.5
	[ "$(fds)" = "$base" ] && break
done
nofd0=$(klines "no free fd in the daemon")
held0=$(held)
# the hostile client sets everything up, then waits for the go
"$T/dv-reqclient" --codec vp8 --contexts 24 --frames 64 --depth 16 --capture-buffers 32 \
	--capture-fmt YUV420M --expect any --no-verify --timeout-ms 60000 --go-file "$WORKD/go" \
	>"$WORKD/hog.log" 2>&1 &
hog=$!
stream vp9-350x198 "$WORKD/stream.log" &
victim=$!
# every CAPTURE buffer of the stream (12, taken in turn) and its OUTPUT buffer have their fds
for _ in $(seq 600); do
	[ "$(fds)" -ge $((base + 13)) ] && break
	kill -0 $victim 2>/dev/null || break
	nap 0.1
done
have=$(fds)
check "the stream's 13 buffers reached the daemon ($((have - base)) new fds)" test "$have" -ge $((base + 13))
limit=$((have + 48))
prlimit --pid "$daemon_pid" --nofile=$limit:$limit
check "the daemon's fd limit lowered to $limit (it holds $have)" test $? = 0
touch "$WORKD/go"
wait $hog
hog_rc=$?
wait $victim
victim_rc=$?

echo "--- the stream:"
grep -E "pictures match|requests|ERROR|differ|exited|picture [0-9]+:" "$WORKD/stream.log" | head -n 10
check "the stream decoded every picture bit-exact while the other client was refused" test $victim_rc = 0
echo "--- the hostile client:"
grep -E "^dv-reqclient: (PASS|FAIL)|FAIL" "$WORKD/hog.log" | head -n 8 | sed 's/^/    /'
summary=$(grep "^dv-reqclient: \(PASS\|FAIL\) " "$WORKD/hog.log" | tail -n 1)
check "the hostile client got every buffer back, no hang (status $hog_rc)" test "$hog_rc" = 0
errors=$(echo "$summary" | grep -o "error=[0-9]*" | cut -d= -f2)
check "the hostile client was refused: ${errors:-?} ERROR buffers" test "${errors:-0}" -gt 0
nofd=$(($(klines "no free fd in the daemon") - nofd0))
check "the kernel failed its jobs for want of fds and said so ($nofd lines, rate-limited)" test "$nofd" -gt 0
dmesg | grep "no free fd in the daemon" | head -n 2 | sed 's/^/    dmesg| /'
echo "     the job table held contexts back $(($(held) - held0)) times (debugfs)"
check "no frame failed for a full job table" test "$(klines 'job table full')" = "$full0"
daemon_alive
# BUF_GONE closes them as the main loop gets to it
for _ in $(seq 300); do [ "$(fds)" -le $((have + 4)) ] && break; nap 0.1; done
check "the daemon's fds are back near where they were ($(fds), limit $limit)" test "$(fds)" -le $((have + 4))
# still serving, with the lowered limit: a new stream, new buffers, new fds
stream vp9-350x198 "$WORKD/after.log"
rc=$?
grep -E "pictures match|ERROR|differ" "$WORKD/after.log" | head -n 3
check "a new stream afterwards decodes bit-exact" test $rc = 0
grep -E "GET_MSG|cannot start a worker" "$DAEMON_LOG" | head -n 5
rm -rf "$WORKD"
daemon_stop
media_finish daemon-dos
