#!/bin/bash
# testbed-run: --no-daemon --timeout 300 --module-params job_timeout_ms=1000
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 5 debug=35
# A daemon that takes a job and never answers: the job completes as ERROR after the module's
# job_timeout_ms (set to 1000 here), the daemon gets JOB_CANCEL, and its late answer is
# rejected with ENOENT. The same with 4 jobs of one context in flight (module parameter
# max_inflight, the peer asking for it): each job fails at its own deadline, in order.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"

t=$(cat /sys/module/daedalus_v4l2/parameters/job_timeout_ms)
start_peer peer --mode hang -v || finish "(no peer)"
check "HELLO reports job_timeout_ms=$t like the module parameter" \
	grep -q "job_timeout_ms=$t\b" "$PEER_LOG"
lo=$((t * 95 / 100)) hi=$((t + 1000))
run_client --codec vp8 --frames 3 --contexts 2 --expect error --min-ms $lo --max-ms $hi --timeout-ms $((t * 4))
check "frames fail after $lo..$hi ms (min $(field lat_ms_min "$CLIENT_SUMMARY"), max $(field lat_ms_max "$CLIENT_SUMMARY") ms)" \
	test "$CLIENT_RC" = 0
wd_min=$(field lat_ms_min "$CLIENT_SUMMARY") wd_max=$(field lat_ms_max "$CLIENT_SUMMARY")
sleep 0.5
stop_peer
check "peer: 6 JOB_CANCEL, 6 late answers rejected with ENOENT ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field cancels "$PEER_SUMMARY")" = 6 \
	-a "$(field late_rejected "$PEER_SUMMARY")" = 6
# The same device works normally afterwards.
start_peer peer2 --expect-all-gone || finish "(no peer)"
run_client --codec vp8 --frames 2
check "decoding works after the timeouts" test "$CLIENT_RC" = 0
stop_peer
check "second peer clean" test "$PEER_RC" = 0

# Jobs in flight: every one of them times out, and they come back in order.
param=/sys/module/daedalus_v4l2/parameters/max_inflight
old_max=$(cat "$param")
trap 'echo "$old_max" >"$param"' EXIT
echo 4 >"$param"
start_peer pipe --mode hang --pipeline 4 --expect-inflight 4 -v || finish "(no peer)"
run_client --codec vp9 --frames 6 --depth 4 --expect error --min-ms $lo --max-ms $hi \
	--timeout-ms $((t * 4))
check "4 in flight: frames fail in order after $lo..$hi ms (min $(field lat_ms_min "$CLIENT_SUMMARY"), max $(field lat_ms_max "$CLIENT_SUMMARY") ms)" \
	test "$CLIENT_RC" = 0
sleep 0.5
stop_peer
check "peer: 4 jobs held at once, 6 JOB_CANCEL, 6 late answers rejected ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field max_in_flight "$PEER_SUMMARY")" = 4 \
	-a "$(field cancels "$PEER_SUMMARY")" = 6 -a "$(field late_rejected "$PEER_SUMMARY")" = 6
finish "job_timeout_ms=$t error_after_ms min=$wd_min max=$wd_max"
