#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-frame MD5 comparison of the engine against FFmpeg's software decoders.

Generates small VP8/VP9/AV1 clips with the ffmpeg CLI (libvpx, libaom, SVT-AV1 encoders) on
first use, decodes each clip through the engine with decode_clip (decode_av1 for AV1), and
compares every shown picture with `ffmpeg -c:v libvpx[-vp9]|libdav1d -i clip -f framemd5`
(for AV1 the same library, but fed the original stream rather than rebuilt headers).
With a fault (--flush-at / --corrupt), pictures before the fault and from the first
keyframe that decodes after it must match; the faulted job must fail (decode_clip checks).
With --shown-exact the pictures in between must match too unless they FAILED.
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "media"))
from clips import clip_lock, is_x86, kept  # noqa: E402  (the VM tests' clip library, one level up)

SRC = "testsrc2=size={size}:rate=30,noise=alls=4:allf=t"

# name: (codec, [(size, frames, extra encoder args)], ...) - several parts are concatenated
# into one IVF stream, giving a resolution change at the keyframe that starts each part.
CLIPS = {
    "vp8-350x198": ("vp8", [("350x198", 60, [])]),
    "vp9-350x198": ("vp9", [("350x198", 60, [])]),
    "vp9-p2-10bit": ("vp9", [("350x198", 40, ["-pix_fmt", "yuv420p10le", "-profile:v", "2"])]),
    "vp9-tiles": ("vp9", [("1024x576", 40, ["-tile-columns", "2"])]),
    "vp8-reschange": ("vp8", [("352x288", 20, []), ("350x198", 20, []), ("176x144", 10, [])]),
    # three key frames of one size (each part starts with one)
    "vp8-keys": ("vp8", [("350x198", 8, []), ("350x198", 8, []), ("350x198", 8, [])]),
    "vp9-reschange": ("vp9", [("352x288", 20, []), ("350x198", 20, []),
                              ("176x144", 10, ["-pix_fmt", "yuv420p10le", "-profile:v", "2"])]),
    # AV1: the encoder is part of the arguments (see AOM, SVT below)
    "av1-aom-350x198": ("av1", [("350x198", 40, ["AOM"])]),
    "av1-aom-10bit": ("av1", [("350x198", 20, ["AOM", "-pix_fmt", "yuv420p10le"])]),
    "av1-aom-tiles": ("av1", [("640x256", 20, ["AOM", "-tile-columns", "1", "-tile-rows", "1"])]),
    "av1-aom-grain": ("av1", [("352x288", 20, ["AOM", "-denoise-noise-level", "25"])]),
    "av1-aom-screen": ("av1", [("352x288", 8, ["AOM", "-cpu-used", "2", "-pix_fmt", "yuv420p",
                                               "-enable-intrabc", "1", "-aom-params",
                                               "tune-content=screen"], "testsrc")]),
    "av1-svt-350x198": ("av1", [("350x198", 40, ["SVT"])]),
    "av1-svt-10bit-grain": ("av1", [("352x288", 30, ["SVT", "-pix_fmt", "yuv420p10le",
                                                     "-svtav1-params", "film-grain=10"])]),
    "av1-svt-tiles": ("av1", [("640x360", 20, ["SVT", "-svtav1-params",
                                               "tile-columns=2:tile-rows=1"])]),
    "av1-svt-intraonly": ("av1", [("176x144", 40, ["SVT", "-g", "16", "-svtav1-params",
                                                   "irefresh-type=1"])]),
    # a rotating picture: global motion (rotation and zoom, coded against the previous frame's),
    # segmentation (with data inherited from the reference), quantizer matrices, delta q,
    # loop restoration on all planes
    "av1-aom-tools": ("av1", [("352x288", 16, ["AOM", "-cpu-used", "4", "-aq-mode", "1",
                                               "-enable-global-motion", "1", "-aom-params",
                                               "enable-qm=1:qm-min=4:deltaq-mode=1"],
                               "testsrc2=size=704x576:rate=30,rotate=a=0.3*t:c=black,"
                               "scale=352x288,noise=alls=4:allf=t")]),
    # frames coded at 8/12 and 8/14 of their width and upscaled
    "av1-svt-superres": ("av1", [("352x288", 20, ["SVT", "-svtav1-params",
                                                  "superres-mode=1:superres-denom=12:"
                                                  "superres-kf-denom=14"])]),
}
# libaom: two passes give hidden alt-refs shown later; SVT-AV1: one pass (no -pass in its
# FFmpeg wrapper), hidden frames in its mini-GOPs
AV1_ENCODERS = {
    "AOM": ["-c:v", "libaom-av1", "-b:v", "200k", "-cpu-used", "6", "-auto-alt-ref", "1",
            "-lag-in-frames", "25", "-g", "30", "-row-mt", "0", "-threads", "1"],
    "SVT": ["-c:v", "libsvtav1", "-preset", "10", "-crf", "40", "-g", "30"],
}

