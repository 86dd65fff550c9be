#!/bin/bash
# testbed-run: --no-daemon --timeout 600 --module-params job_timeout_ms=500
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 10 debug=25
# Completions racing with everything else that can finish a job, for KASAN and lockdep to
# watch (debug kernel):
#  1. the daemon answers around the watchdog's deadline (job_timeout_ms=500, answers after
#     450..550 ms): each job ends exactly once, either answered in time (and then
#     bit-exact) or timed out (a waiting JOB_CANCEL; the answer, before or after it, is
#     accepted and the buffers come back ERROR);
#  2. every 3rd answer is ERROR: the buffers come back ERROR, and a later job that names such a
#     buffer as reference sees DAEDALUS_BUF_FLAG_ERROR on it;
#  3. applications killed at random points while the daemon answers within 0..20 ms and other
#     contexts keep decoding.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
need_cpus 2

# 1. answers against the watchdog
start_peer race --delay-ms 450 --jitter-ms 100 --expect-all-gone || finish "(no peer)"
run_client --codec vp8 --frames 6 --contexts 4 --expect any --timeout-ms 5000
check "answer vs watchdog: all frames returned, answered ones bit-exact" test "$CLIENT_RC" = 0
ok1=$(field ok "$CLIENT_SUMMARY") err1=$(field error "$CLIENT_SUMMARY")
stop_peer
c=$(field completed "$PEER_SUMMARY") a=$(field cancel_answered "$PEER_SUMMARY")
x=$(field cancel_crossed "$PEER_SUMMARY") l=$(field late_rejected "$PEER_SUMMARY")
check "peer: $c answered ($x of them crossed by a JOB_CANCEL) + $a answered after JOB_CANCEL = $(field jobs "$PEER_SUMMARY") jobs, $l rejected; client saw $ok1 ok / $err1 ERROR" \
	test "$PEER_RC" = 0 -a $((c + a)) = "$(field jobs "$PEER_SUMMARY")" -a "$l" = 0 \
	-a $((c - x)) = "$ok1" -a $((a + x)) = "$err1"

# 2. ERROR answers and references to failed pictures
start_peer errors --error-every 3 --expect-all-gone || finish "(no peer)"
run_client --codec vp9 --frames 9 --contexts 2 --expect any
check "every 3rd frame ERROR ($(field error "$CLIENT_SUMMARY") of $(field done "$CLIENT_SUMMARY")), references to them flagged ERROR, the rest bit-exact" \
	test "$CLIENT_RC" = 0 -a "$(field error "$CLIENT_SUMMARY")" = 6
stop_peer
check "peer clean ($PEER_SUMMARY)" test "$PEER_RC" = 0

# 3. applications killed at random points
start_peer storm --jitter-ms 20 --expect-all-gone || finish "(no peer)"
# (--expect any: on a slow debug VM a 500 ms watchdog may fail some of its frames; every
# frame that comes back without ERROR is still checked bit for bit.)
"$CLIENT" --codec h264 --frames 60 --contexts 2 --depth 2 --expect any >"$WORK/steady.log" 2>&1 &
steady=$!
kills=0
for round in $(seq 6); do
	pids=()
	for k in 1 2 3; do
		"$CLIENT" --codec vp8 --frames 8 --depth 2 --abort kill \
			--abort-frame $((RANDOM % 6)) --abort-delay-ms $((RANDOM % 25)) \
			--expect any >"$WORK/kill.$round.$k.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || { fail=1; cat "$WORK"/kill."$round".*.log; }
		kills=$((kills + 1))
	done
done
wait $steady
rs=$?
grep "^dv-reqclient: \(PASS\|FAIL\)" "$WORK/steady.log" | sed 's/^/    client| /'
check "$kills applications killed mid-stream; a steady 2-context H.264 stream beside them intact" \
	test $rs = 0
stop_peer
check "peer clean, every buffer and context reported gone ($PEER_SUMMARY)" test "$PEER_RC" = 0
finish "watchdog_race: answered=$c timed_out=$((a + x)); error_every_3: ok; killed_clients=$kills cancels=$(field cancels "$PEER_SUMMARY")"
