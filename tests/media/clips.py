# SPDX-License-Identifier: BSD-2-Clause
"""Small VP8/VP9/AV1/H.264 test clips made with the rootfs's ffmpeg (libvpx, libaom, SVT-AV1
and x264 encoders), and IVF helpers. VP8/VP9/AV1 clips are IVF files; H.264 clips are
Matroska (x264 through ffmpeg), which keeps the B-frames' presentation timestamps.

Clips are cached in a work directory (build/media/clips) under a name that includes a hash
of their recipe, so a changed recipe makes a new clip. A clip with several parts is the
concatenation of separately encoded IVF streams: each part starts with a keyframe, which
gives a resolution change at that keyframe.
"""
import contextlib
import errno
import functools
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

# Temporary file names: the testbed runs VM tests in parallel on one shared checkout, and every
# VM hands out the same process ids, so a pid alone does not make a name unique.
UNIQUE = f"{os.getpid()}-{os.urandom(6).hex()}"

SOURCE = "testsrc2=size={size}:rate=30,noise=alls=4:allf=t"

# x264's output depends on its thread count (default: from the CPU count) and on its assembly
# (rate control uses approximate float reciprocals whose results differ between CPUs and
# under TCG). One thread and plain C make a recipe give the same bitstream on every machine,
# in the chroot and in the VMs, so a failure seen in CI can be reproduced anywhere.
X264_SAME_EVERYWHERE = ("threads=1", "asm=0")

ENCODER = {
    # alt-ref frames (hidden, used as references); -slices: VP8 token partitions; one
    # thread: libvpx's VP8 output depends on its thread count (ffmpeg's default: the CPUs)
    "vp8": ["-c:v", "libvpx", "-b:v", "400k", "-auto-alt-ref", "1", "-lag-in-frames", "16",
            "-g", "30", "-slices", "4", "-threads", "1"],
    # -auto-alt-ref 6: hidden alt-refs in superframes, shown later with show_existing_frame
    "vp9": ["-c:v", "libvpx-vp9", "-b:v", "300k", "-auto-alt-ref", "6", "-lag-in-frames", "25",
            "-g", "30", "-row-mt", "0"],
    # the AV1 encoder and its options are part of each clip's arguments
    "av1": [],
    # a fixed GOP (no scene cuts), so frame types are the same on every run
    "h264": ["-c:v", "libx264", "-preset", "medium", "-crf", "26", "-g", "30",
             "-x264-params", ":".join(("scenecut=0",) + X264_SAME_EVERYWHERE)],
}


# x264's own options (joined with ':' after the encoder's defaults above)
def x264(*opts):
    return ["-x264-params", ":".join(opts)]


# An explicit custom quantizer matrix (not the JVT defaults): the scaling lists must reach the
# decoder as they are. 4x4 intra luma and 8x8 inter luma lists, raster order as x264 takes them.
CQM4 = ",".join(str(6 + (i * 7) % 29) for i in range(16))
CQM8 = ",".join(str(8 + (i * 5) % 41) for i in range(64))
# libaom: two passes, hidden alt-refs shown later (show_existing_frame) and overlays
AOM = ["-c:v", "libaom-av1", "-b:v", "200k", "-cpu-used", "6", "-auto-alt-ref", "1",
       "-lag-in-frames", "25", "-g", "30", "-row-mt", "0", "-threads", "1"]
# SVT-AV1: one pass (its ffmpeg wrapper has no -pass), hidden frames in its mini-GOPs
SVT = ["-c:v", "libsvtav1", "-preset", "10", "-crf", "40", "-g", "30"]
AV1_10BIT = ["-pix_fmt", "yuv420p10le"]
TEN_BIT = ["-pix_fmt", "yuv420p10le", "-profile:v", "2"]

