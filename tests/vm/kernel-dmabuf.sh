#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 15 debug=15
# The module's own buffer memory (kernel/daedalus-mem.c, docs/memory.md) seen from userspace:
# MMAP buffers of both queues are exportable (EXPBUF); what a CPU writes through the video
# node's mapping is read back through the exported dmabuf's mapping and the other way round,
# with DMA_BUF_IOCTL_SYNC brackets; the exported dmabuf is imported by two in-tree drivers:
# visl (vb2-vmalloc: kernel vmap of our pages, must succeed) and vimc (vb2-dma-contig:
# dma_buf_attach + map for its device; our pages are not contiguous, so it may refuse with
# EFAULT, but attach/map/detach must run cleanly); our own node imports it, and refuses it
# (EINVAL) with a plane length beyond its size without keeping a reference (vb2 leaks one when
# attach_dmabuf fails, docs/security.md), nor when a buffer it imported and queued is queued
# again with a bad fd (vb2 then drops the planes without buf_cleanup). At the end no dmabuf may
# be left over, no buffer handle of the module live, and nothing may hold the module.
# Every check must run: without visl or vimc (both built as modules by the testbed kernel) or
# without a readable /sys/kernel/debug/dma_buf/bufinfo (for the leak count) the test fails.
set -u
BIN=$(cd "$(dirname "$0")/../.." && pwd)/build/tests/dv-dmabuf-check
[ -x "$BIN" ] || { echo "FAIL: $BIN is not built (make tools)"; exit 1; }

. "$(dirname "$0")/../lib/v4l2-nodes.sh"
dmabufs() { sed -n 's/^Total \([0-9]*\) objects.*/\1/p' /sys/kernel/debug/dma_buf/bufinfo 2>/dev/null; }

modprobe visl || echo "modprobe visl failed"
modprobe vimc || echo "modprobe vimc failed"
udevadm settle --timeout=10 2>/dev/null
ours=$(find_node daedalus-v4l2)
visl=$(find_node visl)
vimc=$(find_node vimc "RGB/YUV Capture")
echo "nodes: ours=${ours:-none} visl=${visl:-none} vimc=${vimc:-none}"
[ -n "$ours" ] || { echo "FAIL: no daedalus-v4l2 node"; exit 1; }
# the import checks are skipped by dv-dmabuf-check for an empty node: not here
[ -n "$visl" ] || { echo "FAIL: no visl node: the import check by vb2-vmalloc cannot run"; exit 1; }
[ -n "$vimc" ] || { echo "FAIL: no vimc capture node: the import check by vb2-dma-contig cannot run"; exit 1; }
before=$(dmabufs)
[ -n "$before" ] || {
	echo "FAIL: cannot read the dmabuf count in /sys/kernel/debug/dma_buf/bufinfo: the leak check cannot run"
	exit 1
}
"$BIN" "$ours" "$visl" "$vimc"
rc=$?
after=$(dmabufs)
if [ -z "$after" ]; then
	echo "FAIL cannot read the dmabuf count after the checks"
	rc=1
elif [ "$before" != "$after" ]; then
	echo "FAIL dmabufs left over: $before before, $after after"
	rc=1
else
	echo "ok   no dmabuf left over ($before before, $after after)"
fi
# nothing of the module outlives the checks: no buffer handle (a handle holds its dmabuf, and
# one exported by the module holds the module), nothing holding the module
[ -e /sys/kernel/debug/daedalus-v4l2 ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
live=$(grep '^live:' /sys/kernel/debug/daedalus-v4l2/state 2>/dev/null)
if [ "$live" = "live: jobs 0, handles 0" ]; then
	echo "ok   the module holds no job and no buffer handle ($live)"
else
	echo "FAIL the module still holds work (${live:-no debugfs state})"
	rc=1
fi
refs=$(cat /sys/module/daedalus_v4l2/refcnt 2>/dev/null)
if [ "$refs" = 0 ]; then
	echo "ok   nothing holds the module (refcnt 0)"
else
	echo "FAIL something holds the module (refcnt ${refs:-?})"
	rc=1
fi
rmmod vimc visl 2>/dev/null
if [ $rc = 0 ]; then echo "kernel-dmabuf: PASS"; else echo "kernel-dmabuf: FAIL"; fi
exit $rc
