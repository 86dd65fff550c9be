#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-kernels: normal debug
# With no daemon attached, or with the bridge open but no HELLO yet, a request completes at
# once with its CAPTURE buffer marked ERROR (no waiting for the watchdog).
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
limit=500

run_client --codec vp8 --frames 4 --contexts 2 --expect error --max-ms $limit
check "no bridge opener: ERROR within $limit ms (max $(field lat_ms_max "$CLIENT_SUMMARY") ms)" \
	test "$CLIENT_RC" = 0
max1=$(field lat_ms_max "$CLIENT_SUMMARY")
start_peer idle --open-only 30000 || finish "(no peer)"
run_client --codec h264 --frames 3 --expect error --max-ms $limit
check "bridge open without HELLO: ERROR within $limit ms (max $(field lat_ms_max "$CLIENT_SUMMARY") ms)" \
	test "$CLIENT_RC" = 0
max2=$(field lat_ms_max "$CLIENT_SUMMARY")
kill "$PEER_PID" 2>/dev/null
wait "$PEER_PID" 2>/dev/null
# A daemon that comes later serves the same device normally.
start_peer peer --expect-all-gone || finish "(no peer)"
run_client --codec vp8 --frames 3
check "a daemon attached afterwards: frames decode" test "$CLIENT_RC" = 0
stop_peer
check "peer clean ($PEER_SUMMARY)" test "$PEER_RC" = 0
finish "error_latency_ms_max: no_opener=$max1 no_hello=$max2 (limit $limit)"
