#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Two builds of daedalus-v4l2-engine-bench against each other on the same clips.

For a change inside the engine whose cost is expected to be small (smaller than the
difference between the engine and FFmpeg that `make bench` measures): both drivers decode
the same clip in alternating runs, and the medians of CPU time, wall time and peak RSS are
printed as new/old ratios. Run it in the testbed rootfs (scripts/testbed chroot -- ...),
with nothing else heavy on the machine.

    engine-ab.py NEW_BENCH OLD_BENCH REPS CODEC,CLIP,THREADS...

THREADS 1 decodes one job at a time (--lookahead 1), more keeps 2 jobs in flight
(--inflight 2), as the daemon does with the module's default.
"""
import os
import statistics
import subprocess
import sys
import time


def run(bench, codec, path, threads):
    how = ["--lookahead", "1"] if threads == 1 else ["--inflight", "2"]
    t0 = time.monotonic()
    p = subprocess.Popen([bench, "--codec", codec, "--threads", str(threads), *how,
                          "--buffers", "8", path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{bench} failed on {path}")
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    new, old, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for spec in sys.argv[4:]:
        codec, path, threads = spec.split(",")
        runs = {new: [], old: []}
        for i in range(reps):
            # alternate which goes first, so that neither always meets a warmer cache
            for bench in (new, old) if i % 2 == 0 else (old, new):
                runs[bench].append(run(bench, codec, path, int(threads)))

        def med(bench, field):
            return statistics.median(r[field] for r in runs[bench])

        print(f"{os.path.basename(path)} threads {threads}: "
              f"CPU new/old {med(new, 1) / med(old, 1):.3f} ({med(new, 1):.3f} / {med(old, 1):.3f} s), "
              f"wall new/old {med(new, 0) / med(old, 0):.3f}, "
              f"peak RSS {med(new, 2):.1f} / {med(old, 2):.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
