#!/bin/bash
# A kernel WARNING in the guest fails the run even when the command itself succeeds, and the
# guest's kernel log is kept in the run's own directory (build/testbed/runs/run.*/dmesg.txt,
# named in the run's messages; build/testbed/dmesg.txt links to the newest run's). LKDTM's
# WARNING trigger is the kernel's own way to provoke one.
set -u
. "$(dirname "$0")/lib/common.sh"
out=$("$TB" run --no-module --no-daemon -- sh -c \
	'modprobe lkdtm && echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT; echo cmd-done' 2>&1)
rc=$?
echo "$out"
check "command ran to its end" grep -q cmd-done <<<"$out"
check "run failed (exit $rc)" test $rc -ne 0
check "problem named on stderr" grep -q "guest kernel reported problems" <<<"$out"
log=$(sed -n 's/.*(full log: \(build\/testbed\/runs\/run\.[^ ]*\/dmesg\.txt\)).*/\1/p' <<<"$out")
check "the message names the run's own log ($log)" test -n "$log"
check "the run's dmesg.txt holds the WARNING" grep -q "WARNING:" "$CK/${log:-none}"
out=$("$TB" run --no-module --no-daemon -- true 2>&1)
check "a clean run after it passes" test $? -eq 0
clean=$(sed -n 's/.*, logs in \(build\/testbed\/runs\/run\.[^ ]*\)$/\1/p' <<<"$out")
check "the clean run has a log of its own ($clean)" test -n "$clean" -a "$clean/dmesg.txt" != "${log:-none}"
check "the clean run's dmesg.txt has no WARNING" bash -c "[ -s '$CK/$clean/dmesg.txt' ] && ! grep -q 'WARNING:' '$CK/$clean/dmesg.txt'"
check "the WARNING run's log is still there" grep -q "WARNING:" "$CK/${log:-none}"
check "build/testbed/dmesg.txt links into a run's directory" \
	bash -c "readlink '$CK/build/testbed/dmesg.txt' | grep -q '^runs/run\.'"
exit $fail
