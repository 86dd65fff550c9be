#!/bin/bash
# `testbed run --writable-root`: the guest can write anywhere (root and /lib/modules, through
# overlays), the writes are listed in $DAEDALUS_WRITABLE_ROOT's upper layers, the kernel build
# tree is /lib/modules/KVER/build, and nothing reaches the cached rootfs; without the option
# the root stays read-only.
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
"$TB" run --no-module --no-daemon -- sh -c "echo x >/$marker" 2>/dev/null
check "without --writable-root the root is read-only" test $? -ne 0
exit $fail
