#!/bin/bash
# testbed-run: --no-daemon --timeout 900 --module-params job_timeout_ms=30000
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 20 debug=25
# Several jobs of one context in flight (module parameter max_inflight, HELLO_FLAG_PIPELINE;
# docs/frame-parallel.md §3, docs/protocol.md "Jobs in flight"), with the test peer as the
# daemon:
# - the kernel grants min(the daemon's wish, max_inflight), and 1 to a daemon that does not ask;
# - a client with 4 requests queued gets several jobs of its context in flight at once, and
#   every frame back in its order, bit-exact, however the daemon orders its answers (newest
#   first, or jittered), for every codec and with 2 contexts (H.264 frame based: whole pictures
#   without HOLD_CAPTURE_BUF);
# - the `inflight` hint never exceeds the granted number and `queued` shows the lookahead;
# - STREAMOFF, close, exit and SIGKILL of the client with 4 jobs in flight return at once and
#   send one JOB_CANCEL per job; the daemon closing the bridge with jobs in flight fails them
#   all, and a new session serves again; the testbed checks the kernel log (WARN, KASAN,
#   lockdep under the debug kernel).
# max_inflight is writable and read at HELLO; the test sets it and puts the old value back.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
param=/sys/module/daedalus_v4l2/parameters/max_inflight
old_max=$(cat "$param" 2>/dev/null)
check "module parameter max_inflight exists (default ${old_max:-none}, want 2)" test "${old_max:-}" = 2
[ -n "$old_max" ] || finish "(no max_inflight parameter)"
trap 'echo "$old_max" >"$param"' EXIT
echo 4 >"$param"

# 1. A daemon that does not ask keeps one job at a time.
start_peer plain --expect-inflight 1 --delay-ms 20 --expect-all-gone || finish "(no peer)"
run_client --codec vp8 --frames 8 --depth 4
check "no PIPELINE flag: vp8 at depth 4 decodes" test "$CLIENT_RC" = 0
stop_peer
check "no PIPELINE flag: granted 1, at most $(field max_in_flight "$PEER_SUMMARY") job in flight ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field max_in_flight "$PEER_SUMMARY")" = 1

# 2. Asks for 2 (under the module's 4): answers newest first, frames must come back in order.
start_peer lifo --pipeline 2 --expect-inflight 2 --delay-ms 40 --lifo --expect-pending 2 \
	--expect-all-gone || finish "(no peer)"
frames=0
for codec in vp8 vp9 av1; do
	run_client --codec "$codec" --frames 16 --depth 4
	check "$codec, 2 in flight, answered newest first: $(field verified "$CLIENT_SUMMARY") of 16 verified in order" \
		test "$CLIENT_RC" = 0 -a "$(field verified "$CLIENT_SUMMARY")" = 16
	frames=$((frames + 16))
done
stop_peer
check "granted 2, $(field max_in_flight "$PEER_SUMMARY") in flight, hints inflight<=$(field max_inflight_hint "$PEER_SUMMARY") queued<=$(field max_queued_hint "$PEER_SUMMARY") ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field completed "$PEER_SUMMARY")" = $frames \
	-a "$(field max_inflight_hint "$PEER_SUMMARY")" = 2 -a "$(field max_queued_hint "$PEER_SUMMARY")" -ge 1

# 2b. Jobs that fail, in flight: a CAPTURE buffer that came back with ERROR and is queued
# again has no verdict until its new job finishes, so the next job, in flight beside it and
# naming it as its reference, must not see the old ERROR (the peer counts that as a
# violation; the real daemon dropped the picture it was decoding and lost the stream until
# the next key frame).
start_peer errs --pipeline 2 --expect-inflight 2 --delay-ms 30 --error-every 3 \
	--expect-all-gone || finish "(no peer)"
# (--no-verify: whether a reference's record says ERROR depends on whether its job had
# finished when the next was built, which the client cannot see)
run_client --codec vp9 --frames 24 --depth 4 --expect any --no-verify
check "vp9, 2 in flight, every third job failed: the client ends ($(field ok "$CLIENT_SUMMARY") ok, $(field error "$CLIENT_SUMMARY") error)" \
	test "$CLIENT_RC" = 0
stop_peer
check "no reference in flight flagged ERROR from its buffer's last picture ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field violations "$PEER_SUMMARY")" = 0 \
	-a "$(field errors_sent "$PEER_SUMMARY")" -ge 6

# 3. H.264 whole pictures (frame based, no HOLD_CAPTURE_BUF) go in flight like the others.
start_peer h264 --pipeline 4 --expect-inflight 4 --delay-ms 20 --lifo --expect-all-gone ||
	finish "(no peer)"
