#!/bin/bash
# testbed-run: --no-daemon --timeout 400 --module-params job_timeout_ms=30000
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-seconds: 25 debug=30
# The application goes away (SIGKILL, exit, close of its fds) or STREAMOFFs while the daemon
# holds its job. That must not wait for the daemon (close/STREAMOFF return at once), the daemon
# gets JOB_CANCEL, its late answer is rejected with ENOENT, then it hears CTX_GONE and
# BUF_GONE for everything, and nothing oopses (the testbed checks the kernel log).
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
# A close that waited for the daemon would take about delay - 200 ms; the limit leaves a
# loaded machine (the debug kernel under TCG, two VMs on two cores) a second of slack below it.
delay=3000 limit=2000

start_peer peer --delay-ms $delay -v --expect-all-gone || finish "(no peer)"
aborts=0
for how in kill exit close streamoff; do
	run_client --codec vp8 --frames 3 --contexts 2 --abort $how --abort-frame 1 \
		--abort-delay-ms 200 --max-abort-ms $limit --expect any --timeout-ms 10000
	check "client $how with a job in flight (abort took $(field abort_ms "$CLIENT_SUMMARY") ms)" \
		test "$CLIENT_RC" = 0
	aborts=$((aborts + 2))
done
run_client --codec vp8 --frames 2 --contexts 2 --timeout-ms 10000
check "decoding works afterwards" test "$CLIENT_RC" = 0
stop_peer
cancels=$(field cancels "$PEER_SUMMARY")
late=$(field late_rejected "$PEER_SUMMARY")
check "peer: $cancels JOB_CANCEL, $late late answers rejected (want $aborts each), all gone ($PEER_SUMMARY)" \
	test "$PEER_RC" = 0 -a "$cancels" = $aborts -a "$late" = $aborts
finish "aborted_jobs=$aborts cancels=$cancels late_rejected=$late ctx_gone=$(field ctx_gone "$PEER_SUMMARY") buf_gone=$(field buf_gone "$PEER_SUMMARY")"
