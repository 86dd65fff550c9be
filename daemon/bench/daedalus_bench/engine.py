# SPDX-License-Identifier: BSD-2-Clause
"""engine: the daemon's decode path without the kernel (daedalus-v4l2-engine-bench: one job per
coded frame, controls from the bitstream, the picture written into a ring of CAPTURE-layout
buffers) against the same library decoding the same file on its own at the same thread count
(`ffmpeg -threads N -f null`; AV1 through FFmpeg's libdav1d wrapper, so dav1d on both
sides).

How the engine is driven is its mode, recorded with every result:
  sync        one job at a time (dd_stream_decode): the daemon when the module grants one job
              of a context at a time (its default), and at one thread whatever it grants
  inflightG   the daemon's loop when the module grants G jobs of a context at once:
              frame_delay G + 1, at most G jobs submitted, finished jobs completed after every
              submit, and with G in flight a complete sync at once
              (daemon/process/main.c, context.c)
  lookaheadN  a client the kernel never holds back: N jobs submitted, frame_delay N
The standard measurement is what the daemon does when it is granted jobs in flight: sync at
one thread, inflight2 (the daemon asks the module for 2) at all cores."""
import json
import os

from . import clips, measure

BASELINE_DECODER = {"h264": "h264", "vp8": "vp8", "vp9": "vp9", "av1": "libdav1d"}

# the daemon's ask (daemon/process/options.h, DM_DEFAULT_MAX_INFLIGHT)
DAEMON_INFLIGHT = 2
STANDARD_MODES = {"one": ["sync"], "all": [f"inflight{DAEMON_INFLIGHT}"]}


def parse_mode(mode):
    """"sync", "inflightG" or "lookaheadN" -> (kind, n); ValueError otherwise."""
    if mode == "sync":
        return "sync", 1
    for kind in ("inflight", "lookahead"):
        if mode.startswith(kind) and mode[len(kind):].isdigit():
            n = int(mode[len(kind):])
            if 1 <= n <= (8 if kind == "inflight" else 63):
                # one job at a time is one mode, whatever it is called
                return ("sync", 1) if n == 1 else (kind, n)
    raise ValueError(f"engine mode {mode!r}: sync, inflightG (G 2..8) or lookaheadN (N 2..63)")


def mode_name(mode):
    kind, n = parse_mode(mode)
    return "sync" if kind == "sync" else f"{kind}{n}"


def loadavg():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None



def capture_alloc_s(r):
    """Seconds the engine driver spent allocating and touching its CAPTURE buffers: the
    client's REQBUFS in the real thing, where the kernel allocates and zeroes them before
    the stream starts and the daemon's mapping of each is populated whole at mmap(); the
    library's own decode has no such buffers. 0 from a driver that does not say."""
    return float(r.json.get("capture_alloc_s", 0.0))


def decode_wall(r):
    """The engine driver's wall time without its CAPTURE allocation (capture_alloc_s)."""
    return r.wall - capture_alloc_s(r)


def decode_cpu(r):
    """Its CPU time without that allocation (one thread, busy all along)."""
    return max(r.cpu - capture_alloc_s(r), 0.0)

