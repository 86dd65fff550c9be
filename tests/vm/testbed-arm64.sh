#!/bin/bash
# testbed-run: --timeout 600
# testbed-arches: arm64
# The arm64 lane's VM is what it claims to be: an aarch64 guest with 16 KiB pages (the Pi 5's
# kernel_2712 layout), our module (cross-built for it) loaded with its video node, and the
# daemon built in the arm64 rootfs running.
set -u
fail=0
check() { # label command...
	local label=$1
	shift
	if "$@"; then echo "ok   $label"; else echo "FAIL $label"; fail=1; fi
}
echo "uname: $(uname -srm), page size $(getconf PAGESIZE), $(nproc) CPUs"
check "aarch64 guest" test "$(uname -m)" = aarch64
check "16 KiB pages" test "$(getconf PAGESIZE)" = 16384
check "daedalus_v4l2 is loaded" test -d /sys/module/daedalus_v4l2
video=
for d in /dev/video*; do
	v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Driver name *: daedalus-v4l2" && video=$d
done
check "a daedalus-v4l2 video node (${video:-none})" test -n "$video"
daemon=${DAEDALUS_BUILD:-}/daemon/daedalus-v4l2d
check "the daemon is an aarch64 build ($daemon)" \
	sh -c "readelf -h '$daemon' | grep -q 'Machine: *AArch64'"
check "the daemon runs" sh -c "pgrep -f '$daemon' >/dev/null"
if [ $fail = 0 ]; then echo "testbed-arm64: PASS"; else echo "testbed-arm64: FAIL"; fi
exit $fail
