#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=20
# A job's structure is allocated when its OUTPUT buffer is prepared (the queueing of its
# request), not in device_run: a shortage is an ENOMEM the application gets from
# MEDIA_REQUEST_IOC_QUEUE and can wait out, never a frame failed ahead of the older jobs still
# in flight (which is what device_run could do with a job it had no structure for: return its
# buffers at once). The module's fault point fail-job-alloc (debugfs; kernels built with
# CONFIG_FAULT_INJECTION_DEBUG_FS, which the debug kernel is) fails every fourth allocation,
# three times, while the client keeps 4 requests of one context queued and the test peer, as
# the daemon, holds 2 in flight and answers the newest first: each failure must reach the
# client as ENOMEM (it queues the request again), and all 16 frames must come back OK,
# bit-exact, in order.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
F=/sys/kernel/debug/daedalus-v4l2/fail-job-alloc
if [ ! -d "$F" ]; then
	fail=1
	finish "(no fault point $F: is this the debug kernel, with CONFIG_FAULT_INJECTION_DEBUG_FS?)"
fi
set_max_inflight 2
# the fault point off again however the test ends (set_max_inflight's trap, and this)
trap 'echo 0 >"$F/probability"; echo "$MAX_INFLIGHT_OLD" >"$MAX_INFLIGHT_PARAM"' EXIT
# quiet (no stack dump per failure: the testbed fails a run on call traces), every 4th, 3 times
echo 0 >"$F/verbose"
echo 4 >"$F/interval"
echo 3 >"$F/times"
echo 100 >"$F/probability"

start_peer alloc --pipeline 2 --expect-inflight 2 --delay-ms 40 --lifo --expect-all-gone ||
	finish "(no peer)"
run_client --codec vp9 --frames 16 --depth 4 --retry-enomem 10
echo 0 >"$F/probability"
left=$(cat "$F/times")
stop_peer
check "3 allocations failed ($((3 - left)) injected), each an ENOMEM from QUEUE: $(field queue_enomem "$CLIENT_SUMMARY")" \
	test "$left" = 0 -a "$(field queue_enomem "$CLIENT_SUMMARY")" = 3
check "all 16 frames OK, bit-exact, in order: $(field ok "$CLIENT_SUMMARY") ok, $(field verified "$CLIENT_SUMMARY") verified" \
	test "$CLIENT_RC" = 0 -a "$(field ok "$CLIENT_SUMMARY")" = 16 \
	-a "$(field verified "$CLIENT_SUMMARY")" = 16
check "the peer saw 16 jobs, 2 in flight at once ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field completed "$PEER_SUMMARY")" = 16 \
	-a "$(field max_in_flight "$PEER_SUMMARY")" = 2
finish "queue_enomem=$(field queue_enomem "$CLIENT_SUMMARY")"
