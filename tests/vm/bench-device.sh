#!/bin/bash
# testbed-run: --timeout 600
# testbed-seconds: 45
# daedalus-v4l2-bench's device and streams modes in the VM, on a small VP9 clip: GStreamer
# through the device and GStreamer's software decoder must both output every frame (the bench
# counts them and fails otherwise), 1 and 2 streams at once too, and each result must carry
# the daemon's memory and CPU figures. Speeds are measured by make bench, not judged here.
set -u
CK=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$CK" || exit 1
work=$(mktemp -d)
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=30 -frames 24 \
	-c:v libvpx-vp9 -deadline realtime -threads 1 "$work/small.webm" ||
	{ echo "FAIL: cannot make the clip"; exit 1; }
daemon/bench/daedalus-v4l2-bench --what device,streams --reps 1 --stream-counts 1,2 \
	--clip-dir "$work/clips" --out "$work" "$work/small.webm" ||
	{ echo "FAIL: daedalus-v4l2-bench exited non-zero"; exit 1; }
python3 - "$work/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
kinds = sorted((r["what"], r["streams"]) for r in rows)
ok = kinds == [("device", 1), ("streams", 1), ("streams", 2)]
for r in rows:
    if not (r["fps"] > 0 and r["baseline_fps"] > 0 and "rss_mib" in r and r["codec"] == "vp9"):
        print(f"FAIL: implausible result {r}"); ok = False
dev = [r for r in rows if r["what"] == "device"]
if dev and "daemon_cpu_ms_per_frame" not in dev[0]:
    print("FAIL: no daemon CPU figure"); ok = False
if kinds != [("device", 1), ("streams", 1), ("streams", 2)]:
    print(f"FAIL: results {kinds}")
print("bench-device: PASS" if ok else "bench-device: FAIL")
sys.exit(0 if ok else 1)
PY
