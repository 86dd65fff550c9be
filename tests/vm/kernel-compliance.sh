#!/bin/bash
# testbed-run: --no-daemon --timeout 900
# testbed-batch: yes
# testbed-kernels: normal debug
# testbed-arches: amd64 arm64-full
# testbed-seconds: 75 debug=95
# v4l2-compliance on the daedalus-v4l2 video node once per OUTPUT format, and on its media
# node: 0 failures and 0 warnings. No daemon is attached, so every decode job fails at once:
# this also shows that nothing hangs or oopses without one.
# Without -s: the OUTPUT queue requires a request for every buffer (as cedrus, rkvdec and
# hantro's stateless codecs), and v4l2-compliance's MMAP streaming tests queue OUTPUT buffers
# without one, which vb2 refuses with EBADR. Its request test runs either way (a buffer
# without a request gets EBADR, with one it is accepted; it stops at the codec's controls,
# which it cannot know); the streaming paths are tested by our own clients (proto-*, daemon-*).
set -u
fail=0
. "$(dirname "$0")/../lib/v4l2-nodes.sh"
video=$(find_node daedalus-v4l2)
[ -n "$video" ] || { echo "FAIL: no daedalus-v4l2 video node"; exit 1; }
media=$(media_node_of "$video")
[ -n "$media" ] || { echo "FAIL: no media node for $video"; exit 1; }
param=/sys/module/daedalus_v4l2/parameters/default_codec

check() { # label args...
	local label=$1 log=/tmp/compliance.log line
	shift
	v4l2-compliance "$@" >"$log" 2>&1
	# -m prints one total per interface and a grand total: all must be clean.
	totals=$(grep -E "Total for .*: [0-9]+, Succeeded: [0-9]+, Failed: [0-9]+, Warnings: [0-9]+" \
		"$log")
	line=$(tail -n 1 <<<"$totals")
	if [ -n "$totals" ] && ! grep -qvE "Failed: 0, Warnings: 0$" <<<"$totals"; then
		echo "ok   $label: $line"
	else
		echo "FAIL $label: ${line:-no total line}"
		grep -E "fail:|warn:|FAIL" "$log" | head -n 20
		fail=1
	fi
}

# -m tests the media node and every interface in its topology, the video node included (its
# own "Total for ... /dev/videoN" line, which check() requires clean too): with H.264 the
# default it stands for that format's -d run.
for codec in 1:H264_SLICE 2:VP8_FRAME 3:VP9_FRAME 4:AV1_FRAME; do
	echo "${codec%%:*}" >"$param"
	fmt=$(v4l2-ctl -d "$video" --get-fmt-video-out | sed -n "s/.*Pixel Format *: *'\([^']*\)'.*/\1/p")
	echo "default OUTPUT format ${codec#*:}: $fmt"
	if [ "${codec#*:}" = H264_SLICE ]; then
		check "v4l2-compliance -m (H264_SLICE)" -m "$media"
		if grep -q "Total for daedalus-v4l2 device $video:" /tmp/compliance.log; then
			echo "     within it: $(grep "Total for daedalus-v4l2 device $video:" /tmp/compliance.log)"
		else
			echo "FAIL v4l2-compliance -m did not test $video"
			fail=1
		fi
	else
		check "v4l2-compliance (${codec#*:})" -d "$video"
	fi
done
echo 1 >"$param"
if [ $fail = 0 ]; then
	echo "kernel-compliance: PASS (4 OUTPUT formats, media node)"
else
	echo "kernel-compliance: FAIL"
fi
exit $fail
