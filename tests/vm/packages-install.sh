#!/bin/bash
# testbed-run: --writable-root --no-module --no-daemon --timeout 1500
# testbed-seconds: 220
# The Debian packages as a user gets them (build/deb, `make debs`): daedalus-v4l2-dkms and
# daedalus-v4l2-daemon install on the writable root; DKMS builds the module for the running
# kernel from its headers (the testbed kernel's build tree); modules-load.d loads it; the udev
# rule names the decoder /dev/video-dec0 + /dev/media-dec0 for the video group (and those two
# nodes pass Chromium's checks: tests/tools/dv-chromium-check) and gives the bridge to root
# and the daemon's group only; the package makes the daemon's system user; the systemd units'
# own command lines (no systemd in the VM): daedalus-v4l2-bridge.service's load the module and
# leave the bridge in the daemon's group at once (no settling of udev after them), then the
# daemon's starts it as the unit's
# User= without any capability, which reports READY=1 on $NOTIFY_SOCKET, is confined
# (seccomp), decodes a clip through GStreamer, and says STOPPING=1 on SIGTERM. Purging both
# packages must leave nothing behind: the
# overlay's upper layers (everything the run changed) are compared before and after.
set -u
export HOME=/tmp/home # nothing of this script's own may land in the overlay
mkdir -p "$HOME"
DAEMON=/usr/sbin/daedalus-v4l2d
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
die() { echo "FAIL $*"; echo "packages-install: FAIL"; exit 1; }
since() { echo $((($(date +%s%N) - $1) / 1000000)); }

[ -n "${DAEDALUS_WRITABLE_ROOT:-}" ] || die "needs scripts/testbed run --writable-root (overlayfs)"
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

# --- install: DKMS builds and installs the module from the package's postinst
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
unit=/usr/lib/systemd/system/daedalus-v4l2d.service
user=$(sed -n 's/^User=//p' "$unit")
if [ -n "$user" ] && pw=$(getent passwd "$user"); then
	ok "the postinst made the unit's user: $pw"
else
	die "the unit's User= '$user' does not exist after the install"
fi
wants=/etc/systemd/system/multi-user.target.wants/daedalus-v4l2d.service
[ "$(readlink -f "$wants")" = "$unit" ] && ok "the service is enabled ($wants)" ||
	fail "the service was not enabled by the postinst ($wants)"

# --- boot: systemd-modules-load reads modules-load.d, udev applies the rule
if /usr/lib/systemd/systemd-modules-load && grep -q '^daedalus_v4l2 ' /proc/modules; then
	ok "systemd-modules-load loaded daedalus_v4l2 (modules-load.d/daedalus-v4l2.conf)"
else
	die "systemd-modules-load did not load daedalus_v4l2"
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

# --- the units' command lines, as systemd would run them (prefixes like + only choose
# privileges): first daedalus-v4l2-bridge.service, which the daemon's unit requires and follows
[ "$(sed -n 's/^Type=//p' "$unit")" = notify ] || fail "the unit is not Type=notify"
unit_cmd() { sed -n "s/^$2=[-+@!:]*//p" "$1"; } # unit-file key
bridge_unit=/usr/lib/systemd/system/daedalus-v4l2-bridge.service
if grep -qx "Requires=daedalus-v4l2-bridge.service" "$unit" &&
	grep -q "^After=.*daedalus-v4l2-bridge.service" "$unit"; then
	ok "the daemon's unit requires and follows daedalus-v4l2-bridge.service"
else
	fail "the daemon's unit does not require and follow daedalus-v4l2-bridge.service"
fi
pre=$(unit_cmd "$unit" ExecStartPre)
[ -z "$pre" ] || fail "the daemon's unit has ExecStartPre= lines again ($pre): its cgroup's DeviceAllow= is set before them"
start=$(unit_cmd "$unit" ExecStart)
while read -r cmd; do
	echo "     bridge ExecStart: $cmd"
	$cmd || die "daedalus-v4l2-bridge.service: $cmd failed"
done < <(unit_cmd "$bridge_unit" ExecStart)
echo "     ExecStart:        $start"
grep -q '^daedalus_v4l2 ' /proc/modules && ok "the bridge unit loaded the module" ||
	die "the bridge unit did not load the module"
