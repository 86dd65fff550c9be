#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The fuzz targets' FUZZ_LIB_DIR check (fuzz_target.c) fails when it must.

make fuzz-deep points the targets at FFmpeg and dav1d built for fuzzing; a target that
quietly loaded the system's libraries instead would fuzz blind and still pass. Here, with
the system's libraries standing in for the instrumented ones:
- a directory holding copies of them: the target loads those, names the directory, runs;
- a directory of symbolic links to them: the files mapped are the system's, the target
  must abort naming the foreign library;
- a directory that does not exist: the target must abort.

usage: check_lib_dir.py REPLAY CODEC INPUT_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

NAMES = ("libavcodec.so.61", "libavutil.so.59", "libdav1d.so.7")


def system_paths():
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name = line.strip().split(" ", 1)[0]
        if name in NAMES and name not in found and "=>" in line:
            found[name] = line.rsplit("=>", 1)[1].strip()
    missing = [n for n in NAMES if n not in found]
    if missing:
        sys.exit(f"FAIL: ldconfig knows no {', '.join(missing)}")
    return found


def run(replay, lib_dir, inputs, **extra):
    env = dict(os.environ, FUZZ_LIB_DIR=lib_dir, **extra)
    return subprocess.run([replay, inputs], env=env, capture_output=True, text=True,
                          timeout=300)


def main():
    replay, codec, inputs = sys.argv[1:4]
    paths = system_paths()
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        copies = os.path.realpath(os.path.join(tmp, "copies"))
        links = os.path.join(tmp, "links")
        os.mkdir(copies)
        os.mkdir(links)
        for name, path in paths.items():
            shutil.copy(path, os.path.join(copies, name))
            os.symlink(path, os.path.join(links, name))

        # Debian's libavcodec links libdav1d itself: found in the same directory, as the
        # instrumented build (which has no libdav1d wrapper) needs no telling
        r = run(replay, copies, inputs, LD_LIBRARY_PATH=copies)
        want = f"fuzz_{codec} uses the decoders in {copies}"
        if r.returncode != 0 or want not in r.stderr.splitlines():
            print(f"FAIL copies: exit {r.returncode}, no line {want!r}:\n{r.stderr[-2000:]}")
            fails += 1
        else:
            print("ok   copies: loaded from the directory, named it, ran")

        for case, lib_dir, why in (
                ("links", links, "a decoder library from outside FUZZ_LIB_DIR"),
                ("missing", os.path.join(tmp, "none"), "this engine cannot decode the codec")):
            r = run(replay, lib_dir, inputs)
            if r.returncode == 0 or why not in r.stderr:
                print(f"FAIL {case}: exit {r.returncode}, expected an abort with {why!r}:\n"
                      f"{r.stderr[-2000:]}")
                fails += 1
            else:
                print(f"ok   {case}: aborted ({why})")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
