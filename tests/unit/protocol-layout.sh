#!/bin/bash
# The bridge protocol's structures (include/uapi/linux/daedalus-v4l2.h) have one layout for a
# 64-bit kernel and a 32-bit daemon: the bridge's compat_ioctl is compat_ptr_ioctl, which
# passes them through untranslated, so a 32-bit userland (armhf Raspberry Pi OS on the Pi 5's
# 64-bit kernel; the daemon package is Architecture: any) depends on it. i386 is the strictest
# case (it aligns 64-bit members to 4 bytes, where armhf aligns them to 8 as 64-bit ABIs do),
# so its layout must equal x86-64's, member by member: offsets and sizes of every structure
# the header declares, dumped from each compiler's debug information by gdb. Fails on any
# difference, on a structure gdb cannot describe, or if the header declares none.
# `PROTOCOL_HEADER=FILE` checks another header (how the check was seen to fail: a __u64 after
# an odd number of __u32).
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
HDR=${PROTOCOL_HEADER:-include/uapi/linux/daedalus-v4l2.h}
W=build/protocol-layout
rm -rf "$W" && mkdir -p "$W/linux" || exit 1
cp "$HDR" "$W/linux/daedalus-v4l2.h" || exit 1
mapfile -t structs < <(sed -n 's/^struct \(daedalus_[a-z0-9_]*\) {.*/\1/p' "$W/linux/daedalus-v4l2.h" | sort -u)
if [ "${#structs[@]}" = 0 ]; then
	echo "FAIL: no structure found in $HDR"
	exit 1
fi
{
	echo '#include <linux/daedalus-v4l2.h>'
	for s in "${structs[@]}"; do echo "struct $s *use_$s;"; done
} >"$W/layout.c"
gdb_args=()
for s in "${structs[@]}"; do gdb_args+=(-ex "ptype /o struct $s"); done
# shellcheck disable=SC2016 # expanded in the rootfs's shell
if ! scripts/testbed chroot -- /bin/bash -c '
	set -e
	cd "$1"; shift
	gcc -g -c -I. layout.c -o x86_64.o
	i686-linux-gnu-gcc -g -c -I. layout.c -o i386.o
	for o in x86_64 i386; do gdb -nx -batch "$@" "$o.o" >"$o.txt" 2>&1; done
' layout "$W" "${gdb_args[@]}"; then
	echo "FAIL: could not build or describe the structures for x86_64 and i386"
	exit 1
fi
status=0
for s in "${structs[@]}"; do
	if ! grep -q "type = struct $s {" "$W/x86_64.txt"; then
		echo "FAIL: gdb did not describe struct $s"
		status=1
	fi
done
if ! diff -u "$W/x86_64.txt" "$W/i386.txt" >"$W/diff.txt"; then
	echo "FAIL: the layouts differ between x86_64 and i386 (a 32-bit daemon would misread them):"
	head -n 40 "$W/diff.txt"
	status=1
fi
if [ $status = 0 ]; then
	echo "ok   ${#structs[@]} structures, $(grep -c '^/\*' "$W/x86_64.txt") lines of offsets and sizes, one layout on x86_64 and i386"
	echo "protocol-layout: PASS"
else
	echo "protocol-layout: FAIL"
fi
exit $status
