# Shared by the harness's own tests: where things are, and a check helper.
CK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
TB=$CK/scripts/testbed
fail=0
. "$CK/tests/lib/known-failure.sh"
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
