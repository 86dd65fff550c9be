#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""h264-paff.py OUT.h264 [--width W] [--height H] [--frames N] [--seed S]
                         [--bottom-first-every N] [--slices K] [--idr-every N]

Writes an H.264 Annex B elementary stream whose every frame is coded as two field pictures
(PAFF, field_pic_flag 1), which neither x264 nor OpenH264 can produce. Written from the
H.264 specification (7.3 syntax, 9.1 Exp-Golomb codes, 7.4.1 emulation prevention), it
needs no encoder and no reconstruction: no macroblock carries a residual.

 - SPS: Main profile, level 3.0, frame_mbs_only_flag 0 without MBAFF, POC type 0,
   MaxFrameNum 16, max_num_ref_frames 3. PPS: CAVLC, deblocking control present.
 - Frame 0: an IDR I field of I_PCM macroblocks (a gradient, two moving shapes, a little
   noise), then a P field predicted from it. Later frames: two P fields. Every field is a
   reference (nal_ref_idc != 0), marked by the sliding window.
 - P fields mix P_Skip, P_L0_16x16 (a random ref_idx_l0 among the active references, a small
   random mvd, coded_block_pattern 0) and about 5 % I_PCM macroblocks. Each P slice sets
   num_ref_idx_l0_active_minus1 to min(reference fields in the DPB, 4) - 1 (8.2.5.3, 8.2.4.2.5).
 - Field order: top field first; with --bottom-first-every N, frames N-1, 2N-1, ... (every
   N-th frame, counting from 1) code their bottom field first. POC: frame i's first field
   2i, its second 2i+1, so output order is decoding order.
 - --slices K: K slices per field, split at macroblock row boundaries.
 - --idr-every N: frames 0, N, 2N, ... start with an IDR I field as frame 0 does (frame_num
   and POC start again there, idr_pic_id alternates 0 and 1): a stream with access points
   a decoder can resume at.