# what the bridge unit is for: the node is the daemon's already, with nothing waited for after it
perm=$(stat -c '%a %U %G' /dev/daedalus-v4l2 2>&1)
[ "$perm" = "660 root $user" ] && ok "right after the bridge unit: /dev/daedalus-v4l2 $perm" ||
	fail "right after the bridge unit: /dev/daedalus-v4l2 is '$perm', want 660 root $user"
check_nodes "after the bridge unit"

# $NOTIFY_SOCKET as systemd makes it: an abstract datagram socket, every notice one line
notify_name=daedalus-test-notify-$$
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"\0" + sys.argv[1].encode())
print("listening", flush=True)
while True:
    msg = s.recv(4096).decode()
    print("%.3f %s" % (time.monotonic(), msg.replace("\n", "|")), flush=True)
    if "STOPPING=1" in msg:
        break
' "$notify_name" >/tmp/notify.log 2>&1 &
listener=$!
for _ in $(seq 50); do grep -q listening /tmp/notify.log && break; sleep 0.1; done
read -r -a argv <<<"$start"
t0=$(date +%s%N)
# as the unit's User= and CapabilityBoundingSet= (empty) make it
NOTIFY_SOCKET=@$notify_name setpriv --reuid="$user" --regid="$user" --init-groups \
	--inh-caps=-all --bounding-set=-all -- "${argv[@]}" >"$DAEMON_LOG" 2>&1 &
daemon_pid=$!
for _ in $(seq 300); do grep -q "READY=1" /tmp/notify.log && break; kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
if grep -q "READY=1" /tmp/notify.log; then
	ok "READY=1 on \$NOTIFY_SOCKET $(since "$t0") ms after ExecStart: $(grep READY /tmp/notify.log | cut -d' ' -f2-)"
else
	cat "$DAEMON_LOG"
	die "no READY=1 from the daemon"
fi
grep -q "attached to /dev/daedalus-v4l2" "$DAEMON_LOG" || fail "READY=1 came but the daemon log has no attach line"
st=$(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$daemon_pid/status" | tr -s '\t\n' '  ')
[[ "$st" == *"CapEff: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 "* ]] && [[ "$st" != "Uid: 0 "* ]] &&
	ok "the daemon runs confined: $st" || fail "the daemon is not confined: $st"

devs=$(v4l2-ctl --list-devices 2>&1)
echo "$devs" | sed 's/^/     | /'
ours=$(grep -lx daedalus-v4l2 /sys/class/video4linux/*/name | head -n 1 | cut -d/ -f5)
echo "$devs" | grep -A3 '^daedalus-v4l2' | grep -qx "[[:space:]]*/dev/$ours" &&
	ok "v4l2-ctl --list-devices lists daedalus-v4l2 with /dev/$ours" ||
	fail "v4l2-ctl --list-devices does not list our video node /dev/$ours"

media_setup
check_clip --clip vp8-altref-odd

t0=$(date +%s%N)
kill -TERM "$daemon_pid"
for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon_pid" 2>/dev/null && { kill -KILL "$daemon_pid"; fail "the daemon ignored SIGTERM for 5 s"; }
wait "$daemon_pid"
st=$?
[ "$st" = 0 ] && ok "the daemon stopped on SIGTERM in $(since "$t0") ms, status 0" || fail "the daemon exited with $st"
wait "$listener"
grep -q "STOPPING=1" /tmp/notify.log && ok "STOPPING=1 on \$NOTIFY_SOCKET" || fail "no STOPPING=1 (notices: $(cat /tmp/notify.log))"
rmmod daedalus_v4l2 || fail "rmmod daedalus_v4l2 after the daemon stopped"

# --- purge: nothing of either package, nor of what their scripts made, may remain
dpkg -L daedalus-v4l2-dkms daedalus-v4l2-daemon | LC_ALL=C sort -u >/tmp/package-files
echo "     the packages own $(wc -l </tmp/package-files) paths; DKMS made $ko"
t0=$(date +%s%N)
if dpkg --purge daedalus-v4l2-daemon daedalus-v4l2-dkms >/tmp/dpkg-purge.log 2>&1; then
	ok "dpkg --purge: $(since "$t0") ms"
else
	cat /tmp/dpkg-purge.log
	fail "dpkg --purge failed"
fi
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

media_finish packages-install
