#!/bin/bash
# testbed-run: --timeout 600
# testbed-arches: arm64
# The arm64 lane's VM is what it claims to be: an aarch64 guest with 16 KiB pages (the Pi 5's
# kernel_2712 layout), our module (cross-built for it) loaded with its video node, and the
# cross-built daemon running. The daemon of the cross-built Debian package (make debs-arm64)
# runs here too and finds this machine's arm64 FFmpeg and dav1d for all four codecs.
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
# Advanced SIMD is what FFmpeg and dav1d detect on aarch64 to run their NEON code (the Pi 5's
# Cortex-A76 has it): with it, the lane's decodes go through the NEON paths.
check "the CPU has Advanced SIMD (NEON)" grep -qw asimd /proc/cpuinfo
check "daedalus_v4l2 is loaded" test -d /sys/module/daedalus_v4l2
. "$(dirname "$0")/../lib/v4l2-nodes.sh"
video=$(find_node daedalus-v4l2)
check "a daedalus-v4l2 video node (${video:-none})" test -n "$video"
daemon=${DAEDALUS_BUILD:-}/daemon/daedalus-v4l2d
check "the daemon is an aarch64 build ($daemon)" \
	sh -c "readelf -h '$daemon' | grep -q 'Machine: *AArch64'"
check "the daemon runs" sh -c "pgrep -f '$daemon' >/dev/null"
deb=$(ls "$DAEDALUS_CHECKOUT"/build/arm64/deb/daedalus-v4l2-daemon_*_arm64.deb 2>/dev/null | tail -n 1)
check "a cross-built arm64 daemon package (${deb:-none in build/arm64/deb: make debs-arm64})" test -n "$deb"
if [ -n "$deb" ]; then
	mkdir -p /tmp/deb
	dpkg-deb -x "$deb" /tmp/deb
	check "the packaged daemon is an aarch64 build" \
		sh -c "readelf -h /tmp/deb/usr/sbin/daedalus-v4l2d | grep -q 'Machine: *AArch64'"
	version=$(/tmp/deb/usr/sbin/daedalus-v4l2d --version 2>&1)
	echo "$version" | sed 's/^/     | /'
	for codec in "VP8: .*ffmpeg" "VP9: .*P010(10-bit, ffmpeg)" "H.264: .*P010(10-bit, ffmpeg)" "AV1: .*dav1d"; do
		check "the packaged daemon can decode ${codec%%:*} here" sh -c "echo \"\$1\" | grep -q \"^ *\$2\"" - "$version" "$codec"
	done
fi
if [ $fail = 0 ]; then echo "testbed-arm64: PASS"; else echo "testbed-arm64: FAIL"; fi
exit $fail
