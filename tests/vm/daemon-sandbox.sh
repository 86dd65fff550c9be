#!/bin/bash
# testbed-run: --timeout 900
# testbed-arches: amd64 arm64
# testbed-seconds: 5
# The daemon confines itself whatever starts it (docs/security.md). Checked from outside, in
# /proc/PID/status: first the daemon this VM's init started as root, then one started here
# with --sandbox-probe: a uid and gid that are not root, every capability set empty (the
# bounding set too), NoNewPrivs 1, Seccomp 2 (a filter). The probing daemon tries, once
# confined, what a decoder taken over would: an AF_INET socket, an AF_UNIX stream socket (the
# system bus's kind), open(), fork() and setuid(0); each must fail with EPERM, and the daemon
# must still decode a clip bit-exact, and its sd_notify notices (READY=1, the watchdog's
# WATCHDOG=1) must still reach the service manager.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' ' '; }

check_confined() { # pid, who
	local pid=$1 who=$2 uid gid f v
	# it confines itself once attached and the libraries are loaded: give it a few seconds
	for _ in $(seq 100); do
		[ "$(status_field "$pid" Seccomp 2>/dev/null)" = 2 ] && break
		sleep 0.1
	done
	if ! [ -r "/proc/$pid/status" ]; then
		fail "$who: not running"
		return
	fi
	uid=$(status_field "$pid" Uid) gid=$(status_field "$pid" Gid)
	[[ " $uid " != *" 0 "* ]] && ok "$who: uids $uid (real effective saved fs), none is root" ||
		fail "$who: uids $uid"
	[[ " $gid " != *" 0 "* ]] && ok "$who: gids $gid" || fail "$who: gids $gid"
	v=$(status_field "$pid" Groups)
	[ -z "$v" ] && ok "$who: no supplementary groups" || fail "$who: supplementary groups $v"
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(status_field "$pid" $f)
		[ "$v" = 0000000000000000 ] && ok "$who: $f $v" || fail "$who: $f $v, want none"
	done
	v=$(status_field "$pid" NoNewPrivs)
	[ "$v" = 1 ] && ok "$who: NoNewPrivs 1" || fail "$who: NoNewPrivs '$v'"
	v=$(status_field "$pid" Seccomp)
	[ "$v" = 2 ] && ok "$who: Seccomp 2 (filter), $(status_field "$pid" Seccomp_filters) filter(s)" ||
		fail "$who: Seccomp '$v', want 2 (is CONFIG_SECCOMP_FILTER in the kernel?)"
}

# --- the daemon of the plain testbed VM (started as root by its init)
pid=$(pgrep -x daedalus-v4l2d | head -n 1)
if [ -z "$pid" ]; then
	fail "the testbed init started no daemon"
else
	check_confined "$pid" "init's daemon (pid $pid)"
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "init's daemon ignored SIGTERM"
fi

# --- one started here, which probes its own sandbox; its sd_notify notices (READY=1, and
# WATCHDOG=1 every 0.5 s for a 1 s watchdog) must get out of the sandbox too
media_setup
notify_name=daedalus-sandbox-notify-$$
notify_listen "$notify_name" /tmp/notify.log
NOTIFY_SOCKET=@$notify_name WATCHDOG_USEC=1000000 daemon_start --sandbox-probe
check_confined "$daemon_pid" "probing daemon"
for call in "socket(AF_INET)" "socket(AF_UNIX, SOCK_STREAM)" "socket(AF_UNIX, SOCK_DGRAM)" \
	"sendto(an address)" "sendmsg()" "open(/proc/self/status)" "fork()" "setuid(0)"; do
	line=$(grep -F "sandbox probe: $call" "$DAEMON_LOG")
	case "$line" in
	*"failed: Operation not permitted") ok "confined, $call fails: ${line#*probe: }" ;;
	"") fail "no probe of $call in the daemon log" ;;
	*) fail "confined, $call did not fail with EPERM: ${line#*probe: }" ;;
	esac
done
grep "sandbox: " "$DAEMON_LOG" | sed 's/^/     | /'
check_clip --clip vp9-altref-odd
daemon_alive
daemon_stop
wait "$notify_pid"
pings=$(grep -c '^WATCHDOG=1$' /tmp/notify.log)
grep -q '^READY=1' /tmp/notify.log && ok "READY=1 reached \$NOTIFY_SOCKET" ||
	fail "no READY=1 on \$NOTIFY_SOCKET: $(tr '\n' ' ' </tmp/notify.log)"
[ "$pings" -ge 3 ] && ok "$pings WATCHDOG=1 pings while decoding (WATCHDOG_USEC=1000000)" ||
	fail "$pings WATCHDOG=1 pings, want 3 or more"
media_finish daemon-sandbox
