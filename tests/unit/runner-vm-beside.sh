#!/bin/bash
# tests/run's scheduling of the vm suite beside the unit suite, on a scratch tree whose
# scripts/testbed is a stand-in that runs the test's script on the host (no VM): with `all`,
# the vm suite starts while the unit suite runs, one VM job at a time until the unit suite ends
# and two after; its jobs start longest first by their testbed-seconds; its results (a failure
# too) are counted and printed after the unit suite's, with the schedule of its jobs.
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
. "$CK/tests/testbed/lib/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/tests/unit" "$t/tests/vm" "$t/tests/testbed" "$t/scripts"
cp "$CK/tests/run" "$t/tests/"
cp -r "$CK/tests/lib" "$t/tests/"
ev=$t/events
cat >"$t/scripts/testbed" <<'EOF'
#!/bin/bash
# stand-in for scripts/testbed: `run ... -- CMD` runs CMD here; accel says what a VM would use
case "$1" in
accel) echo "none (stand-in)"; exit 0 ;;
run)
	while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
	shift
	[ "$1" != gst-inspect-1.0 ] || exit 0 # the registry scan before the vm suite
	exec "$@"
	;;
esac
exit 0
EOF
chmod +x "$t/scripts/testbed"
# a test that records when it ran: NAME SECONDS [STATUS]
mk() { # dir name header-lines body
	printf '#!/bin/bash\n%s\n%s\n' "$3" "$4" >"$t/tests/$1/$2.sh"
	chmod +x "$t/tests/$1/$2.sh"
}
rec() { printf 'echo "start %s $(date +%%s.%%N)" >>%s; sleep %s; echo "end %s $(date +%%s.%%N)" >>%s; exit %s' \
	"$1" "$ev" "$2" "$1" "$ev" "${3:-0}"; }
mk unit u "" "$(rec unit 9)"
mk testbed tb "" "$(rec testbed 1)"
mk vm v-a "# testbed-seconds: 300" "$(rec v-a 3)"
mk vm v-b "# testbed-seconds: 200" "$(rec v-b 3)"
mk vm v-c "# testbed-seconds: 100" "$(rec v-c 3)"
mk vm v-d "# testbed-seconds: 50" "$(rec v-d 3)"
mk vm v-e "# testbed-seconds: 20" "$(rec v-e 3 1)"
# the scheduling under test is the default's (two VM jobs once the unit suite ends), whatever
# TEST_JOBS the caller runs the unit suite with
out=$(cd "$t" && env -u TEST_JOBS tests/run all 2>&1)
rc=$?
echo "$out"
echo "--- events:"
cat "$ev"

# the most VM jobs that ran at once before and after the unit test's end
at_once() { # from to: the largest number of v-* runs overlapping any moment in [from, to)
	awk -v a="$1" -v b="$2" '
		$1 == "start" && $2 ~ /^v-/ { s[$2] = $3 } $1 == "end" && $2 ~ /^v-/ { e[$2] = $3 }
		END {
			m = 0
			for (x in s) { if (s[x] < a || s[x] >= b) continue; n = 0
				for (y in s) if (s[y] <= s[x] && e[y] > s[x]) n++
				if (n > m) m = n }
			print m
		}' "$ev"
}
unit_start=$(awk '$1 == "start" && $2 == "unit" { print $3 }' "$ev")
unit_end=$(awk '$1 == "end" && $2 == "unit" { print $3 }' "$ev")
first_vm=$(awk '$1 == "start" && $2 ~ /^v-/ { print $3, $2 }' "$ev" | sort -n | head -n 1)
check "the vm suite started while the unit test ran (${first_vm:-none}, unit ${unit_start:-?}..${unit_end:-?})" \
	awk -v f="${first_vm%% *}" -v e="${unit_end:-0}" 'BEGIN { exit !(f != "" && f < e) }'
check "its longest job (by testbed-seconds) started first" test "${first_vm#* }" = v-a
check "one VM job at a time while the unit suite ran" test "$(at_once 0 "${unit_end:-0}")" = 1
check "two at a time after it ended" test "$(at_once "${unit_end:-0}" 9999999999)" = 2
check "every VM test ran" test "$(grep -c '^end v-' "$ev")" = 5
line_of() { grep -n -m1 -e "$1" <<<"$out" | cut -d: -f1; }
order="$(line_of '^== unit tests took') $(line_of '^== testbed tests (run beside') $(line_of '^== vm tests (started beside') $(line_of '^PASS  vm/')"
check "the suites are printed in order, the vm results after the unit suite's (lines $order)" \
	sh -c 'test $# = 4 && test "$1" -lt "$2" && test "$2" -lt "$3" && test "$3" -lt "$4"' _ $order
check "the schedule lists the five jobs" test "$(grep -cE '^      \+[0-9]+ +-> \+[0-9]+ .* single \[normal\]: v-' <<<"$out")" = 5
check "a failing vm test started beside the unit suite is counted" grep -qx '6 passed, 1 failed, 0 known failures' <<<"$out"
check "the vm stage's time says it started beside the unit suite" grep -q 'vm [0-9]* s (started beside unit)' <<<"$out"
check "the run fails" test "$rc" != 0
exit $fail
