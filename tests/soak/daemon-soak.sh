#!/bin/bash
# The soak (docs/testing.md, "Soak"): many frames through the device, several streams at once,
# with seeks, flushes and resolution changes, checking that nothing accumulates. Five real
# clients loop side by side, each picture compared bit-exactly with FFmpeg's software decode
# and a request that comes back with the ERROR flag failing the stream:
#   gst   GStreamer (v4l2slvp9dec / v4l2slvp8dec, tests/media/check-clip.py) with a flushing
#         seek after 8 frames (STREAMOFF/STREAMON with jobs in flight), or a clip whose size
#         changes (GStreamer renegotiates); the three alternate
#   vp9   dv-vpxclient on a VP9 clip whose size and bit depth change (drain, both queues freed,
#   vp8   formats set again: Chromium's resolution change), and on a VP8 one whose size
#         changes; CAPTURE alternating between MMAP and rotated imported dma-bufs
#   av1   dv-av1client (GStreamer's layout)
#   h264  dv-h264client (GStreamer's pattern), B-pyramid
# until FRAMES pictures matched in all (the clients' output is checked against FFmpeg once,
# then every decode must print exactly it: see expect()). Then:
# - the daemon's RSS and open fd count, sampled every SAMPLE_S seconds and printed over time,
#   are flat: after a warm-up (the first tenth of the samples), the largest RSS of the last
#   quarter is at most that of the first quarter + RSS_MARGIN_KB (4 MiB), and the largest fd
#   count of the last quarter at most that of the first + FD_MARGIN (16: the streams' buffer
#   fds come and go; one fd left behind per decode grows it by hundreds); samples taken
#   while the streams stop are printed, not judged; with every client gone, the daemon holds
#   exactly the fds it held before the first one;
# - the module holds no job and no buffer handle (debugfs "live: jobs 0, handles 0");
# - kmemleak (the debug kernel, booted with kmemleak=on for this test) reports no
#   unreferenced object allocated by the module after a scan; the testbed fails the run on
#   any KASAN, lockdep or other kernel report.
#   tests/soak/daemon-soak.sh [FRAMES]   (default 10000), in the VM with the module loaded and
#   no daemon: `make soak` (SOAK_FRAMES) boots the debug kernel with kmemleak=on for it. Not in
#   make check (tests/run runs tests/vm/ only): see docs/testing.md for its time.
#   SOAK_STREAMS picks streams (default all five), RSS_MARGIN_KB and SAMPLE_S the judging.
set -u
. "$(dirname "$(readlink -f "$0")")/../media/lib.sh"
FRAMES=${1:-${SOAK_FRAMES:-10000}}
RSS_MARGIN_KB=${RSS_MARGIN_KB:-4096}
# the fds of the streams' buffers come and go (up to 32 imported CAPTURE dma-bufs per stream):
# a quarter's largest count varies by a few; a leak grows it by one or more per decode
FD_MARGIN=${FD_MARGIN:-16}
SAMPLE_S=${SAMPLE_S:-$((FRAMES >= 5000 ? 10 : 2))}
# SOAK_SECONDS: stop the streams after that long even if FRAMES were not reached (the run then
# fails for its frame count, and every other check still runs on what it did)
SOAK_SECONDS=${SOAK_SECONDS:-0}
STREAMS=${SOAK_STREAMS:-gst vp9 vp8 av1 h264}
T=$BUILD/tests
for b in dv-vpxclient dv-av1client dv-h264client; do
	[ -x "$T/$b" ] || { echo "FAIL: $T/$b is not built (make tools)"; exit 1; }
