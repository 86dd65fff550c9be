#!/bin/bash
# testbed-run: --no-daemon --timeout 600 --module-params job_timeout_ms=30000
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 15 debug=25
# The daemon goes away while it holds jobs: it closes the bridge, exits, or is killed with
# SIGKILL. Every held job must complete as ERROR at once (< 5 s after the daemon is gone), and a
# new daemon (new session) must then serve the device. The watchdog is set to 30 s so that it
# can never be what fails the jobs, however slow the (debug, TCG) VM is.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
# The close fails the held jobs at once; the watchdog would take 30 s. 5 s leaves a loaded debug
# kernel (which took 1.3 s to tear a daemon down in another test) its slack.
limit=5000 n=4
lat=()

# client_bg: 4 contexts, one frame each, expected to fail
client_bg() {
	CLOG=$WORK/client.bg.log
	"$CLIENT" --codec vp8 --frames 1 --contexts $n --expect error --timeout-ms 60000 -v \
		>"$CLOG" 2>&1 &
	CPID=$!
}
client_wait() { # what, t_gone_ns
	local what=$1 t_gone=$2 rc sum last ms
	wait "$CPID"
	rc=$?
	sed 's/^/    client| /' "$CLOG"
	sum=$(grep "^dv-reqclient: \(PASS\|FAIL\) " "$CLOG")
	last=$(field last_done_ns "$sum")
	ms=$(ms_between "$t_gone" "${last:-0}")
	lat+=("$what=${ms}ms")
	check "$what: $n held jobs failed, last ERROR $ms ms after the daemon was gone (< $limit)" \
		test "$rc" = 0 -a "$(field error "$sum")" = $n -a "$ms" -lt $limit -a "$ms" -ge 0
}
# gone_time: the peer's "closing/exiting ... t_ns=N" (CLOCK_MONOTONIC), waiting up to 60 s.
gone_time() {
	local t log
	for _ in $(seq 1200); do
		IFS= read -r -d '' log <"$PEER_LOG"
		t=$(field t_ns "$log")
		[ -n "$t" ] && break
		nap 0.05
	done
	echo "${t:-0}"
}

# 1. close(): the peer holds 4 jobs for 300 ms, closes, opens again and serves.
start_peer close --close-after $n --hold-ms 300 --reopen --expect-all-gone || finish "(no peer)"
client_bg
client_wait "close" "$(gone_time)"
run_client --codec vp8 --frames 3
check "same peer after reopening (new session): frames decode" test "$CLIENT_RC" = 0
stop_peer
check "peer (session 2) clean ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field session "$PEER_SUMMARY")" -ge 2

# 2. exit(): the peer process ends while holding jobs.
start_peer exit --exit-after $n --hold-ms 300 || finish "(no peer)"
client_bg
client_wait "exit" "$(gone_time)"
wait "$PEER_PID" 2>/dev/null

# 3. SIGKILL: the peer hangs on its jobs and is killed from outside.
start_peer kill --mode hang -v || finish "(no peer)"
client_bg
for _ in $(seq 1200); do
	count_lines "$PEER_LOG" "dv-testpeer: job "
	[ "$COUNT" -ge $n ] && break
	nap 0.05
done
check "the peer holds all $n jobs before it is killed" \
	test "$(grep -c '^dv-testpeer: job ' "$PEER_LOG")" -ge $n
nap 0.3
t_kill=$("$PEER" --now)
kill -KILL "$PEER_PID"
wait "$PEER_PID" 2>/dev/null
client_wait "SIGKILL" "$t_kill"

# 4. Reference fds only for a daemon that asks (HELLO_FLAG_REF_FDS). Frame 0 is held and fails
# when the peer closes; frame 1, queued 600 ms later to the reopened peer (session 2), names
# frame 0's buffer, whose fd only session 1 had. A peer that asks gets that fd with the
# reference: the control, which shows the case happens. One that does not, as daedalus-v4l2d,
# must get no fd there (the peer counts one as a violation) and the buffer still described.
for mode in asked not-asked; do
	args=()
	[ $mode = not-asked ] && args=(--no-ref-fds)
	start_peer "refs-$mode" --close-after 1 --hold-ms 100 --reopen "${args[@]}" ||
		finish "(no peer)"
	run_client --codec vp8 --frames 4 --pace-ms 600 --expect any
	stop_peer
	check "reference fds $mode: client ran ($CLIENT_SUMMARY)" test "$CLIENT_RC" = 0
	ref_fds=$(field ref_fds "$PEER_SUMMARY")
	refs_unknown=$(field refs_unknown "$PEER_SUMMARY")
	if [ $mode = asked ]; then
		check "reference fds asked for: a reference of session 1 came with its fd in session 2 (ref_fds=$ref_fds)" \
			test "$PEER_RC" = 0 -a "$(field reopens "$PEER_SUMMARY")" = 1 -a "${ref_fds:-0}" -ge 1
	else
		check "reference fds not asked for: none came, the reference still described (ref_fds=$ref_fds refs_unknown=$refs_unknown)" \
			test "$PEER_RC" = 0 -a "$(field reopens "$PEER_SUMMARY")" = 1 -a \
			"${ref_fds:-x}" = 0 -a "${refs_unknown:-0}" -ge 1
	fi
done

start_peer after --expect-all-gone || finish "(no peer)"
run_client --codec h264 --frames 3 --contexts 2
check "a new daemon after all that: frames decode" test "$CLIENT_RC" = 0
stop_peer
check "last peer clean ($PEER_SUMMARY)" test "$PEER_RC" = 0
finish "daemon-gone-to-last-ERROR: ${lat[*]} (limit ${limit}ms, watchdog 30000ms)"