# name: (codec, [(size, frames, extra encoder arguments[, source other than SOURCE])])
CLIPS = {
    "vp8-altref-odd": ("vp8", [("350x198", 60, [])]),
    "vp9-altref-odd": ("vp9", [("350x198", 60, [])]),
    "vp9-profile2-10bit": ("vp9", [("350x198", 40, TEN_BIT)]),
    "vp9-tiles": ("vp9", [("1024x192", 40, ["-tile-columns", "2"])]),
    "vp8-reschange": ("vp8", [("352x288", 20, []), ("350x198", 20, []), ("176x144", 10, [])]),
    "vp9-reschange": ("vp9", [("352x288", 20, []), ("350x198", 20, []), ("176x144", 10, [])]),
    "av1-aom-odd": ("av1", [("350x198", 40, AOM)]),
    "av1-aom-10bit": ("av1", [("350x198", 30, AOM + AV1_10BIT)]),
    # 2x2 tiles (log2 1 each)
    "av1-aom-tiles": ("av1", [("640x256", 20, AOM + ["-tile-columns", "1", "-tile-rows", "1"])]),
    # film grain synthesised from the denoised source
    "av1-aom-grain": ("av1", [("352x288", 20, AOM + ["-denoise-noise-level", "25"])]),
    # screen content tools, intra block copy and palette: libaom tries intra block copy on
    # testsrc's flat areas and digits at -cpu-used 2 (not at faster speeds)
    "av1-aom-screen": ("av1", [("352x288", 8, AOM + [
        "-cpu-used", "2", "-pix_fmt", "yuv420p", "-enable-intrabc", "1", "-enable-palette", "1",
        "-aom-params", "tune-content=screen"], "testsrc=size={size}:rate=30")]),
    # a rotating picture: global motion (rotation and zoom, coded against the previous frame's),
    # segmentation (with data inherited from the reference), quantizer matrices, delta q,
    # loop restoration on all planes
    "av1-aom-tools": ("av1", [("352x288", 16, AOM + [
        "-cpu-used", "4", "-aq-mode", "1", "-enable-global-motion", "1",
        "-aom-params", "enable-qm=1:qm-min=4:deltaq-mode=1"],
        "testsrc2=size=704x576:rate=30,rotate=a=0.3*t:c=black,scale=352x288,"
        "noise=alls=4:allf=t")]),
    "av1-svt-superres": ("av1", [("352x288", 20, SVT + [
        "-svtav1-params", "superres-mode=1:superres-denom=12:superres-kf-denom=14"])]),
    # open GOPs: hidden intra-only frames shown later
    "av1-svt-intraonly": ("av1", [("176x144", 40, SVT[:-2] + [
        "-g", "16", "-svtav1-params", "irefresh-type=1"])]),
    "av1-svt-odd": ("av1", [("350x198", 40, SVT)]),
    "av1-svt-10bit-grain": ("av1", [("352x288", 30, SVT + AV1_10BIT + [
        "-svtav1-params", "film-grain=10"])]),
    "av1-svt-tiles": ("av1", [("640x360", 20, SVT + ["-svtav1-params", "tile-columns=2:tile-rows=1"])]),
    # Constrained Baseline: CAVLC, no B-frames, POC type 2
    "h264-baseline": ("h264", [("320x240", 15, ["-profile:v", "baseline"])]),
    # Main: CABAC, B-pyramid, weighted prediction of P (explicit) and B (implicit) frames
    # (two closed GOPs: an IDR after a fault)
    "h264-main-bpyramid": ("h264", [("352x288", 20, ["-profile:v", "main", "-bf", "3", "-g", "10"] + x264(
        "b-pyramid=normal", "b-adapt=0", "weightp=2", "weightb=1"))]),
    # High: 8x8 transform and custom scaling lists
    "h264-high-cqm": ("h264", [("352x288", 12, ["-profile:v", "high"] + x264(
        "8x8dct=1", f"cqm4iy={CQM4}", f"cqm8p={CQM8}"))]),
    "h264-slices": ("h264", [("352x288", 12, ["-bf", "2"] + x264("slices=4"))]),
    # slices cut by size (slice-max-size): an I-frame of several slices, then P-frames of one
    # slice that predict from it; sent slice based, a picture's last slice and the next
    # picture's only one are in flight together, the former completing a held CAPTURE buffer
    "h264-slices-sized": ("h264", [("352x288", 12, ["-bf", "0", "-g", "6"] + x264(
        "slice-max-size=1500", "keyint=6"))]),
    # the same with a second (closed) GOP: an IDR to resync at after a fault
    "h264-slices-gop": ("h264", [("352x288", 12, ["-bf", "2", "-g", "6"] + x264(
        "slices=4", "keyint=6", "b-adapt=0"))]),
    # closed GOPs of 8: an IDR at 0, 8, 16 and 24, where the engine may change its mode
    "h264-idr-gops": ("h264", [("320x240", 30, ["-bf", "2", "-g", "8"] + x264(
        "keyint=8", "b-adapt=0"))]),
    "h264-high10": ("h264", [("352x288", 12, ["-pix_fmt", "yuv420p10le",
                                              "-profile:v", "high10", "-bf", "2"])]),
    # cropped: 22x13 macroblocks decoded, 350x198 shown
    "h264-odd": ("h264", [("350x198", 10, ["-bf", "2"])]),
    # interlaced, MBAFF (x264 codes frames with field/frame macroblock pairs, never field
    # pictures: PAFF needs other encoders). Coded bottom field first despite tff=1: libavcodec's
    # libx264 wrapper takes the field order from each frame, and the source's frames say none
    "h264-mbaff": ("h264", [("352x288", 12, ["-bf", "2", "-flags", "+ildct+ilme"] + x264(
        "interlaced=1", "tff=1"))]),
    # field pictures (PAFF): every frame coded as two fields, from no encoder here but
    # tests/media/h264-paff.py (GENERATED below): I_PCM and P fields predicting from fields
    # of both parities, the bottom field first in every fifth frame, two slices per field
    "h264-paff": ("h264", [("352x288", 24, [])]),
    # the same with an IDR every 8 frames: access points to resume at after a fault
    "h264-paff-idr": ("h264", [("352x288", 24, [])]),
    # four small frames of field pairs, an IDR at 0 and 2: daemon-h264-clips.sh's slowed-down
    # decoder shows GStreamer's early read of the frames it drains, before the IDR and at the
    # end (check-clip.py's FIELD_DRAIN_RACE), in seconds
    "h264-paff-short": ("h264", [("176x128", 4, [])]),
    # open GOPs: the I-frames that start a GOP are not IDR and the B-frames before them in
    # display order refer to the previous GOP
    "h264-opengop": ("h264", [("320x240", 36, ["-bf", "2", "-g", "12"] + x264(
        "open-gop=1", "keyint=12", "b-adapt=0"))]),
    # periodic intra refresh: one IDR, then P pictures only, each refreshing a column of
    # macroblocks; its access points are recovery-point SEIs
    "h264-intra-refresh": ("h264", [("320x240", 40, ["-bf", "0"] + x264(
        "intra-refresh=1", "keyint=15"))]),
}

