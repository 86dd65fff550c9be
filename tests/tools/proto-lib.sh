# Sourced by tests/vm/proto-*.sh (inside the testbed VM): where the test tools are, how to
# run the test peer in the background, and how to check and report.
# shellcheck shell=bash
CK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=$CK/build/tests
PEER=$TOOLS/dv-testpeer
CLIENT=$TOOLS/dv-reqclient
TEST=$(basename "$0" .sh)
WORK=$(mktemp -d /tmp/"$TEST".XXXXXX)
fail=0
. "$CK/tests/lib/known-failure.sh"
notes=()

for t in "$PEER" "$CLIENT"; do
	if [ ! -x "$t" ]; then
		echo "$TEST: FAIL: $t is not built (make tools, or scripts/build tools)"
		exit 1
	fi
done
if [ ! -c /dev/daedalus-v4l2 ]; then
	echo "$TEST: FAIL: /dev/daedalus-v4l2 does not exist (module not loaded?)"
	exit 1
fi

check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fail=1
	fi
}

note() { notes+=("$*"); }

# field KEY TEXT: the value of KEY=value in TEXT (the last one).
field() { grep -o "\b$1=[^ ]*" <<<"$2" | tail -n 1 | cut -d= -f2; }

# start_peer NAME ARGS...: the test peer in the background; waits for its handshake.
start_peer() {
	local name=$1
	shift
	PEER_LOG=$WORK/$name.log
	rm -f "$WORK/$name.ready"
	"$PEER" --ready-file "$WORK/$name.ready" "$@" >"$PEER_LOG" 2>&1 &
	PEER_PID=$!
	for _ in $(seq 100); do
		[ -e "$WORK/$name.ready" ] && return 0
		kill -0 $PEER_PID 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL peer $name did not start:"
	sed 's/^/    /' "$PEER_LOG"
	fail=1
	return 1
}

# stop_peer: SIGTERM, wait; PEER_RC and PEER_SUMMARY are set, the log is printed.
stop_peer() {
	kill -TERM "$PEER_PID" 2>/dev/null
	wait "$PEER_PID"
	PEER_RC=$?
	PEER_SUMMARY=$(grep "^dv-testpeer: \(PASS\|FAIL\) " "$PEER_LOG" | tail -n 1)
	grep -v "^dv-testpeer: job \|JOB_CANCEL .* after\|rejected with" "$PEER_LOG" | sed 's/^/    peer| /'
}

# run_client ARGS...: CLIENT_RC, CLIENT_SUMMARY and CLIENT_LOG set, its output printed. The client runs
# under the command in the array CLIENT_AS when set (e.g. setpriv, as another user).
CLIENT_AS=()
run_client() {
	local out=$WORK/client.$$.$RANDOM.log
	"${CLIENT_AS[@]}" "$CLIENT" "$@" >"$out" 2>&1
	CLIENT_RC=$?
	CLIENT_LOG=$out
	CLIENT_SUMMARY=$(grep "^dv-reqclient: \(PASS\|FAIL\) " "$out" | tail -n 1)
	sed 's/^/    client| /' "$out"
}

# ms_between T0_NS T1_NS
ms_between() { echo $((($2 - $1) / 1000000)); }

finish() { # summary text
	if [ $fail = 0 ]; then
		echo "$TEST: PASS $*"
	else
		echo "$TEST: FAIL $*"
	fi
	rm -rf "$WORK"
	exit $fail
}
