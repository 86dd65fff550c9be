#!/bin/bash
# testbed-run: --no-daemon --timeout 1200
# testbed-kernels: normal
# testbed-batch: yes
# testbed-seconds: 65
# Chromium's V4L2 stateless decoder, as far as it can be without Chromium: what it checks
# before decoding (tests/tools/dv-chromium-check: MPLANE, requests, the media node paired by
# bus_info and driver, profiles through QUERYMENU, frame sizes above 1920x1088), then real
# clips decoded in its pattern into CAPTURE buffers it allocates itself: 32 dma-bufs from
# /dev/dma_heap/system imported as V4L2_MEMORY_DMABUF, read back through their own mapping
# inside DMA_BUF_IOCTL_SYNC. VP8 and VP9 with tests/tools/dv-vpxclient (frame headers parsed
# by the client, the frame controls in every request, CAPTURE-index timestamps, resolution
# changes by reallocation), H.264 with dv-h264client --pattern chromium, AV1 with
# dv-av1client --layout chromium. Every shown picture must equal the software decoder's
# (libvpx, FFmpeg's h264, libdav1d); a request that comes back with ERROR fails the clip.
# "dmabuf-import-rotate" gives a reused slot another pool buffer, so the driver sees the
# slot's memory change under it (vb2 re-imports; the daemon must get the new buffer), which
# Chromium does whenever its pool hands out a frame other than the slot's last. At the end
# no dma-buf may be left over.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
T=$CK/build/tests
for b in dv-chromium-check dv-vpxclient dv-h264client dv-av1client; do
	[ -x "$T/$b" ] || { echo "FAIL: $T/$b is not built (make tools)"; exit 1; }
done
dmabufs() { sed -n 's/^Total \([0-9]*\) objects.*/\1/p' /sys/kernel/debug/dma_buf/bufinfo 2>/dev/null; }
media_setup
[ -c /dev/dma_heap/system ] || { echo "FAIL: no /dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)"; exit 1; }
echo "ok   /dev/dma_heap/system"
before=$(dmabufs)
[ -n "$before" ] || { echo "FAIL: cannot read /sys/kernel/debug/dma_buf/bufinfo: no leak check"; exit 1; }

"$T/dv-chromium-check" || failures=$((failures + 1))
daemon_start

# run_clips.py: every shown picture against libvpx / libdav1d, in display order
clip() { # client clip capture [client arguments]
	local client=$1 c=$2 mem=$3 out reimports
	shift 3
	out=$(python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
		--decode-clip "$T/$client" --clip "$c" -- --capture "$mem" "$@" 2>&1)
	local rc=$?
	echo "$out" | grep -E "pictures match|requests|ERROR|differ|exited|picture [0-9]+:" | head -n 20
	if [ $rc != 0 ]; then
		echo "$out" | tail -n 5 | sed 's/^/     /'
		echo "FAIL $c through $client, CAPTURE $mem $*"
		failures=$((failures + 1))
		return
	fi
	reimports=$(echo "$out" | sed -n 's/.* \([0-9]*\) re-imports$/\1/p' | tail -n 1)
	if [ "$mem" = dmabuf-import-rotate ] && ! [ "${reimports:-0}" -gt 0 ]; then
		echo "FAIL $c through $client: no slot was queued with another buffer (the check did nothing)"
		failures=$((failures + 1))
		return
	fi
	echo "ok   $c through $client, CAPTURE $mem $*"
}
clip dv-vpxclient vp8-350x198 dmabuf-import
clip dv-vpxclient vp8-reschange dmabuf-import-rotate
clip dv-vpxclient vp9-350x198 dmabuf-import
clip dv-vpxclient vp9-tiles dmabuf-import-rotate
clip dv-vpxclient vp9-p2-10bit dmabuf-import
clip dv-vpxclient vp9-reschange dmabuf-import
clip dv-vpxclient vp9-350x198 mmap
clip dv-av1client av1-aom-350x198 dmabuf-import --layout chromium
clip dv-av1client av1-svt-350x198 dmabuf-import-rotate --layout chromium

# H.264: every request's picture, in decoding order, against FFmpeg's h264
h264() { # clip capture [client arguments]
	local c=$1 mem=$2
	shift 2
	python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$T/dv-h264client" \
		--clip "$c" --pattern chromium -- --capture "$mem" "$@" || failures=$((failures + 1))
}
h264 h264-main-bpyramid dmabuf-import
h264 h264-high-cqm dmabuf-import-rotate
h264 h264-odd dmabuf-import
h264 h264-high10 dmabuf-import

daemon_alive
daemon_stop
after=
for _ in $(seq 300); do
	after=$(dmabufs)
	[ "$after" = "$before" ] && break
	nap 0.1
done
if [ "$after" = "$before" ]; then
	echo "ok   no dma-buf left over ($before before and after)"
else
	echo "FAIL dma-bufs left over: $before before, ${after:-?} after"
	failures=$((failures + 1))
fi
media_finish daemon-chromium
