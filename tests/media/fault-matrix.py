#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The fault matrix (issue 14): judges what our device clients (tests/tools/dv-*client with the
fault options of dv_fault.h) printed while a fault happened, against the software decoder's
decode of the undamaged clip (clips.reference: libvpx, libdav1d, FFmpeg's h264, made on the
host by make clips), and prints one row per fault and codec:

  wrong     pictures shown without V4L2_BUF_FLAG_ERROR that differ from the reference: must be 0
  flagged   pictures that came back with ERROR (or show a buffer that did)
  skipped   pictures of units the client never queued (a dropped frame, a seek's gap)
  to exact  pictures from the fault to the first of the bit-exact rest of the stream
  ms        the time from the fault to that picture

Each cell (--cell) is "CODEC FAULT CLIP OUTPUT STATUS [EVENT_MS [EVENT2_MS]]": the client's
output file and exit status; for faults the test causes from outside (the daemon killed or
stopped) the time of the event (CLOCK_REALTIME ms). Besides "wrong == 0" a cell fails when:
- a picture is missing or the client did not exit 0 (it hung: no buffer back within 10 s);
- after the first access point (a shown key frame, an H.264 I picture: the client's "key"
  lines) that follows the fault, a picture is not bit-exact: decoding must resume where a
  conformant decoder resumes. H.264 leading pictures (decoded after that I picture, shown
  before it) may come back flagged: they predict from the lost GOP;
- daemon-kill: no request was pending at the kill, or one did not come back with ERROR
  within half the module's job_timeout_ms of it (the watchdog would fail it later: it was
  queued before the kill); daemon-stop: the pending request did not come back with ERROR after
  the module's job_timeout_ms (--job-timeout-ms); client-kill: the other stream (the cell's
  output) lost or changed a picture.
--known "CODEC FAULT=REASON" marks a cell as a known failure (docs/testing.md): while it fails
it prints "XFAIL", once it passes it FAILs. --intermittent "CODEC FAULT=REASON" marks a cell
seen failing only sometimes: it prints "XFAIL" when it fails, "ok" (naming the mark) when it
passes, so it is counted whenever it shows, and cannot turn the run red by passing. --canary cells must fail (a check that cannot fail
checks nothing): the test passes an output with one picture made wrong on purpose.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402

CODEC_NAMES = {"vp8": "VP8", "vp9": "VP9", "av1": "AV1", "h264": "H.264"}


def parse_output(path):
    """pics {n: [kind, md5, at_ms]}, reqs [(unit, t0, t1, ok)], fault (pic, ms),
    keys [(pic, queued ms)]"""
    pics, reqs, keys, fault, last = {}, [], [], None, None
    with open(path, errors="replace") as fh:
        for line in fh:
            f = line.split()
            if not f:
                continue
            if f[0] == "pic" and len(f) >= 3:
                n = int(f[1])
                kind = f[2] if f[2] in ("FAILED", "SKIPPED") else "ok"
                pics[n] = [kind, f[3] if kind == "ok" and len(f) > 3 else None, None]
                last = n
            elif f[0] == "at" and last is not None:
                pics[last][2] = float(f[1])
            elif f[0] == "req":
                reqs.append((int(f[1]), float(f[2]), float(f[3]), f[4] == "ok"))
            elif f[0] == "fault" and len(f) >= 3:
                fault = (int(f[1]), float(f[2]))
            elif f[0] == "key":
                keys.append((int(f[1]), float(f[2])))
    return pics, reqs, fault, keys


def reference(workdir, codec, name):
    """[(pts seconds, md5)] in the order the client prints pictures: display order, decoding
    order for H.264 (one request per packet, matched through its presentation time)"""
    clip = clips.make_clip("ffmpeg", workdir, name)
    ref = clips.reference("ffmpeg", clip, codec)
    if codec != "h264":
        return [(t, md5) for t, _, md5 in ref]
    by_time = {round(t, 3): md5 for t, _, md5 in ref}
    return [(t, by_time.get(round(t, 3))) for t in clips.packet_times("ffmpeg", clip)]


