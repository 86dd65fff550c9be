#!/bin/bash
# Kernel code follows kernel style: checkpatch.pl --strict from the testbed's 6.12 source must
# report nothing for the module's sources and the protocol header.
# It cannot pass without checking: no kernel tree, no checkpatch.pl, no module sources, a
# checkpatch that fails to run, or one that does not flag a known style error (the canary
# below) all fail the test. DAEDALUS_KSRC=DIR uses another kernel tree's checkpatch.pl.
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
if [ -n "${DAEDALUS_KSRC:-}" ]; then
	KSRC=$DAEDALUS_KSRC
else
	# (a failed `testbed env` inside "$(...)" would leave KSRC unset and every file "clean")
	env=$(scripts/testbed env) || { echo "FAIL: no testbed kernel source (scripts/testbed build)"; exit 1; }
	eval "$env"
fi
[ -n "${KSRC:-}" ] && [ -f "$KSRC/scripts/checkpatch.pl" ] ||
	{ echo "FAIL: no checkpatch.pl in '${KSRC:-}'"; exit 1; }
checkpatch() { perl "$KSRC/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types -f "$1" 2>&1; }

# The canary: checkpatch must flag a file with known errors (a C99 comment, spaces for
# indentation, a trailing space), or "no output" would not mean "clean".
canary=$(mktemp --suffix=.c)
trap 'rm -f "$canary"' EXIT
printf '// SPDX-License-Identifier: GPL-2.0\nint f(void)\n{\n        return 0; \n}\n' >"$canary"
out=$(checkpatch "$canary")
st=$?
if [ $st = 0 ] || ! grep -q "ERROR:" <<<"$out"; then
	echo "FAIL: checkpatch.pl did not flag the canary's style errors (status $st): it is not checking"
	echo "$out"
	exit 1
fi
echo "ok   checkpatch flags the canary: $(grep -c 'ERROR:\|WARNING:\|CHECK:' <<<"$out") reports"

files=$(ls kernel/*.c kernel/*.h include/uapi/linux/*.h 2>/dev/null | grep -v '\.mod\.c$')
# the module and its protocol header must be there: an empty list would check nothing
for must in kernel/daedalus-core.c include/uapi/linux/daedalus-v4l2.h; do
	grep -qx "$must" <<<"$files" || { echo "FAIL: $must is missing: nothing to check"; exit 1; }
done
fail=0 n=0
for f in $files; do
	out=$(checkpatch "$f")
	st=$?
	n=$((n + 1))
	if [ -n "$out" ] || [ $st != 0 ]; then
		echo "FAIL: $f (checkpatch status $st)"
		echo "$out"
		fail=1
	else
		echo "clean: $f"
	fi
done
[ $fail = 0 ] && echo "kernel-style: PASS ($n files clean)"
exit $fail
