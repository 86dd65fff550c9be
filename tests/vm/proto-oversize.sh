#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=5
# CAPTURE bytesused from the daemon is checked against the plane: one byte more than the
# plane (and 4 GiB - 1) gives ERANGE, a wrong plane count EINVAL, and the job stays in flight;
# the peer's exact answer (bytesused = plane length on every plane) then reaches the
# application as bytesused.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"

start_peer peer --mode oversize -v --expect-all-gone || finish "(no peer)"
run_client --codec vp9 --frames 3 --full-bytesused
check "NV12 MMAP: bytesused = plane length, contents intact" test "$CLIENT_RC" = 0
run_client --codec vp8 --frames 3 --capture-fmt YUV420M --full-bytesused
check "YUV420M MMAP (3 planes): bytesused = plane lengths, contents intact" test "$CLIENT_RC" = 0
run_client --codec av1 --frames 3 --capture-mem heap --full-bytesused
check "NV12 dma-heap import: bytesused = dmabuf length, contents intact" test "$CLIENT_RC" = 0
stop_peer
jobs=$(field jobs "$PEER_SUMMARY")
rejected=$(field rejected_as_expected "$PEER_SUMMARY")
check "peer: oversized answers rejected as documented ($PEER_SUMMARY)" test "$PEER_RC" = 0
# 1-plane jobs: 4 rejections (len+1, 4G-1, planes+1, planes>max); 3-plane jobs: 3.
check "peer: $rejected rejections for $jobs jobs (want $((6 * 4 + 3 * 3)))" \
	test "$jobs" = 9 -a "$rejected" = $((6 * 4 + 3 * 3))
finish "jobs=$jobs rejected_as_expected=$rejected completed=$(field completed "$PEER_SUMMARY")"
