#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 50
# Bad input through the device: one inter frame of a clip truncated or replaced by noise
# after its header. The daemon must fail that job (ERROR buffer, a logged reason), keep
# serving, and every frame before the damage and from the next keyframe on must equal
# libvpx's decode of the undamaged clip. Frames GStreamer still outputs must match too.
# Normal kernel only: what the debug kernel's checkers would see of it, a job the daemon
# fails, runs there in daemon-fault-matrix.sh's truncate and key-lost cells (215 s saved).
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
need_cpus 2
media_setup
daemon_start

failed_jobs() { grep -c "failed:" "$DAEMON_LOG"; }

expect_failure() { # label, jobs failed before
	local now
	now=$(failed_jobs)
	if [ "$now" -gt "$2" ]; then
		echo "ok   $1: the daemon failed $((now - $2)) job(s):"
		grep "failed:" "$DAEMON_LOG" | tail -n $((now - $2)) | head -n 2 | sed 's/^/       /'
	else
		echo "FAIL $1: no job failed in the daemon"
		failures=$((failures + 1))
	fi
}

for c in "vp9-tiles 5:truncate" "vp9-altref-odd 7:garbage"; do
	set -- $c
	before=$(failed_jobs)
	check_clip --clip "$1" --corrupt "$2"
	expect_failure "$1 $2" "$before"
	daemon_alive
done
# GStreamer's VP8 parser checks the DCT partition sizes against the frame and drops such a
# frame itself, so the device may never see it (the engine's own tests feed it such jobs);
# what must hold here is that the stream recovers at the next keyframe and the daemon lives.
for c in "vp8-altref-odd 7:truncate" "vp8-altref-odd 7:garbage"; do
	set -- $c
	before=$(failed_jobs)
	check_clip --clip "$1" --corrupt "$2"
	echo "     $1 $2: $(($(failed_jobs) - before)) job(s) failed in the daemon"
	daemon_alive
done
# still serving: a clean clip after all that
check_clip --clip vp9-altref-odd
daemon_stop
media_finish daemon-faults
