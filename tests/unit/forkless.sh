#!/bin/bash
# tests/lib/forkless.sh against the commands it replaces in the VM tests' libraries: field
# against `grep -o "\bNAME=[^ ]*" | tail -n 1 | cut -d= -f2` on the tools' summary lines and
# on texts with the awkward cases (a name inside another, a value with '=', several lines,
# nothing to find); print_log against grep/sed on a log with a summary line and lines to
# skip; log_has against grep -qE; count_lines against grep -c; nap sleeps about as asked.
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
. "$CK/tests/testbed/lib/common.sh"
. "$CK/tests/lib/forkless.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

old_field() { grep -o "\b$1=[^ ]*" <<<"$2" | tail -n 1 | cut -d= -f2; }
texts=(
	"dv-testpeer: PASS session=2 jobs=79 completed=59 max_in_flight=3 in_flight=1 owners=65533,65534"
	"dv-reqclient: PASS codec=vp9 contexts=2 frames=8 done=16 capture_done=3 lat_ms_avg=17.0"
	"(dv-testpeer: PASS session=2 jobs=79) x=1 x=2 y=a=b z= w done"
	$'ready session=1 max=4096x2304\nline two session=5 jobs=3\n(session=7)'
	""
	"no fields here"
	$'tab\tin_flight=1\tdone=2'
)
n=0 differ=0
for text in "${texts[@]}"; do
	for name in session jobs done capture_done in_flight max_in_flight owners codec x y z w max nope; do
		n=$((n + 1))
		a=$(old_field "$name" "$text")
		b=$(field "$name" "$text")
		[ "$a" == "$b" ] || { differ=$((differ + 1)); echo "  field $name: grep gives '$a', field '$b' in '$text'"; }
	done
done
check "field equals grep|tail|cut in $n cases ($differ differ)" test "$differ" = 0 -a "$n" -gt 90
check "field finds the last of several (session=7)" test "$(field session "${texts[3]}")" = "7)"
check "field prints nothing for a missing name" test -z "$(field nope "${texts[0]}")"

printf '%s\n' "dv-testpeer: ready session=1" "dv-testpeer: job 1 done" "JOB_CANCEL 4 after 3 ms" \
	"dv-testpeer: FAIL session=1 jobs=0" "something" "dv-testpeer: PASS session=2 jobs=5" \
	"rejected with EINVAL" >"$t/peer.log"
printf 'last line without a newline' >>"$t/peer.log"
skip="^dv-testpeer: job |JOB_CANCEL .* after|rejected with"
want=$(grep -v -E "$skip" "$t/peer.log" | sed 's/^/    peer| /')
got=$(print_log "$t/peer.log" "    peer| " dv-testpeer "$skip")
check "print_log prints what grep -v | sed printed" test "$got" == "$want"
print_log "$t/peer.log" "" dv-testpeer "$skip" >/dev/null
check "print_log keeps the last summary line ($LOG_SUMMARY)" \
	test "$LOG_SUMMARY" == "dv-testpeer: PASS session=2 jobs=5"
print_log "$t/peer.log" "" dv-reqclient >/dev/null
check "print_log finds no other tool's summary" test -z "$LOG_SUMMARY"

for re in "^dv-testpeer: (PASS|FAIL) " "ready$" "session=[0-9]+ jobs=5$" "^nothing"; do
	grep -qE "$re" "$t/peer.log" && a=yes || a=no
	log_has "$t/peer.log" "$re" && b=yes || b=no
	check "log_has '$re' is $b like grep -qE ($a)" test "$a" = "$b"
done
check "log_has on a missing file is false" bash -c ". '$CK/tests/lib/forkless.sh'; ! log_has '$t/none' ."
count_lines "$t/peer.log" "dv-testpeer: "
check "count_lines: $COUNT lines start with 'dv-testpeer: ', grep -c says $(grep -c '^dv-testpeer: ' "$t/peer.log")" \
	test "$COUNT" = "$(grep -c '^dv-testpeer: ' "$t/peer.log")"
count_lines "$t/none" "x"
check "count_lines on a missing file is 0" test "$COUNT" = 0

# A read that fails leaves bash's variable as it was: loops on `read || [ -n "$line" ]` went
# on forever when a /proc file's process went away mid-read (kernel-ioctl-fuzz, 2026-12-05).
# A directory fails its first read; /proc files of processes exiting meanwhile race with it.
check "the helpers end on a file whose read fails (a directory)" timeout 10 bash -c "
	. '$CK/tests/lib/forkless.sh'
	! log_has '$t' . && count_lines '$t' x && test \$COUNT = 0 && print_log '$t' '' x" 2>/dev/null
check "the helpers end on /proc files of processes exiting meanwhile (300 rounds)" timeout 60 bash -c "
	. '$CK/tests/lib/forkless.sh'
	for ((k = 0; k < 300; k++)); do
		sleep 0.01 & p=\$!
		log_has /proc/\$p/status '^State:.*Z'
		count_lines /proc/\$p/status S
		print_log /proc/\$p/status '' x >/dev/null 2>&1
	done"

t0=${EPOCHREALTIME//[!0-9]/}
nap 0.3
ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
check "nap 0.3 slept ${ms} ms" test "$ms" -ge 290 -a "$ms" -lt 2000
exit $fail
