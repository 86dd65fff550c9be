#!/bin/bash
# testbed-run: --no-daemon --timeout 300
# testbed-batch: yes
# testbed-seconds: 25
# The daemon's command line and attach errors: --version names the codecs it can serve,
# a bad option is a usage error, a missing bridge and a bridge already in use are clear
# one-line errors with status 1, and the first daemon keeps working meanwhile.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
media_setup

expect() { # description, expected status, pattern in output, command...
	local what=$1 want=$2 pat=$3 out st
	shift 3
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" = "$want" ] && grep -qE -e "$pat" <<<"$out"; then
		echo "ok   $what (status $st): $(grep -E -e "$pat" <<<"$out" | head -n 1)"
	else
		echo "FAIL $what: status $st (want $want), output:"
		echo "$out" | head -n 5
		failures=$((failures + 1))
	fi
}

expect "--version" 0 "VP9: .*NV12\(8-bit, ffmpeg\).*P010\(10-bit, ffmpeg\)" "$DAEMON" --version
expect "--version (H.264)" 0 "H.264: .*NV12\(8-bit, ffmpeg\).*P010\(10-bit, ffmpeg\)" "$DAEMON" --version
expect "--help" 0 "--threads N" "$DAEMON" --help
expect "bad --threads" 2 "wants a number" "$DAEMON" --threads many
expect "bad --cpus" 2 "--cpus wants a number from 0 to 1024" "$DAEMON" --cpus 1025
expect "bad --max-inflight" 2 "--max-inflight wants a number from 1 to 8" "$DAEMON" --max-inflight 0
expect "bad --memory-budget" 2 "--memory-budget wants a number from 0 to 1073741824" "$DAEMON" --memory-budget -5
expect "bad --memory-per-user" 2 "--memory-per-user wants a number from 0 to 1073741824" \
	"$DAEMON" --memory-per-user 1e3
expect "--help (memory share)" 0 "--memory-per-user MIB" "$DAEMON" --help
expect "unknown option" 2 "Usage" "$DAEMON" --frobnicate
expect "bridge absent" 1 "is absent: is the daedalus_v4l2 kernel module loaded" \
	"$DAEMON" --foreground --device /dev/daedalus-v4l2-missing
daemon_start
expect "bridge busy" 1 "busy: another daedalus-v4l2d is already attached" \
	"$DAEMON" --foreground
check_clip --clip vp8-altref-odd
daemon_alive
daemon_stop
media_finish daemon-cli
