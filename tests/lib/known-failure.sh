# Sourced by test libraries (tests/media/lib.sh, tests/tools/proto-lib.sh,
# tests/testbed/lib/common.sh): checks a test knows to fail, and what a test needs of its VM.

# known_failure WHAT REASON CMD...: a check that is known to fail for REASON (a bug found and not
# fixed yet, docs/testing.md "Known failures"). While it fails it prints "XFAIL WHAT: REASON",
# which tests/run counts as a known failure in its summary; once it passes it prints FAIL and
# sets fail=1, so the mark is removed as soon as the bug is fixed, never left to hide a pass.
known_failure() {
	local what=$1 reason=$2
	shift 2
	if "$@"; then
		echo "FAIL $what: passes now, but is marked as a known failure ($reason): remove the mark"
		fail=1
	else
		echo "XFAIL $what: $reason"
	fi
}

# need_cpus N: the test proves something about parallel execution (races, concurrent streams),
# which a guest with fewer CPUs cannot show; it fails rather than passing without having tested it.
need_cpus() {
	local have
	have=$(nproc)
	if [ "$have" -lt "$1" ]; then
		echo "FAIL this test needs $1 CPUs in the guest and it has $have (docs/testing.md, The VM)"
		exit 1
	fi
	echo "ok   the guest has $have CPUs (this test needs $1)"
}