# Clips no encoder here can make, written by a program of ours: its arguments after the
# output file (size and frame count come from the clip's part). The program's text is part
# of the recipe, so a changed generator makes a new clip.
GENERATED = {
    "h264-paff": ("h264-paff.py", ["--bottom-first-every", "5", "--slices", "2"]),
    "h264-paff-idr": ("h264-paff.py", ["--bottom-first-every", "5", "--slices", "2",
                                       "--idr-every", "8"]),
    "h264-paff-short": ("h264-paff.py", ["--slices", "2", "--idr-every", "2"]),
}

REF_DECODER = {"vp8": "libvpx", "vp9": "libvpx-vp9", "av1": "libdav1d", "h264": "h264"}
CONTAINER = {"h264": "mkv"}


def sizes(name):
    return sorted({tuple(int(v) for v in p[0].split("x")) for p in CLIPS[name][1]})


def ten_bit(name):
    return any("yuv420p10le" in p[2] for p in CLIPS[name][1])


def run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n"
                         f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout


def read_ivf(path):
    """(header bytes, [(pts, frame bytes)])"""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"DKIF":
        raise SystemExit(f"{path}: not an IVF file")
    hdr_len = struct.unpack_from("<H", data, 6)[0]
    pos, frames = hdr_len, []
    while pos + 12 <= len(data):
        size, pts = struct.unpack_from("<IQ", data, pos)
        frames.append((pts, data[pos + 12:pos + 12 + size]))
        pos += 12 + size
    return data[:hdr_len], frames