class EngineBench:
    def __init__(self, engine_bench, ffmpeg, passes, modes=None, before=None):
        """modes: {"one": [...], "all": [...]}, the engine modes at one thread and at more
        (several are measured in the same alternating rounds against one baseline)."""
        self.engine_bench, self.ffmpeg, self.passes = engine_bench, ffmpeg, passes
        self.modes = modes or STANDARD_MODES
        # another engine driver (an older build) measured in the same rounds: before/after
        self.before = before

    def modes_for(self, threads):
        return [mode_name(m) for m in self.modes["one" if threads == 1 else "all"]]

    def candidate_cmd(self, clip, threads, mode, engine_bench=None):
        # each job in flight holds its own CAPTURE buffer, so the ring grows with them
        kind, n = parse_mode(mode)
        how = ["--inflight", str(n)] if kind == "inflight" else ["--lookahead", str(n)]
        return [engine_bench or self.engine_bench, "--codec", clip.codec,
                "--threads", str(threads), *how, "--buffers", str(max(8, n + 1)), clip.path]

    def baseline_cmd(self, clip, threads):
        # -threads before -i is the decoder's thread count (frame and slice threads, as an
        # application's own FFmpeg would decode)
        return [self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats",
                "-threads", str(threads), "-c:v", BASELINE_DECODER[clip.codec], "-i", clip.path,
                "-an", "-f", "null", "-progress", "pipe:1", "-"]

    def measure(self, clip, threads, reps):
        """One result per engine mode at this thread count, all measured in the same
        alternating rounds as the baseline (and the --before-engine-bench driver)."""
        clip = clips.looped(clip, self.passes)
        want = clip.frames

        def check(kind, r):
            if r.status != 0:
                raise RuntimeError(f"{clip.name}: {kind} exited {r.status}: {r.stderr[-1500:]}")
            if kind.startswith(("candidate", "before")):
                res = json.loads(r.stdout.strip().splitlines()[-1])
                if res["failed"]:
                    raise RuntimeError(f"{clip.name}: the engine failed {res['failed']} jobs: "
                                       f"{r.stderr[-800:]}")
                r.json = res
            else:
                frames = [int(x.split("=")[1]) for x in r.stdout.splitlines()
                          if x.startswith("frame=")]
                if not frames or frames[-1] != want:
                    raise RuntimeError(f"{clip.name}: ffmpeg decoded {frames[-1:]} frames, "
                                       f"not {want}")

        def run(cmd):
            return lambda: measure.run_timed(cmd)

        modes = self.modes_for(threads)
        fns = [("baseline", run(self.baseline_cmd(clip, threads)))]
        for m in modes:
            fns.append((f"candidate {m}", run(self.candidate_cmd(clip, threads, m))))
            if self.before:
                fns.append((f"before {m}",
                            run(self.candidate_cmd(clip, threads, m, self.before))))
        load0 = loadavg()
        runs = dict(zip([k for k, _ in fns], measure.alternate_n(fns, reps, check)))
        load1 = loadavg()
        base = runs["baseline"]
        bwall = measure.median([r.wall for r in base])
        bfps = want / bwall
        bcpu = measure.median([r.cpu for r in base]) / want * 1000
        out = []
        for m in modes:
            cand = runs[f"candidate {m}"]
            fps = want / measure.median([decode_wall(r) for r in cand])
            cpu = measure.median([decode_cpu(r) for r in cand]) / want * 1000
            last = cand[-1].json
            res = {
                "what": "engine", "threads": threads, "streams": 1, "mode": m,
                # jobs submitted at most, and the engine's frame_delay, in this mode
                "lookahead": last.get("lookahead", 1), "frame_delay": last.get("frame_delay", 1),
                "fps": round(fps, 2), "baseline_fps": round(bfps, 2),
                "ratio": round(fps / bfps, 3),
                "baseline": f"ffmpeg -c:v {BASELINE_DECODER[clip.codec]}",
                "reps": reps, "passes": self.passes,
                "fps_samples": [round(want / decode_wall(r), 2) for r in cand],
                # left out of the engine's time: its CAPTURE buffers allocated and touched
                "capture_alloc_s": round(measure.median([capture_alloc_s(r) for r in cand]), 6),
                "baseline_fps_samples": [round(want / r.wall, 2) for r in base],
                # peak RSS of the engine driver: one stream's decoder, its CAPTURE ring (8
                # buffers) and the clip file, which it holds in memory
                "rss_mib": round(max(r.maxrss_kib for r in cand) / 1024, 1),
                "cpu_ms_per_frame": round(cpu, 3), "baseline_cpu_ms_per_frame": round(bcpu, 3),
                # what the engine spends that the library alone does not: controls, header
                # checks, rebuilt headers and the copy into the CAPTURE layout
                "overhead_cpu_ms_per_frame": round(cpu - bcpu, 3),
                # CPU time / wall time of each side (median of the runs): how many cores it
                # kept busy; a side far below its thread count on an idle machine waits, on a
                # loaded one it was starved, which the load averages tell apart
                "cores_busy": round(measure.median([decode_cpu(r) / decode_wall(r)
                                                    for r in cand]), 2),
                "baseline_cores_busy": round(measure.median([r.cpu / r.wall for r in base]), 2),
                "loadavg_before": load0, "loadavg_after": load1,
                # inflight mode: complete syncs with all G jobs in flight, per pass
                "drains_per_pass": round(last.get("drains", 0) / self.passes, 1),
            }
            if self.before:
                # the older engine driver, in the same alternating rounds
                bfw = want / measure.median([decode_wall(r) for r in runs[f"before {m}"]])
                res.update({"before_fps": round(bfw, 2), "before_ratio": round(bfw / bfps, 3),
                            "before_engine_bench": self.before})
            out.append(res)
        return out
