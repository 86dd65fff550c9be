#!/bin/bash
# testbed-run: --no-daemon --timeout 400
# testbed-batch: yes
# testbed-kernels: debug
# testbed-seconds: 5 debug=70
# The application STREAMOFFs or closes while GET_MSG is handing its job to the daemon: the job
# is off the kernel's queue, its buffers' fds are reserved in the daemon and not installed yet
# (docs/kernel.md, daedalus_kjob.delivering). The test peer holds GET_MSG right there: the
# body of its message lies on a page left missing under a userfaultfd (CONFIG_USERFAULTFD, in
# the debug kernel), so the kernel's copy stops on it (dv_uffd_hold.h) until the client has
# aborted (--abort-when). Then the copy goes on, or fails (the page unmapped: EFAULT).
# Either way the abort must not wait for the delivery; delivered, the job reaches the peer
# followed by its JOB_CANCEL and its late answer is refused; not delivered, the peer hears
# nothing of that job (no JOB_CANCEL for a job it never got) and no reserved fd is left in its
# table; every buffer and context it knew goes (BUF_GONE, CTX_GONE), and a context whose first
# job it never got sends it nothing at all (no CTX_GONE); the module holds no job and no handle
# afterwards, KASAN and lockdep stay quiet, and the device decodes again.
set -u
. "$(dirname "$0")/../tools/proto-lib.sh"
STATE=/sys/kernel/debug/daedalus-v4l2/state
live() { grep '^live:' "$STATE" 2>/dev/null; }
# held_abort LABEL AT FRAME HOW PEER_ARGS...: the peer holds its GET_MSG once AT jobs came, the
# client aborts (HOW) at frame FRAME as soon as that copy is held; s is the peer's summary then
held_abort() {
	local label=$1 at=$2 frame=$3 how=$4 held=$WORK/held.$1
	shift 4
	start_peer "$label" -v --expect-all-gone --uffd-hold "$at:$held" "$@" || finish "(no peer)"
	run_client --codec vp8 --frames 3 --abort "$how" --abort-frame "$frame" \
		--abort-when "$held" --max-abort-ms 2000 --expect any --timeout-ms 10000
	check "$label: the client's $how while GET_MSG held the job's copy did not wait for it ($(field abort_ms "$CLIENT_SUMMARY") ms)" \
		test "$CLIENT_RC" = 0 -a -e "$held.go"
	stop_peer
	s=$PEER_SUMMARY
}
nothing_held() { # label
	check "$1: the module holds nothing afterwards ($(live))" \
		test "$(live)" = "live: jobs 0, handles 0"
}

for how in streamoff close; do
	for copy in deliver fail; do
		extra=()
		[ "$copy" = fail ] && extra=(--uffd-fail)
		held_abort "$how-$copy" 1 1 "$how" "${extra[@]}"
		check "$how, copy $copy: the peer's GET_MSG was held in its copy ($(field uffd_held "$s") held)" \
			test "$(field uffd_held "$s")" = 1
		if [ "$copy" = deliver ]; then
			check "$how, copy delivered: the job reached the peer (type $(field uffd_type "$s")), then its JOB_CANCEL ($(field cancels "$s")), all gone, no protocol violation (peer exit $PEER_RC)" \
				test "$(field uffd_type "$s")" = 1 -a "$(field jobs "$s")" = 2 \
				-a "$(field cancels "$s")" = 1 -a "$PEER_RC" = 0
		else
			check "$how, copy failed: EFAULT ($(field uffd_efault "$s")) for a job (type $(field uffd_type "$s")), the peer got 1 job and no JOB_CANCEL for the other ($(field jobs "$s") jobs, $(field cancels "$s") cancels), all gone, no fd left (peer exit $PEER_RC)" \
				test "$(field uffd_efault "$s")" = 1 -a "$(field uffd_type "$s")" = 1 \
				-a "$(field jobs "$s")" = 1 \
				-a "$(field cancels "$s")" = 0 -a "$PEER_RC" = 0
		fi
		nothing_held "$how, copy $copy"
	done
done

# The context's first job held, its copy failed, the client STREAMOFFs or closes: taking the
# job marked the context as known to the daemon, which never heard of it, so no CTX_GONE
# either (the peer takes one for a context it does not know for a violation), nor anything
# else of that client.
for how in streamoff close; do
	held_abort "first-$how" 0 0 "$how" --uffd-fail
	check "$how, first job's copy failed: EFAULT ($(field uffd_efault "$s")), nothing of that context reached the peer ($(field jobs "$s") jobs, $(field cancels "$s") cancels, $(field ctx_gone "$s") CTX_GONE, $(field buf_gone "$s") BUF_GONE), no fd left (peer exit $PEER_RC)" \
		test "$(field uffd_held "$s")" = 1 -a "$(field uffd_efault "$s")" = 1 \
		-a "$(field uffd_type "$s")" = 1 \
		-a "$(field jobs "$s")" = 0 -a "$(field cancels "$s")" = 0 \
		-a "$(field ctx_gone "$s")" = 0 -a "$(field buf_gone "$s")" = 0 -a "$PEER_RC" = 0
	nothing_held "$how, first job"
