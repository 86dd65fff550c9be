#!/bin/bash
# testbed-run: --systemd --timeout 1500
# testbed-kernels: normal
# testbed-seconds: 560
# The packaged unit under a real systemd (PID 1 of the VM: `testbed run --systemd`, x86 kernel
# with the namespaces, BPF and cgroup controllers the unit's sandbox uses): the packages install
# (DKMS builds the module), the postinst enables and starts daedalus-v4l2d.service, and then,
# checked from outside the daemon:
# - the first start succeeds: no failed open of the bridge, no restart (the install race:
#   daedalus-v4l2-bridge.service loads the module and has udev apply its rule before the
#   daemon's unit starts, whose DeviceAllow= is resolved when its cgroup is set up);
# - systemd sees it active (Type=notify: READY=1 came), its watchdog pings arrive;
# - it runs as its system user with no capability (effective and bounding sets), no_new_privs
#   and a seccomp filter, in its own network and mount namespaces, under a 1G memory limit;
# - with the test hook --sandbox-probe (a drop-in adds it), what a taken-over decoder would
#   try fails: an inet socket, a stream socket (the system bus's kind), opening /proc files,
#   fork, setuid;
# - it decodes one clip of each codec through GStreamer, every frame equal to the software
#   decode;
# - killed with SIGKILL, systemd starts it again (Restart=on-failure) and decoding comes back;
# - `systemctl stop` stops it cleanly, and the purge stops and removes it.
set -u
export HOME=/tmp/home
mkdir -p "$HOME"
DAEMON_LOG=/tmp/daedalus-v4l2d.journal
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
die() { echo "FAIL $*"; echo "packages-systemd: FAIL"; exit 1; }
UNIT=daedalus-v4l2d.service
prop() { systemctl show -P "$1" "$UNIT"; }
journal() { journalctl -b -u "$UNIT" --no-pager -o cat; }

[ "$(cat /proc/1/comm)" = systemd ] || die "PID 1 is '$(cat /proc/1/comm)', not systemd (needs testbed run --systemd)"
state=$(systemctl is-system-running --wait 2>&1)
ok "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2) is PID 1, system $state"
[ "$state" = running ] || systemctl --failed --no-legend --plain | sed 's/^/     failed unit: /'

arch=$(dpkg --print-architecture)
dkms_deb=$(ls "$CK"/build/deb/daedalus-v4l2-dkms_*_all.deb 2>/dev/null | tail -n 1)
daemon_deb=$(ls "$CK"/build/deb/daedalus-v4l2-daemon_*_"$arch".deb 2>/dev/null | tail -n 1)
[ -n "$dkms_deb" ] && [ -n "$daemon_deb" ] || die "no packages in build/deb (make debs)"

# --- install: under systemd the daemon package's postinst enables and starts the unit
t0=$(date +%s)
if dpkg -i "$dkms_deb" "$daemon_deb" >/tmp/dpkg-install.log 2>&1; then
	ok "dpkg -i (DKMS build included): $(($(date +%s) - t0)) s"
else
	tail -n 30 /tmp/dpkg-install.log
	die "dpkg -i failed"
fi
wait_active() { # what
	local s
	for _ in $(seq 300); do
		s=$(systemctl is-active "$UNIT")
		[ "$s" = active ] && return 0
		[ "$s" = failed ] && break
		sleep 0.1
	done
	systemctl status --no-pager "$UNIT" | sed 's/^/     | /'
	die "$1: $UNIT is $s"
}
wait_active "after the install"
[ "$(systemctl is-enabled "$UNIT")" = enabled ] && ok "$UNIT enabled and active" ||
	fail "$UNIT is active but $(systemctl is-enabled "$UNIT")"
pid=$(prop MainPID)
user=$(prop User)
# The postinst's start must succeed the first time. Before daedalus-v4l2-bridge.service the
# unit loaded the module in ExecStartPre=, after systemd had resolved DeviceAllow= for a node
# that did not exist yet (systemd 257 skips such a node with a debug line only): the daemon's
# open() failed with EPERM (the device filter; a group not applied by udev yet would be EACCES)
# and Restart= brought it up 2 s later, at every install (the run before this check: 1 of 1).
restarts=$(prop NRestarts)
# the daemon's error line for any failed open (absent, busy, EACCES, EPERM, other)
opens=$(journal | grep -E "error: (cannot open )?/dev/daedalus-v4l2")
bprop() { systemctl show -P "$1" daedalus-v4l2-bridge.service; }
bridge="$(bprop LoadState) $(bprop Result) $(bprop ExecMainStatus)"
if [ "$restarts" = 0 ] && [ -z "$opens" ] && [ "$bridge" = "loaded success 0" ] &&
	[ "$(bprop ExecMainStartTimestampMonotonic)" -gt 0 ] 2>/dev/null; then
	ok "the first start attached: no restart, no failed open of the bridge; daedalus-v4l2-bridge.service ran first ($bridge)"
else
	fail "the first start failed: $restarts restart(s), daedalus-v4l2-bridge.service '$bridge'${opens:+, the daemon: $opens}"
fi