def write_ivf(path, header, frames):
    tmp = f"{path}.{UNIQUE}"
    with open(tmp, "wb") as f:
        f.write(header[:24] + struct.pack("<I", len(frames)) + header[28:])
        for pts, fr in frames:
            f.write(struct.pack("<IQ", len(fr), pts))
            f.write(fr)
    os.replace(tmp, path)


def ivf_timebase(header):
    """seconds per pts unit"""
    rate, scale = struct.unpack_from("<II", header, 16)
    return scale / rate


def is_keyframe(codec, frame):
    b = frame[0]
    if codec == "vp8":
        return (b & 1) == 0
    bits = [(b >> (7 - i)) & 1 for i in range(8)]
    if bits[0:2] != [1, 0]:
        return False
    profile = bits[2] | (bits[3] << 1)
    pos = 5 if profile == 3 else 4
    if bits[pos]:  # show_existing_frame
        return False
    return bits[pos + 1] == 0


# The lock's holder touches it this often; a lock nobody touched for LOCK_STALE seconds (of
# the waiter's own clock) belongs to a holder that died (a VM killed at its timeout) and is
# broken.
LOCK_HEARTBEAT = 5
LOCK_STALE = 120


def _lock_owner(lock):
    """(owner token, mtime) of a lock directory, or None when there is none"""
    try:
        with open(os.path.join(lock, "owner")) as f:
            token = f.read()
        return token, os.stat(lock).st_mtime_ns
    except OSError:
        return None


@contextlib.contextmanager
def clip_lock(path):
    """Held while a clip's files are made. Tests run in parallel (meson's, and VMs on one
    shared checkout) and often want the same clip: the first makes it, the others wait and
    use it, so no test ever pairs one encode's file with another encode's.

    Not flock(2): QEMU's 9p server grants every lock without locking, so VMs (and the host's
    chroot) sharing the checkout would not exclude each other. The lock is a directory
    PATH.lockdir holding an owner file, made as a directory of our own and renamed into
    place: rename(2) onto an existing non-empty directory fails, atomically, on the host's
    file system as through 9p (the checkout is mounted cache=mmap, so nothing is cached in
    a guest). The holder touches it every LOCK_HEARTBEAT s; a waiter that sees the same
    owner and time for LOCK_STALE s renames it away (one waiter wins that rename) and
    checks it took the stale one; a holder that finds its lock gone fails loudly."""
    lock = path + ".lockdir"
    token = f"{socket.gethostname()} {UNIQUE} {time.time()}\n"
    mine = f"{lock}.{UNIQUE}"
    os.mkdir(mine)
    with open(os.path.join(mine, "owner"), "w") as f:
        f.write(token)
    seen, since = None, time.monotonic()
    try:
        while True:
            try:
                os.rename(mine, lock)
                break
            except OSError as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
            now = _lock_owner(lock)
            if now != seen:
                seen, since = now, time.monotonic()
            elif now is not None and time.monotonic() - since > LOCK_STALE:
                _break_stale(lock, now[0])
                seen = None
            time.sleep(0.2)
    except BaseException:
        shutil.rmtree(mine, ignore_errors=True)
        raise

    stop, lost = threading.Event(), []

    def heartbeat():
        while not stop.wait(LOCK_HEARTBEAT):
            owner = _lock_owner(lock)
            if owner is None or owner[0] != token:
                lost.append(owner)
                return
            os.utime(lock)

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        owner = _lock_owner(lock)
        if not lost and owner is not None and owner[0] == token:
            gone = f"{lock}.gone.{UNIQUE}"
            os.rename(lock, gone)
            shutil.rmtree(gone)
    if lost or owner is None or owner[0] != token:
        raise SystemExit(f"{path}: the clip lock was taken from this process while it held it "
                         f"(judged stale): what it made may mix two encodes; delete {path}*")


