#!/bin/bash
# `testbed run` boots the 6.12 testbed kernel and passes the command's exit status through.
set -u
. "$(dirname "$0")/lib/common.sh"
out=$("$TB" run --no-module --no-daemon -- uname -r)
echo "uname -r: $out"
check "guest runs a 6.12 kernel" grep -qE '^6\.12\.[0-9]+' <<<"$out"
"$TB" run --no-module --no-daemon -- false
check "false fails the run" test $? -ne 0
"$TB" run --no-module --no-daemon -- sh -c 'exit 7'
check "exit status 7 comes back as 7" test $? -eq 7
out=$("$TB" run --no-module --no-daemon -- sh -c 'echo "a  b"; echo err >&2' 2>/dev/null)
check "stdout and stderr of the command are printed, arguments kept" test "$out" = $'a  b\nerr'
exit $fail
