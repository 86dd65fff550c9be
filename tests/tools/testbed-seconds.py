#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The `# testbed-seconds:` headers of tests/vm/*.sh from a full run's output.

tests/run orders the vm suite's jobs (longest first) and spreads a kernel's tests over its
batches by these headers; on a fresh CI machine they are all it has. They are seconds in the
guest as a full `make check` measures them (two VMs at once on two cores, the debug kernel's
separately), without the boot: a batched test's own time as its PASS/FAIL line gives it, a
test with a boot of its own its time less the boot's, which is taken from the run's batches
(a BATCH line's wall time less its tests' times, the median per kernel). A test killed with
the run (exit 143, 137) is left as it is, and so is one that failed in less than its header.

  tests/tools/testbed-seconds.py LOG            what would change (the run's logs must still be
                                                in build/test-logs/, for the batches' lists)
  tests/tools/testbed-seconds.py --write LOG    rewrite the headers
  --run-checkout DIR: the run was made in another checkout (its build/test-logs/ is read)
"""
import glob
import os
import re
import statistics
import sys

CK = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULT = re.compile(r"(PASS|FAIL|KNOWN) +vm/(\S+) \[(\w+)\] +(\d+)s(.*)")
BATCH = re.compile(r"BATCH vm \[(\w+)\] +(\d+)s .*; (build/test-logs/batch\.\w+)/vm\.log\)")
HEADER = re.compile(r"^# testbed-seconds: *(.*)$", re.M)


def parse(log):
    times, singles, failed, batches = {}, set(), set(), []
    with open(log, errors="replace") as f:
        for line in f:
            m = RESULT.match(line)
            if m:
                status, name, kernel, secs, rest = m.groups()
                if re.search(r"\(exit (143|137)\b", rest):
                    continue  # killed with the run: no time of its own
                times[(name, kernel)] = int(secs)
                if "in a batch" not in rest:
                    singles.add((name, kernel))
                if status == "FAIL":
                    failed.add((name, kernel))
                continue
            m = BATCH.match(line)
            if m:
                batches.append((m.group(1), int(m.group(2)), m.group(3)))
    return times, singles, failed, batches


def boot_seconds(times, batches, run_ck):
    """Per kernel, the median of a batch's wall time less its tests' own times."""
    per = {}
    for kernel, wall, d in batches:
        try:
            with open(os.path.join(run_ck, d, "list")) as f:
                names = [line.split("|")[1] for line in f if line.strip()]
        except OSError:
            continue
        own = 0
        for n in names:
            m = re.match(r"vm/(\S+) \[(\w+)\]", n)
            own += times.get((m.group(1), m.group(2)), 0) if m else 0
        per.setdefault(kernel, []).append(max(wall - own, 0))
    return {k: int(statistics.median(v)) for k, v in per.items()}


def rounded(s):
    return max(5, int(round(s / 5.0)) * 5)


def main(argv):
    write = "--write" in argv
    args = [a for a in argv if a != "--write"]
    run_ck = CK
    if len(args) == 3 and args[0] == "--run-checkout":
        run_ck, args = args[1], args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    times, singles, failed, batches = parse(args[0])
    boots = boot_seconds(times, batches, run_ck)
    print("boot (a batch's wall less its tests), median per kernel: %s" %
          (", ".join("%s %d s" % kv for kv in sorted(boots.items())) or "no batches found"))
    for path in sorted(glob.glob(os.path.join(CK, "tests/vm/*.sh"))):
        name = os.path.basename(path)
        with open(path) as f:
            text = f.read()
        m = HEADER.search(text)
        old = m.group(1).strip() if m else ""
        normal = re.match(r"(\d+)", old)
        debug = re.search(r"debug=(\d+)", old)
        normal = normal.group(1) if normal else None
        debug = debug.group(1) if debug else None
        seen = False
        for kernel in ("normal", "debug"):
            if (name, kernel) not in times:
                continue
            s = times[(name, kernel)]
            if (name, kernel) in singles:
                s -= boots.get(kernel, 0)
            old_k = normal if kernel == "normal" else debug
            if (name, kernel) in failed and old_k and int(old_k) > s:
                continue  # a failure may end early: only a longer one says more
            if kernel == "normal":
                normal = str(rounded(s))
            else:
                debug = str(rounded(s))
            seen = True
        if not seen:
            continue
        new = (normal or "60") + (" debug=%s" % debug if debug else "")
        if new == old:
            continue
        print("%-34s %-16s -> %s" % (name, old or "(none)", new))
        if write:
            line = "# testbed-seconds: " + new
            if m:
                text = text[:m.start()] + line + text[m.end():]
            else:  # after the other testbed- headers
                heads = list(re.finditer(r"^# testbed-[a-z]+:.*$", text, re.M))
                at = heads[-1].end() if heads else text.index("\n")
                text = text[:at] + "\n" + line + text[at:]
            with open(path, "w") as f:
                f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
