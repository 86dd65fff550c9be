#!/bin/bash
# scripts/testbed works from any directory; inside the checkout the command runs in the same
# directory (the checkout is mounted at its own path), elsewhere in /root.
set -u
. "$(dirname "$0")/lib.sh"
out=$(cd / && "$TB" run --no-module --no-daemon -- pwd)
check "from / the command runs in /root ($out)" test "$out" = /root
out=$(cd "$CK/docs" 2>/dev/null || cd "$CK/tests"; "$TB" run --no-module --no-daemon -- sh -c 'pwd; ls run lib.sh 2>/dev/null || ls architecture.md testing.md')
check "inside the checkout the command sees the same directory" test -n "$out"
echo "$out"
rel=$(cd "$CK/tests" && "$TB" run --no-module --no-daemon -- ./testbed/print-args.sh 'x y' z)
check "relative script path and argument quoting ($rel)" test "$rel" = "2:x y|z"
exit $fail