done
[ -e /sys/kernel/debug/daedalus-v4l2 ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
STATE=/sys/kernel/debug/daedalus-v4l2/state
[ -r "$STATE" ] || { echo "FAIL: no $STATE: the module's live counters cannot be checked"; exit 1; }
KMEMLEAK=/sys/kernel/debug/kmemleak
SOAK=$(mktemp -d /tmp/soak.XXXXXX)
media_setup
daemon_start
echo "soak: $FRAMES frames, streams at once: $STREAMS; samples every $SAMPLE_S s"

fds() { ls /proc/"$daemon_pid"/fd 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' /proc/"$daemon_pid"/status; }
matched() { cat "$SOAK"/*.count 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

# The streams our clients decode: client, clip, checker, the client's arguments by iteration.
client_of() { case "$1" in vp9 | vp8) echo dv-vpxclient ;; av1) echo dv-av1client ;; h264) echo dv-h264client ;; esac; }
clip_of() {
	case "$1" in
	vp9) echo vp9-reschange ;; vp8) echo vp8-reschange ;; av1) echo av1-aom-350x198 ;;
	h264) echo h264-main-bpyramid ;;
	esac
}
args_of() { # stream iteration
	case "$1" in
	vp9 | vp8) if [ $(($2 % 2)) = 0 ]; then echo --capture mmap; else echo --capture dmabuf-import-rotate; fi ;;
	av1) echo --layout gst --capture mmap ;;
	h264) echo --pattern gst ;;
	esac
}

# Our clients' expected output (a "pic" line per picture with its MD5) is made once and
# checked against FFmpeg's software decode by the checker the other tests use
# (daemon/tests/run_clips.py, tests/media/h264-client-check.py), fed through a stand-in
# client that prints it; every decode of the soak must then print exactly that. So each
# picture is still compared bit-exactly, without a Python checker per decode.
expect() { # stream
	local s=$1 client clip input out
	client=$T/$(client_of "$s") clip=$(clip_of "$s")
	if [ "$s" = h264 ]; then
		input=$(python3 - "$MEDIA" "$CLIPS" "$clip" <<-'EOT'
			import sys
			sys.path.insert(0, sys.argv[1])
			import clips
			print(clips.annexb("ffmpeg", clips.make_clip("ffmpeg", sys.argv[2], sys.argv[3])))
		EOT
		) || return 1
	else
		input=$(python3 - "$CK/daemon/tests" "$WORK/engine-clips" "$clip" <<-'EOT'
			import sys
			sys.path.insert(0, sys.argv[1])
			import run_clips
			print(run_clips.make_clip("ffmpeg", sys.argv[2], sys.argv[3])[0])
		EOT
		) || return 1
	fi
	echo "$input" >"$SOAK/$s.input"
	# shellcheck disable=SC2046
	"$client" $(args_of "$s" 0) "$input" >"$SOAK/$s.expected" 2>>"$SOAK/$s.log" || return 1
	printf '#!/bin/sh\ncat %s\n' "$SOAK/$s.expected" >"$SOAK/$s.standin"
	chmod +x "$SOAK/$s.standin"
	if [ "$s" = h264 ]; then
		out=$(python3 "$MEDIA/h264-client-check.py" --workdir "$CLIPS" --client "$SOAK/$s.standin" \
			--clip "$clip" --pattern gst 2>&1)
	else
		out=$(python3 "$CK/daemon/tests/run_clips.py" --workdir "$WORK/engine-clips" \
			--decode-clip "$SOAK/$s.standin" --clip "$clip" 2>&1)
	fi
	local rc=$?
	echo "$out" >>"$SOAK/$s.log"
	[ $rc = 0 ] || return 1
	echo "ok   $s: $(tail -n 1 <<<"$out") (the expected output of $(client_of "$s"))"
}

# One decode of a stream: prints the pictures it matched on success, fails otherwise (its
# output in the stream's log).
decode() { # stream iteration
	local s=$1 i=$2 out rc n
	case "$s" in
	gst)
		case $((i % 3)) in
		0) set -- --clip vp9-altref-odd --seek 8:1.2 ;;
		1) set -- --clip vp8-altref-odd --seek 8:1.2 ;;
		2) set -- --clip vp9-reschange ;;
		esac
		out=$(python3 "$MEDIA/check-clip.py" --workdir "$CLIPS" --gst-decode "$GST_DECODE" "$@" 2>&1)
		rc=$?
		echo "$out" >>"$SOAK/$s.log"
		n=$(sed -n 's/^PASS .* \([0-9]*\)\/[0-9]* frames match$/\1/p' <<<"$out") ;;
	*)
		# shellcheck disable=SC2046
		"$T/$(client_of "$s")" $(args_of "$s" "$i") "$(cat "$SOAK/$s.input")" >"$SOAK/$s.out" 2>"$SOAK/$s.err"
		rc=$?
		if [ $rc = 0 ] && ! cmp -s "$SOAK/$s.out" "$SOAK/$s.expected"; then
			rc=1
			echo "iteration $i: the output differs from the expected one:" >>"$SOAK/$s.log"
			diff "$SOAK/$s.expected" "$SOAK/$s.out" | head -n 20 >>"$SOAK/$s.log"
		fi
		[ $rc = 0 ] || { echo "iteration $i: exit $rc" >>"$SOAK/$s.log"; cat "$SOAK/$s.err" >>"$SOAK/$s.log"; }
		n=$(grep -c '^pic ' "$SOAK/$s.out") ;;
	esac
	[ "$rc" = 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] || return 1
	echo "$n"
}

# A stream's loop: decodes until FRAMES pictures matched in all streams, or one failed.
worker() { # stream
	local i=0 n
	echo 0 >"$SOAK/$1.count"
	while [ ! -e "$SOAK/stop" ] && [ "$(matched)" -lt "$FRAMES" ]; do
		if ! n=$(decode "$1" "$i"); then
			echo "$1 $i" >>"$SOAK/failed"
			touch "$SOAK/stop"
			return 1
		fi
		echo $(($(cat "$SOAK/$1.count") + n)) >"$SOAK/$1.count"
		i=$((i + 1))
	done
	echo "$i" >"$SOAK/$1.runs"
}

# Warm-up: the expected outputs, and one decode of each stream alone, which also makes the
# clips and references (one missing from `make clips` is encoded here, under TCG), so that the
# soak's streams overlap from the start.
for s in $STREAMS; do
	if [ "$s" != gst ]; then
		expect "$s" || { echo "FAIL warm-up: $s:"; tail -n 20 "$SOAK/$s.log"; exit 1; }
	fi
	decode "$s" 0 >/dev/null || { echo "FAIL warm-up: $s:"; tail -n 20 "$SOAK/$s.log"; exit 1; }
done
idle_fds=$(fds) idle_rss=$(rss)
echo "ok   warm-up: each stream decoded once; the daemon idle at $idle_rss kB RSS, $idle_fds fds"

t0=$(date +%s)
pids=()
for s in $STREAMS; do
	worker "$s" &
	pids+=($!)
done
# Samples: seconds, frames matched so far, RSS (kB), fds; printed as they come, so that a run
# killed at its time limit still shows how far it got and how the daemon grew.
: >"$SOAK/samples"
echo "--- the daemon over time (seconds, frames matched, RSS kB, open fds):"
running() { local p; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do
	kill -0 "$daemon_pid" 2>/dev/null || { touch "$SOAK/stop"; break; }
	if [ "$SOAK_SECONDS" -gt 0 ] && [ $(($(date +%s) - t0)) -ge "$SOAK_SECONDS" ] && [ ! -e "$SOAK/stop" ]; then
		echo "NOTE the soak's time limit ($SOAK_SECONDS s) is up: the streams stop after their current decode"
		touch "$SOAK/stop"
	fi
	# judged only while every stream still runs (once the frames are reached or a stream
	# failed, they stop one by one and the daemon's fds go down with them)
	m=$(matched)
	sample="$(($(date +%s) - t0)) $m $(rss) $(fds)"
	if [ "$m" -lt "$FRAMES" ] && [ ! -e "$SOAK/stop" ]; then
		echo "$sample" >>"$SOAK/samples"
		echo "    sample| $sample"
	else
		echo "    sample| $sample (streams stopping: not judged)"
	fi
	sleep "$SAMPLE_S"
done
for p in "${pids[@]}"; do wait "$p"; done
secs=$(($(date +%s) - t0))
total=$(matched)
runs=$(for s in $STREAMS; do echo "$s $(cat "$SOAK/$s.runs" 2>/dev/null || echo -) runs" \
	"$(cat "$SOAK/$s.count") frames,"; done | tr '\n' ' ')
if [ -e "$SOAK/failed" ]; then
	echo "FAIL a decode failed (stream, iteration): $(tr '\n' ' ' <"$SOAK/failed")"
	while read -r s _; do tail -n 30 "$SOAK/$s.log" | sed "s/^/    $s| /"; done <"$SOAK/failed"
	failures=$((failures + 1))
fi
if [ "$total" -ge "$FRAMES" ]; then
	echo "ok   $total frames matched bit-exact in $secs s ($runs)"
else
	echo "FAIL only $total of $FRAMES frames matched in $secs s ($runs)"
	failures=$((failures + 1))
fi

# flat: the last quarter's maxima against the first quarter's, after a warm-up tenth
judge=$(awk -v m="$RSS_MARGIN_KB" -v fm="$FD_MARGIN" '{ r[NR] = $3; f[NR] = $4 }
	END {
		w = int(NR / 10); n = NR - w; q = int(n / 4)
		if (q < 2) { print "few"; exit }
		for (i = w + 1; i <= w + q; i++) { if (r[i] > r1) r1 = r[i]; if (f[i] > f1) f1 = f[i] }
		for (i = NR - q + 1; i <= NR; i++) { if (r[i] > r4) r4 = r[i]; if (f[i] > f4) f4 = f[i] }
		printf "%d %d %d %d %d %d\n", q, r1, r4, f1, f4, (r4 <= r1 + m && f4 <= f1 + fm) ? 0 : 1
	}' "$SOAK/samples")
if [ "$judge" = few ]; then
	echo "FAIL too few samples ($(wc -l <"$SOAK/samples"), 2 per quarter needed) to judge whether the daemon stayed flat"
	failures=$((failures + 1))
else
	read -r q r1 r4 f1 f4 grew <<<"$judge"
	if [ "$grew" = 0 ]; then
		echo "ok   the daemon stayed flat: largest RSS $r1 kB in the first quarter, $r4 kB in the last" \
			"(margin $RSS_MARGIN_KB kB); largest fd count $f1, then $f4 (margin $FD_MARGIN; $q samples per quarter)"
	else
		echo "FAIL the daemon grew: largest RSS $r1 kB in the first quarter, $r4 kB in the last" \
			"(margin $RSS_MARGIN_KB kB); largest fd count $f1, then $f4 (margin $FD_MARGIN; $q samples per quarter)"
		failures=$((failures + 1))
	fi
fi
end_fds=
for _ in $(seq 50); do
	end_fds=$(fds)
	[ "$end_fds" = "$idle_fds" ] && break
	sleep 0.1
done
end_rss=$(rss)
if [ "$end_fds" = "$idle_fds" ]; then
	echo "ok   every client gone: the daemon holds $end_fds fds, as before the soak ($end_rss kB RSS, $idle_rss before)"
else
	echo "FAIL every client gone: the daemon holds $end_fds fds, $idle_fds before the soak"
	ls -l /proc/"$daemon_pid"/fd | sed 's/^/    fd| /'
	failures=$((failures + 1))
fi
live=$(grep '^live:' "$STATE")
if [ "$live" = "live: jobs 0, handles 0" ]; then
	echo "ok   the module holds no job and no buffer handle ($live)"
else
	echo "FAIL the module still holds work: $live"
	sed 's/^/    state| /' "$STATE"
	failures=$((failures + 1))
fi
daemon_alive
daemon_stop

# kmemleak: objects unreferenced for 5 s are reported by a scan; two scans (as its
# documentation advises) so that objects freed late are not counted.
if [ -w "$KMEMLEAK" ] && echo scan >"$KMEMLEAK" 2>/dev/null; then
	sleep 6
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK" >"$SOAK/kmemleak"
	leaks=$(grep -c "^unreferenced object" "$SOAK/kmemleak")
	# a report is the module's when its backtrace names one of the module's functions
	# ("daedalus_buf_init+0x../0x.. [daedalus_v4l2]"), not merely the daemon as the task
	mod='\\[daedalus_v4l2\\]|daedalus_[a-z0-9_]+\\+0x'
	ours=$(awk -v mod="$mod" '/^unreferenced object/ { if (hit) n++; hit = 0 } $0 ~ mod { hit = 1 }
		END { if (hit) n++; print n + 0 }' "$SOAK/kmemleak")
	if [ "$ours" = 0 ]; then
		echo "ok   kmemleak: no unreferenced object of the module ($leaks of the rest of the kernel)"
	else
		echo "FAIL kmemleak: $ours unreferenced objects allocated by the module:"
		awk -v mod="$mod" '/^unreferenced object/ { if (hit) printf "%s", r; r = ""; hit = 0 }
			{ r = r $0 "\n" } $0 ~ mod { hit = 1 } END { if (hit) printf "%s", r }' "$SOAK/kmemleak" |
			head -n 80 | sed 's/^/    kmemleak| /'
		failures=$((failures + 1))
	fi
	[ "$leaks" = 0 ] || grep -A12 "^unreferenced object" "$SOAK/kmemleak" | head -n 40 | sed 's/^/    other| /'
elif [ -e /proc/lockdep ]; then
	echo "FAIL kmemleak is not active in the debug kernel (boot it with kmemleak=on;" \
		"$(cat "$KMEMLEAK" 2>&1 | head -n 1))"
	failures=$((failures + 1))
else
	echo "NOTE no kmemleak in this kernel: leaks of the module not checked (the debug kernel checks them)"
fi
rm -rf "$SOAK"
media_finish daemon-soak
