/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-vpxclient --pattern ffmpeg: VP8 and VP9 the way FFmpeg's v4l2-request hwaccel sends them
 * (VP8_FRAME, or VP9_FRAME and VP9_COMPRESSED_HDR, in every request with the whole frame;
 * VP9's first frame header also set outside any request before the CAPTURE format is chosen,
 * so that a 10-bit stream gets P010), through dv_request_pipe.h: up to 4 requests in flight,
 * pictures named by CAPTURE index, the frame pool grown while streaming, pictures read
 * through their exported dma-buf. A key frame of another size or depth finishes what is in
 * flight and starts over with a fresh probe and fresh buffers (the hwaccel is set up anew).
 * Prints "pic <n> <w>x<h> <md5>" or "pic <n> FAILED" per shown picture in display order,
 * like the Chromium pattern. 0, or 1 if anything failed.
 */
#ifndef DV_VPX_FFMPEG_H
#define DV_VPX_FFMPEG_H

#include <stdbool.h>

#include "ivf.h"

int dv_vpx_ffmpeg_run(const struct ivf *ivf, bool vp9);

#endif