done

# The same with the job's watchdog expiring first, inside the window: its first expiry queues
# a JOB_CANCEL that waits for the daemon's answer (the job is taken, so the kernel thinks the
# daemon may hold it), then the client STREAMOFFs (deliver, fail): delivered, the peer gets the
# job and that cancel, whose answer bounces (the STREAMOFF claimed the job); not delivered,
# neither (the cancel names a job the peer never got). requeue: the copy fails first, so the
# job goes back to the head of the queue with that cancel behind it, and the STREAMOFF claims
# it there, before the peer (paused: --uffd-pause) fetches again: again no cancel may come.
wd=$(cat /sys/module/daedalus_v4l2/parameters/job_timeout_ms)
wait_file() { # file: up to 30 s
	local i
	for ((i = 0; i < 600; i++)); do [ -e "$1" ] && return 0; nap 0.05; done
	return 1
}
for copy in deliver fail requeue; do
	held=$WORK/held.watchdog.$copy
	trigger=$WORK/abort.watchdog.$copy
	extra=()
	[ "$copy" != deliver ] && extra=(--uffd-fail)
	[ "$copy" = requeue ] && extra+=(--uffd-pause)
	start_peer "watchdog-$copy" -v --expect-all-gone --app-aborts --uffd-hold "1:$held" \
		"${extra[@]}" || finish "(no peer)"
	(
		run_client --codec vp8 --frames 3 --abort streamoff --abort-frame 1 \
			--abort-when "$trigger" --max-abort-ms 2000 --expect any --timeout-ms 10000
		exit "$CLIENT_RC"
	) &
	client=$!
	steps=ok
	expiries=$(dmesg | grep -c "waiting for the daemon to let go")
	wait_file "$held" || steps="no held GET_MSG"
	nap "$(((wd + 500) / 1000)).$(((wd + 500) % 1000 / 100))" # past the first expiry
	[ "$(dmesg | grep -c "waiting for the daemon to let go")" -gt "$expiries" ] ||
		steps="no first expiry while held"
	if [ "$copy" = requeue ]; then
		: >"$held.go" # the copy fails: the job back at the head, its cancel behind it
		wait_file "$held.returned" || steps="the held GET_MSG did not return"
		: >"$trigger"
		wait_file "$trigger.go" || steps="no abort"
		: >"$held.resume"
	else
		: >"$trigger"
		wait_file "$trigger.go" || steps="no abort"
		: >"$held.go"
	fi
	wait "$client"
	rc=$?
	check "watchdog, then streamoff ($copy): held, expired once, aborted, in that order ($steps)" \
		test "$steps" = ok
	check "watchdog, then streamoff ($copy): the client's abort did not wait for the daemon (client exit $rc)" \
		test "$rc" = 0 -a -e "$trigger.go"
	stop_peer
	s=$PEER_SUMMARY
	case $copy in
	deliver)
		check "watchdog, copy delivered: the job reached the peer, then its waiting JOB_CANCEL ($(field cancels "$s")), whose answer the STREAMOFF's claim refused ($(field wait_claimed "$s")), no protocol violation (peer exit $PEER_RC)" \
			test "$(field uffd_held "$s")" = 1 -a "$(field uffd_type "$s")" = 1 \
			-a "$(field jobs "$s")" = 2 -a "$(field cancels "$s")" = 1 \
			-a "$(field wait_claimed "$s")" = 1 -a "$PEER_RC" = 0
		;;
	*)
		check "watchdog, copy failed ($copy): EFAULT ($(field uffd_efault "$s")), no JOB_CANCEL for the job the peer never got ($(field cancels "$s")), no fd left (peer exit $PEER_RC)" \
			test "$(field uffd_held "$s")" = 1 -a "$(field uffd_efault "$s")" = 1 \
			-a "$(field uffd_type "$s")" = 1 \
			-a "$(field jobs "$s")" = 1 -a "$(field cancels "$s")" = 0 -a "$PEER_RC" = 0
		;;
	esac
	nothing_held "watchdog, copy $copy"
done

start_peer after --expect-all-gone || finish "(no peer)"
run_client --codec vp8 --frames 4 --timeout-ms 10000
check "decoding works afterwards ($(field ok "$CLIENT_SUMMARY") ok)" test "$CLIENT_RC" = 0
stop_peer
check "the peer saw every buffer and context go ($PEER_RC)" test "$PEER_RC" = 0
finish "aborts=9"
