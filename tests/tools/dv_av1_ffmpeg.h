/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-av1client --layout ffmpeg: AV1 through FFmpeg's v4l2-request device handling
 * (dv_request_pipe.h, dv_display_order.h): set up once at the sequence header's largest frame
 * size with the sequence header set outside any request before the CAPTURE format is chosen
 * (a 10-bit stream gets P010); a shown frame is waited for as soon as it is queued, hidden
 * frames are not. The hwaccel's own AV1 file is unfinished (it sends no tile group entries and
 * a partial frame control), so the requests carry what a finished one must: AV1_SEQUENCE,
 * AV1_FRAME, the tile group entries and FILM_GRAIN, with the tile data in OUTPUT (the
 * Raspberry Pi fork's span). Prints "pic <n> <w>x<h> <md5>" or "pic <n> FAILED" per shown
 * picture in display order, like the other layouts. 0, or 1 if anything failed.
 */
#ifndef DV_AV1_FFMPEG_H
#define DV_AV1_FFMPEG_H

#include "ivf.h"

int dv_av1_ffmpeg_run(const struct ivf *ivf);

#endif
