#!/bin/bash
# testbed-run: --no-daemon --timeout 400
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=15
# Round trip through the bridge with the test peer as the daemon: for every OUTPUT format and
# several CAPTURE layouts and memory types, each CAPTURE buffer must come back holding exactly
# the record and pattern the peer wrote (the client recomputes them from what it queued), so
# bitstream bytes, control payloads, timestamps (TIMESTAMP_COPY) and reference lookups all
# crossed the kernel unchanged. Every job is first fetched into a too small control area
# (ENOSPC) and into read-only memory (EFAULT): it must still arrive whole, with its fds. At the end every buffer and context must have been reported
# gone to the peer.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"

start_peer peer --probe-faults --expect-all-gone || finish "(no peer)"
frames=0 verified=0
run() { # description, client args
	local what=$1
	shift
	run_client "$@"
	check "$what: $(field verified "$CLIENT_SUMMARY") of $(field done "$CLIENT_SUMMARY") verified" \
		test "$CLIENT_RC" = 0
	frames=$((frames + $(field done "$CLIENT_SUMMARY")))
	verified=$((verified + $(field verified "$CLIENT_SUMMARY")))
}
for codec in vp8 vp9 h264 av1; do
	run "$codec, NV12, MMAP" --codec "$codec" --frames 6
done
run "vp8, YUV420M (3 memory planes), MMAP" --codec vp8 --frames 5 --capture-fmt YUV420M
run "h264, NV12, CAPTURE imported from dma-heap" --codec h264 --frames 5 --capture-mem heap
run "vp9, YUV420M, CAPTURE imported from udmabuf" --codec vp9 --frames 5 --capture-fmt YUV420M \
	--capture-mem udmabuf
run "av1, bitstream at data_offset 256" --codec av1 --frames 4 --data-offset 256
run "vp8, 4 requests in flight, 12 frames" --codec vp8 --frames 12 --depth 4
run "h264, 1920x1080" --codec h264 --frames 3 --size 1920x1080
stop_peer
check "peer saw no protocol violation and all buffers/contexts gone ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0
refs=$(field refs_found "$PEER_SUMMARY")
refs_ok=$(field refs_content_ok "$PEER_SUMMARY")
check "peer completed every job: $(field completed "$PEER_SUMMARY") of $frames" \
	test "$(field completed "$PEER_SUMMARY")" = "$frames"
check "fetches into a too small control area (ENOSPC: $(field probe_enospc "$PEER_SUMMARY")) and a read-only message (EFAULT: $(field probe_efault "$PEER_SUMMARY")) lost no job" \
	test "$(field probe_enospc "$PEER_SUMMARY")" = "$frames" -a "$(field probe_efault "$PEER_SUMMARY")" = "$frames"
check "references resolved: $refs found, $refs_ok with the right picture" \
	test "${refs:-0}" -gt 0 -a "${refs_ok:-0}" -gt 0
finish "frames=$frames verified_bit_exact=$verified refs_found=$refs refs_content_ok=$refs_ok" \
	"buf_gone=$(field buf_gone "$PEER_SUMMARY") ctx_gone=$(field ctx_gone "$PEER_SUMMARY")"
