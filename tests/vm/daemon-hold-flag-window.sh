#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-kernels: debug
# testbed-batch: yes
# testbed-seconds: 60
# A field pair, or a picture's slices, are decoded into one CAPTURE buffer, all but the last
# request held (HOLD_CAPTURE_BUF); the module tells the daemon which job starts a picture
# (NEW_FRAME), and the daemon drops what it held for a picture that starts again. The module
# finishes a pipelined m2m job with the OUTPUT queue's HOLD_CAPTURE_BUF flag cleared for a
# moment under q_lock (daedalus_finish_m2m_job()), while the m2m core reads that flag, for its
# new_frame, when a request queued meanwhile schedules the context without q_lock. Until the
# module decided NEW_FRAME from the buffers itself, a second field scheduled in that moment
# was told it starts a picture: the first field's slices were dropped, the picture wrong.
# The debug kernel's fault point delay-m2m-finish makes the finishing work start 300 ms late
# (GStreamer has queued the next field pair by then) and keep the flag off 300 ms (the first
# field's job runs and finishes meanwhile): the pair meets the moment at every frame. Every
# picture must still match, the daemon must drop nothing, and the fault point must have fired.
# Fails on the module before 2026-12-07's fix: 3 of the 4 frames of h264-paff-short wrong, its held
# fields dropped.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup
F=/sys/kernel/debug/daedalus-v4l2/delay-m2m-finish
if [ ! -d "$F" ]; then
	echo "FAIL: no fault point $F (is this the debug kernel, with CONFIG_FAULT_INJECTION_DEBUG_FS?)"
	exit 1
fi
trap 'echo 0 >"$F/probability"' EXIT
daemon_start
echo 0 >"$F/verbose"
echo 1 >"$F/interval"
echo 1000 >"$F/times"
echo 100 >"$F/probability"
# GStreamer's pattern: the first field's request held, the second queued at once after it
race="--field-drain-race intermittent"
check_clips "--clip h264-paff-short $race"
echo 0 >"$F/probability"
fired=$((1000 - $(cat "$F/times")))
check "the fault point stretched $fired m2m job finishes" test "$fired" -gt 0
kept_pieces() { ! log_has "$DAEMON_LOG" "held request\(s\) of ts [0-9]+ dropped"; }
check "the daemon dropped no held piece" kept_pieces
daemon_alive
daemon_stop
media_finish daemon-hold-flag-window
