/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Stands in for an FFmpeg of another major version (one above the headers'), so the unit
 * tests can check that the engine refuses it instead of using mismatched struct layouts.
 */
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>

unsigned avcodec_version(void)
{
	return (unsigned)(LIBAVCODEC_VERSION_MAJOR + 1) << 16;
}

unsigned avutil_version(void)
{
	return (unsigned)(LIBAVUTIL_VERSION_MAJOR + 1) << 16;
}
