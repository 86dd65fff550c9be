#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-kernels: debug
# testbed-batch: yes
# testbed-seconds: 60 debug=90
# A CAPTURE buffer that another device still uses: the client (dv-vpxclient, Chromium's
# pattern, its own dma-heap buffers imported as DMABUF) attaches a real fence to the buffer
# of one frame before queueing it, a write fence of the kernel's sw_sync driver
# (DMA_BUF_IOCTL_IMPORT_SYNC_FILE, as a GPU still drawing into it would leave; sw_sync is in
# the debug kernel only, hence the kernel). The daemon must not write the picture before the
# fence signals, and must give the job up when it never does (docs/security.md, the fence
# rows), and keep serving:
# - signalled after 400 ms: that request comes back after the fence, OK, and every shown
#   picture of the clip equals libvpx's (run_clips.py);
# - never signalled: that request comes back with ERROR at the job timeout (2 s), not later
#   than 6 s, and the daemon decodes the clip again, bit-exact.
# Until now the daemon's fence wait was tested only with pipes standing in for a dmabuf
# (meson bufcache, deadline-signal).
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
T=$CK/build/tests
[ -x "$T/dv-vpxclient" ] || { echo "FAIL: $T/dv-vpxclient is not built (make tools)"; exit 1; }
media_setup
[ -c /dev/dma_heap/system ] || { echo "FAIL: no /dev/dma_heap/system"; exit 1; }
if [ ! -e /sys/kernel/debug/sync/sw_sync ]; then
	echo "FAIL: no /sys/kernel/debug/sync/sw_sync (a kernel without CONFIG_SW_SYNC)"
	exit 1
fi
daemon_start

# the clip against libvpx, with the client's arguments
clip() {
	local out rc
	out=$(python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
		--decode-clip "$T/dv-vpxclient" --clip vp9-350x198 -- --capture dmabuf-import "$@" 2>&1)
	rc=$?
	echo "$out" | grep -E "pictures match|ERROR|differ|exited|picture [0-9]+:|dv_fence" | head -n 10 |
		sed 's/^/     /'
	check "vp9-350x198, CAPTURE dmabuf-import $*: every shown picture equals libvpx's" test $rc = 0
}
# the request of frame 5 in a direct run: "<ms> ok|ERROR"
request5() {
	local ivf
	ivf=$(ls "$WORK"/engine-clips/vp9-350x198-*.ivf | grep -v '\.part\|revealed' | head -n 1)
	"$T/dv-vpxclient" --capture dmabuf-import --keep-going "$@" "$ivf" >"$WORK/fence.out" 2>&1
	awk '$1 == "req" && $2 == 5 { printf "%d %s\n", $4 - $3, $5 }' "$WORK/fence.out"
}

clip --fence 5:400
read -r ms how < <(request5 --fence 5:400)
check "fence signalled after 400 ms: frame 5 came back $how after ${ms:-?} ms (at least 390)" \
	test "${how:-}" = ok -a "${ms:-0}" -ge 390
read -r ms how < <(request5 --fence 5:never)
check "fence never signalled: frame 5 came back ${how:-?} after ${ms:-?} ms (ERROR, 1800-6000)" \
	test "${how:-}" = ERROR -a "${ms:-0}" -ge 1800 -a "${ms:-99999}" -le 6000
grep -E "fences did not signal|timed out" "$DAEMON_LOG" | head -n 2 | sed 's/^/     daemon| /'
daemon_alive
clip
daemon_stop
media_finish daemon-fence
