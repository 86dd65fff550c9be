# SPDX-License-Identifier: BSD-2-Clause
"""engine: the daemon's decode path without the kernel (daedalus-v4l2-engine-bench: one job per
coded frame, controls from the bitstream, the picture written into a ring of CAPTURE-layout
buffers) against the same library decoding the same file on its own at the same thread count
(`ffmpeg -threads N -f null`; AV1 through FFmpeg's libdav1d wrapper, so dav1d on both
sides)."""
import json

from . import clips, measure

BASELINE_DECODER = {"h264": "h264", "vp8": "vp8", "vp9": "vp9", "av1": "libdav1d"}


class EngineBench:
    def __init__(self, engine_bench, ffmpeg, passes, lookahead=1, before=None):
        self.engine_bench, self.ffmpeg, self.passes = engine_bench, ffmpeg, passes
        self.lookahead = lookahead
        # another engine driver (an older build) measured in the same rounds: before/after
        self.before = before

    def candidate_cmd(self, clip, threads, engine_bench=None):
        # --lookahead N: N jobs in flight, like a client with N requests queued; each job in
        # flight holds its own CAPTURE buffer, so the ring grows with it
        return [engine_bench or self.engine_bench, "--codec", clip.codec,
                "--threads", str(threads),
                "--lookahead", str(self.lookahead),
                "--buffers", str(max(8, self.lookahead + 1)), clip.path]

    def baseline_cmd(self, clip, threads):
        # -threads before -i is the decoder's thread count (frame and slice threads, as an
        # application's own FFmpeg would decode)
        return [self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats",
                "-threads", str(threads), "-c:v", BASELINE_DECODER[clip.codec], "-i", clip.path,
                "-an", "-f", "null", "-progress", "pipe:1", "-"]

    def measure(self, clip, threads, reps):
        clip = clips.looped(clip, self.passes)
        want = clip.frames

        def check(kind, r):
            if r.status != 0:
                raise RuntimeError(f"{clip.name}: {kind} exited {r.status}: {r.stderr[-1500:]}")
            if kind in ("candidate", "before"):
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

        fns = [("candidate", lambda: measure.run_timed(self.candidate_cmd(clip, threads))),
               ("baseline", lambda: measure.run_timed(self.baseline_cmd(clip, threads)))]
        if self.before:
            fns.append(("before", lambda: measure.run_timed(
                self.candidate_cmd(clip, threads, self.before))))
        runs = measure.alternate_n(fns, reps, check)
        cand, base = runs[0], runs[1]
        fps = want / measure.median([r.wall for r in cand])
        bfps = want / measure.median([r.wall for r in base])
        cpu = measure.median([r.cpu for r in cand]) / want * 1000
        bcpu = measure.median([r.cpu for r in base]) / want * 1000
        res = {
            "what": "engine", "threads": threads, "streams": 1, "lookahead": self.lookahead,
            "fps": round(fps, 2), "baseline_fps": round(bfps, 2), "ratio": round(fps / bfps, 3),
            "baseline": f"ffmpeg -c:v {BASELINE_DECODER[clip.codec]}",
            "reps": reps, "passes": self.passes,
            "fps_samples": [round(want / r.wall, 2) for r in cand],
            "baseline_fps_samples": [round(want / r.wall, 2) for r in base],
            # peak RSS of the engine driver: one stream's decoder, its CAPTURE ring (8
            # buffers) and the clip file, which it holds in memory
            "rss_mib": round(max(r.maxrss_kib for r in cand) / 1024, 1),
            "cpu_ms_per_frame": round(cpu, 3), "baseline_cpu_ms_per_frame": round(bcpu, 3),
            # what the engine spends that the library alone does not: controls, header
            # checks, rebuilt headers and the copy into the CAPTURE layout
            "overhead_cpu_ms_per_frame": round(cpu - bcpu, 3),
        }
        if self.before:
            # the older engine driver, in the same alternating rounds
            bfw = want / measure.median([r.wall for r in runs[2]])
            res.update({"before_fps": round(bfw, 2), "before_ratio": round(bfw / bfps, 3),
                        "before_engine_bench": self.before})
        return res
