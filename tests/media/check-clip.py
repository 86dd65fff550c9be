#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Decodes one clip with GStreamer through the daedalus-v4l2 device (v4l2slvp8dec /
v4l2slvp9dec / v4l2slav1dec / v4l2slh264dec) and compares every frame with FFmpeg's software
decoder (libvpx, libdav1d for AV1 with film grain applied on both sides, FFmpeg's own H.264
decoder).

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
Prints one line per clip: codec, size, frames, fps, matched/expected; exit 1 on a mismatch.
"""
import argparse
import array
import hashlib
import os
import random
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", required=True, choices=sorted(clips.CLIPS))
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--gst-decode", required=True)
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--corrupt", help="INDEX:truncate|garbage (an inter frame)")
    ap.add_argument("--seek", help="AFTER_FRAMES:SECONDS (flushing, to the keyframe before)")
    ap.add_argument("--threads-note", default="")
    ap.add_argument("--window", help="FROM:TO seconds: frames shown in [FROM, TO) may differ")
    ap.add_argument("--gst-output", help="gst-decode's output from a run of the test's own")
    ap.add_argument("--keep-frame", metavar="PATH",
                    help="write one picture decoded through the device (two thirds into the "
                    "clip, tight yuv420p or yuv420p10le) to PATH.yuv, and its size, pixel "
                    "format, fps and verdict to PATH.txt (make demo's contact sheet)")
    args = ap.parse_args()

    codec = clips.CLIPS[args.clip][0]
    fmt = "P010_10LE" if clips.ten_bit(args.clip) else "NV12"
    clip = clips.make_clip(args.ffmpeg, args.workdir, args.clip)
    src, demux = clip, "ivfparse" if clip.endswith(".ivf") else "matroskademux"
    window, must_from = None, None
    label = args.clip
    if args.corrupt:
        idx, kind = args.corrupt.split(":")
        src, t_bad, t_key = corrupt(clip, codec, int(idx), kind, args.workdir)
        window = (t_bad - 1e-3, t_key - 1e-3)
        label += f" ({kind} frame {idx})"
    seek_args = []
    if args.seek:
        after, to = args.seek.split(":")
        if clip.endswith(".ivf"):
            src, demux = clips.to_webm(args.ffmpeg, clip), "matroskademux"
        must_from = keyframe_before(args.ffmpeg, clip, codec, float(to)) - 1e-3
        seek_args = ["--seek-after", after, "--seek-to", to]
        label += f" (seek to {to} s after {after} frames)"
    if args.window:
        window = tuple(float(v) - 1e-3 for v in args.window.split(":"))
        label += f" (may differ in {args.window} s)"

    parse = {"vp9": " ! vp9parse", "av1": " ! av1parse", "h264": " ! h264parse"}.get(codec, "")
    pipeline = (f"filesrc location={src} ! {demux}{parse} ! v4l2sl{codec}dec max-errors=-1"
                f" ! video/x-raw,format={fmt}")
    outdir = tempfile.mkdtemp(prefix="gst-frames-")
    try:
        if args.gst_output:
            with open(args.gst_output, errors="replace") as fh:
                out = fh.read()
            ended = out.rstrip().splitlines()[-1:]
            proc = subprocess.CompletedProcess([], 0 if ended and ended[0].startswith(
                "frames ") else 1)
        else:
            proc = subprocess.run([args.gst_decode] + seek_args + [outdir, pipeline],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = proc.stdout.decode(errors="replace")
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
    finally:
        shutil.rmtree(outdir, ignore_errors=True)

    ref = clips.reference(args.ffmpeg, clip, codec)
    # the arm64 lane: its FFmpeg's reference must equal the one made on x86-64
    arch_problems = clips.check_x86_reference(clip, ref) if not args.corrupt else []
    bps = 2 if fmt == "P010_10LE" else 1
    cands = clips.sizes(args.clip)
    problems = []
    matched = 0
    seen = set()
    entries = []  # (t, reference index or None, md5 or None, size or None)
    for t, data in got:
        k = min(range(len(ref)), key=lambda i: abs(ref[i][0] - t))
        if abs(ref[k][0] - t) > 2e-3:
            entries.append((t, None, None, None))
            continue
        wh = [c for c in cands if gst_frame_size(fmt, *c) == len(data)
              and tight_size(*c, bps) == ref[k][1]]
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
            problems.append(f"frame {k} ({t:.3f} s, {wh[0]}x{wh[1]}): MD5 {md5} != "
                            f"{clips.REF_DECODER[codec]} {ref[k][2]}")

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
    if proc.returncode != 0:
        problems.append(f"gst-decode exited with {proc.returncode}")

    size = ", ".join(f"{w}x{h}" for w, h in cands)
    fps = len(got) / seconds if seconds else 0.0
    for n in notes:
        print(f"  {n}")
    for p in problems[:20]:
        print(f"  MISMATCH {p}")
    verdict = "PASS" if not problems else "FAIL"
    if args.keep_frame:
        keep_frame(args.keep_frame, fmt, entries, got, fps, verdict)
    print(f"{verdict} {label}: {codec.upper()} {size} {fmt}, {len(got)} frames decoded "
          f"({clips.REF_DECODER[codec]} shows {len(ref)}), {fps:.1f} fps, {matched}/{expected} frames match")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
