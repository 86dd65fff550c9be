#!/bin/bash
# daedalus-v4l2-bench (make bench) keeps working: in the testbed rootfs, its engine mode runs on
# two small user files (an H.264 MP4, which it must reduce to Annex-B, and a VP9 WebM) and must
# write one result per file and thread count with sane fields, a chart, and exit 0. A broken
# engine driver, a decode failure, a frame count that differs from FFmpeg's or a missing
# field fails the test; so does --lookahead (jobs in flight) not reaching the engine driver,
# or --before-engine-bench not measuring the other driver, or a result without the mode the
# engine was driven in (sync at one thread, the daemon's inflight2 at all cores by default)
# and the cores each side kept busy.
# (Speeds are not judged here: they are measured by make bench.)
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
work=build/bench-smoke
rm -rf "$work"
mkdir -p "$work"
scripts/testbed chroot -- /bin/bash -c "
	set -e
	cd $work
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=30 -frames 24 \
		-c:v libx264 -preset veryfast -bf 2 -x264-params threads=1 small.mp4
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=30 -frames 24 \
		-c:v libvpx-vp9 -deadline realtime -threads 1 small.webm
	cd $CK
	daemon/bench/daedalus-v4l2-bench --what engine --reps 1 --passes 1 --threads 2 \
		--clip-dir $work/clips --out $work $work/small.mp4 $work/small.webm
	# jobs in flight (the engine driver's --lookahead and a CAPTURE ring to match)
	daemon/bench/daedalus-v4l2-bench --what engine --reps 1 --passes 1 --threads 2 \
		--lookahead 9 --clip-dir $work/clips --out $work/ahead $work/small.webm
	# an older engine driver in the same rounds (here the same one): before/after
	daemon/bench/daedalus-v4l2-bench --what engine --reps 1 --passes 1 --threads 1 \
		--before-engine-bench build/daemon/bench/daedalus-v4l2-engine-bench \
		--clip-dir $work/clips --out $work/before $work/small.webm
" || { echo "FAIL: daedalus-v4l2-bench exited non-zero"; exit 1; }
python3 - "$work/before/results.jsonl" <<'PY' || exit 1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
if len(rows) != 1 or not rows[0].get("before_fps", 0) > 0 or "before_ratio" not in rows[0]:
    print(f"FAIL: --before-engine-bench results: {rows}")
    sys.exit(1)
PY
python3 - "$work/ahead/results.jsonl" <<'PY' || exit 1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
if sorted(r.get("lookahead") for r in rows) != [9, 9] or not all(r["fps"] > 0 for r in rows):
    print(f"FAIL: --lookahead 9 results: {rows}")
    sys.exit(1)
PY
python3 - "$work/results.jsonl" "$work/ratios.png" <<'PY' || exit 1
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = {("h264", 1), ("h264", 2), ("vp9", 1), ("vp9", 2)}
got = {(r["codec"], r["threads"]) for r in rows}
ok = got == want and len(rows) == 4
for r in rows:
    for k in ("codec", "width", "height", "bits", "threads", "streams", "what", "fps",
              "baseline_fps", "ratio", "rss_mib"):
        if k not in r:
            print(f"FAIL: result without {k}: {r}"); ok = False
    if not (r["fps"] > 0 and r["baseline_fps"] > 0 and r["what"] == "engine"
            and (r["width"], r["height"]) == (320, 240) and r["frames"] == 24
            and abs(r["ratio"] - r["fps"] / r["baseline_fps"]) < 0.01):
        print(f"FAIL: implausible result {r}"); ok = False
    mode = "sync" if r["threads"] == 1 else "inflight2"
    if (r.get("mode") != mode or r.get("frame_delay") != (1 if mode == "sync" else 3)
            or not r.get("cores_busy", 0) > 0 or not r.get("baseline_cores_busy", 0) > 0):
        print(f"FAIL: not the daemon's mode ({mode}) or no cores busy: {r}"); ok = False
    # the engine driver's CAPTURE allocation, left out of its time, is measured, not assumed
    if not 0 < r.get("capture_alloc_s", 0) < 24 / r["fps"]:
        print(f"FAIL: no CAPTURE allocation time measured, or more than the run: {r}")
        ok = False
if got != want:
    print(f"FAIL: results for {sorted(got)}, wanted {sorted(want)}")
if not os.path.getsize(sys.argv[2]) > 1000:
    print("FAIL: no chart"); ok = False
print("bench-engine: PASS" if ok else "bench-engine: FAIL")
sys.exit(0 if ok else 1)
PY
