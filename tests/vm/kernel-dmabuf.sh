#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-kernels: normal debug
# The module's own buffer memory (kernel/daedalus-mem.c, docs/memory.md) seen from userspace:
# MMAP buffers of both queues are exportable (EXPBUF); what a CPU writes through the video
# node's mapping is read back through the exported dmabuf's mapping and the other way round,
# with DMA_BUF_IOCTL_SYNC brackets; the exported dmabuf is imported by two in-tree drivers:
# visl (vb2-vmalloc: kernel vmap of our pages, must succeed) and vimc (vb2-dma-contig:
# dma_buf_attach + map for its device; our pages are not contiguous, so it may refuse with
# EFAULT, but attach/map/detach must run cleanly). At the end no dmabuf may be left over.
set -u
BIN=$(cd "$(dirname "$0")/../.." && pwd)/build/tests/dv-dmabuf-check
[ -x "$BIN" ] || { echo "FAIL: $BIN is not built (make tools)"; exit 1; }

find_node() { # driver [card]
	local d
	for d in /dev/video*; do
		v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Driver name *: $1\$" || continue
		[ -z "${2:-}" ] || v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Name *: $2" || continue
		echo "$d"
		return
	done
}
dmabufs() { sed -n 's/^Total \([0-9]*\) objects.*/\1/p' /sys/kernel/debug/dma_buf/bufinfo 2>/dev/null; }

modprobe visl 2>/dev/null
modprobe vimc 2>/dev/null
udevadm settle --timeout=10 2>/dev/null
ours=$(find_node daedalus-v4l2)
visl=$(find_node visl)
vimc=$(find_node vimc "RGB/YUV Capture")
[ -n "$ours" ] || { echo "FAIL: no daedalus-v4l2 node"; exit 1; }
echo "nodes: ours=$ours visl=${visl:-none} vimc=${vimc:-none}"
before=$(dmabufs)
"$BIN" "$ours" "$visl" "$vimc"
rc=$?
after=$(dmabufs)
if [ -n "$before" ] && [ "$before" != "$after" ]; then
	echo "FAIL dmabufs left over: $before before, $after after"
	rc=1
else
	echo "ok   no dmabuf left over (${before:-?} before, ${after:-?} after)"
fi
rmmod vimc visl 2>/dev/null
if [ $rc = 0 ]; then echo "kernel-dmabuf: PASS"; else echo "kernel-dmabuf: FAIL"; fi
exit $rc
