# SPDX-License-Identifier: BSD-2-Clause
"""second-reference.py --workdir DIR: the H.264 and AV1 references, checked by a second decoder.

The VM tests compare every frame decoded through the device with FFmpeg's h264 decoder or
libdav1d: the same libraries the daemon decodes with, so a bug in one of them would pass as a
match. This checks those references themselves against other code, for every H.264 and AV1
clip of tests/media/clips.py. Every picture's MD5 must agree with:
 - AV1: libaom (FFmpeg's libaom-av1 wrapper, the AV1 reference implementation);
 - H.264: x264's reconstruction. An encoder predicts from exactly the pictures a conformant
   decoder will decode, so the pictures x264 reconstructs are the decoded stream, computed by
   x264's C code (the recipes run it without assembly; FFmpeg decodes with its own C and
   assembly, some of the latter written by x264's authors). The clip is encoded again with its
   recipe's own ffmpeg command plus x264's dump-yuv option, which writes every reconstructed
   picture in output order, visible area, planar, and changes nothing in the stream (it is not
   among the options x264 writes into its SEI); the pictures are this clip's only if the new
   stream has the clip's NAL units, which is checked first (x264 with one thread and no
   assembly is deterministic, clips.py). Every H.264 clip an encoder made, 10-bit and MBAFF
   included (the field-picture clip, written by tests/media/h264-paff.py, has none: it is
   reported as not checked);
 - H.264 also: Cisco's OpenH264 (GStreamer's openh264dec), a decoder, on the clips it decodes
   as FFmpeg and x264 do. It decodes neither 10-bit nor interlaced H.264 (NO_SECOND), and the
   x264 Main/High clips with B-frames it decodes into other pictures than FFmpeg and x264,
   which agree (OPENH264_WRONG): those are reported as not checked by OpenH264, and a clip it
   starts to decode as they do fails, so that the mark is removed.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402

NO_SECOND = {"h264-high10": "OpenH264 has no 10-bit decoding",
             "h264-mbaff": "OpenH264 has no interlaced (MBAFF) decoding",
             "h264-paff": "OpenH264 has no interlaced (field picture) decoding",
             "h264-paff-idr": "OpenH264 has no interlaced (field picture) decoding",
             "h264-paff-short": "OpenH264 has no interlaced (field picture) decoding"}
# On the x264 Main/High clips with B-frames OpenH264 2.6 and FFmpeg agree on the I pictures
# (and some others) and differ on most of the rest, in content, not only in order; on the clips
# without B-frames (Baseline, the intra-refresh clip: CAVLC, P only) they agree on every
# picture. x264's reconstruction equals FFmpeg's decode on every picture of these clips, so
# OpenH264 is the odd one out (docs/testing.md). They were known failures until 2026-12-05; a
# clip that OpenH264 starts to decode as the others do fails, so that the mark is removed.
B_FRAMES = ("OpenH264 2.6 decodes this Main/High clip with B-frames into other pictures than "
            "FFmpeg and x264's reconstruction, which agree")
OPENH264_WRONG = {n: B_FRAMES for n in ("h264-high-cqm", "h264-main-bpyramid", "h264-odd",
                                        "h264-opengop", "h264-slices", "h264-slices-gop",
                                        "h264-idr-gops")}


def ru(v, a):
    return (v + a - 1) // a * a


def libaom_md5s(ffmpeg, clip):
    out = subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                          "-c:v", "libaom-av1", "-i", clip, "-fps_mode", "passthrough",
                          "-noautoscale", "-f", "framemd5", "-"],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    return [line.split(",")[5].strip() for line in out.splitlines()
            if line.strip() and not line.startswith("#")]


def openh264_md5s(clip, w, h):
    """I420 frames from GStreamer (default strides: rows of 4-byte multiples) made tight"""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={clip}", "!",
                        "matroskademux", "!", "h264parse", "!", "openh264dec", "!",
                        "video/x-raw,format=I420", "!", "multifilesink",
                        f"location={d}/f%05d.raw"], check=True, stdout=subprocess.DEVNULL)
        cw, ch = (w + 1) // 2, (h + 1) // 2
        ys, cs = ru(w, 4), ru(cw, 4)
        md5s = []
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as fh:
                data = fh.read()
            y = b"".join(data[r * ys:r * ys + w] for r in range(h))
            u0 = ys * h
            u = b"".join(data[u0 + r * cs:u0 + r * cs + cw] for r in range(ch))
            v0 = u0 + cs * ch
            v = b"".join(data[v0 + r * cs:v0 + r * cs + cw] for r in range(ch))
            md5s.append(hashlib.md5(y + u + v).hexdigest())
        return md5s


def nal_units(path):
    """the NAL units of an Annex B file, start codes and trailing zero bytes left out"""
    with open(path, "rb") as f:
        data = f.read()
    units, pos = [], data.find(b"\0\0\1")
    while pos >= 0:
        nxt = data.find(b"\0\0\1", pos + 3)
        units.append(data[pos + 3:nxt if nxt >= 0 else len(data)].rstrip(b"\0"))
        pos = nxt
    return units


def same_stream(a, b):
    """The same coded pictures: the NAL units in the same order apart from the parameter sets,
    which Matroska's header gives back before each IDR picture (h264_mp4toannexb), and the
    same parameter sets."""
    def coded(units):
        return [u for u in units if u and u[0] & 0x1f not in (7, 8)]

    def params(units):
        return sorted({u for u in units if u and u[0] & 0x1f in (7, 8)})
    return coded(a) == coded(b) and params(a) == params(b) and coded(a)


def x264_recon_md5s(ffmpeg, name, clip):
    """(MD5s of x264's reconstructed pictures in output order, None) or (None, why not)"""
    codec, parts = clips.CLIPS[name]
    if len(parts) != 1:
        return None, "a clip of several parts"
    size, count, extra, *source = parts[0]
    (w, h), = clips.sizes(name)
    bytes_per_sample = 2 if clips.ten_bit(name) else 1
    picture = (w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)) * bytes_per_sample
    base = os.path.join(os.path.dirname(clip), f"{os.path.basename(clip)}.{clips.UNIQUE}")
    dump, stream = base + ".recon.yuv", base + ".recon.mkv"
    try:
        # encode_clip()'s command for a one-part clip, with the dump
        clips.run(clips.source_command(ffmpeg, size, count, source) +
                  clips.merge_x264(clips.ENCODER[codec] + extra +
                                   ["-x264-params", f"dump-yuv={dump}"]) + [stream])
        clips.write_annexb(ffmpeg, stream, base + ".recon.h264")
        if not same_stream(nal_units(base + ".recon.h264"),
                           nal_units(clips.annexb(ffmpeg, clip))):
            return None, "encoded again, x264 made another stream (a different x264 or recipe)"
        with open(dump, "rb") as f:
            data = f.read()
    except (SystemExit, OSError) as e:
        return None, f"encoding again failed: {e}"
    finally:
        for f in (dump, stream, base + ".recon.h264"):
            if os.path.exists(f):
                os.unlink(f)
    if not data or len(data) % picture:
        return None, f"x264 dumped {len(data)} bytes, not whole {w}x{h} pictures"
    return [hashlib.md5(data[i:i + picture]).hexdigest()
            for i in range(0, len(data), picture)], None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ffmpeg", default="ffmpeg")
    args = ap.parse_args()
    failed, passed, not_checked = 0, {"libaom": 0, "x264": 0, "OpenH264": 0}, 0

    def compare(ref, second):
        bad = [i for i, (a, b) in enumerate(zip(ref, second)) if a != b]
        return not ref or len(ref) != len(second) or bad, bad

    for name, (codec, _) in sorted(clips.CLIPS.items()):
        if codec not in ("av1", "h264"):
            continue
        clip = clips.make_clip(args.ffmpeg, args.workdir, name)
        ref = [md5 for _, _, md5 in clips.reference(args.ffmpeg, clip, codec)]
        refname = clips.REF_DECODER[codec]
        seconds = []
        if codec == "av1":
            seconds.append(("libaom", libaom_md5s(args.ffmpeg, clip), None))
        else:
            if name in clips.GENERATED:
                # no encoder's reconstruction: the program writes no residual to reconstruct
                not_checked += 1
                print(f"NOT CHECKED {name} by x264: made by tests/media/"
                      f"{clips.GENERATED[name][0]}, not by an encoder")
            else:
                seconds.append(("x264", *x264_recon_md5s(args.ffmpeg, name, clip)))
            if name in NO_SECOND:
                not_checked += 1
                print(f"NOT CHECKED {name} by OpenH264: {NO_SECOND[name]}")
            else:
                (w, h), = clips.sizes(name)
                seconds.append(("OpenH264", openh264_md5s(clip, w, h), None))
        for who, second, why in seconds:
            if second is None:
                failed += 1
                print(f"FAIL {name}: no {who} reference: {why}")
                continue
            differs, bad = compare(ref, second)
            if who == "OpenH264" and name in OPENH264_WRONG:
                if differs:
                    not_checked += 1
                    print(f"NOT CHECKED {name} by OpenH264: {OPENH264_WRONG[name]} "
                          f"(pictures that differ: {bad[:10]})")
                else:
                    failed += 1
                    print(f"FAIL {name}: OpenH264 decodes it as FFmpeg now, but is marked as "
                          f"decoding it wrong: remove it from OPENH264_WRONG")
            elif differs:
                failed += 1
                print(f"FAIL {name}: {refname} gives {len(ref)} pictures, {who} "
                      f"{len(second)}; pictures that differ: {bad[:10]}")
            else:
                passed[who] += 1
                print(f"PASS {name}: {len(ref)} pictures, {refname} == {who}")
    h264 = sum(1 for n, (c, _) in clips.CLIPS.items()
               if c == "h264" and n not in clips.GENERATED)
    print(f"clips agreeing: {passed['libaom']} AV1 with libaom, {passed['x264']} of {h264} "
          f"H.264 with x264's reconstruction, {passed['OpenH264']} with OpenH264; "
          f"{failed} failed; {not_checked} not checked by x264 or OpenH264 (above)")
    # every clip has its second reference: a clip x264 cannot reconstruct fails above
    return 1 if failed or not passed["libaom"] or passed["x264"] != h264 else 0


if __name__ == "__main__":
    sys.exit(main())
