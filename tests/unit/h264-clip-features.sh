#!/bin/bash
# Each H.264 test clip of the VM tests uses the coding tools it is meant to test
# (tests/media/h264-features.py: profile, CABAC, B-pyramid, weighted prediction, scaling
# lists, slices, 10-bit, cropping, MBAFF, open GOPs), read from its headers by FFmpeg's
# trace_headers in the rootfs on the host. The clips are the same files everywhere (their
# names hold their recipe's hash), so this runs here once rather than in a TCG guest.
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
out=$(scripts/testbed chroot -- python3 "$CK/tests/media/h264-features.py" --all "$CK/build/media/clips" 2>&1)
rc=$?
echo "$out"
# one line per clip, or it checked nothing
[ "$(grep -c '^ok ' <<<"$out")" -ge 8 ] || { echo "FAIL: fewer than 8 clips checked"; exit 1; }
exit $rc
