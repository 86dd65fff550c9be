#!/bin/bash
# testbed-run: --systemd --timeout 1800
# testbed-kernels: normal
# testbed-seconds: 310
# The Debian packages as a user gets them (build/deb, `make debs`), on a VM booted with a real
# systemd as PID 1 (`testbed run --systemd`: x86 kernel with the namespaces, BPF and cgroup
# controllers the unit's sandbox uses, and a writable overlay root). One boot and one DKMS
# build for all of it (it was packages-install.sh and packages-systemd.sh, two boots of
# 600-750 s under TCG, each building the module in the guest):
# - install: daedalus-v4l2-dkms and daedalus-v4l2-daemon install; DKMS builds the module for
#   the running kernel from its headers (the testbed kernel's build tree); the package makes
#   the daemon's system user, enables the unit, and the postinst starts it;
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
#   decode; killed with SIGKILL, systemd starts it again (Restart=on-failure) and decoding
#   comes back; `systemctl stop` stops it cleanly;
# - boot: systemd-modules-load.service loads the module from modules-load.d, and udev names
#   the decoder /dev/video-dec0 + /dev/media-dec0 for the video group (and those two nodes pass
#   Chromium's checks: tests/tools/dv-chromium-check) and gives the bridge to root and the
#   daemon's group only; daedalus-v4l2-bridge.service alone does the same, with nothing
#   waited for after it;
# - the unit's ExecStart run by hand as its User= without any capability, with a
#   $NOTIFY_SOCKET of the test's own: it reports READY=1, is confined (seccomp), decodes a
#   clip through GStreamer, and says STOPPING=1 on SIGTERM;
# - the purge stops the started unit and removes it, and leaves nothing behind: the overlay's
#   upper layers (everything the run changed) are compared before the install and after it.
set -u
export HOME=/tmp/home # nothing of this script's own may land in the overlay
mkdir -p "$HOME"
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
die() { echo "FAIL $*"; echo "packages: FAIL"; exit 1; }
since() { echo $((($(date +%s%N) - $1) / 1000000)); }
UNIT=daedalus-v4l2d.service
prop() { systemctl show -P "$1" "$UNIT"; }
journal() { journalctl -b -u "$UNIT" --no-pager -o cat; }

[ "$(cat /proc/1/comm)" = systemd ] || die "PID 1 is '$(cat /proc/1/comm)', not systemd (needs testbed run --systemd)"
state=$(systemctl is-system-running --wait 2>&1)
ok "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2) is PID 1, system $state"
[ "$state" = running ] || systemctl --failed --no-legend --plain | sed 's/^/     failed unit: /'
[ -n "${DAEDALUS_WRITABLE_ROOT:-}" ] || die "needs a writable root (overlayfs; testbed run --systemd makes one)"
RW=$DAEDALUS_WRITABLE_ROOT
arch=$(dpkg --print-architecture)
dkms_deb=$(ls "$CK"/build/deb/daedalus-v4l2-dkms_*_all.deb 2>/dev/null | tail -n 1)
daemon_deb=$(ls "$CK"/build/deb/daedalus-v4l2-daemon_*_"$arch".deb 2>/dev/null | tail -n 1)
[ -n "$dkms_deb" ] && [ -n "$daemon_deb" ] || die "no packages in build/deb (make debs)"
kver=$(uname -r)
[ -e "/lib/modules/$kver/build/Makefile" ] || die "no kernel headers at /lib/modules/$kver/build"

# Everything the run has changed on the root and in /lib/modules: the upper layers' files,
# links and whiteouts (a directory there only says that something below it changed).
changes() { (cd "$RW" && find upper modules-upper ! -type d | LC_ALL=C sort); }
changes >/tmp/changes-before

# --- install: DKMS builds and installs the module from the package's postinst; under systemd
# the daemon package's postinst enables and starts the unit
t0=$(date +%s%N)
if dpkg -i "$dkms_deb" "$daemon_deb" >/tmp/dpkg-install.log 2>&1; then
	ok "dpkg -i $(basename "$dkms_deb") $(basename "$daemon_deb"): $(since "$t0") ms (DKMS build included)"