def judge(cell, workdir, job_timeout_ms):
    """(row dict, problems)"""
    codec, fault, name, path, status, *events = cell.split()
    events = [float(e) for e in events]
    ref = reference(workdir, codec, name)
    pics, reqs, fault_line, keys = parse_output(path)
    problems = []
    row = {"fault": fault, "codec": CODEC_NAMES.get(codec, codec), "pics": len(ref),
           "wrong": 0, "flagged": 0, "skipped": 0, "exact": "-", "ms": "-", "notes": []}
    good = []
    for n, (pts, want) in enumerate(ref):
        got = pics.get(n)
        if got is None:
            problems.append(f"picture {n} missing")
            good.append(False)
            continue
        if got[0] == "FAILED":
            row["flagged"] += 1
        elif got[0] == "SKIPPED":
            row["skipped"] += 1
        elif got[1] != want:
            row["wrong"] += 1
            problems.append(f"picture {n} ({pts:.3f} s) shown without ERROR and wrong: "
                            f"{got[1]} != {want}")
        good.append(got[0] == "ok" and got[1] == want)
    if int(status) != 0:
        problems.append(f"the client exited with status {status}")
    # where the fault is in the output, and when it happened
    at = None
    if fault_line:
        at = fault_line
    elif events:
        later = [n for n in sorted(pics) if pics[n][2] is not None and pics[n][2] > events[0]]
        if later:
            at = (later[0], events[0])
        else:
            problems.append("no picture came after the event: it was not mid-stream")
    if fault == "daemon-kill" and len(events) == 2:
        # queued while the daemon was stopped before the kill: the kernel fails it
        pending = [r for r in reqs if r[1] < events[0] < r[2]]
        if not pending:
            problems.append("no request was pending at the kill: nothing checked of it")
        # the daemon's death fails it, not the watchdog, which fails a request the
        # stopped daemon never fetched job_timeout_ms after its queueing: back within
        # half that after the kill, and before the watchdog could have ended it
        for unit, t0, t1, ok in pending:
            limit = min(job_timeout_ms / 2, t0 + job_timeout_ms - events[0])
            lat = t1 - events[0]
            row["notes"].append(f"request {unit} pending at the kill: back "
                                f"{'ok' if ok else 'ERROR'} {lat:.0f} ms after it")
            if ok or lat > limit:
                problems.append(f"request {unit}, pending at the kill, came back "
                                f"{'ok' if ok else 'ERROR'} {lat:.0f} ms after it "
                                f"(must be ERROR within {limit:.0f} ms)")
    if fault == "daemon-stop" and len(events) == 2:
        # queued before the resume and back after the stop, past the watchdog: the module
        # must have failed it (its picture may never be written)
        stuck = [r for r in reqs if r[1] < events[1] and r[2] > events[0] and
                 r[2] - r[1] >= 0.95 * job_timeout_ms]
        if not stuck:
            problems.append(f"no request waited past the watchdog ({job_timeout_ms} ms): "
                            "nothing checked of it")
        for unit, t0, t1, ok in stuck:
            row["notes"].append(f"request {unit} stuck: back {'ok' if ok else 'ERROR'} "
                                f"{t1 - t0:.0f} ms after it was queued")
            if ok or t1 - t0 > 2 * job_timeout_ms + 1000:
                problems.append(f"request {unit}, stuck in the stopped daemon, came back "
                                f"{'ok' if ok else 'ERROR'} {t1 - t0:.0f} ms after it was "
                                f"queued (must be ERROR, within 2 x {job_timeout_ms} + "
                                "1000 ms)")
    if fault == "sync-end" and at is not None:
        # the picture whose write could not be ended is not known to be right
        if pics.get(at[0], [""])[0] != "FAILED":
            problems.append(f"picture {at[0]}, whose SYNC_END failed, was not flagged ERROR")
    if fault == "client-kill":
        # the other stream must not notice
        if row["flagged"] or row["skipped"] or not all(good):
            problems.append("the other stream lost or changed pictures")
        row["exact"] = "0"
        return row, problems
    if at is None:
        if not problems:
            problems.append("the client reported no fault")
        return row, problems
    start = at[0]
    # the first of the bit-exact rest of the stream
    r = len(good)
    while r > 0 and good[r - 1]:
        r -= 1
    r = max(r, start)
    if r >= len(good):
        problems.append("the stream never became bit-exact again")
    else:
        row["exact"] = str(r - start)
        t = pics[r][2]
        if r > start and t is not None:
            row["ms"] = f"{t - at[1]:.0f}"
    if events:
        # queued once the daemon was back (started again, or resumed)
        later_keys = [k for k, t in keys if t > events[-1]]
    else:
        later_keys = [k for k, _ in keys if k >= start and not (k == start and fault in DAMAGE)]
    if not later_keys:
        problems.append(f"no access point after the fault (picture {start}) to resync at")
    else:
        k = later_keys[0]
        kpts = ref[k][0]
        for n in range(k, len(good)):
            leading = codec == "h264" and n > k and ref[n][0] < kpts
            if not good[n] and not (leading and pics.get(n, [""])[0] == "FAILED"):
                problems.append(f"picture {n}: not bit-exact after the access point at {k}")
                break
        row["notes"].append(f"fault at picture {start}, access point {k}")
    return row, problems


