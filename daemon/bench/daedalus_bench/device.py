# SPDX-License-Identifier: BSD-2-Clause
"""device: a real client (GStreamer's v4l2sl*dec) decoding through the module and the daemon,
against the same GStreamer pipeline with a software decoder (avdec_*, dav1ddec or av1dec), on
the same machine; streams: 1, 2 and 4 such pipelines at once through the device."""
import glob
import os
import subprocess
import time

from . import measure

PARSE = {"h264": "h264parse", "vp8": "ivfparse", "vp9": "ivfparse ! vp9parse",
         "av1": "ivfparse ! av1parse"}
DEVICE_ELEMENT = {"h264": "v4l2slh264dec", "vp8": "v4l2slvp8dec", "vp9": "v4l2slvp9dec",
                  "av1": "v4l2slav1dec"}
# software decoders in order of preference, with how to give them the thread count
SOFTWARE = {"h264": [("avdec_h264", "max-threads")], "vp8": [("avdec_vp8", "max-threads")],
            "vp9": [("avdec_vp9", "max-threads")],
            "av1": [("dav1ddec", "n-threads"), ("av1dec", None)]}


def has_element(name):
    return subprocess.run(["gst-inspect-1.0", "--exists", name]).returncode == 0


def module_max_inflight():
    """The module's max_inflight parameter (jobs of one stream in flight that it grants a
    daemon asking for them at HELLO), or None where the module has no such parameter."""
    try:
        with open("/sys/module/daedalus_v4l2/parameters/max_inflight") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def device_present():
    """A video node of the daedalus-v4l2 module (its name, as the udev rule matches it)."""
    for p in glob.glob("/sys/class/video4linux/video*/name"):
        try:
            with open(p) as f:
                if "daedalus" in f.read():
                    return True
        except OSError:
            pass
    return False


def pipeline(clip, decoder):
    # identity prints one line per decoded buffer under -v: the frame count, so a pipeline
    # that stops early or drops frames is not timed as a fast one
    return (["gst-launch-1.0", "-v", "filesrc", f"location={clip.path}", "!"] +
            PARSE[clip.codec].split() + ["!"] + decoder.split() +
            ["!", "identity", "name=count", "silent=false", "!", "fakesink", "sync=false"])


def count_frames(stdout):
    return sum(1 for line in stdout.splitlines()
               if "count: last-message = chain" in line)