def _break_stale(lock, token):
    """Renames a stale lock away; gives it back if it turned out to be a new, live one."""
    aside = f"{lock}.stale.{UNIQUE}"
    try:
        os.rename(lock, aside)
    except OSError:
        return  # gone already, or another waiter broke it first
    taken = _lock_owner(aside)
    if taken is not None and taken[0] != token:
        try:
            os.rename(aside, lock)  # someone's live lock: back in place, if still free
        except OSError:
            pass  # taken meanwhile: that holder's heartbeat finds its lock gone and fails
        return
    shutil.rmtree(aside, ignore_errors=True)


def make_clip(ffmpeg, workdir, name):
    codec, parts = CLIPS[name]
    recipe = json.dumps([SOURCE, ENCODER[codec], codec, parts])
    if name in GENERATED:
        with open(generator(name), "rb") as fh:
            recipe = json.dumps([GENERATED[name][1], codec, parts,
                                 hashlib.sha256(fh.read()).hexdigest()])
    tag = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    ext = CONTAINER.get(codec, "ivf")
    path = os.path.join(workdir, f"{name}-{tag}.{ext}")
    if os.path.exists(path):
        return path
    os.makedirs(workdir, exist_ok=True)
    with clip_lock(path):
        if not os.path.exists(path):
            encode_clip(ffmpeg, path, name, codec, parts, ext)
    return path


def source_command(ffmpeg, size, count, source):
    """an ffmpeg command up to the encoder's options: count pictures of a part's source"""
    return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", (source or [SOURCE])[0].format(size=size),
            "-frames:v", str(count)]


def generator(name):
    """the program that writes a GENERATED clip, beside this file"""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), GENERATED[name][0])


def generate_clip(ffmpeg, path, name, parts):
    """A GENERATED clip: its program's Annex-B stream (kept as the clip's annexb()), in
    Matroska like the encoded H.264 clips, one packet per field at twice the frame rate."""
    extra = GENERATED[name][1]
    (size, count, _), = parts
    w, h = size.split("x")
    tmp_h264 = f"{path}.{UNIQUE}.h264"
    tmp = f"{path}.{UNIQUE}.mkv"
    run(["python3", generator(name), tmp_h264, "--width", w, "--height", h,
         "--frames", str(count)] + extra)
    run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-framerate", "50",
         "-f", "h264", "-i", tmp_h264, "-c:v", "copy", tmp])
    os.replace(tmp_h264, annexb_path(path))
    os.replace(tmp, path)


def encode_clip(ffmpeg, path, name, codec, parts, ext):
    """Writes the clip at path, which appears last and atomically (os.replace)."""
    if name in GENERATED:
        return generate_clip(ffmpeg, path, name, parts)
    header, frames, next_pts = None, [], 0
    for n, (size, count, extra, *source) in enumerate(parts):
        part = f"{path}.part{n}.{UNIQUE}.ivf"
        common = source_command(ffmpeg, size, count, source)
        enc = ENCODER[codec] + extra
        log = f"{path}.part{n}.{UNIQUE}"
        if ext != "ivf":
            # one part, one pass, in its own container
            if len(parts) != 1:
                raise SystemExit(f"{name}: only IVF clips can have several parts")
            tmp = f"{path}.{UNIQUE}.{ext}"
            run(common + merge_x264(enc) + [tmp])
            if codec == "h264":
                write_annexb(ffmpeg, tmp, annexb_path(path))
            os.replace(tmp, path)
            return
        if "libsvtav1" in enc:
            run(common + enc + ["-f", "ivf", part])
        else:
            run(common + enc + ["-pass", "1", "-passlogfile", log, "-f", "null", "-"])
            run(common + enc + ["-pass", "2", "-passlogfile", log, "-f", "ivf", part])
        h, fr = read_ivf(part)
        header = header or h
        base = next_pts - fr[0][0]
        frames += [(pts + base, data) for pts, data in fr]
        next_pts = frames[-1][0] + 1
        for f in os.listdir(os.path.dirname(path)):
            if f.startswith(os.path.basename(log)):
                os.unlink(os.path.join(os.path.dirname(path), f))
    write_ivf(path, header, frames)


