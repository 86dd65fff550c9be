/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-h264client --pattern ffmpeg: H.264 the way FFmpeg's v4l2-request hwaccel sends it
 * (frame-based mode, DECODE_MODE and START_CODE taken from the controls' defaults and set
 * back once outside any request, SPS + PPS + scaling matrix + decode parameters in every
 * request, the PPS's SCALING_MATRIX_PRESENT flag always set with the effective lists and the
 * chroma 8x8 lists zero for 4:2:0, the DPB newest first with its POCs, pictures named by
 * CAPTURE index), through dv_request_pipe.h. A picture's request is waited for when FFmpeg
 * would hand the picture out: in POC order once more pictures wait than the SPS's reorder
 * depth (lengthened when a picture comes out of order, as FFmpeg does), all of them before an
 * IDR; so with B-frames several requests are in flight. Prints "pic <n> <w>x<h> <md5>" or
 * "pic <n> FAILED" per request in decoding order, like the other patterns, and a summary line
 * on stderr. 0, or 1 if anything failed.
 */
#ifndef DV_H264_FFMPEG_H
#define DV_H264_FFMPEG_H

#include "h264_client.h"

int dv_h264_ffmpeg_run(struct h264_client *client);

#endif
