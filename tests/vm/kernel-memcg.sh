#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=50
# One opener's buffers count against its own memory cgroup, not the machine's (issue 13,
# docs/security.md "What each layer enforces"): the module allocates buffer pages with
# GFP_KERNEL_ACCOUNT, and at the cgroup's limit REQBUFS fails with ENOMEM instead of the OOM
# killer taking the opener (or, without the charge, the pages coming out of everyone's
# memory). dv-memcg-check runs inside a cgroup of its own with the memory controller and
# checks the charge, the refusal at memory.max and that it survived it.
set -u
BIN=$(cd "$(dirname "$0")/../.." && pwd)/build/tests/dv-memcg-check
[ -x "$BIN" ] || { echo "FAIL: $BIN is not built (make tools)"; exit 1; }
. "$(dirname "$0")/../lib/v4l2-nodes.sh"
video=$(find_node daedalus-v4l2)
[ -n "$video" ] || { echo "FAIL: no daedalus-v4l2 node"; exit 1; }
root=/sys/fs/cgroup
if [ ! -e $root/cgroup.controllers ]; then
	mount -t cgroup2 cgroup2 $root || { echo "FAIL: cannot mount cgroup2 on $root"; exit 1; }
fi
grep -qw memory $root/cgroup.controllers || { echo "FAIL: the kernel has no memory controller (CONFIG_MEMCG)"; exit 1; }
echo +memory >$root/cgroup.subtree_control || { echo "FAIL: cannot enable the memory controller"; exit 1; }
cg=$root/dv-memcg-$$
mkdir "$cg" || { echo "FAIL: cannot make $cg"; exit 1; }
trap 'rmdir "$cg" 2>/dev/null' EXIT
sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "$3" "$1"' sh "$cg" "$BIN" "$video"
rc=$?
if [ $rc -gt 128 ]; then
	echo "FAIL dv-memcg-check died of signal $((rc - 128)) (memory.events: $(tr '\n' ' ' <"$cg/memory.events"))"
	dmesg | grep -iE "oom|memory cgroup out of memory" | tail -n 5
	rc=1
fi
if [ $rc = 0 ]; then echo "kernel-memcg: PASS"; else echo "kernel-memcg: FAIL"; fi
exit $rc
