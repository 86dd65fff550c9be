#!/bin/bash
# testbed-run: --no-daemon --timeout 600
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 15 debug=35
# Where the module does cache maintenance for a dmabuf importer (docs/memory.md, issue 14
# item 4), seen through the function tracer while dv-cache-check runs: a CAPTURE buffer
# imported by vimc (vb2-dma-contig, mapped DMA_FROM_DEVICE), a job completing it, DQBUF, then
# DMA_BUF_IOCTL_SYNC for writing and for reading.
# - No maintenance function of the module runs with interrupts off (vb2's finish memop ran
#   from vb2_buffer_done() under the m2m job spinlock: a whole picture cleaned with interrupts
#   off); the clean for importers runs at DQBUF (daedalus_mem_dequeued).
# - Under the debug kernel (CONFIG_DMA_API_DEBUG makes the DMA API call its sync functions even
#   on cache-coherent x86, where the normal kernel skips them): a write-only SYNC invalidates
#   nothing (__dma_sync_sg_for_cpu not called), a read SYNC does for the importer that maps
#   DMA_FROM_DEVICE.
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$CK/build/tests/dv-cache-check
[ -x "$BIN" ] || { echo "FAIL: $BIN is not built (make tools)"; exit 1; }
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

. "$CK/tests/lib/v4l2-nodes.sh"

T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T 2>/dev/null
[ -e $T/trace ] || { echo "FAIL: no tracefs at $T: the checks cannot run"; exit 1; }
rmmod vimc 2>/dev/null
modprobe vimc allocator=1 || { echo "FAIL: modprobe vimc allocator=1 (vb2-dma-contig)"; exit 1; }
udevadm settle --timeout=10 2>/dev/null
video=$(find_node daedalus-v4l2)
vimc=$(find_node vimc "RGB/YUV Capture")
[ -n "$video" ] && [ -n "$vimc" ] || { echo "FAIL: nodes: ours=${video:-none} vimc=${vimc:-none}"; exit 1; }
media=$(media_node_of "$video")
[ -n "$media" ] || { echo "FAIL: no media node for $video"; exit 1; }

echo 0 >$T/tracing_on
echo nop >$T/current_tracer
: >$T/set_ftrace_filter
for f in 'daedalus_mem_*' 'daedalus_dmabuf_*' __dma_sync_sg_for_cpu __dma_sync_sg_for_device; do
	echo "$f" >>$T/set_ftrace_filter 2>/dev/null
done
grep -q daedalus_dmabuf_begin_cpu $T/set_ftrace_filter ||
	{ echo "FAIL: the module's functions cannot be traced"; exit 1; }
# Only DMA-API debug makes a coherent x86 device call the sync functions (dma_dev_need_sync()).
dma_traced=no
[ -d /sys/kernel/debug/dma-api ] && grep -q "^__dma_sync_sg_for_cpu" $T/set_ftrace_filter &&
	dma_traced=yes
echo function >$T/current_tracer
: >$T/trace
echo 1 >$T/tracing_on
"$BIN" "$video" "$media" "$vimc" $T/trace_marker
rc=$?
echo 0 >$T/tracing_on
trace=$(cat $T/trace)
echo nop >$T/current_tracer
: >$T/set_ftrace_filter
rmmod vimc 2>/dev/null
[ $rc = 0 ] || bad "dv-cache-check failed"

# Lines of the module's functions and the DMA sync functions, with the step they ran in and
# their irqs-off flag: "STEP FLAGS FUNCTION".
calls=$(awk '
	/dv-cache: / { sub(/.*dv-cache: /, ""); step = $1; next }
	/^#/ { next }
	{
		for (i = 1; i <= NF; i++) if ($i ~ /^\[[0-9]+\]$/) break
		if (i >= NF) next
		fn = $(i + 3)
		if (step != "") print step, $(i + 1), fn
	}' <<<"$trace")
echo "traced calls (step, flags, function):"
sed 's/^/    /' <<<"$calls"
irqoff=$(awk '$2 ~ /^[dD]/' <<<"$calls")
if [ -z "$calls" ]; then
	bad "nothing traced between the markers"
elif [ -n "$irqoff" ]; then
	bad "maintenance with interrupts off: $(tr '\n' ';' <<<"$irqoff")"
else
	ok "no maintenance function ran with interrupts off"
fi
n=$(awk '$1 == "decode" && $3 == "daedalus_mem_dequeued"' <<<"$calls" | wc -l)
[ "$n" -ge 1 ] && ok "the importers' clean runs at DQBUF ($n call)" ||
	bad "no daedalus_mem_dequeued call at DQBUF"
if [ $dma_traced = yes ]; then
	w=$(awk '$1 == "sync-write" && $3 == "__dma_sync_sg_for_cpu"' <<<"$calls" | wc -l)
	r=$(awk '$1 == "sync-read" && $3 == "__dma_sync_sg_for_cpu"' <<<"$calls" | wc -l)
	[ "$w" = 0 ] && ok "a write-only SYNC START invalidates nothing" ||
		bad "a write-only SYNC START invalidated $w time(s)"
	[ "$r" -ge 1 ] && ok "a read SYNC START invalidates for the DMA_FROM_DEVICE importer ($r)" ||
		bad "a read SYNC START did not invalidate for the DMA_FROM_DEVICE importer"
else
	echo "note: __dma_sync_sg_* are not called on this kernel (coherent x86 skips them without DMA-API debug): the invalidate checks run under the debug kernel"
fi
if [ $fail = 0 ]; then echo "kernel-cache-sync: PASS"; else echo "kernel-cache-sync: FAIL"; fi
exit $fail