confined() { # pid what
	local st f v
	st=$(grep -E '^(Uid|Gid|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$1/status" | tr -s '\t\n' '  ')
	echo "     $2: $st"
	[[ "$st" == "Uid: 0 "* ]] && fail "$2: runs as root"
	[ "$(stat -c %U "/proc/$1")" = "$user" ] && ok "$2: runs as $user" ||
		fail "$2: runs as $(stat -c %U "/proc/$1"), want the unit's User= $user"
	for f in CapEff CapPrm CapBnd CapAmb; do
		v=$(sed -n "s/^$f:\t//p" "/proc/$1/status")
		[ "$v" = 0000000000000000 ] || fail "$2: $f $v, want none"
	done
	[[ "$st" == *"NoNewPrivs: 1 Seccomp: 2 "* ]] && ok "$2: no capabilities, no_new_privs, seccomp filter" ||
		fail "$2: not confined ($st)"
	# PrivateNetwork= and the mount namespace of ProtectSystem= and friends
	for ns in net mnt; do
		[ "$(readlink "/proc/$1/ns/$ns")" != "$(readlink "/proc/1/ns/$ns")" ] &&
			ok "$2: own $ns namespace" || fail "$2: shares PID 1's $ns namespace"
	done
}
confined "$pid" "the daemon"
cg=/sys/fs/cgroup$(cut -d: -f3 "/proc/$pid/cgroup")
[ "$(cat "$cg/memory.max" 2>/dev/null)" = $((1 << 30)) ] && ok "MemoryMax=1G applies: $cg/memory.max" ||
	fail "$cg/memory.max is '$(cat "$cg/memory.max" 2>&1)', want $((1 << 30))"

# Type=notify with WatchdogSec=: systemd records every WATCHDOG=1 it gets
w1=$(prop WatchdogTimestampMonotonic)
sleep 6
w2=$(prop WatchdogTimestampMonotonic)
[ "$w2" -gt "$w1" ] 2>/dev/null && ok "WATCHDOG=1 pings reach systemd (last $((w2 - w1)) us apart)" ||
	fail "no WATCHDOG=1 reached systemd in 6 s ($w1 -> $w2)"

# --- the test hook: the same unit, the daemon asked to try what its sandbox forbids
mkdir -p "/run/systemd/system/$UNIT.d"
printf '[Service]\nExecStart=\nExecStart=/usr/sbin/daedalus-v4l2d --foreground --sandbox-probe\n' \
	>"/run/systemd/system/$UNIT.d/probe.conf"
systemctl daemon-reload
systemctl restart "$UNIT"
wait_active "with --sandbox-probe"
pid=$(prop MainPID)
confined "$pid" "the probing daemon"
for call in "socket(AF_INET)" "socket(AF_UNIX, SOCK_STREAM)" "open(/proc/self/status)" \
	"fork()" "setuid(0)"; do
	line=$(journal | grep -F "sandbox probe: $call" | tail -n 1)
	case "$line" in
	*"failed: Operation not permitted") ok "under systemd, $call fails: ${line#*probe: }" ;;
	"") fail "no probe of $call in the unit's journal" ;;
	*) fail "under systemd, $call did not fail with EPERM: ${line#*probe: }" ;;
	esac
done
rm -r "/run/systemd/system/$UNIT.d"
systemctl daemon-reload
systemctl restart "$UNIT"
wait_active "restarted without the probe"

# --- decoding through the unit's daemon, one clip per codec
# shellcheck disable=SC2034 # media_setup checks the daemon it names
DAEMON=/usr/sbin/daedalus-v4l2d
media_setup
check_clips "--clip vp8-altref-odd" "--clip vp9-altref-odd" "--clip av1-aom-odd" "--clip h264-main-bpyramid"

# --- SIGKILL: systemd restarts it (Restart=on-failure, RestartSec=2s) and decoding comes back
old=$(prop MainPID)
systemctl kill -s KILL "$UNIT"
t0=$(date +%s%N)
for _ in $(seq 300); do
	new=$(prop MainPID)
	[ "$new" != 0 ] && [ "$new" != "$old" ] && [ "$(systemctl is-active "$UNIT")" = active ] && break
	sleep 0.1
done
if [ "$new" != 0 ] && [ "$new" != "$old" ]; then
	ok "killed, started again by systemd in $((($(date +%s%N) - t0) / 1000000)) ms (pid $old -> $new, $(prop NRestarts) restart)"
else
	fail "not started again within 30 s of SIGKILL ($(systemctl is-active "$UNIT"))"
fi
check_clip --clip vp9-altref-odd

# --- stop and purge
systemctl stop "$UNIT"
[ "$(systemctl is-active "$UNIT")" = inactive ] && [ "$(prop Result)" = success ] &&
	ok "systemctl stop: inactive, result success" ||
	fail "systemctl stop: $(systemctl is-active "$UNIT"), result $(prop Result)"
journal >"$DAEMON_LOG"
if dpkg --purge daedalus-v4l2-daemon daedalus-v4l2-dkms >/tmp/dpkg-purge.log 2>&1; then
	ok "dpkg --purge"
else
	tail -n 20 /tmp/dpkg-purge.log
	fail "dpkg --purge failed"
fi
[ "$(systemctl is-active "$UNIT")" != active ] && [ ! -e "/usr/lib/systemd/system/$UNIT" ] &&
	ok "the purge leaves no unit" || fail "after the purge $UNIT is $(systemctl is-active "$UNIT")"
media_finish packages-systemd
