#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Decodes a clip with GStreamer through the daedalus-v4l2 device (v4l2slvp8dec /
v4l2slvp9dec / v4l2slav1dec / v4l2slh264dec) and compares every frame with FFmpeg's software
decoder (libvpx, libdav1d for AV1 with film grain applied on both sides, FFmpeg's own H.264
decoder). With --check repeated, several clips: one Python and one gst-decode process for
all of them (each pipeline still has its own decoder element, so its own device context),
as starting both costs seconds per clip under TCG (docs/testing.md).

Frames are paired by timestamp. GStreamer's frames (written by multifilesink in GStreamer's
default layout, rows padded to 4 bytes, NV12 / P010) are repacked into tight planar 4:2:0,
the layout whose MD5 `ffmpeg -f framemd5` prints for the decoders' yuv420p / yuv420p10le output.

Every frame GStreamer outputs must match. Frames that must be present:
  plain:     all of them
  --corrupt: those before the damaged frame and from the next keyframe on (between them
             the decoder reports errors and drops frames)
  --seek:    from the keyframe the seek lands on (frames before the seek must match too)
  --window:  those outside the given time range (the test damaged the stream itself, e.g. a
             daemon killed and restarted: GStreamer shows failed requests' buffers, so
             pictures inside the range may differ or be missing)
