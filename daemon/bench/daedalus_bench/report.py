# SPDX-License-Identifier: BSD-2-Clause
"""The results: a table on the terminal, one JSON object per measurement (JSON lines), and a
PNG chart of the ratios (matplotlib, when it is installed)."""
import json
import os

# the project's targets (docs/performance.md), drawn on the chart and marked in the table
TARGETS = {("engine", "1"): 0.95, ("engine", "all"): 0.90, ("device", "all"): 0.85,
           ("streams", "2"): 1.7}


def target(row, cpus):
    what = row["what"]
    if what == "engine":
        return TARGETS[("engine", "1" if row["threads"] == 1 else "all")]
    if what == "device":
        return TARGETS[("device", "all")]
    if what == "streams" and row["streams"] == 2 and cpus >= 2:
        return TARGETS[("streams", "2")]
    return None


def label(row):
    bits = f" {row['bits']}-bit" if row.get("bits", 8) != 8 and "bit" not in row["clip"] else ""
    if row["what"] == "streams":
        return f"{row['clip']}{bits} x{row['streams']} streams"
    if row["what"] == "engine":
        # every engine result says how the engine was driven (older results: lookahead only)
        ahead = " " + (row.get("mode") or (f"lookahead{row['lookahead']}"
                                           if row.get("lookahead", 1) > 1 else "sync"))
    else:
        ahead = f" ahead{row['lookahead']}" if row.get("lookahead", 1) > 1 else ""
    if row["what"] == "device" and (row.get("max_inflight") or 1) > 1:
        ahead = f" inflight{row['max_inflight']}"
    return f"{row['clip']}{bits} {row['what']} t{row['threads']}{ahead}"


def cores(row):
    """"engine/baseline" cores busy (CPU time / wall time), where measured."""
    if "cores_busy" not in row:
        return ""
    return f"{row['cores_busy']:.2f}/{row['baseline_cores_busy']:.2f}"


def table(rows, cpus, out=print):
    out(f"{'measurement':<44} {'fps':>8} {'baseline':>9} {'ratio':>6} {'target':>7} "
        f"{'rss MiB':>8} {'cores':>9}  baseline")
    for r in rows:
        t = target(r, cpus)
        mark = "" if t is None else (f"{t:.2f}" + (" ok" if r["ratio"] >= t else " <"))
        out(f"{label(r):<44} {r['fps']:>8.1f} {r['baseline_fps']:>9.1f} {r['ratio']:>6.2f} "
            f"{mark:>7} {r.get('rss_mib', 0):>8.1f} {cores(r):>9}  {r.get('baseline', '')}"
            + (f"  (before: {r['before_fps']:.1f} fps, ratio {r['before_ratio']:.2f})"
               if "before_ratio" in r else ""))
    loads = [v for r in rows for v in (r.get("loadavg_before"), r.get("loadavg_after"))
             if v is not None]
    if loads:
        # a busy machine starves both sides: the cores column and this say whether it was
        out(f"(cores = CPU time / wall time, engine/baseline; load average over 1 min during "
            f"these runs: {min(loads):.2f}-{max(loads):.2f})")


def write_jsonl(rows, path, append):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a" if append else "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def chart(rows, path, cpus, title):
    """Returns None, or why no chart was drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no matplotlib (python3-matplotlib): no chart"
    if not rows:
        return "no results: no chart"
    colours = {"engine": "#4878a8", "device": "#e07b39", "streams": "#59a14f"}
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.6))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r["ratio"] for r in rows], color=[colours[r["what"]] for r in rows])
    for y, r in zip(ys, rows):
        ax.text(r["ratio"] + 0.01, y, f"{r['ratio']:.2f}", va="center", fontsize=7)
        t = target(r, cpus)
        if t is not None:
            ax.plot([t, t], [y - 0.4, y + 0.4], color="black", linewidth=1.5)
    ax.set_yticks(ys)
    ax.set_yticklabels([label(r) for r in rows], fontsize=7)
    ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("ratio (engine / library, device / GStreamer software decoder, "
                  "k streams / 1 stream); black tick = target")
    ax.set_title(title, fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    ax.legend(handles, list(colours), fontsize=7, loc="lower right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
