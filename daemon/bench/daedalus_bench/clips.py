# SPDX-License-Identifier: BSD-2-Clause
"""The benchmark's clips: the standard set, made once from natural content and cached, and the
user's own files, reduced to the elementary stream both sides of every comparison read.

Every clip is an IVF file (VP8, VP9, AV1) or an Annex-B byte stream (H.264): the engine driver,
FFmpeg and GStreamer all read these directly, so no side pays for a demuxer the other skips.

Natural content: the standard set is made from a real camera recording, OpenCV's `vtest.avi`
(768x576, people walking across a campus; Debian's opencv-doc package ships it), cropped to
16:9, scaled up with Lanczos and given a little temporal noise, which restores the fine
texture an upscale loses (a camera sensor has it too). Synthetic patterns decode much faster
than camera content (large flat areas, perfect motion), so they would flatter every ratio.
Without vtest.avi (or --source) the set falls back to testsrc2 with noise and every result
says so ("source": "synthetic").
"""
import hashlib
import json
import os
import shutil
import subprocess

SOURCE_CANDIDATES = [
    "/usr/share/doc/opencv-doc/examples/data/vtest.avi",
]
# Bumped when the way clips are made changes (the recipe hash covers the rest).
RECIPE_VERSION = 1
FRAMES = 120

# name -> (codec, width, height, bits, encoder arguments). One slice per frame for H.264
# (x264's default frame threads do not cut slices), B-frames, a GOP of 60 as streaming
# services use; VP9 with and without tile columns (libvpx's default for 1080p is 0 here);
# AV1 from SVT-AV1, the encoder behind most AV1 streaming.
X264 = ["-c:v", "libx264", "-preset", "fast", "-crf", "20", "-g", "60", "-bf", "3"]
VP8 = ["-c:v", "libvpx", "-deadline", "good", "-cpu-used", "4", "-crf", "10", "-b:v", "8M",
       "-g", "60", "-auto-alt-ref", "1", "-lag-in-frames", "16"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1",
       "-crf", "32", "-b:v", "0", "-g", "60"]
SVT = ["-c:v", "libsvtav1", "-preset", "8", "-crf", "35", "-g", "60"]
TEN = ["-pix_fmt", "yuv420p10le"]

STANDARD = {
    "h264-1080p": ("h264", 1920, 1080, 8, X264),
    "h264-1080p-10bit": ("h264", 1920, 1080, 10, X264 + TEN + ["-profile:v", "high10"]),
    "h264-2160p": ("h264", 3840, 2160, 8, X264),
    "vp8-1080p": ("vp8", 1920, 1080, 8, VP8),
    "vp9-1080p": ("vp9", 1920, 1080, 8, VP9 + ["-tile-columns", "0"]),
    "vp9-1080p-tiles": ("vp9", 1920, 1080, 8, VP9 + ["-tile-columns", "2"]),
    "vp9-1080p-10bit": ("vp9", 1920, 1080, 10, VP9 + ["-tile-columns", "2", "-profile:v", "2"] + TEN),
    "vp9-2160p-tiles": ("vp9", 3840, 2160, 8, VP9 + ["-tile-columns", "3"]),
    "av1-1080p": ("av1", 1920, 1080, 8, SVT),
    "av1-1080p-10bit": ("av1", 1920, 1080, 10, SVT + TEN),
    "av1-2160p": ("av1", 3840, 2160, 8, SVT),
}
# --quick: one 1080p clip per codec
QUICK = ["h264-1080p", "vp8-1080p", "vp9-1080p-tiles", "av1-1080p"]

FFMPEG_CODEC = {"h264": "h264", "vp8": "vp8", "vp9": "vp9", "av1": "av1"}


class Clip:
    def __init__(self, name, path, codec, width, height, bits, frames, source):
        self.name, self.path, self.codec = name, path, codec
        self.width, self.height, self.bits = width, height, bits
        self.frames, self.source = frames, source

    def describe(self):
        return {"clip": self.name, "codec": self.codec, "width": self.width,
                "height": self.height, "bits": self.bits, "frames": self.frames,
                "source": self.source}


def _run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return r.stdout


def find_source(explicit=None):
    """(path, label) of the natural source, or (None, 'synthetic')."""
    for p in ([explicit] if explicit else SOURCE_CANDIDATES):
        if p and os.path.exists(p):
            return p, os.path.basename(p)
    if explicit:
        raise SystemExit(f"daedalus-v4l2-bench: --source {explicit}: no such file")
    return None, "synthetic"


def _input_args(source, width, height):
    if source is None:
        return ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30"], \
            f"noise=alls=4:allf=t"
    # the recording is 10 fps; read it as 30 fps (three times the motion per frame, which
    # is closer to handheld footage than a fixed CCTV camera); crop 768x576 to 16:9
    return ["-r", "30", "-i", source], \
        f"crop=768:432,scale={width}:{height}:flags=lanczos,noise=alls=3:allf=t"