With --gst-output the frames are those of an earlier gst-decode run (its output and frame
files), which the test ran itself.
Prints one line per clip: codec, size, frames, fps, matched/expected; exit 1 on a mismatch
(with --check: the number of checks that failed).
"""
import argparse
import array
import functools
import hashlib
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402


def ru(v, a):
    return (v + a - 1) // a * a


def gst_frame_size(fmt, w, h):
    stride = ru(w * (2 if fmt == "P010_10LE" else 1), 4)
    return stride * ru(h, 2) + stride * (ru(h, 2) // 2)


def tight_planar(fmt, w, h, data):
    """GStreamer NV12 / P010_10LE (default strides) -> tight yuv420p / yuv420p10le bytes"""
    bps = 2 if fmt == "P010_10LE" else 1
    stride = ru(w * bps, 4)
    cw, ch = (w + 1) // 2, (h + 1) // 2
    uv_off = stride * ru(h, 2)
    y = b"".join(data[r * stride:r * stride + w * bps] for r in range(h))
    uv = b"".join(data[uv_off + r * stride:uv_off + r * stride + 2 * cw * bps] for r in range(ch))
    if bps == 1:
        u, v = uv[0::2], uv[1::2]
    else:
        a = array.array("H", uv)
        u, v = a[0::2].tobytes(), a[1::2].tobytes()

        # P010 keeps the 10-bit value in the top bits: shift the whole plane at once (the
        # low 6 bits of each sample must be zero; if not, the sample next to it changes
        # and the frame mismatches, as it should)
        def down(p):
            return (int.from_bytes(p, "little") >> 6).to_bytes(len(p), "little")
        y, u, v = down(y), down(u), down(v)
    return y + u + v


def tight_size(w, h, bps):
    return (w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)) * bps


def corrupt(clip, codec, index, kind, workdir):
    """A copy of clip with frame `index` damaged; returns (path, fault pts, next key pts)."""
    header, frames = clips.read_ivf(clip)
    tb = clips.ivf_timebase(header)
    if clips.is_keyframe(codec, frames[index][1]):
        raise SystemExit(f"frame {index} of {clip} is a keyframe: pick an inter frame")
    pts, data = frames[index]
    # The client parses the frame header (VP8: the whole first partition), so damage after
    # it is what reaches the device: VP8 cuts into / scrambles the DCT partition table and
    # partitions, VP9 cuts into the tiles (the tile size markers then overrun the frame).
    first = 3 + ((data[0] | data[1] << 8 | data[2] << 16) >> 5) if codec == "vp8" else 8
    if kind == "truncate":
        bad = data[:first + 4] if codec == "vp8" else data[:len(data) // 4]
    elif kind == "garbage":
        rnd = random.Random(index)
        bad = data[:first] + bytes(rnd.getrandbits(8) for _ in range(len(data) - first))
    else:
        raise SystemExit(f"unknown damage {kind}")
    frames[index] = (pts, bad)
    nxt = next((p for p, d in frames[index + 1:] if clips.is_keyframe(codec, d)), None)
    if nxt is None:
        raise SystemExit(f"{clip}: no keyframe after frame {index}")
    out = os.path.join(workdir, f"{os.path.basename(clip)[:-4]}.{kind}{index}.ivf")
    clips.write_ivf(out, header, frames)
    return out, pts * tb, nxt * tb


def keyframe_before(ffmpeg, clip, codec, t):
    if not clip.endswith(".ivf"):
        return max(k for k in clips.keyframe_times(ffmpeg, clip) if k <= t + 1e-6)
    header, frames = clips.read_ivf(clip)
    tb = clips.ivf_timebase(header)
    return max(p * tb for p, d in frames if clips.is_keyframe(codec, d) and p * tb <= t + 1e-6)


def keep_frame(path, fmt, entries, got, fps, verdict):
    """One decoded picture for a contact sheet: the device's own output, as it came out of
    GStreamer, converted to a tight planar layout any tool reads."""
    usable = [(e, data) for e, (_, data) in zip(entries, got) if e[2] is not None]
    if not usable:
        return
    (t, _, _, (w, h)), data = usable[len(usable) * 2 // 3]
    pix = "yuv420p10le" if fmt == "P010_10LE" else "yuv420p"
    with open(path + ".yuv", "wb") as fh:
        fh.write(tight_planar(fmt, w, h, data))
    with open(path + ".txt", "w") as fh:
        fh.write(f"{w} {h} {pix} {fps:.1f} {verdict} {t:.3f}\n")


# GStreamer's known client bug that --field-drain-race names (gst-plugins-bad 1.26, unchanged
# on its main branch as of 2026-12): v4l2slh264dec outputs a field pair's frame through its
# first field's request (gsth264decoder.c takes last_field as the picture to output), and
# gst_v4l2_request_set_done() returns at once for a request no longer pending, which it is
# from the moment the second field's request is queued. Mid-stream the next request waits
# for the second field first; a frame output by a drain before any later request is queued
# (at EOS, and at an IDR, whose drain of the DPB comes before its first request) has none,
# so GStreamer may copy its CAPTURE buffer before the device has decoded its second field.
# Reproduced with the daemon's --test-stall-ms (daemon-h264-clips.sh): always the frames
# drained last, with the picture the buffer held before. A decoder of any speed loses it when
# slow enough. (A live pipeline also outputs non-reference field pairs at once: not tested.)
FIELD_DRAIN_RACE = ("GStreamer's v4l2slh264dec reads a field pair's frame after waiting for "
                    "its first field's request only: a frame drained before a later request "
                    "(at EOS, before an IDR) may be copied before the device decoded its second "
                    "field (a client bug)")


def drained_frames(args, clip, codec, ref):
    """The reference frames GStreamer outputs last in a drain: the last one, and the last one
    before each key frame but the first (an IDR drains the DPB before its first request)."""
    keys = [k for k in clips.keyframe_times(args.ffmpeg, clip) if k > 1e-6]
    out = {len(ref) - 1}
    for k in keys:
        before = [i for i, r in enumerate(ref) if r[0] < k - 1e-6]
        if before:
            out.add(max(before))
    return out


def check_parser(required=True):
    """The options of one check (one clip)."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--clip", required=required, choices=sorted(clips.CLIPS))
    ap.add_argument("--corrupt", help="INDEX:truncate|garbage (an inter frame)")
    ap.add_argument("--seek", help="AFTER_FRAMES:SECONDS (flushing, to the keyframe before)")
    ap.add_argument("--threads-note", default="")
    ap.add_argument("--window", help="FROM:TO seconds: frames shown in [FROM, TO) may differ")
    ap.add_argument("--gst-output", help="gst-decode's output from a run of the test's own")
    ap.add_argument("--field-drain-race", choices=("intermittent", "always"),
                    help="a clip of field pairs: GStreamer may read the frames it drains (the "
                    "last, the last before each IDR) before their second field is decoded "
                    "(FIELD_DRAIN_RACE); intermittent: wrong ones among those alone are a "
                    "known failure (XFAIL), always: every one must be wrong (the test slowed "
                    "the decoder down), and nothing else")
    ap.add_argument("--keep-frame", metavar="PATH",
                    help="write one picture decoded through the device (two thirds into the "
                    "clip, tight yuv420p or yuv420p10le) to PATH.yuv, and its size, pixel "
                    "format, fps and verdict to PATH.txt (make demo's contact sheet)")
    return ap


