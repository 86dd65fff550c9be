#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=5
# The kernel never trusts the daemon's COMPLETE: for every job the peer first answers with an
# unknown job id (ENOENT), the wrong context (EINVAL), a reserved field set, an unknown status
# and OK-with-a-reason (EINVAL), then the real answer, then the same answer again (stale id:
# ENOENT). None of the bad answers may touch the job: each frame must still arrive intact.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"

start_peer peer --mode badid -v --probe-faults --expect-all-gone || finish "(no peer)"
run_client --codec vp8 --frames 4 --contexts 2
check "vp8, 2 contexts: frames intact after rejected answers ($CLIENT_SUMMARY)" test "$CLIENT_RC" = 0
run_client --codec h264 --frames 3 --capture-fmt YUV420M
check "h264 YUV420M: frames intact after rejected answers" test "$CLIENT_RC" = 0
stop_peer
jobs=$(field jobs "$PEER_SUMMARY")
rejected=$(field rejected_as_expected "$PEER_SUMMARY")
check "peer: every bad and stale answer got the documented error ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0
# 5 bad answers before and 1 stale answer after the real one, per job.
check "peer: $rejected rejections for $jobs jobs (want $((jobs * 6)))" \
	test "$jobs" = 11 -a "$rejected" = $((jobs * 6))
finish "jobs=$jobs rejected_as_expected=$rejected completed=$(field completed "$PEER_SUMMARY")"
