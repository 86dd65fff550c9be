#!/bin/bash
# testbed-run: --no-daemon --timeout 400 --module-params job_timeout_ms=30000
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 5 debug=30
# 16 decoder instances at once (8 VP8 + 8 H.264, each its own open of the video node): the peer
# answers each job 300 ms after receiving it, so if jobs of different contexts were serialised
# the 48 frames would take 14.4 s. They must all be in the daemon's hands at the same time (the
# proof of parallelism), all complete intact, and take less than half the serialised time.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
need_cpus 2
delay=300 frames=3

start_peer peer --delay-ms $delay --expect-pending 16 --expect-all-gone || finish "(no peer)"
"$CLIENT" --codec vp8 --contexts 8 --frames $frames --timeout-ms 20000 >"$WORK/a.log" 2>&1 &
a=$!
"$CLIENT" --codec h264 --contexts 8 --frames $frames --timeout-ms 20000 >"$WORK/b.log" 2>&1 &
b=$!
wait $a
ra=$?
wait $b
rb=$?
sed 's/^/    client| /' "$WORK/a.log" "$WORK/b.log"
sa=$(grep "^dv-reqclient: \(PASS\|FAIL\) " "$WORK/a.log")
sb=$(grep "^dv-reqclient: \(PASS\|FAIL\) " "$WORK/b.log")
check "8 VP8 contexts: all frames intact" test $ra = 0
check "8 H.264 contexts: all frames intact" test $rb = 0
wa=$(field wall_ms "$sa") wb=$(field wall_ms "$sb")
wall=$(printf '%.0f\n' "$(echo "$wa $wb" | tr ' ' '\n' | sort -g | tail -n 1)")
serial=$((16 * frames * delay))
check "wall time $wall ms, far below the $serial ms of serialised jobs" test "$wall" -lt $((serial / 2))
stop_peer
inflight=$(field max_in_flight "$PEER_SUMMARY")
check "peer held $inflight jobs at once (want 16) ($PEER_SUMMARY)" test "$PEER_RC" = 0
finish "contexts=16 frames=$((16 * frames)) max_in_flight=$inflight wall_ms=$wall serialised_would_be_ms=$serial"
