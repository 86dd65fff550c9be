#!/bin/bash
# testbed-run: --no-daemon --timeout 500 --module-params job_timeout_ms=30000
# testbed-kernels: normal debug
# testbed-batch: yes
# testbed-seconds: 35 debug=130
# No opener takes the bridge from the others (issue 13, docs/security.md), against the test peer:
# - Job table: 80 decoder instances with a job each while the peer answers 1.5 s after receiving
#   it: the device-wide table (64) fills, and the contexts past it must wait for a slot
#   (job_ready back-pressure, rescheduled when a job leaves the table), not fail: every frame
#   comes back intact, and the kernel counts the contexts it held back.
# - Fds: a peer whose RLIMIT_NOFILE is too small for a YUV420M client's buffers. GET_MSG must
#   fail the job whose fds it cannot install (that client gets ERROR buffers, the kernel says
#   why) and go on, never hand the peer an error or block the FIFO: the peer keeps serving,
#   and once that client has gone (BUF_GONE closes its fds) a new one decodes intact.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
need_cpus 2
STATE=/sys/kernel/debug/daedalus-v4l2/state
held() { sed -n 's/.*held back by a full table \([0-9]*\).*/\1/p' "$STATE"; }
klines() { dmesg | grep -c "$1"; }
# The test may share its boot with others (testbed-batch): count only the lines it causes.
nodaemon0=$(klines 'no decoding daemon attached')
full0=$(klines 'job table full')

# --- the job table
held0=$(held)
start_peer table --delay-ms 1500 || finish "(no peer)"
"$CLIENT" --codec vp8 --contexts 40 --frames 2 --timeout-ms 25000 >"$WORK/a.log" 2>&1 &
a=$!
"$CLIENT" --codec vp9 --contexts 40 --frames 2 --timeout-ms 25000 >"$WORK/b.log" 2>&1 &
b=$!
wait $a
ra=$?
wait $b
rb=$?
grep -h "^dv-reqclient: \(PASS\|FAIL\)\|FAIL" "$WORK/a.log" "$WORK/b.log" | head -n 20 | sed 's/^/    client| /'
check "40 VP8 + 40 VP9 contexts past the 64-job table: every frame intact" test $ra = 0 -a $rb = 0
stop_peer
check "peer answered every job ($PEER_SUMMARY)" test "$PEER_RC" = 0
inflight=$(field max_in_flight "$PEER_SUMMARY")
# Contexts passing job_ready at the same moment may each submit one more (docs/kernel.md).
check "peer held at most about 64 jobs at once ($inflight; the rest waited in the kernel)" \
	test "${inflight:-999}" -le 72
held1=$(held)
check "the kernel held contexts back $((held1 - held0)) times (debugfs)" test $((held1 - held0)) -gt 0
check "no frame failed for a full table" test "$(klines 'job table full')" = "$full0"
check "no 'no decoding daemon' line while one was attached" \
	test "$(klines 'no decoding daemon attached')" = "$nodaemon0"

# --- fds: 8 YUV420M CAPTURE buffers (3 fds each) + OUTPUT, against a peer with 24 fds
nofd0=$(klines "no free fd in the daemon")
start_peer fds || finish "(no peer)"
prlimit --pid "$PEER_PID" --nofile=24:24
check "peer's fd limit lowered to 24" test $? = 0
run_client --codec vp8 --frames 16 --capture-fmt YUV420M --capture-buffers 8 --expect any \
	--timeout-ms 10000
check "client of a peer out of fds: no hang, frames back ($CLIENT_SUMMARY)" test "$CLIENT_RC" = 0
errors=$(field error "$CLIENT_SUMMARY")
check "some of its frames failed with ERROR ($errors)" test "${errors:-0}" -gt 0
nofd=$(($(klines "no free fd in the daemon") - nofd0))
check "the kernel said why ($nofd lines, rate-limited)" test "$nofd" -gt 0
kill -0 "$PEER_PID" 2>/dev/null
check "the peer still runs (GET_MSG never failed it)" test $? = 0
run_client --codec vp8 --frames 6 --timeout-ms 10000
check "after that client, a new one decodes intact through the same peer ($CLIENT_SUMMARY)" \
	test "$CLIENT_RC" = 0
stop_peer
check "peer saw no protocol error ($PEER_SUMMARY)" test "$PEER_RC" = 0
dmesg | grep "no free fd in the daemon" | head -n 2 | sed 's/^/    dmesg| /'
finish "held_back=$((held1 - held0)) peer_max_in_flight=$inflight fd_failed_lines=$nofd fd_client_errors=$errors"
