#!/bin/bash
# testbed-run: --no-daemon --timeout 200
# testbed-batch: yes
# testbed-kernels: normal debug
# Who may open /dev/daedalus-v4l2: root only (mode 0600), with CAP_SYS_ADMIN, one opener at a
# time; once the opener is gone the next one gets a new session.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"

mode=$(stat -c '%a %U' /dev/daedalus-v4l2)
check "device node mode 600, owner root (is: $mode)" test "$mode" = "600 root"
start_peer first || finish "(no peer)"
s1=$(field session "$(cat "$PEER_LOG")")
check "second opener gets EBUSY" "$PEER" --expect-open-error EBUSY
kill "$PEER_PID"
wait "$PEER_PID"
check "root without CAP_SYS_ADMIN gets EPERM" \
	setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin -- "$PEER" --expect-open-error EPERM
check "user nobody gets EACCES" \
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$PEER" --expect-open-error EACCES
start_peer second --run-ms 200 || finish "(no peer)"
wait "$PEER_PID"
rc=$?
s2=$(field session "$(cat "$PEER_LOG")")
check "after the first opener closed, a new one gets session $s2 (first had $s1)" \
	test "$rc" = 0 -a "$s2" -gt "$s1"
finish "mode=$mode sessions=$s1,$s2"
