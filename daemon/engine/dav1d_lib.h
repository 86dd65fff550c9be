/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libdav1d loaded with dlopen by the SONAME of the headers this file was compiled against
 * (libdav1d.so.7 for dav1d 1.3 and later). Dav1dSettings and Dav1dPicture change layout
 * between API majors, so a library of another major is refused rather than used.
 */
#ifndef DAEDALUS_DAV1D_LIB_H
#define DAEDALUS_DAV1D_LIB_H

#include <dav1d/dav1d.h>
#include <dav1d/version.h>

#include "engine.h"

/* The library's name for the headers' API major (what dd_dav1d_lib_load() opens by default) */
#define DD_DAV1D_STR2(x) #x
#define DD_DAV1D_STR(x) DD_DAV1D_STR2(x)
#define DD_DAV1D_SONAME "libdav1d.so." DD_DAV1D_STR(DAV1D_API_VERSION_MAJOR)

#define DD_FN(name) __typeof__(name) *name

struct dd_dav1d_lib {
	void *handle;

	DD_FN(dav1d_version);
	DD_FN(dav1d_version_api);
	DD_FN(dav1d_default_settings);
	DD_FN(dav1d_open);
	DD_FN(dav1d_send_data);
	DD_FN(dav1d_get_picture);
	DD_FN(dav1d_flush);
	DD_FN(dav1d_close);
	DD_FN(dav1d_data_create);
	DD_FN(dav1d_data_unref);
	DD_FN(dav1d_picture_unref);
	/* frame threads (max_frame_delay > 1): which job a picture or an error belongs to */
	DD_FN(dav1d_data_wrap_user_data);
	DD_FN(dav1d_get_decode_error_data_props);
	DD_FN(dav1d_data_props_unref);
};

#undef DD_FN

/* 0 with lib filled, or -1 with why filled. path NULL = the built-in SONAME. */
int dd_dav1d_lib_load(struct dd_dav1d_lib *lib, const char *path, struct dd_error *why);
/* Forgets the function table; the library stays mapped (as FFmpeg, see ffmpeg_lib.c). */
void dd_dav1d_lib_unload(struct dd_dav1d_lib *lib);

#endif
