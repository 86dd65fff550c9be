/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libavcodec's pictures counted by the stream's meter (picture_meter.h). The FFmpeg backend
 * lets libavcodec allocate each picture from its own pools (avcodec_default_get_buffer2) and
 * then wraps every plane's buffer in one of ours, which gives the plane's bytes back to the
 * meter when libavcodec, the engine or anyone else drops the last reference to it. Buffers
 * back in libavcodec's pools are not counted; the pools grow only while every buffer in
 * them is out, so what the meter holds bounds them too, give or take the picture of a
 * refusal (allocated before the meter saw it, then handed back to its pool).
 */
#ifndef DAEDALUS_FFMPEG_PICTURES_H
#define DAEDALUS_FFMPEG_PICTURES_H

#include "ffmpeg_lib.h"
#include "picture_meter.h"

/*
 * Takes frame's bytes from meter and wraps its buffers (get_buffer2, right after the
 * default allocation). 0, or AVERROR(ENOMEM) with frame unreferenced: the meter refused it
 * (*refused set) or memory ran out.
 */
int ff_meter_frame(const struct dd_ffmpeg_lib *lib, struct dd_meter *meter, AVFrame *frame,
		   bool *refused);

#endif
