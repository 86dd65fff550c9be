#!/bin/bash
# The daemon's engine and daemon build, tested without a VM: meson test on build/daemon and
# on an ASan/UBSan build (build/daemon-asan, which tests/vm/daemon-asan.sh then boots with),
# both in the testbed rootfs (FFmpeg 7.1). Fails if any test fails or anything fails to build,
# or if a test's dependency is missing (-Dall_tests=enabled: no test is left out).
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
		# -Dall_tests=enabled: a missing test dependency fails the setup instead of leaving
		# tests out with a warning (also set again on a build directory made without it)
		if [ -f build/$dir/build.ninja ]; then
			meson setup --reconfigure -Dall_tests=enabled build/$dir daemon >/dev/null
		else
			meson setup ${opts[*]} -Dall_tests=enabled build/$dir daemon >/dev/null
		fi
		ninja -C build/$dir >/dev/null
		st=0
		meson test -C build/$dir --print-errorlogs --num-processes 2 >build/$dir/meson-test.out 2>&1 || st=\$?
		tail -n 25 build/$dir/meson-test.out
		# a known failure (should_fail in meson.build): counted by tests/run, with its place
		sed -n 's|^ *[0-9]*/[0-9]* [^ ]* / \\([^ ]*\\) *EXPECTEDFAIL.*|XFAIL build/$dir \\1: fails as marked (the reason: its comment in daemon/tests/meson.build)|p' \
			build/$dir/meson-test.out
		exit \$st
	"; then
		echo "FAIL: meson test in build/$dir"
		status=1
	fi
done
[ $status = 0 ] && echo "daemon-engine: PASS (normal and ASan/UBSan builds)"
exit $status
