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
. "$CK/tests/lib/forkless.sh"
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

# start_peer NAME ARGS...: the test peer in the background; waits for its handshake.
start_peer() {
	local name=$1 i
	shift
	PEER_LOG=$WORK/$name.log
	[ ! -e "$WORK/$name.ready" ] || rm -f "$WORK/$name.ready"
	"$PEER" --ready-file "$WORK/$name.ready" "$@" >"$PEER_LOG" 2>&1 &
	PEER_PID=$!
	for ((i = 0; i < 400; i++)); do # 20 s
		[ -e "$WORK/$name.ready" ] && return 0
		kill -0 $PEER_PID 2>/dev/null || break
		nap 0.05
	done
	echo "FAIL peer $name did not start:"
	sed 's/^/    /' "$PEER_LOG"
	fail=1
	return 1
}

# stop_peer: SIGTERM, wait; PEER_RC and PEER_SUMMARY are set, the log is printed. SIGCONT
# too: a test may have stopped the peer (SIGSTOP) and failed before resuming it, and a stopped
# process acts on SIGTERM only once it runs again, so the wait would last until the test's
# time limit and tell nothing.
stop_peer() {
	kill -TERM "$PEER_PID" 2>/dev/null
	kill -CONT "$PEER_PID" 2>/dev/null
	wait "$PEER_PID"
	PEER_RC=$?
	print_log "$PEER_LOG" "    peer| " dv-testpeer "^dv-testpeer: job |JOB_CANCEL .* after|rejected with"
	PEER_SUMMARY=$LOG_SUMMARY
}

# run_client ARGS...: CLIENT_RC, CLIENT_SUMMARY and CLIENT_LOG set, its output printed. The client runs
# under the command in the array CLIENT_AS when set (e.g. setpriv, as another user).
CLIENT_AS=()
run_client() {
	local out=$WORK/client.$$.$RANDOM.log
	"${CLIENT_AS[@]}" "$CLIENT" "$@" >"$out" 2>&1
	CLIENT_RC=$?
	CLIENT_LOG=$out
	print_log "$out" "    client| " dv-reqclient
	CLIENT_SUMMARY=$LOG_SUMMARY
}

# set_max_inflight N: the module's max_inflight (read at the daemon's HELLO) set to N for the
# rest of the test, and put back when it exits; a test fails without the parameter.
set_max_inflight() {
	MAX_INFLIGHT_PARAM=/sys/module/daedalus_v4l2/parameters/max_inflight
	MAX_INFLIGHT_OLD=$(cat "$MAX_INFLIGHT_PARAM" 2>/dev/null) ||
		{ fail=1; finish "(no max_inflight parameter)"; }
	trap 'echo "$MAX_INFLIGHT_OLD" >"$MAX_INFLIGHT_PARAM"' EXIT
	echo "$1" >"$MAX_INFLIGHT_PARAM"
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
