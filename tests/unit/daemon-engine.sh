#!/bin/bash
# The daemon's engine and daemon build, tested without a VM: meson test on build/daemon and
# on an ASan/UBSan build (build/daemon-asan, which tests/vm/daemon-asan.sh then boots with),
# both in the testbed rootfs (FFmpeg 7.1). Fails if any test fails or anything fails to build.
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
status=0
for dir in daemon daemon-asan; do
	opts=(--buildtype=debugoptimized)
	[ "$dir" = daemon-asan ] && opts+=(-Db_sanitize=address,undefined -Db_lundef=false)
	echo "=== build/$dir"
	if ! scripts/testbed chroot -- /bin/bash -c "
		set -e
		[ -f build/$dir/build.ninja ] || meson setup ${opts[*]} build/$dir daemon >/dev/null
		ninja -C build/$dir >/dev/null
		meson test -C build/$dir --print-errorlogs --num-processes 2 2>&1 | tail -n 25
		exit \${PIPESTATUS[0]}
	"; then
		echo "FAIL: meson test in build/$dir"
		status=1
	fi
done
[ $status = 0 ] && echo "daemon-engine: PASS (normal and ASan/UBSan builds)"
exit $status