def prepare(opts, args):
    """One check's clip (made when missing), the file to feed (a damaged copy, or the clip as
    WebM for a seek), its GStreamer pipeline and what the judgement needs."""
    c = argparse.Namespace(opts=opts, window=None, must_from=None, seek_args=[])
    c.codec = clips.CLIPS[opts.clip][0]
    c.fmt = "P010_10LE" if clips.ten_bit(opts.clip) else "NV12"
    c.clip = clips.make_clip(args.ffmpeg, args.workdir, opts.clip)
    src, demux = c.clip, "ivfparse" if c.clip.endswith(".ivf") else "matroskademux"
    c.label = opts.clip
    if opts.corrupt:
        idx, kind = opts.corrupt.split(":")
        src, t_bad, t_key = corrupt(c.clip, c.codec, int(idx), kind, args.workdir)
        c.window = (t_bad - 1e-3, t_key - 1e-3)
        c.label += f" ({kind} frame {idx})"
    if opts.seek:
        after, to = opts.seek.split(":")
        if c.clip.endswith(".ivf"):
            src, demux = clips.to_webm(args.ffmpeg, c.clip), "matroskademux"
        c.must_from = keyframe_before(args.ffmpeg, c.clip, c.codec, float(to)) - 1e-3
        c.seek_args = ["--seek-after", after, "--seek-to", to]
        c.label += f" (seek to {to} s after {after} frames)"
    if opts.window:
        c.window = tuple(float(v) - 1e-3 for v in opts.window.split(":"))
        c.label += f" (may differ in {opts.window} s)"
    parse = {"vp9": " ! vp9parse", "av1": " ! av1parse", "h264": " ! h264parse"}.get(c.codec, "")
    c.pipeline = (f"filesrc location={src} ! {demux}{parse} ! v4l2sl{c.codec}dec max-errors=-1"
                  f" ! video/x-raw,format={c.fmt}")
    return c


def read_frames(out):
    """gst-decode's lines of one job: ([(seconds, frame bytes)], decoding seconds, notes)"""
    got, seconds, notes = [], 0.0, []
    for line in out.splitlines():
        f = line.split()
        if f[:1] == ["frame"]:
            with open(f[1], "rb") as fh:
                got.append((int(f[2]) / 1e9, fh.read()))
        elif f[:1] == ["frames"]:
            seconds = float(f[3])
        elif line.strip():
            notes.append(line)
    return got, seconds, notes


def split_jobs(out, n, returncode):
    """gst-decode's output of n jobs -> [(output, status)]: each job's lines end with its
    "frames N seconds S" line, then (several jobs) "status R". A job the process never
    finished (it died) gets what it printed and status None."""
    if n == 1:
        return [(out, returncode)]
    jobs, cur, ended = [], [], False
    for line in out.splitlines():
        if ended and line.startswith("status "):
            jobs.append(("\n".join(cur), int(line.split()[1])))
            cur, ended = [], False
            continue
        cur.append(line)
        ended = line.startswith("frames ")
    if cur:
        jobs.append(("\n".join(cur), None))
    return (jobs + [("", None)] * n)[:n]


def run_checks(args, checks):
    """Every check's pipeline in one gst-decode process (one pipeline after the other, each
    with a decoder element of its own: a device context each, as with a process per clip),
    then each judged and printed. Returns the number of failed checks."""
    failed = 0
    ready = []
    for opts in checks:
        try:
            ready.append(prepare(opts, args))
        except (SystemExit, Exception) as e:  # this check fails, the others still run
            print(f"FAIL {opts.clip}: cannot prepare the check: {e!r}")
            failed += 1
    topdir = tempfile.mkdtemp(prefix="gst-frames-")
    try:
        cmd, live = [args.gst_decode], [c for c in ready if not c.opts.gst_output]
        for n, c in enumerate(live):
            c.outdir = os.path.join(topdir, str(n))
            os.mkdir(c.outdir)
            cmd += (["--then"] if n else []) + c.seek_args + [c.outdir, c.pipeline]
        results = []
        if live:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            results = split_jobs(proc.stdout.decode(errors="replace"), len(live),
                                 proc.returncode)
        for c, (out, status) in zip(live, results):
            c.out = out
            c.status = status if status is not None else \
                f"no end (gst-decode exited with {proc.returncode} before it)"
        for c in ready:
            if c.opts.gst_output:
                with open(c.opts.gst_output, errors="replace") as fh:
                    c.out = fh.read()
                ended = c.out.rstrip().splitlines()[-1:]
                c.status = 0 if ended and ended[0].startswith("frames ") else 1
            if not judge(c, args):
                failed += 1
            if getattr(c, "outdir", None):
                shutil.rmtree(c.outdir, ignore_errors=True)
    finally:
        shutil.rmtree(topdir, ignore_errors=True)
    return failed


