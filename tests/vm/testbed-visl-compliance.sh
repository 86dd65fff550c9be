#!/bin/bash
# testbed-run: --no-module --no-daemon --timeout 900
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 35
# The harness's VM self-test: the in-tree visl stateless decoder must pass v4l2-compliance
# (device and media node) with 0 failures in the testbed, and GStreamer must register its
# stateless decoders against it. If this breaks, the testbed (kernel config, rootfs, boot)
# broke, not the project's module. Under the normal kernel only: it exercises the in-tree
# visl driver, not ours, and every debug-kernel test already needs a working testbed (it
# cost 63 s of the debug kernel's time in the full run).
set -u
fail=0
modprobe visl || { echo "FAIL: modprobe visl"; exit 1; }
udevadm settle --timeout=10 2>/dev/null
. "$(dirname "$0")/../lib/v4l2-nodes.sh"
video=$(find_node visl)
[ -n "$video" ] || { echo "FAIL: no visl video node"; exit 1; }
media=$(media_node_of "$video")
[ -n "$media" ] || { echo "FAIL: no media node for $video"; exit 1; }
echo "visl: $video $media"

total() { grep -E "^Total for .*: [0-9]+, Succeeded: [0-9]+, Failed: [0-9]+, Warnings: [0-9]+" "$1" | tail -n 1; }
for args in "-d $video -s" "-m $media"; do
	log=/tmp/compliance.log
	# shellcheck disable=SC2086
	v4l2-compliance $args >"$log" 2>&1
	line=$(total "$log")
	echo "v4l2-compliance $args: $line"
	if ! grep -qE "Failed: 0, Warnings: [0-9]+$" <<<"$line"; then
		grep -E "fail:|FAIL" "$log" | head -n 20
		fail=1
	fi
done

inspect=$(gst-inspect-1.0 v4l2codecs 2>&1)
for el in v4l2slh264dec v4l2slvp8dec v4l2slvp9dec v4l2slav1dec; do
	if grep -q "$el" <<<"$inspect"; then echo "gstreamer: $el registered"; else
		echo "FAIL: gstreamer did not register $el"; fail=1; fi
done
exit $fail