ENCODER = {
    # one thread: libvpx's VP8 output depends on its thread count (ffmpeg's default: the CPUs)
    "vp8": ["-c:v", "libvpx", "-b:v", "400k", "-auto-alt-ref", "1", "-lag-in-frames", "16",
            "-g", "30", "-slices", "4", "-threads", "1"],
    # auto-alt-ref 6: multi-layer alt-refs, later shown with show_existing_frame
    "vp9": ["-c:v", "libvpx-vp9", "-b:v", "300k", "-auto-alt-ref", "6", "-lag-in-frames",
            "25", "-g", "30", "-row-mt", "0"],
}
REF_DECODER = {"vp8": "libvpx", "vp9": "libvpx-vp9", "av1": "libdav1d"}


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode())
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return proc


def ivf_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    hdr_len = struct.unpack_from("<H", data, 6)[0]
    pos, frames = hdr_len, []
    while pos + 12 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        frames.append(data[pos + 12:pos + 12 + size])
        pos += 12 + size
    return data[:hdr_len], frames


def write_ivf(path, header, frames):
    with open(path, "wb") as f:
        f.write(header[:24] + struct.pack("<I", len(frames)) + header[28:])
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IQ", len(fr), i))
            f.write(fr)


def recipe_tag(name):
    """A hash of everything that makes the clip: a changed recipe gives a new file name, so a
    clip cached in a work directory (or made on the host by tests/media/make-clips) is never
    stale."""
    codec, parts = CLIPS[name]
    recipe = json.dumps([SRC, ENCODER.get(codec, []), AV1_ENCODERS, codec, parts])
    return hashlib.sha256(recipe.encode()).hexdigest()[:10]


def part_path(workdir, name, n):
    return os.path.join(workdir, f"{name}-{recipe_tag(name)}.part{n}.ivf")


def make_clip(ffmpeg, workdir, name):
    """The clip, and its parts (each starts with a keyframe, decodable on its own)."""
    path = os.path.join(workdir, f"{name}-{recipe_tag(name)}.ivf")
    codec, parts = CLIPS[name]
    part_paths = [part_path(workdir, name, n) for n in range(len(parts))]
    if os.path.exists(path):
        return path, part_paths
    os.makedirs(workdir, exist_ok=True)
    with clip_lock(path):
        if not os.path.exists(path):
            encode_clip(ffmpeg, workdir, path, codec, parts, part_paths)
    return path, part_paths


def encode_clip(ffmpeg, workdir, path, codec, parts, part_paths):
    header, frames = None, []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for n, (size, count, extra, *source) in enumerate(parts):
            part = os.path.join(tmp, f"part{n}.ivf")
            src = SRC.format(size=size) if not source else source[0] if "=" in source[0] \
                else f"{source[0]}=size={size}:rate=30"
            extra = [a for x in extra for a in AV1_ENCODERS.get(x, [x])]
            # libvpx makes alt-ref (hidden) frames in 2-pass mode only
            enc = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                   "-i", src, "-frames:v", str(count)] + ENCODER.get(codec, []) + \
                extra + ["-passlogfile", os.path.join(tmp, f"pass{n}")]
            if "libsvtav1" in extra:
                run(enc + ["-f", "ivf", part])
            else:
                run(enc + ["-pass", "1", "-f", "null", "-"])
                run(enc + ["-pass", "2", "-f", "ivf", part])
            h, f = ivf_frames(part)
            header = header or h
            frames += f
            os.replace(part, part_paths[n])
        out = os.path.join(tmp, "clip.ivf")
        write_ivf(out, header, frames)
        os.replace(out, path)  # last and atomic: tests run in parallel


