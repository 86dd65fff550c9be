#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-batch: yes
# testbed-kernels: normal debug
# close() racing with jobs that fail without reaching a daemon (issue 14, item 4). With no
# daemon, device_run() fails each job itself and the m2m core still uses the m2m context
# after it has woken a close() waiting in v4l2_m2m_cancel_job(); release must not free the
# context under it. Many short-lived decoders with requests in flight are closed (close,
# exit, STREAMOFF, at every frame position) with no daemon, then while a daemon that holds
# jobs goes away (its jobs fail at once, the next ones fail in device_run). Under the debug
# kernel KASAN reports a use after free and lockdep a bad lock order; the testbed fails the
# run on either. The m2m worker and close() run on the guest's two CPUs at once, but the
# window is a few instructions wide, so this is a stress test, not a deterministic
# reproduction.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
need_cpus 2
cycles=${CLOSE_RACE_CYCLES:-24}
hows=(close exit streamoff)

t0=$(date +%s%N)
bad=0
for i in $(seq 0 $((cycles - 1))); do
	how=${hows[$((i % 3))]}
	run_client --codec vp8 --frames 8 --depth 8 --contexts 4 --abort "$how" \
		--abort-frame $((i % 8)) --expect any --no-verify --timeout-ms 10000 >/dev/null
	[ "$CLIENT_RC" = 0 ] || { bad=$((bad + 1)); echo "cycle $i ($how): $CLIENT_SUMMARY"; }
done
check "no daemon: $cycles cycles of 4 decoders closed ($((cycles * 4)) contexts), $bad failed" \
	test $bad = 0
t1=$(date +%s%N)

# A daemon holding jobs closes its bridge while the decoders are being closed.
gone=0
for i in $(seq 0 5); do
	start_peer "peer$i" --delay-ms 20 --close-after $((2 + i)) || break
	run_client --codec vp8 --frames 8 --depth 4 --contexts 4 --abort close \
		--abort-frame $((3 + i % 4)) --expect any --no-verify --timeout-ms 10000 >/dev/null
	[ "$CLIENT_RC" = 0 ] || { gone=$((gone + 1)); echo "daemon cycle $i: $CLIENT_SUMMARY"; }
	kill -KILL "$PEER_PID" 2>/dev/null
	wait "$PEER_PID" 2>/dev/null
done
check "daemon going away: 6 cycles of 4 decoders closed, $gone failed" test $gone = 0

# The device still decodes afterwards.
start_peer last || finish "(no peer)"
run_client --codec vp8 --frames 3 --contexts 2
check "decoding works afterwards" test "$CLIENT_RC" = 0
stop_peer
finish "contexts_closed=$((cycles * 4 + 24)) no_daemon_ms=$(ms_between "$t0" "$t1")"