def reference(ffmpeg, clip, codec):
    """[(pts seconds, tight size, md5)] of the software decoder's output frames. On x86-64
    the rootfs FFmpeg's decode is kept beside the clip (CLIP.x86-reference.json, made by
    tests/media/make-clips on the host) and reused while the libraries are those it was made
    with; elsewhere (the arm64 lane) it is decoded every time, and compared with that file."""
    def decode():
        out = run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                   "-c:v", REF_DECODER[codec], "-i", clip, "-fps_mode", "passthrough",
                   "-noautoscale", "-f", "framemd5", "-"]).decode()
        tb, frames = None, []
        for line in out.splitlines():
            if line.startswith("#tb 0:"):
                num, den = line.split(":")[1].strip().split("/")
                tb = int(num) / int(den)
            if line.startswith("#") or not line.strip():
                continue
            f = [x.strip() for x in line.split(",")]
            frames.append((int(f[2]) * tb, int(f[4]), f[5]))
        return frames
    if not is_x86() or ffmpeg != "ffmpeg":
        return decode()
    return [tuple(f) for f in kept(x86_reference_path(clip), decode, clip)]


def is_x86():
    import platform
    return platform.machine() in ("x86_64", "AMD64")


@functools.lru_cache(maxsize=None)
def libraries():
    """What a clip's reference decode and container facts depend on besides the clip: this
    machine's FFmpeg and codec libraries in the rootfs, by file name, size and time. Read once
    per process, with one listing of the library directory: under the debug kernel and TCG a
    listing of its 2300 entries over 9p costs about half a second, and a judge asks for
    every clip (fault-matrix.py spent 57 s of a 218 s test on 100 globs)."""
    import sysconfig
    libdir = f"/usr/lib/{sysconfig.get_config_var('MULTIARCH') or ''}"
    wanted = tuple(f"lib{lib}.so." for lib in ("avcodec", "avformat", "avutil", "vpx", "dav1d"))
    found = set()
    for name in os.listdir(libdir):
        if name.startswith(wanted):
            real = os.path.realpath(os.path.join(libdir, name))
            st = os.stat(real)
            found.add(f"{os.path.basename(real)} {st.st_size} {st.st_mtime_ns}")
    st = os.stat(shutil.which("ffmpeg") or "/usr/bin/ffmpeg")
    found.add(f"ffmpeg {st.st_size} {st.st_mtime_ns}")
    return tuple(sorted(found))


def kept(path, compute, source):
    """compute()'s JSON value for the file source, kept in path with what it was computed
    from (source's size and time, and the libraries()) and computed again when any of that
    changed. The VM tests read what make-clips computed on the host instead of running the
    FFmpeg CLI again under TCG (a few seconds per call there)."""
    st = os.stat(source)
    made_from = [f"{os.path.basename(source)} {st.st_size} {st.st_mtime_ns}"] + list(libraries())
    try:
        with open(path) as fh:
            old = json.load(fh)
        if isinstance(old, dict) and old.get("made_from") == made_from:
            return old["value"]
    except (OSError, ValueError):
        pass
    value = compute()
    tmp = f"{path}.{UNIQUE}"
    with open(tmp, "w") as fh:
        json.dump({"made_from": made_from, "value": value}, fh)
    os.replace(tmp, path)
    return value


