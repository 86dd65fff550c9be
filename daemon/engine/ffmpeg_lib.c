/* SPDX-License-Identifier: BSD-2-Clause */
#include <dlfcn.h>
#include <string.h>

#include "error.h"
#include "ffmpeg_lib.h"

static int resolve(void *handle, const char *lib_name, const char *sym, void **out,
		   struct dd_error *why)
{
	void *p;

	dlerror();
	p = dlsym(handle, sym);
	if (!p)
		return dd_fail_kind(why, DD_ERR_UNSUPPORTED, "%s has no symbol %s", lib_name, sym);
	*out = p;
	return 0;
}

/* Assigning a data pointer from dlsym() to a function pointer needs a detour in ISO C. */
#define RESOLVE(handle, lib_name, field)                                               \
	do {                                                                           \
		void *sym_ = NULL;                                                          \
		if (resolve(handle, lib_name, #field, &sym_, why))                     \
			goto fail;                                                     \
		memcpy(&lib->field, &sym_, sizeof(sym_));                             \
	} while (0)

int dd_ffmpeg_lib_load(struct dd_ffmpeg_lib *lib, const char *avcodec_path,
		       const char *avutil_path, struct dd_error *why)
{
	const char *cname = avcodec_path ? avcodec_path : DD_AVCODEC_SONAME;
	const char *uname = avutil_path ? avutil_path : DD_AVUTIL_SONAME;
	unsigned int cv, uv;

	memset(lib, 0, sizeof(*lib));
	/* avutil first: avcodec needs it, and its version is checked on its own */
	lib->avutil_handle = dlopen(uname, RTLD_NOW | RTLD_LOCAL);
	if (!lib->avutil_handle) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "cannot load %s (built for FFmpeg lavu %d): %s", uname,
			LIBAVUTIL_VERSION_MAJOR, dlerror());
		goto fail;
	}
	lib->avcodec_handle = dlopen(cname, RTLD_NOW | RTLD_LOCAL);
	if (!lib->avcodec_handle) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "cannot load %s (built for FFmpeg lavc %d): %s", cname,
			LIBAVCODEC_VERSION_MAJOR, dlerror());
		goto fail;
	}

	RESOLVE(lib->avutil_handle, uname, avutil_version);
	RESOLVE(lib->avcodec_handle, cname, avcodec_version);
	uv = lib->avutil_version();
	cv = lib->avcodec_version();
	/* same major as the headers; the minor may be newer, never older */
	if (uv >> 16 != LIBAVUTIL_VERSION_MAJOR ||
	    (uv >> 8 & 0xff) < LIBAVUTIL_VERSION_MINOR) {
		dd_fail(why, "%s is version %u.%u, built for %d.%d", uname, uv >> 16,
			uv >> 8 & 0xff, LIBAVUTIL_VERSION_MAJOR, LIBAVUTIL_VERSION_MINOR);
		goto fail;
	}
	if (cv >> 16 != LIBAVCODEC_VERSION_MAJOR ||
	    (cv >> 8 & 0xff) < LIBAVCODEC_VERSION_MINOR) {
		dd_fail(why, "%s is version %u.%u, built for %d.%d", cname, cv >> 16,
			cv >> 8 & 0xff, LIBAVCODEC_VERSION_MAJOR, LIBAVCODEC_VERSION_MINOR);
		goto fail;
	}

	RESOLVE(lib->avcodec_handle, cname, avcodec_find_decoder);
	RESOLVE(lib->avcodec_handle, cname, avcodec_alloc_context3);
	RESOLVE(lib->avcodec_handle, cname, avcodec_open2);
	RESOLVE(lib->avcodec_handle, cname, avcodec_send_packet);
	RESOLVE(lib->avcodec_handle, cname, avcodec_receive_frame);
	RESOLVE(lib->avcodec_handle, cname, avcodec_flush_buffers);
	RESOLVE(lib->avcodec_handle, cname, avcodec_free_context);
	RESOLVE(lib->avcodec_handle, cname, avcodec_default_get_buffer2);
	RESOLVE(lib->avcodec_handle, cname, avcodec_get_class);
	RESOLVE(lib->avcodec_handle, cname, av_packet_alloc);
	RESOLVE(lib->avcodec_handle, cname, av_packet_free);
	RESOLVE(lib->avutil_handle, uname, av_frame_alloc);
	RESOLVE(lib->avutil_handle, uname, av_frame_free);
	RESOLVE(lib->avutil_handle, uname, av_frame_ref);
	RESOLVE(lib->avutil_handle, uname, av_frame_unref);
	RESOLVE(lib->avutil_handle, uname, av_buffer_create);
	RESOLVE(lib->avutil_handle, uname, av_buffer_unref);
	RESOLVE(lib->avutil_handle, uname, av_log_set_callback);
	RESOLVE(lib->avutil_handle, uname, av_log_set_level);
	RESOLVE(lib->avutil_handle, uname, av_log_format_line2);
	RESOLVE(lib->avutil_handle, uname, av_strerror);
	return 0;

fail:
	/*
	 * Not closed either (see below): loading libavcodec ran the constructors of its many
	 * dependencies, whose allocations dlclose() would orphan. Nothing is ever called
	 * through a refused library, and RTLD_LOCAL keeps its symbols out of everyone's way.
	 */
	memset(lib, 0, sizeof(*lib));
	return -1;
}

void dd_ffmpeg_lib_unload(struct dd_ffmpeg_lib *lib)
{
	/*
	 * The handles are deliberately not closed. Once used, FFmpeg holds process-wide state
	 * (tables built once, CPU flags, the log callback) in its own globals and never expects
	 * to be unmapped: closing it would leak that state and risk a later call into unmapped
	 * code. A second dlopen() of a loaded library just returns the same handle.
	 */
	memset(lib, 0, sizeof(*lib));
}
