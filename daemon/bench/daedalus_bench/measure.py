# SPDX-License-Identifier: BSD-2-Clause
"""Timing primitives. Machines that run this are shared and noisy, so every comparison is made
side by side: the candidate and its baseline run alternately, several times, and the medians
are compared. A run is a whole process (start-up included on both sides), timed with the
monotonic clock; its CPU time comes from wait4()'s resource usage."""
import os
import re
import statistics
import subprocess
import threading
import time


class RunResult:
    def __init__(self, wall, cpu, maxrss_kib, stdout, stderr, status):
        self.wall, self.cpu, self.maxrss_kib = wall, cpu, maxrss_kib
        self.stdout, self.stderr, self.status = stdout, stderr, status


def run_timed(cmd, env=None, timeout=None):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # read both pipes without letting either fill up; wait4() gives the child's usage
    chunks = {"out": [], "err": []}

    def drain(stream, key):
        for block in iter(lambda: stream.read(65536), b""):
            chunks[key].append(block)

    ts = [threading.Thread(target=drain, args=(p.stdout, "out")),
          threading.Thread(target=drain, args=(p.stderr, "err"))]
    for t in ts:
        t.start()
    # a blocking wait4() (no polling while the other side of a pair is measured); the timer
    # only kills a run that hangs
    killer = threading.Timer(timeout, p.kill) if timeout else None
    if killer:
        killer.start()
    _, status, ru = os.wait4(p.pid, 0)
    if killer:
        killer.cancel()
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in ts:
        t.join()
    out, err = b"".join(chunks["out"]), b"".join(chunks["err"])
    return RunResult(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss,
                     out.decode(errors="replace"), err.decode(errors="replace"), p.returncode)


def alternate(candidate, baseline, reps, check):
    """Runs candidate() and baseline() alternately reps times (the order flips every round so
    neither always runs on a warm cache); each returns a RunResult. check(kind, result)
    raises on a run that did not do its work. Returns (candidate results, baseline results)."""
    a, b = [], []
    for i in range(reps):
        order = [("candidate", candidate, a), ("baseline", baseline, b)]
        if i % 2:
            order.reverse()
        for kind, fn, acc in order:
            r = fn()
            check(kind, r)
            acc.append(r)
    return a, b


def alternate_n(fns, reps, check):
    """Like alternate(), for several commands: fns is a list of (kind, fn); each round runs
    them all, the order reversed every other round. Returns one result list per command."""
    acc = [[] for _ in fns]
    for i in range(reps):
        order = list(enumerate(fns))
        if i % 2:
            order.reverse()
        for k, (kind, fn) in order:
            r = fn()
            check(kind, r)
            acc[k].append(r)
    return acc


def median(values):
    return statistics.median(values)


class RssSampler:
    """Samples a process's VmRSS every interval seconds while running (the daemon's peak
    during a measurement; VmHWM would be the peak of its whole life), and apart from it
    RssAnon: the daemon's own memory (decoders' pictures and state, heap), without the
    clients' dmabufs it has mapped and touched, which VmRSS counts too (RssFile, RssShmem)."""

    def __init__(self, pid, interval=0.05):
        self.pid, self.interval = pid, interval
        self.peak_kib = self.peak_anon_kib = 0
        self.base_kib, self.base_anon_kib = self.read_both()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def read_both(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                text = f.read()
        except OSError:
            return 0, 0
        rss = re.search(r"^VmRSS:\s+(\d+)", text, re.M)
        anon = re.search(r"^RssAnon:\s+(\d+)", text, re.M)
        return int(rss.group(1)) if rss else 0, int(anon.group(1)) if anon else 0

    def read(self):
        return self.read_both()[0]

    def _loop(self):
        while not self._stop.is_set():
            rss, anon = self.read_both()
            self.peak_kib = max(self.peak_kib, rss)
            self.peak_anon_kib = max(self.peak_anon_kib, anon)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def proc_cpu_seconds(pid):
    """utime + stime of a running process (all its threads), from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def find_process(comm):
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == comm:
                        return int(d)
            except OSError:
                pass
    return None