def reveal_vp8_hidden(path):
    """A copy of a VP8 clip with show_frame set in every frame tag. show_frame only decides
    whether a VP8 decoder outputs the frame, so libvpx then outputs the alt-ref frames too,
    decoded exactly as when hidden."""
    out = path.replace(".ivf", ".revealed.ivf")
    if not os.path.exists(out):
        header, frames = ivf_frames(path)
        tmp = out + f".{os.getpid()}"
        write_ivf(tmp, header, [bytes([f[0] | 0x10]) + f[1:] for f in frames])
        os.replace(tmp, out)
    return out


def reference_md5s(ffmpeg, clip, codec):
    """The software decoder's MD5 per output frame; on x86-64 kept beside the clip
    (CLIP.x86-md5s.json, clips.kept()), which tests/media/make-clips makes on the host so
    that the VM tests do not decode it again under TCG."""
    def decode():
        out = run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                   "-c:v", REF_DECODER[codec], "-i", clip, "-fps_mode", "passthrough",
                   "-f", "framemd5", "-"]).stdout.decode()
        md5s = []
        for line in out.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            md5s.append(line.split(",")[-1].strip())
        return md5s
    if not is_x86() or ffmpeg != "ffmpeg":
        return decode()
    return kept(clip + ".x86-md5s.json", decode, clip)


def reference_parts(ffmpeg, parts, codec, reveal_hidden=False):
    """The reference MD5s of a clip made of parts (each decoded alone: the ffmpeg CLI would
    convert a stream whose size or bit depth changes to the format of its first frame)"""
    if reveal_hidden:
        parts = [reveal_vp8_hidden(part) for part in parts]
    return [md5 for part in parts for md5 in reference_md5s(ffmpeg, part, codec)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--decode-clip", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--clip", required=True, choices=sorted(CLIPS))
    ap.add_argument("--no-reference", action="store_true",
                    help="only run the program on the clip; its exit status decides")
    ap.add_argument("--reveal-hidden", action="store_true",
                    help="VP8: the reference decodes a copy with show_frame set on hidden "
                    "frames, so the engine's hidden pictures are compared too")
    ap.add_argument("--shown-exact", action="store_true",
                    help="between the fault and the resync too, every picture not FAILED "
                    "must match: the engine was told of the fault (a lost job), so it must "
                    "fail what it cannot decode right instead of showing it")
    ap.add_argument("decode_args", nargs="*")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    clip, parts = make_clip(args.ffmpeg, args.workdir, args.clip)
    if args.no_reference:
        proc = subprocess.run([args.decode_clip] + args.decode_args + [clip])
        return proc.returncode
    codec = CLIPS[args.clip][0]
    ref = reference_parts(args.ffmpeg, parts, codec, args.reveal_hidden)

    proc = subprocess.run([args.decode_clip] + args.decode_args + [clip],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sys.stderr.write(proc.stderr.decode())
    if proc.returncode != 0:
        print(f"decode_clip exited with {proc.returncode}")
        return 1

    fault = resync = None
    pics = {}
    for line in proc.stdout.decode().splitlines():
        w = line.split()
        if w[0] == "fault":
            fault = int(w[1]) if fault is None else min(fault, int(w[1]))
        elif w[0] == "resync":
            resync = int(w[1])
        elif w[0] == "pic":
            pics[int(w[1])] = w[2:]

    if len(pics) != len(ref):
        print(f"engine produced {len(pics)} pictures, reference has {len(ref)}")
        return 1
    if fault is not None and resync is None:
        print("no keyframe decoded after the fault")
        return 1

    checked = matched = excused = 0
    for i, want in enumerate(ref):
        got = pics[i]
        strict = fault is None or i < fault or i >= resync
        if not strict and args.shown_exact and got[:1] != ["FAILED"]:
            strict = True
        if not strict:
            excused += 1
            continue
        checked += 1
        if len(got) == 2 and got[1] == want:
            matched += 1
        else:
            print(f"picture {i}: engine {' '.join(got)}, reference {want}")
    print(f"{args.clip} {' '.join(args.decode_args)}: {matched}/{checked} pictures match "
          f"{REF_DECODER[codec]}" + (f", {excused} between fault and resync not compared" if excused else ""))
    return 0 if matched == checked and checked > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