@functools.lru_cache(maxsize=1)
def reference_pixels(ffmpeg, clip, codec, fmt):
    """The software decoder's frames of a clip, tight, back to back: decoded once per clip,
    and only for a mismatch (describe_mismatch())."""
    return subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                           "-c:v", clips.REF_DECODER[codec], "-i", clip, "-fps_mode",
                           "passthrough", "-noautoscale", "-f", "rawvideo", "-pix_fmt", fmt,
                           "-"], stdout=subprocess.PIPE, check=True).stdout


def describe_mismatch(args, clip, codec, ref, k, pixels, wh, bps):
    """How a wrong picture differs from the reference, for the log of a failure that may not
    come back (a race): another frame's picture (a stale or reordered buffer), or which rows
    of which planes differ, by field parity (a field not written, or written twice)."""
    md5 = hashlib.md5(pixels).hexdigest()
    same = [i for i, r in enumerate(ref) if r[2] == md5]
    if same:
        return f"it is reference frame {same[0]} ({ref[same[0]][0]:.3f} s)"
    if sum(r[1] for r in ref) > 256 << 20:
        return "(clip too large to compare rows)"
    try:
        raw = reference_pixels(args.ffmpeg, clip, codec,
                               "yuv420p10le" if bps == 2 else "yuv420p")
    except (OSError, subprocess.CalledProcessError) as e:
        return f"(no reference pixels: {e})"
    off = sum(r[1] for r in ref[:k])
    want = raw[off:off + ref[k][1]]
    if len(want) != len(pixels):
        return f"(reference frame of {len(want)} bytes, picture of {len(pixels)})"
    w, h = wh
    cw, ch = (w + 1) // 2, (h + 1) // 2
    parts, pos = [], 0
    for name, pw, ph in (("Y", w, h), ("U", cw, ch), ("V", cw, ch)):
        rows = [r for r in range(ph)
                if pixels[pos + r * pw * bps:pos + (r + 1) * pw * bps] !=
                want[pos + r * pw * bps:pos + (r + 1) * pw * bps]]
        pos += pw * ph * bps
        if rows:
            even = sum(1 for r in rows if r % 2 == 0)
            parts.append(f"{name} {len(rows)}/{ph} rows ({even} even, {len(rows) - even} odd; "
                         f"{rows[0]}-{rows[-1]})")
    return "; ".join(parts) or "(no row differs)"


