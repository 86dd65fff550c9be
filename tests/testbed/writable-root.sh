#!/bin/bash
# `testbed run --writable-root`: the guest can write anywhere (root and /lib/modules, through
# overlays), the writes are listed in $DAEDALUS_WRITABLE_ROOT's upper layers, the kernel build
# tree is /lib/modules/KVER/build, and nothing reaches the cached rootfs; without the option
# the root stays read-only, except /etc, which guest-init overlays with a throw-away layer
# (the daemon's user is made there) that must not reach the cached rootfs either.
set -u
. "$(dirname "$0")/lib/common.sh"
eval "$("$TB" env)"
marker=etc/testbed-writable-root-$$
out=$("$TB" run --writable-root --no-module --no-daemon -- sh -c "
	echo x >/$marker && test -e \"\$DAEDALUS_WRITABLE_ROOT/upper/$marker\" && echo root-ok
	touch /lib/modules/\$(uname -r)/testbed-marker &&
		test -e \"\$DAEDALUS_WRITABLE_ROOT/modules-upper/\$(uname -r)/testbed-marker\" && echo modules-ok
	test -e /lib/modules/\$(uname -r)/build/Makefile && echo build-ok")
echo "$out"
check "the root is writable and its upper layer shows the write" grep -qx root-ok <<<"$out"
check "/lib/modules is writable and its upper layer shows the write" grep -qx modules-ok <<<"$out"
check "/lib/modules/KVER/build is the kernel build tree" grep -qx build-ok <<<"$out"
check "nothing reached the cached rootfs" test ! -e "$ROOTFS/$marker"
check "nothing reached the cached kernel modules" test ! -e "$(dirname "$KBUILD")/modroot/lib/modules/$KVER/testbed-marker"
ro_marker=usr/testbed-read-only-$$
# The guest's refusal to write /usr goes to its console (our stdout); the testbed's own lines
# (its status, or why the run failed) stay on stderr, shown in this test's log.
out=$("$TB" run --no-module --no-daemon -- sh -c "
	{ echo x >/$ro_marker; } 2>/dev/null || echo usr-read-only
	echo x >/$marker && echo etc-writable")
echo "$out"
check "without --writable-root the root is read-only" grep -qx usr-read-only <<<"$out"
check "without --writable-root /etc takes writes (the daemon's user)" grep -qx etc-writable <<<"$out"
check "the /etc write did not reach the cached rootfs" test ! -e "$ROOTFS/$marker"
exit $fail
