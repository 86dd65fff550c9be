#!/bin/bash
# The H.264 and AV1 references of the VM tests (FFmpeg's h264, libdav1d: the daemon's own
# libraries) checked clip by clip against decoders that share no code with them (libaom,
# OpenH264), in the rootfs on the host (tests/media/second-reference.py).
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
scripts/testbed chroot -- python3 "$CK/tests/media/second-reference.py" --workdir "$CK/build/media/clips"
