#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Proves that each H.264 test clip uses the coding tools it is meant to test, read from its
parameter sets and slice headers with FFmpeg's trace_headers bitstream filter (an encoder
upgrade that silently dropped a tool would otherwise leave a test that tests nothing).
Usage: h264-features.py CLIP-NAME CLIP-FILE; prints one line, exit 1 if a feature is missing.
       h264-features.py --all WORKDIR: every clip listed here, made in WORKDIR if missing
       (tests/unit/h264-clip-features.sh).
"""
import os
import re
import subprocess
import sys

# clip: [(description, syntax element, predicate on the set of values it takes)]
FEATURES = {
    "h264-baseline": [("Baseline profile", "profile_idc", lambda v: v == {66}),
                      ("CAVLC", "entropy_coding_mode_flag", lambda v: v == {0}),
                      ("POC type 2", "pic_order_cnt_type", lambda v: v == {2})],
    "h264-main-bpyramid": [("Main profile", "profile_idc", lambda v: v == {77}),
                           ("CABAC", "entropy_coding_mode_flag", lambda v: v == {1}),
                           ("B-frames", "slice_type", lambda v: bool(v & {1, 6})),
                           ("B-frames as references (pyramid)", "ref_b", lambda v: bool(v)),
                           ("weighted P", "weighted_pred_flag", lambda v: 1 in v),
                           ("weighted B", "weighted_bipred_idc", lambda v: bool(v - {0})),
                           ("P-frame weight tables", "luma_log2_weight_denom",
                            lambda v: bool(v))],
    "h264-high-cqm": [("High profile", "profile_idc", lambda v: v == {100}),
                      ("8x8 transform", "transform_8x8_mode_flag", lambda v: 1 in v),
                      ("scaling lists in the PPS", "pic_scaling_matrix_present_flag",
                       lambda v: 1 in v)],
    "h264-slices": [("several slices per picture", "first_mb_in_slice",
                     lambda v: len(v) >= 4)],
    "h264-slices-sized": [("several slices per picture", "first_mb_in_slice",
                           lambda v: len(v) >= 2),
                          ("a picture of one slice after one of several", "one_after_several",
                           lambda v: bool(v))],
    "h264-high10": [("High 10 profile", "profile_idc", lambda v: v == {110}),
                    ("10-bit", "bit_depth_luma_minus8", lambda v: v == {2})],
    "h264-odd": [("cropping", "frame_cropping_flag", lambda v: v == {1})],
    "h264-mbaff": [("MBAFF", "mb_adaptive_frame_field_flag", lambda v: v == {1}),
                   ("interlaced", "frame_mbs_only_flag", lambda v: v == {0})],
    "h264-paff": [("field pictures", "field_pic_flag", lambda v: v == {1}),
                  ("bottom fields", "bottom_field_flag", lambda v: v == {0, 1}),
                  ("interlaced", "frame_mbs_only_flag", lambda v: v == {0}),
                  ("several slices per picture", "first_mb_in_slice", lambda v: len(v) >= 2),
                  ("several field references", "num_ref_idx_l0_active_minus1",
                   lambda v: max(v) >= 3)],
    "h264-paff-short": [("field pictures", "field_pic_flag", lambda v: v == {1}),
                        ("interlaced", "frame_mbs_only_flag", lambda v: v == {0}),
                        ("IDR pictures after the first", "idr_pic_id", lambda v: v == {0, 1})],
    "h264-paff-idr": [("field pictures", "field_pic_flag", lambda v: v == {1}),
                      ("IDR pictures after the first", "idr_pic_id", lambda v: v == {0, 1})],
    # an I slice outside an IDR picture starts each open GOP
    "h264-opengop": [("non-IDR I-frames", "nonidr_i", lambda v: bool(v))],
}

LINE = re.compile(r"\]\s+\d+\s+(\w+)(?:\[[\d\]\[]*)?\s+[01]+\s+=\s+(-?\d+)")


def values(path):
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", path, "-c", "copy",
                          "-bsf:v", "trace_headers", "-f", "null", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True).stdout
    seen, nal_type, ref_idc, slices = {}, None, 0, []
    for line in out.decode(errors="replace").splitlines():
        m = LINE.search(line)
        if not m:
            continue
        name, val = m.group(1), int(m.group(2))
        seen.setdefault(name, set()).add(val)
        # slices per picture (a picture starts at macroblock 0)
        if name == "first_mb_in_slice":
            if val == 0:
                slices.append(0)
            if slices:
                slices[-1] += 1
        if name == "nal_unit_type":
            nal_type = val
        if name == "nal_ref_idc":
            ref_idc = val
        if name == "slice_type" and val % 5 == 1 and ref_idc:
            seen.setdefault("ref_b", set()).add(1)
        if name == "slice_type" and nal_type == 1 and val % 5 == 2:
            seen.setdefault("nonidr_i", set()).add(1)
    if any(a > 1 and b == 1 for a, b in zip(slices, slices[1:])):
        seen.setdefault("one_after_several", set()).add(1)
    return seen


def main():
    if sys.argv[1] == "--all":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import clips
        return max(check(n, clips.make_clip("ffmpeg", sys.argv[2], n)) for n in FEATURES)
    return check(sys.argv[1], sys.argv[2])


def check(name, path):
    seen = values(path)
    missing = [d for d, elem, ok in FEATURES[name] if not ok(seen.get(elem, set()))]
    have = [d for d, _, _ in FEATURES[name] if d not in missing]
    if missing:
        print(f"FAIL {name} lacks: {', '.join(missing)}")
        return 1
    print(f"ok   {name} uses: {', '.join(have)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
