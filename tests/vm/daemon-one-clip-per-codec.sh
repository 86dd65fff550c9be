#!/bin/bash
# testbed-run: --no-daemon --timeout 1800
# testbed-arches: amd64 arm64
# testbed-kernels: debug
# testbed-batch: yes
# testbed-seconds: 50 debug=40
# The short decode check of the arm64 (Pi 5) lane: one clip of every codec the media tests
# know (the first of each codec in tests/media/clips.py's CLIPS), plus the 10-bit and film
# grain clips whose FFmpeg/dav1d code paths differ, decoded by GStreamer through the device and
# the daemon, every frame equal to the software decode of this machine's FFmpeg. Under TCG the
# arm64 FFmpeg and dav1d run their NEON code: this checks its results, not its speed.
# A codec whose clips join CLIPS joins here by itself. In the x86 VMs it is the decode check of
# the debug kernel (KASAN, lockdep): the long clip lists (daemon-{vp8,vp9,av1,h264}-clips.sh)
# run under the normal kernel only, as they exercise the daemon's codecs more than the kernel's
# paths, which these clips (every codec, 8 and 10 bit) already take.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
EXTRA="vp9-profile2-10bit av1-svt-10bit-grain"
first_per_codec=$(python3 -c "
import sys
sys.path.insert(0, '$MEDIA')
import clips
first = {}
for name, (codec, _) in clips.CLIPS.items():
    first.setdefault(codec, name)
print(' '.join(first.values()))")
echo "clips: $first_per_codec $EXTRA"
for codec in vp8 vp9 av1 h264; do
	[[ " $first_per_codec " == *" $codec-"* ]] ||
		{ echo "FAIL no $codec clip in clips.CLIPS"; failures=$((failures + 1)); }
done
media_setup
daemon_start
checks=()
for clip in $first_per_codec $EXTRA; do checks+=("--clip $clip"); done
check_clips "${checks[@]}"
daemon_alive
daemon_stop
media_finish daemon-one-clip-per-codec