def make_standard(ffmpeg, clipdir, name, source, label, log=print):
    codec, w, h, bits, enc = STANDARD[name]
    recipe = json.dumps([RECIPE_VERSION, label, FRAMES, codec, w, h, bits, enc])
    tag = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    ext = "h264" if codec == "h264" else "ivf"
    path = os.path.join(clipdir, f"{name}-{tag}.{ext}")
    if not os.path.exists(path):
        os.makedirs(clipdir, exist_ok=True)
        log(f"making {name} ({w}x{h} {bits}-bit {codec}, {FRAMES} frames from {label}); "
            "once, it is cached")
        inp, vf = _input_args(source, w, h)
        pix = "yuv420p10le" if bits == 10 else "yuv420p"
        tmp = f"{path}.{os.getpid()}.tmp"
        fmt = ["-f", "h264"] if codec == "h264" else ["-f", "ivf"]
        _run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + inp +
             ["-vf", f"{vf},format={pix}", "-frames:v", str(FRAMES), "-an"] + enc + fmt + [tmp])
        os.replace(tmp, path)
    return Clip(name, path, codec, w, h, bits, FRAMES, label)


def probe(ffmpeg, path):
    ffprobe = os.path.join(os.path.dirname(ffmpeg), "ffprobe") if os.sep in ffmpeg else "ffprobe"
    if not shutil.which(ffprobe):
        ffprobe = "ffprobe"
    out = _run([ffprobe, "-v", "error", "-select_streams", "v:0", "-count_packets",
                "-show_entries", "stream=codec_name,width,height,pix_fmt,nb_read_packets",
                "-of", "json", path])
    s = json.loads(out)["streams"]
    if not s:
        raise RuntimeError(f"{path}: no video stream")
    return s[0]


def from_user_file(ffmpeg, clipdir, path, log=print):
    """The first video stream of any file FFmpeg reads, as IVF or Annex-B (stream copy)."""
    info = probe(ffmpeg, path)
    codec = {"h264": "h264", "vp8": "vp8", "vp9": "vp9", "av1": "av1"}.get(info["codec_name"])
    if codec is None:
        raise RuntimeError(f"{path}: {info['codec_name']} is not a codec the device decodes "
                           "(H.264, VP8, VP9, AV1)")
    st = os.stat(path)
    tag = hashlib.sha256(f"{os.path.abspath(path)} {st.st_size} {st.st_mtime_ns}".encode()
                         ).hexdigest()[:10]
    # the file's whole name: clip.mp4 and clip.webm are different results
    base = os.path.basename(path)
    ext = "h264" if codec == "h264" else "ivf"
    out = os.path.join(clipdir, f"user-{base}-{tag}.{ext}")
    if not os.path.exists(out):
        os.makedirs(clipdir, exist_ok=True)
        tmp = f"{out}.{os.getpid()}.tmp"
        cmd = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", path,
               "-map", "0:v:0", "-c:v", "copy", "-an"]
        cmd += ["-bsf:v", "h264_mp4toannexb", "-f", "h264"] if codec == "h264" else ["-f", "ivf"]
        _run(cmd + [tmp])
        os.replace(tmp, out)
    info = probe(ffmpeg, out)
    bits = 10 if "10" in info.get("pix_fmt", "") else 8
    return Clip(base, out, codec, int(info["width"]), int(info["height"]), bits,
                int(info.get("nb_read_packets") or 0), "user file")


def looped(clip, passes):
    """The clip played passes times in one file (cached beside it), so each timed process
    decodes long enough that its start-up does not dominate. Both sides read this file: a
    raw H.264 stream cannot be looped by FFmpeg (-stream_loop needs a seekable demuxer)."""
    if passes <= 1:
        return clip
    root, ext = os.path.splitext(clip.path)
    path = f"{root}.x{passes}{ext}"
    if not os.path.exists(path):
        with open(clip.path, "rb") as f:
            data = f.read()
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            if clip.codec == "h264":
                # starts with an IDR and its parameter sets: a second copy decodes as is
                f.write(data * passes)
            else:
                f.write(_ivf_looped(data, passes))
        os.replace(tmp, path)
    return Clip(clip.name, path, clip.codec, clip.width, clip.height, clip.bits,
                clip.frames * passes, clip.source)


def _ivf_looped(data, passes):
    """IVF frames repeated, with timestamps that keep increasing (a demuxer or muxer that
    sees a timestamp twice may drop or duplicate frames)."""
    hdr_len = int.from_bytes(data[6:8], "little")
    frames, pos = [], hdr_len
    while pos + 12 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "little")
        pts = int.from_bytes(data[pos + 4:pos + 12], "little")
        frames.append((pts, data[pos + 12:pos + 12 + size]))
        pos += 12 + size
    span = frames[-1][0] - frames[0][0] + 1
    out = bytearray(data[:hdr_len])
    out[24:28] = (len(frames) * passes).to_bytes(4, "little")
    for p in range(passes):
        for pts, payload in frames:
            out += len(payload).to_bytes(4, "little") + (pts + p * span).to_bytes(8, "little")
            out += payload
    return bytes(out)