def judge(c, args):
    """Compares one check's frames with the reference; prints its lines; True if it passed."""
    opts, codec, fmt, window, must_from = c.opts, c.codec, c.fmt, c.window, c.must_from
    got, seconds, notes = read_frames(c.out)
    ref = clips.reference(args.ffmpeg, c.clip, codec)
    # the arm64 lane: its FFmpeg's reference must equal the one made on x86-64
    arch_problems = clips.check_x86_reference(c.clip, ref) if not opts.corrupt else []
    bps = 2 if fmt == "P010_10LE" else 1
    cands = clips.sizes(opts.clip)
    problems = []
    matched = 0
    seen = set()
    entries = []  # (t, reference index or None, md5 or None, size or None)
    for t, data in got:
        k = min(range(len(ref)), key=lambda i: abs(ref[i][0] - t))
        if abs(ref[k][0] - t) > 2e-3:
            entries.append((t, None, None, None))
            continue
        wh = [s for s in cands if gst_frame_size(fmt, *s) == len(data)
              and tight_size(*s, bps) == ref[k][1]]
        md5 = hashlib.md5(tight_planar(fmt, *wh[0], data)).hexdigest() if wh else None
        entries.append((t, k, md5, wh[0] if wh else len(data)))
    if must_from is not None:
        # GStreamer 1.26's v4l2codecs never looks at V4L2_BUF_FLAG_ERROR, so it shows the
        # buffer of a failed request: after a seek into an open GOP the leading picture
        # just before the landing frame (which fails, as it should) is clipped to the
        # segment start and shown there too. One copy there must be the right picture.
        land = min(range(len(ref)), key=lambda i: abs(ref[i][0] - must_from - 1e-3))
        copies = [e for e in entries if e[1] == land]
        if len(copies) > 1 and any(e[2] == ref[land][2] for e in copies):
            for e in copies:
                if e[2] != ref[land][2]:
                    entries.remove(e)
                    notes.append(f"frame {land} ({e[0]:.3f} s): an extra copy from a failed "
                                 "request that GStreamer shows anyway (not counted)")
    pictures = dict(got)
    wrong = []  # the reference indexes of the pictures output wrong, in output order
    for t, k, md5, wh in entries:
        if k is None:
            problems.append(f"GStreamer frame at {t:.3f} s has no reference frame")
            continue
        if k in seen:
            problems.append(f"two GStreamer frames at {t:.3f} s")
            continue
        seen.add(k)
        if md5 is None:
            problems.append(f"frame {k} ({t:.3f} s): {wh} bytes fit no expected size")
            continue
        in_window = window and window[0] <= t < window[1]
        if md5 == ref[k][2]:
            matched += 1
        elif in_window:
            notes.append(f"frame {k} ({t:.3f} s) in the damaged range differs (not counted)")
            seen.discard(k)
        else:
            # described only as far as the log shows them (the first 20 problems)
            how = "" if len(problems) >= 20 else ": " + describe_mismatch(
                args, c.clip, codec, ref, k, tight_planar(fmt, *wh, pictures[t]), wh, bps)
            wrong.append((k, len(problems)))
            problems.append(f"frame {k} ({t:.3f} s, {wh[0]}x{wh[1]}): MD5 {md5} != "
                            f"{clips.REF_DECODER[codec]} {ref[k][2]}{how}")

    required = []
    for i, (t, _, _) in enumerate(ref):
        if window and window[0] <= t < window[1]:
            continue
        if must_from is not None and t < must_from and i not in seen:
            continue
        required.append(i)
    problems += arch_problems
    missing = [i for i in required if i not in seen]
    for i in missing:
        problems.append(f"frame {i} ({ref[i][0]:.3f} s) was not output")
    expected = len(required) + len([i for i in seen if i not in required])
    if c.status != 0:
        problems.append(f"gst-decode exited with {c.status}" if isinstance(c.status, int)
                        else f"gst-decode: {c.status}")

    size = ", ".join(f"{w}x{h}" for w, h in cands)
    fps = len(got) / seconds if seconds else 0.0
    known = []
    if opts.field_drain_race:
        # only drained frames, and only wrong (output, right size): anything else fails
        drained = drained_frames(args, c.clip, codec, ref)
        race = [problems[i] for k, i in wrong if k in drained]
        names = ", ".join(str(i) for i in sorted(drained))
        if opts.field_drain_race == "always" and len(race) != len(drained):
            problems.append(f"{len(race)} of the drained frames ({names}) wrong although the "
                            f"decoder was slowed down: the known failure did not happen for "
                            f"every one ({FIELD_DRAIN_RACE}); if GStreamer fixed it, remove the "
                            f"mark")
        elif race and len(problems) == len(race):
            known, problems = race, []
        elif not race:
            notes.append(f"the drained frames ({names}), which GStreamer may read too early "
                         "(known), matched")
    for n in notes:
        print(f"  {n}")
    for p in problems[:20]:
        print(f"  MISMATCH {p}")
    verdict = "PASS" if not problems else "FAIL"
    if opts.keep_frame:
        keep_frame(opts.keep_frame, fmt, entries, got, fps, verdict)
    print(f"{verdict} {c.label}: {codec.upper()} {size} {fmt}, {len(got)} frames decoded "
          f"({clips.REF_DECODER[codec]} shows {len(ref)}), {fps:.1f} fps, {matched}/{expected} frames match",
          flush=True)
    if known:
        how = " (intermittent)" if opts.field_drain_race == "intermittent" else ""
        more = f"; {len(known) - 1} more" if len(known) > 1 else ""
        print(f"XFAIL {c.label}{how}: {FIELD_DRAIN_RACE} ({len(known)} wrong: {known[0]}{more})",
              flush=True)
    return not problems


def main():
    ap = argparse.ArgumentParser(parents=[check_parser(required=False)], description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--gst-decode", required=True)
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--check", action="append", metavar="OPTIONS",
                    help="one check's options (--clip NAME ...) as one argument, instead of "
                    "them on the command line; repeated, the checks share this process and "
                    "one gst-decode process, and the exit status is the number that failed")
    args = ap.parse_args()
    if args.check and args.clip:
        ap.error("--clip and --check exclude each other")
    if not args.check and not args.clip:
        ap.error("--clip or --check is required")
    if args.check:
        sub = check_parser()
        failed = run_checks(args, [sub.parse_args(shlex.split(c)) for c in args.check])
        return min(failed, 125)
    return 1 if run_checks(args, [args]) else 0


if __name__ == "__main__":
    sys.exit(main())
