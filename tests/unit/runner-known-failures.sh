#!/bin/bash
# tests/run's known-failure accounting, on a scratch tree of four tests: a failing test marked
# "# known-failure:" counts as known, a passing one so marked fails (stale mark), XFAIL lines
# of a passing test count as known failures, and a known_failure check that passes fails;
# a failed test's FAIL lines are shown even when they are far from the end of its log.
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
. "$CK/tests/testbed/lib/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/tests/unit"
cp "$CK/tests/run" "$t/tests/"
cp -r "$CK/tests/lib" "$t/tests/"
mk() { printf '#!/bin/bash\n%s\n' "$2" >"$t/tests/unit/$1.sh"; chmod +x "$t/tests/unit/$1.sh"; }
mk a-known $'# known-failure: bug 1 is not fixed\nexit 1'
mk b-stale $'# known-failure: bug 2 was fixed\nexit 0'
mk c-xfail $'fail=0\n. tests/lib/known-failure.sh\nknown_failure "two is three" "bug 3" test 2 = 3\nexit $fail'
mk d-xpass $'fail=0\n. tests/lib/known-failure.sh\nknown_failure "two is two" "bug 4" test 2 = 2\nexit $fail'
mk e-fail-early $'echo "FAIL the early check"\nseq 1 60\nexit 1'
out=$(cd "$t" && tests/run unit 2>&1)
rc=$?
echo "$out"
check "a failing test marked known is KNOWN" grep -q '^KNOWN unit/a-known.sh .*bug 1 is not fixed' <<<"$out"
check "a passing test marked known FAILs (stale mark)" grep -q '^FAIL  unit/b-stale.sh .*remove the mark' <<<"$out"
check "a passing test's XFAIL check is listed" grep -q '^PASS  unit/c-xfail.sh' <<<"$out"
check "the XFAIL line names its reason" grep -q 'known failure: two is three: bug 3' <<<"$out"
check "a known_failure check that passes FAILs its test" grep -q '^FAIL  unit/d-xpass.sh' <<<"$out"
check "a failed test's FAIL line 60 lines before its end is shown" \
	grep -q '^      ! FAIL the early check$' <<<"$out"
check "the summary counts 1 passed, 3 failed, 2 known" grep -qx '1 passed, 3 failed, 2 known failures' <<<"$out"
check "the run fails" test "$rc" != 0
exit $fail
