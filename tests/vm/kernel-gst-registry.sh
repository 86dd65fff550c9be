#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: normal
# testbed-seconds: 5
# GStreamer scans media devices when it builds its registry, with no daemon attached: the
# v4l2codecs plugin must register its four stateless decoders for the daedalus-v4l2 device
# (the testbed loads only our module, so they can only come from it).
# Normal kernel only since 2026-12-07 (CI time): a full plugin scan under the debug kernel took
# 85 s on a slow CI host; the media topology calls it makes run there in kernel-compliance's
# media node test.
set -u
fail=0
if ls /sys/bus/platform/drivers/visl >/dev/null 2>&1; then
	echo "FAIL: visl is loaded, the result would not be about daedalus-v4l2"
	exit 1
fi
ls /sys/bus/platform/drivers/daedalus-v4l2/daedalus-v4l2 >/dev/null 2>&1 ||
	{ echo "FAIL: daedalus-v4l2 is not bound"; exit 1; }
export GST_REGISTRY=/tmp/gst-registry.bin
rm -f "$GST_REGISTRY"
inspect=$(gst-inspect-1.0 v4l2codecs 2>&1)
for el in v4l2slh264dec v4l2slvp8dec v4l2slvp9dec v4l2slav1dec; do
	if grep -q "$el" <<<"$inspect"; then
		echo "ok   $el registered"
	else
		echo "FAIL $el not registered"
		fail=1
	fi
done
# Only our device can have provided them: it must be the only stateless decoder here.
others=$(v4l2-ctl --list-devices 2>/dev/null | grep -v "^\s" | grep -v "^$" | grep -vc "daedalus-v4l2")
if [ "$others" != 0 ]; then
	echo "FAIL other V4L2 devices are present:"
	v4l2-ctl --list-devices
	fail=1
fi
if [ $fail = 0 ]; then
	echo "kernel-gst-registry: PASS (4 decoders registered for daedalus-v4l2)"
else
	echo "kernel-gst-registry: FAIL"
	echo "$inspect" | head -n 40
fi
exit $fail