# faults that damage the unit at the fault itself: an access point there is the damaged one
DAMAGE = ("truncate", "garbage", "flip-header", "flip-data")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--cell", action="append", default=[])
    ap.add_argument("--canary", action="append", default=[], help="a cell that must fail")
    ap.add_argument("--known", action="append", default=[], help="'CODEC FAULT=REASON'")
    ap.add_argument("--intermittent", action="append", default=[],
                    help="'CODEC FAULT=REASON': a known failure seen only in some runs")
    ap.add_argument("--job-timeout-ms", type=int, default=2000)
    args = ap.parse_args()
    known = dict(k.split("=", 1) for k in args.known)
    intermittent = dict(k.split("=", 1) for k in args.intermittent)
    rows, failed = [], 0
    for cell in args.cell:
        row, problems = judge(cell, args.workdir, args.job_timeout_ms)
        rows.append(row)
        key = " ".join(cell.split()[:2])
        label = f"{row['codec']} {row['fault']}"
        if key in intermittent and problems:
            print(f"XFAIL {label} (intermittent): {intermittent[key]} ({problems[0]})")
        elif key in known and problems:
            print(f"XFAIL {label}: {known[key]} ({problems[0]})")
        elif key in known:
            print(f"FAIL {label}: passes now, but is marked as a known failure "
                  f"({known[key]}): remove the mark")
            failed += 1
        elif problems:
            failed += 1
            print(f"FAIL {label}: " + "; ".join(problems[:4]))
        else:
            if key in intermittent:
                print(f"     {label} passed this time; marked intermittent: {intermittent[key]}")
            print(f"ok   {label}: {row['wrong']} wrong, {row['flagged']} flagged, "
                  f"{row['skipped']} skipped, bit-exact after {row['exact']}"
                  f"{'; ' + '; '.join(row['notes']) if row['notes'] else ''}")
    for cell in args.canary:
        row, problems = judge(cell, args.workdir, args.job_timeout_ms)
        if row["wrong"] and problems:
            print(f"ok   the check fails a picture made wrong on purpose "
                  f"({row['codec']} {row['fault']}: {problems[0]})")
        else:
            print(f"FAIL the check passed an output with a picture made wrong on purpose "
                  f"({row['codec']} {row['fault']})")
            failed += 1
    print()
    print("| fault | codec | pictures | wrong (shown without ERROR) | flagged ERROR | skipped "
          "| pictures to bit-exact | ms to bit-exact |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['fault']} | {r['codec']} | {r['pics']} | {r['wrong']} | {r['flagged']} | "
              f"{r['skipped']} | {r['exact']} | {r['ms']} |")
    print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