else
	tail -n 30 /tmp/dpkg-install.log
	for l in /var/lib/dkms/daedalus-v4l2/*/build/make.log; do [ -e "$l" ] && tail -n 20 "$l"; done
	die "dpkg -i failed"
fi
ko=$(modinfo -n daedalus_v4l2 2>/dev/null)
case "$ko" in
"/lib/modules/$kver/updates/dkms/daedalus_v4l2.ko"*) ok "DKMS installed $ko" ;;
*) fail "modinfo finds no DKMS-built daedalus_v4l2 for $kver (got '$ko'):"; cat /tmp/dpkg-install.log ;;
esac
vermagic=$(modinfo -F vermagic daedalus_v4l2 2>/dev/null | cut -d' ' -f1)
[ "$vermagic" = "$kver" ] && ok "vermagic $vermagic" || fail "vermagic '$vermagic', running $kver"
dkms status daedalus-v4l2 | grep -q "$kver.*installed" && ok "dkms status: $(dkms status daedalus-v4l2)" ||
	fail "dkms status: $(dkms status daedalus-v4l2)"
# the benchmark finds its modules where the package puts them (/usr/share/daedalus-v4l2/bench)
if /usr/bin/daedalus-v4l2-bench --list | grep -q "^av1-1080p "; then
	ok "daedalus-v4l2-bench runs from the package ($(/usr/bin/daedalus-v4l2-bench --list | wc -l) standard clips)"
else
	fail "the installed daedalus-v4l2-bench does not run"
fi
unit=/usr/lib/systemd/system/$UNIT
user=$(sed -n 's/^User=//p' "$unit")
if [ -n "$user" ] && pw=$(getent passwd "$user"); then
	ok "the postinst made the unit's user: $pw"
else
	die "the unit's User= '$user' does not exist after the install"
fi
[ "$(prop User)" = "$user" ] || fail "systemd's User= of $UNIT is '$(prop User)', the unit file's '$user'"
wants=/etc/systemd/system/multi-user.target.wants/$UNIT
[ "$(readlink -f "$wants")" = "$unit" ] && ok "the service is enabled ($wants)" ||
	fail "the service was not enabled by the postinst ($wants)"

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
# the decoders' memory budget (mem_budget.h) read from that limit inside the unit's sandbox
journal | grep -q "memory budget of the streams' decoders: 768 MiB$" &&
	ok "the daemon's memory budget is three quarters of MemoryMax: 768 MiB" ||
	fail "the daemon's memory budget: '$(journal | grep -o "memory budget of the streams' decoders: .*")', want 768 MiB"
journal | grep -q "one user's streams may take 512 MiB of it$" &&
	ok "one user's share of it is two thirds: 512 MiB" ||
	fail "one user's share: '$(journal | grep -o "one user's streams may take .*")', want 512 MiB"

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
for call in "socket(AF_INET)" "socket(AF_UNIX, SOCK_STREAM)" "socket(AF_UNIX, SOCK_DGRAM)" \
	"sendto(an address)" "sendmsg()" "open(/proc/self/status)" "fork()" "setuid(0)"; do
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
	ok "killed, started again by systemd in $(since "$t0") ms (pid $old -> $new, $(prop NRestarts) restart)"
else
	fail "not started again within 30 s of SIGKILL ($(systemctl is-active "$UNIT"))"
fi
check_clip --clip vp9-altref-odd

systemctl stop "$UNIT"
[ "$(systemctl is-active "$UNIT")" = inactive ] && [ "$(prop Result)" = success ] &&
	ok "systemctl stop: inactive, result success" ||
	fail "systemctl stop: $(systemctl is-active "$UNIT"), result $(prop Result)"
rmmod daedalus_v4l2 || die "rmmod daedalus_v4l2 after systemctl stop failed"

# --- boot: systemd-modules-load reads modules-load.d, udev applies the rule
if systemctl restart systemd-modules-load.service && grep -q '^daedalus_v4l2 ' /proc/modules; then
	ok "systemd-modules-load.service loaded daedalus_v4l2 (modules-load.d/daedalus-v4l2.conf)"
else
	die "systemd-modules-load.service did not load daedalus_v4l2"
fi
check_nodes() { # when
	udevadm settle --timeout=20
	local perm video media vnode mnode
	perm=$(stat -c '%a %U %G' /dev/daedalus-v4l2 2>&1)
	[ "$perm" = "660 root $user" ] && ok "$1: /dev/daedalus-v4l2 $perm" ||
		fail "$1: /dev/daedalus-v4l2 is '$perm', want 660 root $user"
	video=$(readlink -f /dev/video-dec0) vnode=${video#/dev/}
	if [ -L /dev/video-dec0 ] && [ "$(cat "/sys/class/video4linux/$vnode/name" 2>/dev/null)" = daedalus-v4l2 ]; then
		ok "$1: /dev/video-dec0 -> $video ($(stat -c '%a %U %G' "$video"))"
	else
		fail "$1: /dev/video-dec0 is not our video node ($video)"
	fi
	[ "$(stat -c '%a %G' "$video")" = "660 video" ] || fail "$1: $video is $(stat -c '%a %G' "$video"), want 660 video"
	media=$(readlink -f /dev/media-dec0) mnode=${media#/dev/}
	if [ -L /dev/media-dec0 ] && [ "$(cat "/sys/bus/media/devices/$mnode/model" 2>/dev/null)" = daedalus-v4l2 ]; then
		ok "$1: /dev/media-dec0 -> $media ($(stat -c '%a %U %G' "$media"))"
	else
		fail "$1: /dev/media-dec0 is not our media node ($media)"
	fi
	[ "$(stat -c '%a %G' "$media")" = "660 video" ] || fail "$1: $media is $(stat -c '%a %G' "$media"), want 660 video"
	# what Chromium does with exactly these two names: pairs them by bus_info and driver,
	# needs MPLANE, requests, DMABUF import, the profiles and frame sizes
	local out
	if out=$("$CK/build/tests/dv-chromium-check" /dev/video-dec0 /dev/media-dec0); then
		echo "$out" | sed 's/^/     /'
		ok "$1: Chromium's checks pass on /dev/video-dec0 + /dev/media-dec0"
	else
		echo "$out" | sed 's/^/     /'
		fail "$1: Chromium's checks on /dev/video-dec0 + /dev/media-dec0 (dv-chromium-check above)"
	fi
}
check_nodes "after modules-load"
rmmod daedalus_v4l2 || die "rmmod daedalus_v4l2 failed"

# --- daedalus-v4l2-bridge.service, which the daemon's unit requires and follows, alone
[ "$(sed -n 's/^Type=//p' "$unit")" = notify ] || fail "the unit is not Type=notify"
unit_cmd() { sed -n "s/^$2=[-+@!:]*//p" "$1"; } # unit-file key
if grep -qx "Requires=daedalus-v4l2-bridge.service" "$unit" &&
	grep -q "^After=.*daedalus-v4l2-bridge.service" "$unit"; then
	ok "the daemon's unit requires and follows daedalus-v4l2-bridge.service"
