/* SPDX-License-Identifier: BSD-2-Clause */
#include <dlfcn.h>
#include <string.h>

#include "dav1d_lib.h"
#include "error.h"

/* Assigning a data pointer from dlsym() to a function pointer needs a detour in ISO C. */
#define RESOLVE(field)                                                                  \
	do {                                                                            \
		void *sym_ = dlsym(lib->handle, #field);                                \
		if (!sym_) {                                                            \
			dd_fail_kind(why, DD_ERR_UNSUPPORTED, "%s has no symbol %s", name,     \
				     #field);                                           \
			goto fail;                                                      \
		}                                                                       \
		memcpy(&lib->field, &sym_, sizeof(sym_));                               \
	} while (0)

int dd_dav1d_lib_load(struct dd_dav1d_lib *lib, const char *path, struct dd_error *why)
{
	const char *name = path ? path : DD_DAV1D_SONAME;
	unsigned int v;

	memset(lib, 0, sizeof(*lib));
	lib->handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!lib->handle) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "cannot load %s (built for dav1d API %d): %s", name,
			DAV1D_API_VERSION_MAJOR, dlerror());
		goto fail;
	}
	RESOLVE(dav1d_version_api);
	v = lib->dav1d_version_api();
	/* same major as the headers; the minor may be newer, never older */
	if (DAV1D_API_MAJOR(v) != DAV1D_API_VERSION_MAJOR ||
	    (int)DAV1D_API_MINOR(v) < DAV1D_API_VERSION_MINOR) {
		dd_fail(why, "%s has API %u.%u, built for %d.%d", name, DAV1D_API_MAJOR(v),
			DAV1D_API_MINOR(v), DAV1D_API_VERSION_MAJOR, DAV1D_API_VERSION_MINOR);
		goto fail;
	}
	RESOLVE(dav1d_version);
	RESOLVE(dav1d_default_settings);
	RESOLVE(dav1d_open);
	RESOLVE(dav1d_send_data);
	RESOLVE(dav1d_get_picture);
	RESOLVE(dav1d_flush);
	RESOLVE(dav1d_close);
	RESOLVE(dav1d_data_create);
	RESOLVE(dav1d_data_unref);
	RESOLVE(dav1d_picture_unref);
	RESOLVE(dav1d_data_wrap_user_data);
	RESOLVE(dav1d_get_decode_error_data_props);
	RESOLVE(dav1d_data_props_unref);
	return 0;
fail:
	/* not closed: see dd_dav1d_lib_unload() */
	memset(lib, 0, sizeof(*lib));
	return -1;
}

void dd_dav1d_lib_unload(struct dd_dav1d_lib *lib)
{
	/*
	 * Like FFmpeg's, the handle is deliberately not closed: dav1d initialises process-wide
	 * tables (CPU flags, DSP function pointers) once and never expects to be unmapped.
	 */
	memset(lib, 0, sizeof(*lib));
}
