/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libavcodec/libavutil loaded with dlopen by the SONAME of the headers this file was
 * compiled against. Struct layouts change between FFmpeg majors, so a library of another
 * major is refused rather than used.
 */
#ifndef DAEDALUS_FFMPEG_LIB_H
#define DAEDALUS_FFMPEG_LIB_H

#include <libavcodec/avcodec.h>
#include <libavutil/buffer.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>

#include "engine.h"

/* The libraries' names for the headers' majors (what dd_ffmpeg_lib_load() opens by default) */
#define DD_AVCODEC_SONAME "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR)
#define DD_AVUTIL_SONAME "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR)

#define DD_FN(name) __typeof__(name) *name

struct dd_ffmpeg_lib {
	void *avcodec_handle;
	void *avutil_handle;

	DD_FN(avcodec_version);
	DD_FN(avcodec_find_decoder);
	DD_FN(avcodec_alloc_context3);
	DD_FN(avcodec_open2);
	DD_FN(avcodec_send_packet);
	DD_FN(avcodec_receive_frame);
	DD_FN(avcodec_flush_buffers);
	DD_FN(avcodec_free_context);
	DD_FN(avcodec_default_get_buffer2);
	DD_FN(avcodec_get_class);
	DD_FN(av_packet_alloc);
	DD_FN(av_packet_free);

	DD_FN(avutil_version);
	DD_FN(av_frame_alloc);
	DD_FN(av_frame_free);
	DD_FN(av_frame_ref);
	DD_FN(av_frame_unref);
	DD_FN(av_buffer_create);
	DD_FN(av_buffer_unref);
	DD_FN(av_log_set_callback);
	DD_FN(av_log_set_level);
	DD_FN(av_log_format_line2);
	DD_FN(av_strerror);
};

#undef DD_FN

/* 0 with lib filled, or -1 with why filled. Libraries are never unloaded (ffmpeg_lib.c). */
int dd_ffmpeg_lib_load(struct dd_ffmpeg_lib *lib, const char *avcodec_path,
		       const char *avutil_path, struct dd_error *why);
/* Forgets the function table; the libraries stay mapped (see ffmpeg_lib.c). */
void dd_ffmpeg_lib_unload(struct dd_ffmpeg_lib *lib);

#endif
