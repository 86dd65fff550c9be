/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-av1client --layout ffmpeg: AV1 the way FFmpeg's v4l2-request hwaccel sends it (the
 * sequence header set outside any request before the CAPTURE format is chosen, so that a
 * 10-bit stream gets P010; AV1_SEQUENCE, AV1_FRAME, the tile group entries and FILM_GRAIN in
 * every request; the OUTPUT buffer holding the tile data only), through dv_request_pipe.h: up
 * to 4 requests in flight, pictures named by CAPTURE index, the frame pool grown while
 * streaming, pictures read through their exported dma-buf. A key frame of another size or
 * depth finishes what is in flight and starts over with a fresh probe (the hwaccel is set up
 * anew). Prints "pic <n> <w>x<h> <md5>" or "pic <n> FAILED" per shown picture in display
 * order, like the other layouts. 0, or 1 if anything failed.
 */
#ifndef DV_AV1_FFMPEG_H
#define DV_AV1_FFMPEG_H

#include "ivf.h"

int dv_av1_ffmpeg_run(const struct ivf *ivf);

#endif
