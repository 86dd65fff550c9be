#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-kernels: debug
# testbed-batch: yes
# testbed-seconds: 5 debug=100
# A CAPTURE buffer that another device still uses: the client (dv-vpxclient, Chromium's
# pattern, its own dma-heap buffers imported as DMABUF) attaches a real fence to the buffer
# of one frame before queueing it, a write fence of the kernel's sw_sync driver
# (DMA_BUF_IOCTL_IMPORT_SYNC_FILE, as a GPU still drawing into it would leave; sw_sync is in
# the debug kernel only, hence the kernel). The daemon must not write the picture before the
# fence signals, and must give the job up when it never does (docs/security.md, the fence
# rows), and keep serving:
# - signalled after 400 ms: that request comes back OK, after the moment the fence signalled
#   (the signaller says when), and every shown picture of the clip equals libvpx's
#   (run_clips.py);
# - never signalled: that request comes back with ERROR at the job timeout (2 s), with the
#   daemon's reason in its log, well before the kernel's second expiry (4 s), at which it
#   would fail a job the daemon held on to; and the daemon decodes the clip again,
#   bit-exact.
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
# the clip's file, as run_clips.py names it (the recipe's hash in the name)
IVF=$(python3 -c "import os, sys; sys.path.insert(0, '$CK/daemon/tests'); import run_clips
print(os.path.join('$WORK/engine-clips', 'vp9-350x198-' + run_clips.recipe_tag('vp9-350x198') + '.ivf'))")
OUT=$(mktemp /tmp/daemon-fence.XXXXXX)
# the request of frame 5 in a direct run: "<ms it took> ok|ERROR <ms from the fence's signal
# to the request's return>" (the last "-" when the fence never signalled). Bounded: with a
# daemon that said OK too early, the client's read of the fenced buffer would wait for ever.
request5() {
	timeout 120 "$T/dv-vpxclient" --capture dmabuf-import --keep-going "$@" "$IVF" >"$OUT" 2>&1 ||
		echo "     dv-vpxclient exited with $?" >&2
	awk '$1 == "fence-signalled" { sig = $2 }
		$1 == "req" && $2 == 5 { t0 = $3; t1 = $4; how = $5 }
		END { if (how != "") printf "%d %s %s\n", t1 - t0, how, sig != "" ? sprintf("%d", t1 - sig) : "-" }' "$OUT"
}
wd=$(cat /sys/module/daedalus_v4l2/parameters/job_timeout_ms 2>/dev/null || echo 2000)

clip --fence 5:400
# the request comes back after the fence signalled: cause and effect, no threshold
read -r ms how after < <(request5 --fence 5:400)
check "fence signalled after 400 ms: frame 5 came back ${how:-?} after ${ms:-?} ms, ${after:-?} ms after the signal (OK, not before it)" \
	test "${how:-}" = ok -a "${after:--1}" != - -a "${after:--1}" -ge 0
# never signalled: the daemon gives the job up at the timeout (its own reason in its log);
# a daemon waiting on would be failed by the kernel only at its second expiry, 2 x timeout
log_before=$(grep -c "fences did not signal within" "$DAEMON_LOG")
read -r ms how after < <(request5 --fence 5:never)
check "fence never signalled: frame 5 came back ${how:-?} after ${ms:-?} ms (ERROR, $((wd * 9 / 10))-$((wd * 7 / 4)) ms: the daemon's timeout, not the kernel's second)" \
	test "${how:-}" = ERROR -a "${ms:-0}" -ge $((wd * 9 / 10)) -a "${ms:-99999}" -le $((wd * 7 / 4))
check "the daemon said why: $(grep "fences did not signal within" "$DAEMON_LOG" | head -n 1 | sed 's/.*failed: //')" \
	test "$(grep -c "fences did not signal within" "$DAEMON_LOG")" -gt "$log_before"
rm -f "$OUT"
daemon_alive
clip
daemon_stop
media_finish daemon-fence