class DeviceBench:
    def __init__(self, threads, daemon_comm="daedalus-v4l2d"):
        self.threads = threads
        self.daemon_pid = measure.find_process(daemon_comm)
        self.software = {}
        for codec, choices in SOFTWARE.items():
            for el, prop in choices:
                if has_element(el):
                    self.software[codec] = f"{el} {prop}={threads}" if prop else el
                    break

    def usable(self, codec):
        why = []
        if self.daemon_pid is None:
            why.append("no daedalus-v4l2d process")
        if not has_element(DEVICE_ELEMENT[codec]):
            why.append(f"GStreamer has no {DEVICE_ELEMENT[codec]} (device missing?)")
        if codec not in self.software:
            why.append(f"no GStreamer software decoder for {codec}")
        return why

    def _check(self, clip):
        def check(kind, r):
            if r.status != 0:
                raise RuntimeError(f"{clip.name}: {kind} pipeline exited {r.status}: "
                                   f"{r.stderr[-1500:]}{r.stdout[-800:]}")
            n = count_frames(r.stdout)
            if n != clip.frames:
                raise RuntimeError(f"{clip.name}: the {kind} pipeline output {n} frames, "
                                   f"not {clip.frames}")
        return check

    def measure(self, clip, reps):
        dev = pipeline(clip, DEVICE_ELEMENT[clip.codec])
        sw = pipeline(clip, self.software[clip.codec])
        samples = {"cpu": [], "rss": [], "anon": []}

        def candidate():
            c0 = measure.proc_cpu_seconds(self.daemon_pid)
            with measure.RssSampler(self.daemon_pid) as s:
                r = measure.run_timed(dev, timeout=600)
            c1 = measure.proc_cpu_seconds(self.daemon_pid)
            if c0 is not None and c1 is not None:
                samples["cpu"].append(c1 - c0)
            samples["rss"].append(max(0, s.peak_kib - s.base_kib))
            samples["anon"].append(max(0, s.peak_anon_kib - s.base_anon_kib))
            return r

        cand, base = measure.alternate(candidate, lambda: measure.run_timed(sw, timeout=600),
                                       reps, self._check(clip))
        fps = clip.frames / measure.median([r.wall for r in cand])
        bfps = clip.frames / measure.median([r.wall for r in base])
        res = {
            "what": "device", "threads": self.threads, "streams": 1,
            "fps": round(fps, 2), "baseline_fps": round(bfps, 2), "ratio": round(fps / bfps, 3),
            "baseline": f"gst {self.software[clip.codec].split()[0]}",
            "reps": reps,
            "max_inflight": module_max_inflight(),
            "fps_samples": [round(clip.frames / r.wall, 2) for r in cand],
            "baseline_fps_samples": [round(clip.frames / r.wall, 2) for r in base],
            # what one stream adds to the daemon's resident memory at its peak
            "rss_mib": round(max(samples["rss"]) / 1024, 1),
            # of which the daemon's own (RssAnon): without the clients' mapped dmabufs
            "anon_rss_mib": round(max(samples["anon"]) / 1024, 1),
            # the client's own CPU (parsing, requests) and the daemon's, per frame
            "client_cpu_ms_per_frame": round(measure.median([r.cpu for r in cand]) /
                                             clip.frames * 1000, 3),
            "baseline_cpu_ms_per_frame": round(measure.median([r.cpu for r in base]) /
                                               clip.frames * 1000, 3),
        }
        if samples["cpu"]:
            res["daemon_cpu_ms_per_frame"] = round(measure.median(samples["cpu"]) /
                                                   clip.frames * 1000, 3)
        return res

    def streams(self, clip, counts, reps):
        """Aggregate fps of k pipelines started together, for each k in counts; the
        baseline of each is one stream."""
        dev = pipeline(clip, DEVICE_ELEMENT[clip.codec])
        check = self._check(clip)
        walls = {k: [] for k in counts}
        rss = {k: [] for k in counts}
        anon = {k: [] for k in counts}
        cpu = {k: [] for k in counts}
        for i in range(reps):
            for k in (counts if i % 2 == 0 else list(reversed(counts))):
                c0 = measure.proc_cpu_seconds(self.daemon_pid)
                with measure.RssSampler(self.daemon_pid) as s:
                    t0 = time.monotonic()
                    procs = [subprocess.Popen(dev, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True)
                             for _ in range(k)]
                    outs = [p.communicate(timeout=900) for p in procs]
                    wall = time.monotonic() - t0
                for p, (out, err) in zip(procs, outs):
                    check(f"{k}-stream", measure.RunResult(0, 0, 0, out, err, p.returncode))
                walls[k].append(wall)
                rss[k].append(max(0, s.peak_kib - s.base_kib))
                anon[k].append(max(0, s.peak_anon_kib - s.base_anon_kib))
                # the daemon's CPU per frame: whether k streams cost more each than one
                c1 = measure.proc_cpu_seconds(self.daemon_pid)
                if c0 is not None and c1 is not None:
                    cpu[k].append(c1 - c0)
        one = clip.frames / measure.median(walls[counts[0]])
        out = []
        for k in counts:
            agg = k * clip.frames / measure.median(walls[k])
            row = {"what": "streams", "threads": self.threads, "streams": k,
                   "fps": round(agg, 2), "baseline_fps": round(one, 2),
                   "ratio": round(agg / one, 3), "baseline": "1 stream", "reps": reps,
                   "rss_mib": round(max(rss[k]) / 1024 / k, 1),
                   "anon_rss_mib": round(max(anon[k]) / 1024 / k, 1)}
            if cpu[k]:
                row["daemon_cpu_ms_per_frame"] = round(1000 * measure.median(cpu[k]) /
                                                       (k * clip.frames), 2)
            out.append(row)
        return out


def cpus():
    return len(os.sched_getaffinity(0))