else
	fail "the daemon's unit does not require and follow daedalus-v4l2-bridge.service"
fi
pre=$(unit_cmd "$unit" ExecStartPre)
[ -z "$pre" ] || fail "the daemon's unit has ExecStartPre= lines again ($pre): its cgroup's DeviceAllow= is set before them"
systemctl start daedalus-v4l2-bridge.service || die "systemctl start daedalus-v4l2-bridge.service failed"
grep -q '^daedalus_v4l2 ' /proc/modules && ok "the bridge unit loaded the module" ||
	die "the bridge unit did not load the module"
# what the bridge unit is for: the node is the daemon's already, with nothing waited for after it
perm=$(stat -c '%a %U %G' /dev/daedalus-v4l2 2>&1)
[ "$perm" = "660 root $user" ] && ok "right after the bridge unit: /dev/daedalus-v4l2 $perm" ||
	fail "right after the bridge unit: /dev/daedalus-v4l2 is '$perm', want 660 root $user"
check_nodes "after the bridge unit"

# --- the unit's ExecStart by hand, as the unit's User= and CapabilityBoundingSet= (empty)
# make it, with $NOTIFY_SOCKET as systemd makes it: an abstract datagram socket, every notice
# one line. (systemd keeps the notices to itself: this shows STOPPING=1.)
start=$(unit_cmd "$unit" ExecStart)
echo "     ExecStart:        $start"
notify_name=daedalus-test-notify-$$
notify_listen "$notify_name" /tmp/notify.log
read -r -a argv <<<"$start"
hand_log=/tmp/daedalus-v4l2d.by-hand.log
t0=$(date +%s%N)
NOTIFY_SOCKET=@$notify_name setpriv --reuid="$user" --regid="$user" --init-groups \
	--inh-caps=-all --bounding-set=-all -- "${argv[@]}" >"$hand_log" 2>&1 &
daemon_pid=$!
for _ in $(seq 300); do grep -q "READY=1" /tmp/notify.log && break; kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
if grep -q "READY=1" /tmp/notify.log; then
	ok "READY=1 on \$NOTIFY_SOCKET $(since "$t0") ms after ExecStart: $(grep READY /tmp/notify.log)"
else
	cat "$hand_log"
	die "no READY=1 from the daemon"
