/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-h264client --pattern ffmpeg: H.264 the way FFmpeg's v4l2-request hwaccel sends it
 * (frame-based mode, DECODE_MODE and START_CODE taken from the controls' defaults and set
 * back once outside any request, SPS + PPS + scaling matrix + decode parameters in every
 * request, the PPS's SCALING_MATRIX_PRESENT flag always set with the effective lists,
 * pictures named by CAPTURE index), through dv_request_pipe.h: up to 4 requests in flight,
 * CAPTURE buffers made as the pool grows while streaming, read through their exported dma-buf.
 * Prints "pic <n> <w>x<h> <md5>" or "pic <n> FAILED" per request in decoding order, like the
 * other patterns. 0, or 1 if anything failed.
 */
#ifndef DV_H264_FFMPEG_H
#define DV_H264_FFMPEG_H

#include "h264_client.h"

int dv_h264_ffmpeg_run(struct h264_client *client);

#endif