The output depends only on the arguments (random.Random(seed)).
"""
import argparse
import math
import random
import sys

PROFILE_IDC = 77            # Main
LEVEL_IDC = 30              # 3.0
LEVEL_MAX_FS = 1620         # Table A-1, level 3.0: MaxFS in macroblocks
LOG2_MAX_FRAME_NUM = 4      # log2_max_frame_num_minus4 = 0
MAX_NUM_REF_FRAMES = 3
MAX_ACTIVE_REFS = 4         # cap on num_ref_idx_l0_active_minus1 + 1
MAX_MVD = 8                 # |mvd| in quarter samples
MAX_MV = 64                 # |mv| kept within this many quarter samples (Table A-1 allows far more)
P_PCM, P_SKIP = 0.05, 0.30  # macroblock mix of P fields; the rest is P_L0_16x16

NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS = 1, 5, 7, 8
SLICE_P, SLICE_I = 0, 2
MB_I_PCM_I, MB_I_PCM_P, MB_P_L0_16X16 = 25, 30, 0


class BitWriter:
    """An RBSP under construction, most significant bit first."""

    def __init__(self):
        self.buf = bytearray()
        self.acc = 0
        self.nacc = 0

    def u(self, n, val):
        assert 0 <= val < (1 << n)
        self.acc = (self.acc << n) | val
        self.nacc += n
        while self.nacc >= 8:
            self.nacc -= 8
            self.buf.append((self.acc >> self.nacc) & 0xff)
        self.acc &= (1 << self.nacc) - 1

    def ue(self, val):
        # 9.1: codeNum + 1 in binary, preceded by as many zero bits as it has bits minus one
        assert val >= 0
        n = (val + 1).bit_length()
        self.u(n - 1, 0)
        self.u(n, val + 1)

    def se(self, val):
        # 9.1.1: k > 0 -> 2k - 1, k <= 0 -> -2k
        self.ue(2 * val - 1 if val > 0 else -2 * val)

    def te(self, cmax, val):
        # 9.1: cMax 1 -> one inverted bit, otherwise ue(v)
        assert 0 <= val <= cmax and cmax >= 1
        if cmax == 1:
            self.u(1, 1 - val)
        else:
            self.ue(val)

    def align_zero(self):
        if self.nacc:
            self.u(8 - self.nacc, 0)

    def bytes(self):
        assert self.nacc == 0
        return bytes(self.buf)

    def trailing(self):
        # 7.3.2.11 rbsp_trailing_bits: the stop bit, then zero bits to the byte boundary
        self.u(1, 1)
        self.align_zero()
        return self.bytes()


def nal(ref_idc, nal_type, rbsp):
    """7.3.1 / 7.4.1: NAL header, then the RBSP with emulation prevention bytes; Annex B start
    code in front."""
    out = bytearray(b"\x00\x00\x00\x01")
    out.append((ref_idc << 5) | nal_type)
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class Picture:
    """The synthetic scene: a gradient, a moving disc and a moving box, a little noise.
    Coordinates are frame coordinates; t counts fields."""

    def __init__(self, width, height, seed):
        self.w, self.h, self.seed = width, height, seed & 0xffffffff

    def _noise(self, x, y, t, plane):
        v = (x * 73856093) ^ (y * 19349663) ^ (t * 83492791) ^ (plane * 2654435761) ^ self.seed
        v = (v ^ (v >> 13)) * 1274126177 & 0xffffffff
        return (v >> 16) % 7 - 3

    def _shapes(self, x, y, t):
        w, h = self.w, self.h
        cx = (w * 0.25 + 3 * t) % w
        cy = h * 0.5 + h * 0.25 * math.sin(t / 9.0)
        r = h / 6.0
        if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
            return 1
        bx = (w * 0.7 - 2 * t) % w
        by = (h * 0.15 + t) % h
        if bx <= x < bx + w / 6.0 and by <= y < by + h / 5.0:
            return 2
        return 0

    @staticmethod
    def _clip(v):
        return min(255, max(1, int(v)))

    def luma(self, x, y, t):
        s = self._shapes(x, y, t)
        base = (235, 235, 40)[s] if s else 24 + 150 * x / self.w + 60 * y / self.h
        return self._clip(base + self._noise(x, y, t, 0))

    def chroma(self, cx, cy, t, plane):
        x, y = 2 * cx, 2 * cy
        s = self._shapes(x, y, t)
        if s:
            base = ((90, 200), (200, 80))[s - 1][plane]
        elif plane == 0:
            base = 128 + 64 * (x - self.w / 2) / self.w
        else:
            base = 128 + 64 * (y - self.h / 2) / self.h
        return self._clip(base + self._noise(cx, cy, t, plane + 1))

    def pcm(self, mbx, mby, bottom, t):
        """The 384 pcm samples of field macroblock (mbx, mby) of the field of parity bottom:
        field row j is frame row 2j + bottom, in luma and (4:2:0) chroma alike."""
        out = bytearray()
        for j in range(16):
            y = 2 * (16 * mby + j) + bottom
            out.extend(self.luma(16 * mbx + i, y, t) for i in range(16))
        for plane in (0, 1):
            for j in range(8):
                cy = 2 * (8 * mby + j) + bottom
                out.extend(self.chroma(8 * mbx + i, cy, t, plane) for i in range(8))
        return bytes(out)


def sps_rbsp(width_mbs, frame_height_mbs, log2_max_poc_lsb):
    b = BitWriter()
    b.u(8, PROFILE_IDC)
    b.u(8, 0)                           # constraint_set0..5_flag, reserved_zero_2bits
    b.u(8, LEVEL_IDC)
    b.ue(0)                             # seq_parameter_set_id
    b.ue(LOG2_MAX_FRAME_NUM - 4)        # log2_max_frame_num_minus4
    b.ue(0)                             # pic_order_cnt_type
    b.ue(log2_max_poc_lsb - 4)          # log2_max_pic_order_cnt_lsb_minus4
    b.ue(MAX_NUM_REF_FRAMES)            # max_num_ref_frames
    b.u(1, 0)                           # gaps_in_frame_num_value_allowed_flag
    b.ue(width_mbs - 1)                 # pic_width_in_mbs_minus1
    b.ue(frame_height_mbs // 2 - 1)     # pic_height_in_map_units_minus1 (field MB rows)
    b.u(1, 0)                           # frame_mbs_only_flag
    b.u(1, 0)                           # mb_adaptive_frame_field_flag
    b.u(1, 1)                           # direct_8x8_inference_flag
    b.u(1, 0)                           # frame_cropping_flag
    b.u(1, 0)                           # vui_parameters_present_flag
    return b.trailing()


def pps_rbsp():
    b = BitWriter()
    b.ue(0)         # pic_parameter_set_id
    b.ue(0)         # seq_parameter_set_id
    b.u(1, 0)       # entropy_coding_mode_flag: CAVLC
    b.u(1, 0)       # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)         # num_slice_groups_minus1
    b.ue(0)         # num_ref_idx_l0_default_active_minus1
    b.ue(0)         # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)       # weighted_pred_flag
    b.u(2, 0)       # weighted_bipred_idc
    b.se(0)         # pic_init_qp_minus26
    b.se(0)         # pic_init_qs_minus26
    b.se(0)         # chroma_qp_index_offset
    b.u(1, 1)       # deblocking_filter_control_present_flag
    b.u(1, 0)       # constrained_intra_pred_flag
    b.u(1, 0)       # redundant_pic_cnt_present_flag
    return b.trailing()


def slice_header(b, first_mb, slice_type, frame_num, bottom, idr, poc_lsb, log2_max_poc_lsb,
                 num_ref_minus1, idr_pic_id=0):
    """7.3.3 for a field picture of a stream with the SPS and PPS above; nal_ref_idc != 0."""
    b.ue(first_mb)                      # first_mb_in_slice
    b.ue(slice_type)
    b.ue(0)                             # pic_parameter_set_id
    b.u(LOG2_MAX_FRAME_NUM, frame_num)  # frame_num
    b.u(1, 1)                           # field_pic_flag
    b.u(1, bottom)                      # bottom_field_flag
    if idr:
        b.ue(idr_pic_id)                # idr_pic_id
    b.u(log2_max_poc_lsb, poc_lsb)      # pic_order_cnt_lsb
    if slice_type == SLICE_P:
        override = num_ref_minus1 != 0  # the PPS default is 0
        b.u(1, int(override))           # num_ref_idx_active_override_flag
        if override:
            b.ue(num_ref_minus1)        # num_ref_idx_l0_active_minus1
        b.u(1, 0)                       # ref_pic_list_modification_flag_l0
    # dec_ref_pic_marking (nal_ref_idc != 0)
    if idr:
        b.u(1, 0)                       # no_output_of_prior_pics_flag
        b.u(1, 0)                       # long_term_reference_flag
    else:
        b.u(1, 0)                       # adaptive_ref_pic_marking_mode_flag: sliding window
    b.se(0)                             # slice_qp_delta
    b.ue(0)                             # disable_deblocking_filter_idc
    b.se(0)                             # slice_alpha_c0_offset_div2
    b.se(0)                             # slice_beta_offset_div2


def write_pcm(b, mb_type, samples):
    b.ue(mb_type)
    b.align_zero()                      # pcm_alignment_zero_bit
    b.buf.extend(samples)               # byte aligned: 256 luma, 64 Cb, 64 Cr samples


class MotionField:
    """The motion of one field's macroblocks, for the predictions of 8.4.1.1 and 8.4.1.3
    (no MBAFF, one 16x16 partition per macroblock). None: not decoded yet or intra."""

    def __init__(self, width_mbs, n):
        self.w = width_mbs
        self.mb = [None] * n
        self.done = [False] * n
        self.slice_start = 0

    def _neighbour(self, cur, dx, dy):
        x, y = cur % self.w + dx, cur // self.w + dy
        if x < 0 or x >= self.w or y < 0:
            return None
        a = y * self.w + x
        if a < self.slice_start or a >= cur or not self.done[a]:
            return None
        return a

    def _ref_mv(self, a):
        if a is None or self.mb[a] is None:     # unavailable or intra
            return -1, (0, 0)
        return self.mb[a]

    def predict(self, cur, ref):
        a = self._neighbour(cur, -1, 0)
        bb = self._neighbour(cur, 0, -1)
        c = self._neighbour(cur, 1, -1)
        if c is None:
            c = self._neighbour(cur, -1, -1)    # D replaces C
        if bb is None and c is None and a is not None:
            bb = c = a
        n = [self._ref_mv(x) for x in (a, bb, c)]
        same = [mv for r, mv in n if r == ref]
        if len(same) == 1:
            return same[0]
        return tuple(sorted(mv[k] for _, mv in n)[1] for k in (0, 1))

    def predict_skip(self, cur):
        a = self._neighbour(cur, -1, 0)
        bb = self._neighbour(cur, 0, -1)
        if a is None or bb is None:
            return (0, 0)
        for x in (a, bb):
            r, mv = self._ref_mv(x)
            if r == 0 and mv == (0, 0):
                return (0, 0)
        return self.predict(cur, 0)

    def set(self, cur, value):
        self.mb[cur] = value
        self.done[cur] = True


def slice_rows(field_height_mbs, slices):
    """First macroblock row of each slice: the rows shared out as evenly as they go."""
    return [field_height_mbs * k // slices for k in range(slices)]


def p_slice_data(b, rng, pic, mf, first, end, width_mbs, bottom, t, num_ref):
    mf.slice_start = first
    skip_run = 0
    for addr in range(first, end):
        r = rng.random()
        if r < P_PCM:
            kind = "pcm"
        elif r < P_PCM + P_SKIP:
            kind = "skip"
        else:
            kind = "inter"
        if kind == "skip":
            mf.set(addr, (0, mf.predict_skip(addr)))
            skip_run += 1
            continue
        b.ue(skip_run)                  # mb_skip_run
        skip_run = 0
        if kind == "pcm":
            write_pcm(b, MB_I_PCM_P, pic.pcm(addr % width_mbs, addr // width_mbs, bottom, t))
            mf.set(addr, None)
            continue
        ref = rng.randrange(num_ref)
        mvp = mf.predict(addr, ref)
        mvd = [rng.randint(max(-MAX_MVD, -MAX_MV - p), min(MAX_MVD, MAX_MV - p)) for p in mvp]
        b.ue(MB_P_L0_16X16)             # mb_type
        if num_ref > 1:
            b.te(num_ref - 1, ref)      # ref_idx_l0
        b.se(mvd[0])                    # mvd_l0[0][0][0] (x)
        b.se(mvd[1])                    # mvd_l0[0][0][1] (y)
        b.ue(0)                         # coded_block_pattern me(v): inter cbp 0 is codeNum 0
        mf.set(addr, (ref, (mvp[0] + mvd[0], mvp[1] + mvd[1])))
    if skip_run:
        b.ue(skip_run)


def ref_fields_available(frame, second):
    """Reference fields in the DPB when decoding a field of frame `frame` (frames decoded in
    order, every field a short-term reference, sliding window, max_num_ref_frames 3).

    Marking a first field runs the sliding window (8.2.5.3) over the earlier frames: when
    they fill max_num_ref_frames, the oldest leaves. The second field of a reference frame
    does not run it, and has its own first field as a reference (8.2.4.2.5)."""
    if not second:
        return 2 * min(frame, MAX_NUM_REF_FRAMES)
    return 2 * min(frame, MAX_NUM_REF_FRAMES - 1) + 1


def write_stream(out, width, height, frames, seed, bottom_first_every, slices, idr_every=0):
    rng = random.Random(seed)
    pic = Picture(width, height, seed)
    width_mbs, frame_height_mbs = width // 16, height // 16
    field_height_mbs = frame_height_mbs // 2
    field_mbs = width_mbs * field_height_mbs
    # POC lsb wide enough for every field's POC (2 * frames values): it never wraps
    log2_max_poc_lsb = min(16, max(4, (2 * frames - 1).bit_length()))
    max_poc_lsb = 1 << log2_max_poc_lsb
    rows = slice_rows(field_height_mbs, slices)
    starts = [r * width_mbs for r in rows] + [field_mbs]

    out.write(nal(3, NAL_SPS, sps_rbsp(width_mbs, frame_height_mbs, log2_max_poc_lsb)))
    out.write(nal(3, NAL_PPS, pps_rbsp()))
    for i in range(frames):
        bottom_first = bool(bottom_first_every) and i % bottom_first_every == bottom_first_every - 1
        # frames since the last IDR: frame_num, POC and the references start again there
        since = i % idr_every if idr_every else i
        frame_num = since % (1 << LOG2_MAX_FRAME_NUM)
        for second in (0, 1):
            bottom = int(bottom_first) ^ second
            t = 2 * i + second
            poc_lsb = (2 * since + second) % max_poc_lsb
            idr = since == 0 and not second
            num_ref = min(ref_fields_available(since, second), MAX_ACTIVE_REFS)
            mf = MotionField(width_mbs, field_mbs)
            for k in range(slices):
                first, end = starts[k], starts[k + 1]
                b = BitWriter()
                slice_header(b, first, SLICE_I if idr else SLICE_P, frame_num, bottom, idr,
                             poc_lsb, log2_max_poc_lsb, num_ref - 1,
                             (i // idr_every) % 2 if idr_every else 0)
                if idr:
                    for addr in range(first, end):
                        write_pcm(b, MB_I_PCM_I,
                                  pic.pcm(addr % width_mbs, addr // width_mbs, bottom, t))
                else:
                    p_slice_data(b, rng, pic, mf, first, end, width_mbs, bottom, t, num_ref)
                out.write(nal(3 if idr else 2, NAL_IDR if idr else NAL_SLICE, b.trailing()))


def main():
    ap = argparse.ArgumentParser(description="Writes an H.264 stream of field pictures (PAFF).")
    ap.add_argument("out", metavar="OUT.h264")
    ap.add_argument("--width", type=int, default=352, help="multiple of 16 (default 352)")
    ap.add_argument("--height", type=int, default=288, help="multiple of 32 (default 288)")
    ap.add_argument("--frames", type=int, default=24, help="frames, two fields each (default 24)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bottom-first-every", type=int, default=0, metavar="N",
                    help="every N-th frame codes its bottom field first (default: none)")
    ap.add_argument("--slices", type=int, default=1, help="slices per field (default 1)")
    ap.add_argument("--idr-every", type=int, default=0, metavar="N",
                    help="an IDR every N frames (default: frame 0 only)")
    args = ap.parse_args()
    if args.width <= 0 or args.width % 16 or args.height <= 0 or args.height % 32:
        ap.error("width must be a multiple of 16, height a multiple of 32")
    mbs = args.width // 16 * (args.height // 16)
    limit = math.isqrt(8 * LEVEL_MAX_FS)
    if mbs > LEVEL_MAX_FS or args.width // 16 > limit or args.height // 16 > limit:
        ap.error("the picture exceeds level 3.0 (MaxFS 1620 macroblocks)")
    if args.frames < 1:
        ap.error("--frames must be at least 1")
    if args.bottom_first_every < 0:
        ap.error("--bottom-first-every must be positive")
    if args.idr_every < 0:
        ap.error("--idr-every must be positive")
    if not 1 <= args.slices <= args.height // 32:
        ap.error("--slices must be between 1 and the field's macroblock rows (%d)"
                 % (args.height // 32))
    with open(args.out, "wb") as f:
        write_stream(f, args.width, args.height, args.frames, args.seed,
                     args.bottom_first_every, args.slices, args.idr_every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
