#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Decodes one H.264 clip with one of our clients, through the device (tests/tools/dv-h264client,
in GStreamer's or Chromium's submission pattern) or through the engine alone
(daemon/tests/decode_h264), and compares the picture of every request, in decoding order, with
FFmpeg's software decode of the same packet (matched through the packet's presentation time).
Prints one line; exit 1 on any mismatch or failed request. With --fault the client damages a
request on purpose (it prints "fault <n>", and "resync <m>" at the next access point: an IDR, or
an I picture) and decides itself which failures are allowed (its exit status): failed requests are
then expected, but a picture that differs from FFmpeg's is never allowed. With --garbage the damage is one no decoder can
always detect: between the fault and the resync pictures may also differ.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", required=True, choices=sorted(c for c in clips.CLIPS
                                                            if c.startswith("h264")))
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--pattern", default="gst", choices=["gst", "chromium", "ffmpeg"])
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--fault", action="store_true", help="the client damages a request")
    ap.add_argument("--garbage", action="store_true",
                    help="the damage may go undetected: pictures until the resync may differ")
    ap.add_argument("client_args", nargs="*", help="more dv-h264client arguments")
    args = ap.parse_args()

    clip = clips.make_clip(args.ffmpeg, args.workdir, args.clip)
    stream = clips.annexb(args.ffmpeg, clip)
    order = clips.packet_times(args.ffmpeg, clip)
    ref = {round(t, 3): md5 for t, _, md5 in clips.reference(args.ffmpeg, clip, "h264")}
    proc = subprocess.run([args.client, "--pattern", args.pattern] + args.client_args + [stream],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problems, matched, pics, failed, garbled = [], 0, 0, 0, 0
    window = [None, None]
    seek = None  # (first request skipped, request the seek lands on)
    args.fault |= args.garbage
    for line in proc.stdout.decode().splitlines():
        f = line.split()
        if f[:1] in (["fault"], ["resync"]):
            window[f[0] == "resync"] = int(f[1])
        if f[:1] == ["seek"]:
            seek = (int(f[1]), int(f[2]))
        if f[:1] != ["pic"]:
            continue
        n = int(f[1])
        in_window = window[0] is not None and n >= window[0] and (window[1] is None or
                                                                   n < window[1])
        pics += 1
        if n >= len(order):
            problems.append(f"request {n}: the clip has only {len(order)} packets")
            continue
        want = ref.get(round(order[n], 3))
        # after a seek, pictures shown before the one it landed on may lack references
        leading = seek and n > seek[1] and order[n] < order[seek[1]]
        if f[2] == "FAILED":
            failed += 1
            if not args.fault and not leading:
                problems.append(f"request {n} failed")
        elif want is None:
            problems.append(f"request {n} ({order[n]:.3f} s): FFmpeg shows no such frame")
        elif f[3] != want and args.garbage and in_window:
            garbled += 1
        elif f[3] != want:
            problems.append(f"request {n} ({order[n]:.3f} s): MD5 {f[3]} != {want}")
        else:
            matched += 1
    if args.fault and not args.garbage and not failed:
        problems.append("the damaged request did not fail")
    if args.fault and window[0] is None:
        problems.append("the client damaged nothing")
    # one picture per packet that starts a frame FFmpeg shows (a field picture's second
    # field is a packet of its own, whose time no frame has)
    expected = sum(1 for i, t in enumerate(order)
                   if round(t, 3) in ref and not (seek and seek[0] <= i < seek[1]))
    if pics != expected:
        problems.append(f"{pics} requests for {expected} packets")
    if proc.returncode:
        problems.append(f"dv-h264client exited with {proc.returncode}: "
                        f"{proc.stderr.decode(errors='replace').strip()[-300:]}")
    for p in problems[:20]:
        print(f"  MISMATCH {p}")
    verdict = "PASS" if not problems else "FAIL"
    print(f"{verdict} {args.clip} through {os.path.basename(args.client)} ({args.pattern} pattern"
          f"{' ' + ' '.join(args.client_args) if args.client_args else ''}): "
          f"{matched}/{expected} pictures match, in decoding order"
          f"{f', {failed} failed as allowed' if args.fault or seek else ''}"
          f"{f', {garbled} differ after undetectable damage' if args.garbage else ''}")
    # the client's own summary (how many requests it had in flight, how far its pool grew)
    for line in proc.stderr.decode(errors="replace").splitlines():
        if "in flight" in line:
            print(f"  {line}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
