#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=15
# The module cannot be unloaded while the daemon has the bridge open or an application has the
# video node open (rmmod fails, nothing breaks); once both are gone it unloads, loads again and
# works from a fresh state (session 1).
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"

ko=$CK/build/kernel/daedalus_v4l2.ko
[ "${DAEDALUS_KERNEL:-normal}" = debug ] && ko=$CK/build/kernel-debug/daedalus_v4l2.ko
params=$(for p in /sys/module/daedalus_v4l2/parameters/{job_timeout_ms,video_nr}; do
	[ -r "$p" ] && echo "$(basename "$p")=$(cat "$p")"; done | tr '\n' ' ')

start_peer first || finish "(no peer)"
run_client --codec vp8 --frames 2
check "decoding before the unload attempts" test "$CLIENT_RC" = 0
check "rmmod refused while the bridge is open" bash -c '! rmmod daedalus_v4l2 2>/dev/null'
run_client --codec vp8 --frames 2
check "still decoding after the refused rmmod" test "$CLIENT_RC" = 0
stop_peer
check "first peer clean" test "$PEER_RC" = 0
video=$(grep -l "daedalus" /sys/class/video4linux/video*/name 2>/dev/null | head -n 1)
video=/dev/$(basename "$(dirname "$video")")
exec 7<>"$video"
check "rmmod refused while $video is open" bash -c '! rmmod daedalus_v4l2 2>/dev/null'
exec 7>&-
check "rmmod once nothing is open" rmmod daedalus_v4l2
check "bridge node gone after rmmod" test ! -e /dev/daedalus-v4l2
# shellcheck disable=SC2086
check "insmod $(basename "$ko") $params again" insmod "$ko" $params
udevadm settle --timeout=10 >/dev/null 2>&1
for _ in $(seq 400); do [ -c /dev/daedalus-v4l2 ] && break; nap 0.05; done
start_peer second --expect-all-gone || finish "(no peer after reload)"
run_client --codec h264 --frames 3 --contexts 2
check "decoding after the reload" test "$CLIENT_RC" = 0
stop_peer
check "peer after reload clean, session $(field session "$PEER_SUMMARY") (want 1)" \
	test "$PEER_RC" = 0 -a "$(field session "$PEER_SUMMARY")" = 1
finish "rmmod refused while in use, reload ok"