run_client --codec h264 --frames 8 --depth 4
check "h264 at depth 4, answered newest first: $(field verified "$CLIENT_SUMMARY") of 8 verified in order" \
	test "$CLIENT_RC" = 0 -a "$(field verified "$CLIENT_SUMMARY")" = 8
stop_peer
check "h264: $(field max_in_flight "$PEER_SUMMARY") jobs in flight ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field max_in_flight "$PEER_SUMMARY")" -gt 1

# 4. Asks for 8, the module grants 4; jittered answers; 2 contexts at depth 6.
start_peer jitter --pipeline 8 --expect-inflight 4 --delay-ms 5 --jitter-ms 40 \
	--expect-pending 4 --expect-all-gone || finish "(no peer)"
run_client --codec av1 --frames 30 --depth 6 --contexts 2
check "av1, 2 contexts, up to 4 each in flight, jittered answers: $(field verified "$CLIENT_SUMMARY") of 60 verified" \
	test "$CLIENT_RC" = 0 -a "$(field verified "$CLIENT_SUMMARY")" = 60
run_client --codec vp9 --frames 20 --depth 4 --capture-fmt YUV420M
check "vp9 YUV420M, jittered answers: $(field verified "$CLIENT_SUMMARY") of 20 verified" \
	test "$CLIENT_RC" = 0
stop_peer
check "granted 4, $(field max_in_flight "$PEER_SUMMARY") in flight ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field max_inflight_hint "$PEER_SUMMARY")" -le 4

# 5. The client goes away or STREAMOFFs with 4 jobs of its context in flight.
# (a close that waited for the peer would take at least 2700 ms: the limit leaves slack below)
start_peer abort --pipeline 4 --delay-ms 3000 --expect-all-gone || finish "(no peer)"
aborts=0
for how in streamoff close exit kill; do
	run_client --codec vp9 --frames 6 --depth 4 --abort $how --abort-frame 3 \
		--abort-delay-ms 300 --max-abort-ms 2000 --expect any --timeout-ms 15000
	check "client $how with 4 jobs in flight (abort took $(field abort_ms "$CLIENT_SUMMARY") ms)" \
		test "$CLIENT_RC" = 0
	aborts=$((aborts + 4))
done
run_client --codec vp9 --frames 6 --depth 4 --timeout-ms 20000
check "decoding works afterwards" test "$CLIENT_RC" = 0
stop_peer
cancels=$(field cancels "$PEER_SUMMARY")
check "peer: $cancels JOB_CANCEL (want $aborts), all gone ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$cancels" = $aborts

# 6. The daemon closes the bridge holding 4 jobs of one context, then serves a new session.
start_peer close --pipeline 4 --close-after 4 --hold-ms 300 --reopen --expect-all-gone ||
	finish "(no peer)"
run_client --codec av1 --frames 4 --depth 4 --expect error --timeout-ms 20000
check "daemon closed with 4 in flight: all 4 frames ERROR, in order ($CLIENT_SUMMARY)" \
	test "$CLIENT_RC" = 0 -a "$(field error "$CLIENT_SUMMARY")" = 4
run_client --codec av1 --frames 8 --depth 4
check "new session: frames decode" test "$CLIENT_RC" = 0
stop_peer
check "peer (session 2) clean ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$(field session "$PEER_SUMMARY")" -ge 2

# 7. 12 contexts at 8 jobs each would need 96 slots of the device's 64-job table: the jobs
#    beyond each context's first wait while it is half full, so no frame fails for want of a
#    slot (the first job of a context finding it full would).
echo 8 >"$param"
start_peer table --pipeline 8 --expect-inflight 8 --delay-ms 300 || finish "(no peer)"
run_client --codec vp8 --frames 16 --depth 8 --contexts 12 --timeout-ms 30000
check "12 contexts at depth 8, max_inflight 8: $(field verified "$CLIENT_SUMMARY") of 192 verified, no frame failed ($CLIENT_SUMMARY)" \
	test "$CLIENT_RC" = 0 -a "$(field verified "$CLIENT_SUMMARY")" = 192
stop_peer
held=$(field max_in_flight "$PEER_SUMMARY")
check "peer held at most $held jobs at once (table 64, extra jobs while under 32), several per context ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "${held:-0}" -gt 12 -a "${held:-99}" -lt 64

finish "lifo_frames=$frames aborted_jobs=$aborts cancels=$cancels table_held=$held"