fi
grep -q "attached to /dev/daedalus-v4l2" "$hand_log" || fail "READY=1 came but the daemon log has no attach line"
st=$(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$daemon_pid/status" | tr -s '\t\n' '  ')
[[ "$st" == *"CapEff: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 "* ]] && [[ "$st" != "Uid: 0 "* ]] &&
	ok "the daemon started by hand runs confined: $st" || fail "the daemon started by hand is not confined: $st"

devs=$(v4l2-ctl --list-devices 2>&1)
echo "$devs" | sed 's/^/     | /'
ours=$(grep -lx daedalus-v4l2 /sys/class/video4linux/*/name | head -n 1 | cut -d/ -f5)
echo "$devs" | grep -A3 '^daedalus-v4l2' | grep -qx "[[:space:]]*/dev/$ours" &&
	ok "v4l2-ctl --list-devices lists daedalus-v4l2 with /dev/$ours" ||
	fail "v4l2-ctl --list-devices does not list our video node /dev/$ours"

check_clip --clip vp8-altref-odd

t0=$(date +%s%N)
kill -TERM "$daemon_pid"
for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon_pid" 2>/dev/null && { kill -KILL "$daemon_pid"; fail "the daemon ignored SIGTERM for 5 s"; }
wait "$daemon_pid"
st=$?
[ "$st" = 0 ] && ok "the daemon stopped on SIGTERM in $(since "$t0") ms, status 0" || fail "the daemon exited with $st"
# shellcheck disable=SC2154 # notify_listen (tests/media/lib.sh) sets it
wait "$notify_pid"
grep -q "STOPPING=1" /tmp/notify.log && ok "STOPPING=1 on \$NOTIFY_SOCKET" || fail "no STOPPING=1 (notices: $(cat /tmp/notify.log))"

# --- purge: the unit runs again (its bridge unit loads the module once more), so that the
# purge has a running service to stop; then nothing of either package, nor of what their
# scripts made, may remain
systemctl start "$UNIT"
wait_active "started again before the purge"
# what media_finish checks: the unit's journal and the log of the daemon started by hand
journal >"$DAEMON_LOG"
cat "$hand_log" >>"$DAEMON_LOG"
dpkg -L daedalus-v4l2-dkms daedalus-v4l2-daemon | LC_ALL=C sort -u >/tmp/package-files
echo "     the packages own $(wc -l </tmp/package-files) paths; DKMS made $ko"
t0=$(date +%s%N)
if dpkg --purge daedalus-v4l2-daemon daedalus-v4l2-dkms >/tmp/dpkg-purge.log 2>&1; then
	ok "dpkg --purge: $(since "$t0") ms"
else
	tail -n 20 /tmp/dpkg-purge.log
	fail "dpkg --purge failed"
fi
[ "$(systemctl is-active "$UNIT")" != active ] && [ ! -e "$unit" ] &&
	ok "the purge stopped the unit and left none" || fail "after the purge $UNIT is $(systemctl is-active "$UNIT")"
rmmod daedalus_v4l2 || fail "rmmod daedalus_v4l2 after the purge"
left=0
while read -r f; do
	# shared directories (/usr/lib, ...) stay; our own ones must go
	if { [ -e "$f" ] || [ -L "$f" ]; } && { [ ! -d "$f" ] || [[ "$f" == *daedalus* ]]; }; then
		echo "     left behind: $f"
		left=$((left + 1))
	fi
done < <(cat /tmp/package-files; echo "$ko"; echo /var/lib/dkms/daedalus-v4l2)
[ $left = 0 ] && ok "no packaged or DKMS-made path is left" || fail "$left paths left behind"
modinfo daedalus_v4l2 >/dev/null 2>&1 && fail "modinfo still finds daedalus_v4l2"
grep -l daedalus "/lib/modules/$kver"/modules.* 2>/dev/null && fail "depmod's indexes still name daedalus_v4l2"

# What changed between before the install and after the purge must be the package manager's own
# records and logs, the kernel's module indexes (rewritten by depmod, checked just above) and
# the account databases.
changes >/tmp/changes-after
LC_ALL=C comm -13 /tmp/changes-before /tmp/changes-after >/tmp/changes-new
# The daemon's system user stays, as Debian leaves every system user a package made (its
# files may outlive the package): the account databases change.
unexpected=$(grep -vE "^upper/var/lib/dpkg/(status|status-old|lock|lock-frontend|triggers/(Lock|Unincorp))$|^upper/var/log/dpkg\.log$|^modules-upper/$kver/modules\.[a-z.]+$|^upper/etc/(passwd|group|shadow|gshadow)-?$|^upper/etc/\.pwd\.lock$" /tmp/changes-new)
echo "     changed by install + purge: $(tr '\n' ' ' </tmp/changes-new)"
[ -z "$unexpected" ] && ok "the purge left nothing behind beyond dpkg's records and depmod's indexes" ||
	fail "left behind after the purge: $(echo "$unexpected" | tr '\n' ' ')"

media_finish packages
