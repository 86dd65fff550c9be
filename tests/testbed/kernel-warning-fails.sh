#!/bin/bash
# A kernel WARNING in the guest fails the run even when the command itself succeeds, and the
# guest's kernel log is saved to build/testbed/dmesg.txt. LKDTM's WARNING trigger is the
# kernel's own way to provoke one.
set -u
. "$(dirname "$0")/lib/common.sh"
out=$("$TB" run --no-module --no-daemon -- sh -c \
	'modprobe lkdtm && echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT; echo cmd-done' 2>&1)
rc=$?
echo "$out"
check "command ran to its end" grep -q cmd-done <<<"$out"
check "run failed (exit $rc)" test $rc -ne 0
check "problem named on stderr" grep -q "guest kernel reported problems" <<<"$out"
check "dmesg.txt holds the WARNING" grep -q "WARNING:" "$CK/build/testbed/dmesg.txt"
"$TB" run --no-module --no-daemon -- true
check "a clean run after it passes" test $? -eq 0
check "dmesg.txt is replaced by the clean run's log" bash -c "! grep -q 'WARNING:' '$CK/build/testbed/dmesg.txt'"
exit $fail
