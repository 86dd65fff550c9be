#!/bin/bash
# A hung guest is killed at the timeout with a clear message, and the run fails.
set -u
. "$(dirname "$0")/lib/common.sh"
t0=$(date +%s)
out=$("$TB" run --timeout 30 --no-module --no-daemon -- sleep 3600 2>&1)
rc=$?
took=$(($(date +%s) - t0))
echo "$out"
echo "exit $rc after $took s"
check "exit status 124" test $rc -eq 124
check "killed within 45 s" test $took -le 45
check "message says it was killed" grep -q "did not finish within 30 s" <<<"$out"
exit $fail
