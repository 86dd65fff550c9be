# shellcheck shell=bash
# Sourced by test libraries (tests/tools/proto-lib.sh, tests/media/lib.sh): waiting, and
# reading logs and the tools' summary lines, without starting a process. Under the debug
# kernel (KASAN, lockdep) and TCG each process a test starts costs 0.3-0.9 s of CPU for its
# fork, exec and exit, taken from what the test waits for: a polling loop of `grep` and
# `sleep 0.1` spent more than it waited. tests/unit/forkless.sh checks these against the
# commands they replace.

# nap SECONDS: sleep, as bash's read timing out on a FIFO that no one writes to. The FIFO is
# opened for each nap (no process the test starts inherits it) and left in the guest's /tmp, a
# tmpfs gone with the VM, for the next test of the boot.
nap() {
	local fifo=/tmp/.daedalus-nap-$UID
	if [ ! -p "$fifo" ] && ! mkfifo -m 0600 "$fifo" 2>/dev/null && [ ! -p "$fifo" ]; then
		sleep "$1"
		return 0
	fi
	# a timeout is read's status above 128; anything else (the FIFO would not open) must not
	# turn a caller's bounded poll into a busy loop. (|| keeps a caller's set -e from ending
	# it at the timeout: scripts/bench-daemon-args-guest died there.)
	local rc=0
	read -r -t "$1" _ 2>/dev/null <>"$fifo" || rc=$?
	[ "$rc" -gt 128 ] || sleep "$1"
}

# The readers take the whole file with mapfile (a builtin; a last line without a newline
# included). A loop on `read || [ -n "$line" ]` hung: a read that fails (a /proc file whose
# process went away gives ESRCH) leaves its variable as it was, so the loop saw the line
# before again, forever (kernel-ioctl-fuzz on a SIGKILLed peer's /proc status). mapfile stops
# at a failed read.

# log_has FILE ERE: whether a line of FILE matches the extended regular expression ERE.
log_has() {
	local lines line
	mapfile -t lines 2>/dev/null <"$1" || return 1 # (a /proc file may be gone by now)
	for line in "${lines[@]}"; do
		[[ $line =~ $2 ]] && return 0
	done
	return 1
}

# count_lines FILE PREFIX: how many lines of FILE start with PREFIX, in COUNT (0 if FILE cannot
# be read).
count_lines() {
	local lines line
	COUNT=0
	mapfile -t lines 2>/dev/null <"$1" || return 0
	for line in "${lines[@]}"; do
		[[ $line != "$2"* ]] || COUNT=$((COUNT + 1))
	done
}

# field NAME TEXT: the value of the last NAME=VALUE in TEXT (NAME at a word boundary, VALUE up
# to the next space, line end or '=', as the `grep | tail | cut -d=` it replaces took it);
# nothing when TEXT has none. A test reads dozens of fields: proto-roundtrip under the debug
# kernel spent 40 of its 56 s in those three processes per field.
field() {
	local rest=$2 value="" found=0 re="(^|[^[:alnum:]_])$1=([^ "$'\n'"]*)(.*)"
	while [[ $rest =~ $re ]]; do
		value=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]} found=1
	done
	[ $found = 0 ] || printf '%s\n' "${value%%=*}"
}

# print_log FILE PREFIX TOOL [SKIP]: FILE's lines printed after PREFIX, but those matching the
# extended regex SKIP; the last "TOOL: PASS ..." or "TOOL: FAIL ..." line in LOG_SUMMARY.
print_log() {
	local prefix=$2 tool=$3 skip=${4:-} lines line
	LOG_SUMMARY=""
	mapfile -t lines <"$1"
	for line in "${lines[@]}"; do
		case $line in "$tool: PASS "* | "$tool: FAIL "*) LOG_SUMMARY=$line ;; esac
		[ -n "$skip" ] && [[ $line =~ $skip ]] && continue
		printf '%s%s\n' "$prefix" "$line"
	done
}
