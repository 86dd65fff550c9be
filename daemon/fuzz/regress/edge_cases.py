#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the hand-made edge-* inputs of regress/CODEC/ (committed; rerun only to change them):
messages no well-behaved kernel sends, which job.c must refuse with a reason and never read
outside: control table entries pointing past the payload area, sizes that wrap, element counts
past the array, a num_ctrls past the table, a payload area cut short, and jobs with no
bitstream, no controls ever set, HOLD without NEW_FRAME, STREAM_START in the middle, on every
CAPTURE layout. The layout of the bytes is fuzz_input.h's."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
# (elem_size, max_elems) of each control the kernel sends, in fz_codec_ctrls' order (uAPI of
# kernel 6.12: these sizes are ABI)
CTRLS = {
    "h264": [(1048, 1), (12, 1), (480, 1), (560, 1), (4, 1)],
    "vp8": [(1232, 1)],
    "vp9": [(168, 1), (2040, 1)],
    "av1": [(12, 1), (1784, 1), (16, 512), (194, 1)],
}
NEW_FRAME, HOLD, STREAM_START = 1, 2, 4
ID, ELEM_SIZE, ELEMS, OFFSET, SIZE, FLAGS, NUM_CTRLS, CTRL_BYTES = range(8)


def stream(fmt, flags, w, h, lookahead=1):
    return struct.pack("<BBBBHH", fmt, flags, lookahead, 0, w, h)


def job(codec, flags, setmask, mangles, bitstream, ts, fill=0, elems=1):
    out = struct.pack("<BBBBIQ", flags, setmask, len(mangles), 0, len(bitstream), ts)
    for ctrl, field, value in mangles:
        out += struct.pack("<BBHI", ctrl, field, 0, value)
    for i, (size, max_elems) in enumerate(CTRLS[codec]):
        if setmask & (1 << i):
            n = 1
            if max_elems > 1:
                n = elems
                out += struct.pack("<H", n)
            out += bytes([fill]) * (size * n)
    return out + bitstream


def main():
    for codec, ctrls in CTRLS.items():
        d = os.path.join(HERE, codec)
        os.makedirs(d, exist_ok=True)
        every = (1 << len(ctrls)) - 1
        bits = bytes(range(16))
        cases = {
            # each table field past the payload area, wrapped, or zero
            "edge-table": stream(0, 0, 64, 64) + b"".join(
                job(codec, NEW_FRAME | STREAM_START, every, m, bits, 1000 * (k + 1), 0x41)
                for k, m in enumerate([
                    [(0, OFFSET, 0xfffffff8)],
                    [(0, SIZE, 0xffffffff)],
                    [(1, OFFSET, 0x7ffffff8), (1, SIZE, 0x10)],
                    [(2, ELEMS, 0xffffffff)],
                    [(2, ELEM_SIZE, 0), (2, ELEMS, 0)],
                    [(0, NUM_CTRLS, 0xffffffff)],
                    [(0, NUM_CTRLS, 0)],
                    [(0, CTRL_BYTES, 0)],
                    [(3, CTRL_BYTES, 7)],
                    [(0, ID, 0), (1, ID, 0xffffffff)],
                    [(5, ID, 0xa40a00), (5, SIZE, 8), (5, ELEM_SIZE, 8)],
                ])),
            # no controls ever set, empty and short bitstreams, odd flag orders; async
            "edge-flags": stream(2, 1 | 2, 17, 9, 3) + b"".join([
                job(codec, 0, 0, [], b"", 0),
                job(codec, HOLD, 0, [], b"\x00\x00\x01", 1),
                job(codec, HOLD, 0, [], b"\x82\x49\x83\x42\x00", 1),
                job(codec, STREAM_START, every, [], bits, 2, 0xff, elems=512),
                job(codec, NEW_FRAME | HOLD, every, [], bits, 3, 0x80, elems=3),
                job(codec, 0, 0, [], bits, 3),
            ]),
            # the largest CAPTURE picture, 10 bit, garbage controls
            "edge-large": stream(1, 0, 0xffff, 0xffff) + job(codec, NEW_FRAME, every, [], bits,
                                                            7, 0x7f, elems=2),
        }
        for name, data in cases.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