def x86_reference_path(clip):
    return clip + ".x86-reference.json"


def save_x86_reference(ffmpeg, clip, codec):
    """The reference decode made on x86-64 (by tests/media/make-clips on the host), kept beside
    the clip: the arm64 lane checks its own FFmpeg's reference against it, so that its device
    decode is not judged only by the same arm64 library under the same emulator."""
    reference(ffmpeg, clip, codec)
    return x86_reference_path(clip)


def check_x86_reference(clip, ref):
    """Problems (strings) of this machine's reference against the x86-64 one, when this
    machine is not x86-64; none on x86-64, where the reference is the x86 one."""
    if is_x86():
        return []
    path = x86_reference_path(clip)
    if not os.path.exists(path):
        return [f"no x86-64 reference beside the clip ({os.path.basename(path)}: make clips)"]
    with open(path) as fh:
        x86 = json.load(fh)
    x86 = x86["value"] if isinstance(x86, dict) else x86
    if len(x86) != len(ref):
        return [f"this machine's reference has {len(ref)} frames, the x86-64 one {len(x86)}"]
    return [f"reference frame {i}: MD5 {a[2]} here, {b[2]} on x86-64"
            for i, (a, b) in enumerate(zip(ref, x86)) if a[2] != b[2]][:10]


def merge_x264(args):
    """ffmpeg keeps only the last -x264-params: join them all into one"""
    out, params = [], []
    i = 0
    while i < len(args):
        if args[i] == "-x264-params":
            params += [p for p in args[i + 1].split(":") if p not in params]
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out + (["-x264-params", ":".join(params)] if params else [])


def annexb_path(clip):
    return clip[:-4] + ".h264"


def write_annexb(ffmpeg, clip, path):
    tmp = f"{path}.{UNIQUE}.h264"
    run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", clip,
         "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", tmp])
    os.replace(tmp, path)


def annexb(ffmpeg, clip):
    """The H.264 stream of a Matroska clip as an Annex-B file (parameter sets in band).
    make_clip writes it from the same encode before the clip itself appears."""
    path = annexb_path(clip)
    if not os.path.exists(path):
        with clip_lock(clip):
            if not os.path.exists(path):
                write_annexb(ffmpeg, clip, path)
    return path


def packet_times(ffmpeg, clip):
    """presentation time (s) of each packet, in decoding order"""
    return [float(t) for t in ffprobe(ffmpeg, clip, "packet=pts_time").split()]


def ffprobe(ffmpeg, clip, entries):
    """ffprobe's csv of entries for the clip's video stream (kept beside the clip as
    CLIP.ARCH-ffprobe-ENTRIES.json, see kept(), when it is the rootfs's)"""
    probe = os.path.join(os.path.dirname(ffmpeg), "ffprobe") if os.sep in ffmpeg else "ffprobe"

    def compute():
        return run([probe, "-v", "error", "-select_streams", "v:0", "-show_entries", entries,
                    "-of", "csv=p=0", clip]).decode()
    if ffmpeg != "ffmpeg":
        return compute()
    import platform
    tag = "".join(c if c.isalnum() else "_" for c in entries)
    return kept(f"{clip}.{platform.machine()}-ffprobe-{tag}.json", compute, clip)


def keyframe_times(ffmpeg, clip):
    """presentation times (s) of the packets the container marks as keyframes"""
    out = ffprobe(ffmpeg, clip, "packet=pts_time,flags")
    return sorted(float(t) for t, f in (line.split(",")[:2] for line in out.split())
                  if "K" in f)


def to_webm(ffmpeg, ivf):
    webm = ivf[:-4] + ".webm"
    if not os.path.exists(webm):
        tmp = f"{webm}.{UNIQUE}.webm"
        run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", ivf,
             "-c", "copy", tmp])
        os.replace(tmp, webm)
    return webm
