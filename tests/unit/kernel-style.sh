#!/bin/bash
# Kernel code follows kernel style: checkpatch.pl --strict from the testbed's 6.12 source must
# report nothing for the module's sources and the protocol header.
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
# (a failed `testbed env` inside "$(...)" would leave KSRC unset and every file "clean")
env=$(scripts/testbed env) || { echo "FAIL: no testbed kernel source (scripts/testbed build)"; exit 1; }
eval "$env"
[ -f "$KSRC/scripts/checkpatch.pl" ] || { echo "FAIL: no checkpatch.pl in $KSRC"; exit 1; }
files=$(ls kernel/*.c kernel/*.h include/uapi/linux/*.h 2>/dev/null | grep -v '\.mod\.c$')
[ -n "$files" ] || { echo "no kernel sources yet"; exit 0; }
fail=0
for f in $files; do
	out=$(perl "$KSRC/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types -f "$f" 2>&1)
	if [ -n "$out" ]; then echo "$out"; fail=1; else echo "clean: $f"; fi
done
exit $fail
