/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-vpxclient --pattern ffmpeg: VP8 and VP9 the way FFmpeg's v4l2-request hwaccel sends them
 * (VP8_FRAME, or VP9_FRAME and VP9_COMPRESSED_HDR, in every request with the whole frame;
 * VP9's first frame header also set outside any request before the CAPTURE format is chosen,
 * so that a 10-bit stream gets P010), through dv_request_pipe.h and dv_display_order.h: a
 * shown frame is waited for as soon as it is queued, hidden frames are not, pictures named by
 * CAPTURE index. A frame of another size or depth sets the hwaccel up anew, as FFmpeg's VP8
 * and VP9 decoders do: what is in flight finishes, a fresh probe and pool, the old pool
 * released after. Prints "pic <n> <w>x<h> <md5>" or "pic <n> FAILED" per shown picture in
 * display order, like the Chromium pattern. 0, or 1 if anything failed.
 */
#ifndef DV_VPX_FFMPEG_H
#define DV_VPX_FFMPEG_H

#include <stdbool.h>

#include "ivf.h"

int dv_vpx_ffmpeg_run(const struct ivf *ivf, bool vp9);

#endif
