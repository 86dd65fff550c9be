#!/bin/bash
# testbed-run: --no-daemon --timeout 200
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 10 debug=30
# Who may open /dev/daedalus-v4l2. The kernel checks no capability: the node's permission is
# the whole rule. As the module creates it, 0600 root; with the packaged udev rule,
# root:daedalus-v4l2d 0660, so the daemon's own unprivileged user attaches and no other user
# does, not even the video group's. One opener at a time; once the opener is gone the next
# one gets a new session.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
user=daedalus-v4l2d
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all --bounding-set=-all -- "$@"; }
node_mode() { stat -c '%a %U %G' /dev/daedalus-v4l2; }

id "$user" >/dev/null 2>&1 || { fail=1; finish "(no user $user: the testbed init makes it)"; }
mode=$(node_mode)
check "as the module makes it: mode 600, owner root (is: $mode)" test "$mode" = "600 root root"
start_peer first || finish "(no peer)"
s1=$(field session "$(cat "$PEER_LOG")")
check "second opener gets EBUSY" "$PEER" --expect-open-error EBUSY
kill "$PEER_PID"
wait "$PEER_PID"
check "user nobody gets EACCES" \
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$PEER" --expect-open-error EACCES
check "$user gets EACCES without the packaged rule" as_user "$PEER" --expect-open-error EACCES

# the packaged rule, as udev applies it (/run/udev/rules.d: this VM's throw-away rules)
mkdir -p /run/udev/rules.d
cp "$CK/packaging/udev/60-daedalus-v4l2.rules" /run/udev/rules.d/
# gone again at the end: the next test of a batch shares this boot (the rule's /dev/video-dec0
# link once made proto-stream-start take the link for the device node)
trap 'rm -f /run/udev/rules.d/60-daedalus-v4l2.rules; udevadm control --reload' EXIT
udevadm control --reload
udevadm trigger --action=add --subsystem-match=misc --sysname-match=daedalus-v4l2
udevadm settle --timeout=20
mode=$(node_mode)
check "with the packaged udev rule: mode 660, root:$user (is: $mode)" test "$mode" = "660 root $user"
check "user nobody still gets EACCES" \
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$PEER" --expect-open-error EACCES
check "a member of the video group gets EACCES" \
	setpriv --reuid=65534 --regid=65534 --groups=video -- "$PEER" --expect-open-error EACCES
as_user "$PEER" --run-ms 200 >"$WORK/second.log" 2>&1
rc=$?
s2=$(field session "$(cat "$WORK/second.log")")
check "$user, with no capability at all, attaches: session ${s2:-none} (first had $s1)" \
	test "$rc" = 0 -a "${s2:-0}" -gt "$s1"
[ "$rc" = 0 ] || sed 's/^/    peer| /' "$WORK/second.log"
finish "sessions=$s1,${s2:-none}"
