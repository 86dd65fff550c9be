#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The seed corpus of one fuzz target: the test clips of tests/media/clips.py (made with the
rootfs's ffmpeg on first use, cached in build/media/clips like the VM tests' clips) turned
into fuzz inputs by fuzz_seeds, then checked with the target's replay build: every job of
every seed must decode, so the fuzzer starts from streams that reach deep into the decoder.
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "media"))
import clips  # noqa: E402

# Small clips with the features each decoder path has: odd sizes, hidden frames, 10 bit,
# tiles, resolution changes, B-pyramids, scaling lists, interlacing, film grain, intra-only.
SEED_CLIPS = {
    "vp8": ["vp8-altref-odd", "vp8-reschange"],
    "vp9": ["vp9-altref-odd", "vp9-profile2-10bit", "vp9-tiles", "vp9-reschange"],
    "av1": ["av1-aom-odd", "av1-aom-10bit", "av1-aom-tiles", "av1-aom-grain", "av1-svt-intraonly",
            "av1-svt-odd"],
    "h264": ["h264-baseline", "h264-main-bpyramid", "h264-high-cqm", "h264-slices", "h264-high10",
             "h264-mbaff"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--fuzz-seeds", required=True, help="the fuzz_seeds program")
    ap.add_argument("--replay", help="fuzz_replay_CODEC: check that every seed decodes")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build", "media", "clips"))
    ap.add_argument("--out", required=True)
    ap.add_argument("codec", choices=sorted(SEED_CLIPS))
    args = ap.parse_args()

    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name in SEED_CLIPS[args.codec]:
        clip = clips.make_clip(args.ffmpeg, args.workdir, name)
        if args.codec == "h264":
            clip = clips.annexb(args.ffmpeg, clip)
        subprocess.run([args.fuzz_seeds, args.codec, clip, tmp, name], check=True)
    seeds = sorted(os.listdir(tmp))
    print(f"{args.codec}: {len(seeds)} seeds, {sum(os.path.getsize(os.path.join(tmp, s)) for s in seeds)} "
          f"bytes, from {', '.join(SEED_CLIPS[args.codec])}")
    if args.replay:
        subprocess.run([args.replay, "--clean", tmp], check=True)
    shutil.rmtree(args.out, ignore_errors=True)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
