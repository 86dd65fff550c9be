#!/bin/bash
# scripts/testbed works from any directory; inside the checkout the command runs in the same
# directory (the checkout is mounted at its own path), elsewhere in /root.
set -u
. "$(dirname "$0")/lib/common.sh"
out=$(cd / && "$TB" run --no-module --no-daemon -- pwd)
check "from / the command runs in /root ($out)" test "$out" = /root
out=$(cd "$CK/scripts/testbed.d" && "$TB" run --no-module --no-daemon -- sh -c 'pwd; ls guest-init')
check "inside the checkout the command runs in the same directory ($out)" \
	test "$out" = "$CK/scripts/testbed.d"$'\n'guest-init
rel=$(cd "$CK/tests" && "$TB" run --no-module --no-daemon -- ./testbed/lib/print-args 'x y' z)
check "relative script path and argument quoting ($rel)" test "$rel" = "2:x y|z"
exit $fail
