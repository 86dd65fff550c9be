#!/bin/bash
# testbed-run: --no-daemon --timeout 300 --module-params job_timeout_ms=10000
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 5
# With no daemon attached, or with the bridge open but no HELLO yet, a request completes at
# once with its CAPTURE buffer marked ERROR (no waiting for the watchdog). The kernel says so
# once per context, not once per frame, and counts the failed frames in one line at close.
# Normal kernel only since 2026-12-07 (CI time): under the debug kernel every frame fails
# without a daemon in kernel-compliance (no daemon attached) and in kernel-ioctl-fuzz's first
# phase; what this test adds is the time to ERROR.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
# The watchdog, which would otherwise be what failed them, is set to 10 s (the module parameter
# above): 3 s tells the two apart with slack for a loaded debug kernel.
limit=3000
frames=12

# kmsg_count PATTERN: how many kernel log lines match so far.
kmsg_count() { dmesg | grep -c "$1"; }
warn0=$(kmsg_count "no decoding daemon attached")
count0=$(kmsg_count "$frames frames failed without a decoding daemon")
run_client --codec vp8 --frames $frames --contexts 2 --expect error --max-ms $limit
check "no bridge opener: ERROR within $limit ms (max $(field lat_ms_max "$CLIENT_SUMMARY") ms)" \
	test "$CLIENT_RC" = 0
max1=$(field lat_ms_max "$CLIENT_SUMMARY")
warns=$(($(kmsg_count "no decoding daemon attached") - warn0))
counts=$(($(kmsg_count "$frames frames failed without a decoding daemon") - count0))
check "one 'no decoding daemon' line per context for $frames failed frames each ($warns lines, want 2)" \
	test "$warns" = 2
check "one count line per context at close ($counts lines, want 2)" test "$counts" = 2
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
