#!/bin/bash
# The cross-built arm64 daemon package (make debs-arm64, build/arm64/deb) is the amd64 one
# (make debs, build/deb) for the Pi 5: the same files, an aarch64 daemon, the same kind of
# dependencies (libc from dpkg-shlibdeps, FFmpeg and dav1d only recommended, with the SONAMEs
# read from the arm64 binary). That it runs there is checked in the arm64 VM
# (tests/vm/testbed-arm64.sh).
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
status=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; status=1; }

amd64=$(ls "$CK"/build/deb/daedalus-v4l2-daemon_*_amd64.deb 2>/dev/null | tail -n 1)
arm64=$(ls "$CK"/build/arm64/deb/daedalus-v4l2-daemon_*_arm64.deb 2>/dev/null | tail -n 1)
[ -n "$amd64" ] && [ -n "$arm64" ] || { echo "FAIL no packages: make debs debs-arm64"; exit 1; }
field() { dpkg-deb -f "$1" "$2"; }

[ "$(field "$arm64" Architecture)" = arm64 ] && ok "Architecture: arm64" ||
	fail "Architecture: $(field "$arm64" Architecture)"
[ "$(field "$arm64" Version)" = "$(field "$amd64" Version)" ] && ok "Version: $(field "$arm64" Version)" ||
	fail "versions differ: $(field "$amd64" Version) and $(field "$arm64" Version)"
files() { dpkg-deb -c "$1" | awk '{ print $1, $NF }' | sort; }
if diff <(files "$amd64") <(files "$arm64") >/tmp/packages-files.diff; then
	ok "the same $(files "$arm64" | wc -l) files with the same modes as the amd64 package"
else
	fail "file lists differ (amd64 <, arm64 >):"
	cat /tmp/packages-files.diff
fi
depends=$(field "$arm64" Depends)
case "$depends" in
*"daedalus-v4l2-dkms (= $(field "$arm64" Version))"*"libc6 (>="*) ok "Depends: $depends" ;;
*) fail "Depends: $depends (wants the dkms package of its version and libc6 from shlibdeps)" ;;
esac
rec=$(field "$arm64" Recommends)
[ -n "$rec" ] && [ "$rec" = "$(field "$amd64" Recommends)" ] && ok "Recommends: $rec" ||
	fail "Recommends: '$rec' (amd64: '$(field "$amd64" Recommends)')"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$arm64" "$tmp"
machine=$(readelf -h "$tmp/usr/sbin/daedalus-v4l2d" | sed -n 's/^ *Machine: *//p')
[ "$machine" = AArch64 ] && ok "usr/sbin/daedalus-v4l2d: $machine" || fail "usr/sbin/daedalus-v4l2d: '$machine'"
[ $status = 0 ] && echo "packages-cross-arm64: PASS"
exit $status
