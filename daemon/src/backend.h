/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The backend interface: what a decoder implementation (FFmpeg today, daedalus-fourier
 * with NEON + VideoCore VII later) provides to the engine.
 *
 * The engine owns everything that does not depend on how pixels are made: validating the
 * job and the destination picture against the V4L2 controls and the bitstream headers,
 * reference bookkeeping, flush state and error reporting. A backend only decodes.
 *
 * Contract for decode():
 *  - synchronous: when it returns 0, the job's picture (even with show_frame = 0) is fully
 *    written into job->dst; the backend never delays a job's picture to a later job;
 *  - it writes pixels only through dd_picture_write() (or equivalent checks), so a
 *    destination that is too small is an error, not an overflow;
 *  - it reports in *out what it actually decoded (size, bit depth, profile), which the engine
 *    compares with the controls;
 *  - it keeps its own reference pictures: CAPTURE memory belongs to the client, whose buffer
 *    lifetimes differ from the decoder's, so the backend must not keep pointers into job->dst
 *    or job->bitstream after decode() returns;
 *  - on any error it fills err and returns -1; the stream stays usable, and a keyframe after
 *    flush() (or a keyframe at all) decodes correctly.
 */
#ifndef DAEDALUS_BACKEND_H
#define DAEDALUS_BACKEND_H

#include "engine.h"

struct dd_backend_stream;

struct dd_decoded {
	uint32_t width;
	uint32_t height;
	unsigned int bit_depth;
	int profile; /* -1 if the backend cannot tell */
	/*
	 * The job was held (dd_job.hold): the backend kept its data for the job that completes
	 * the picture and wrote nothing; the fields above are not set.
	 */
	bool pending;
};

struct dd_backend_ops {
	const char *name;

	/*
	 * Loads whatever the backend needs (libraries, firmware). NULL with why filled if the
	 * backend cannot run here; the engine then reports its codecs as unavailable.
	 */
	void *(*init)(const struct dd_engine_config *config, struct dd_error *why);
	void (*fini)(void *backend);

	/* Capabilities: can this backend decode codec into fourcc at bit_depth? */
	bool (*supports)(void *backend, enum dd_codec codec, uint32_t fourcc,
			 unsigned int bit_depth, struct dd_error *why);

	struct dd_backend_stream *(*open)(void *backend, enum dd_codec codec,
					  struct dd_error *err);
	int (*decode)(struct dd_backend_stream *stream, const struct dd_job *job,
		      struct dd_decoded *out, struct dd_error *err);
	/* Forget all pictures and state (seek / STREAMOFF). */
	void (*flush)(struct dd_backend_stream *stream);
	void (*close)(struct dd_backend_stream *stream);
};

extern const struct dd_backend_ops dd_backend_ffmpeg;
#ifdef DD_HAVE_DAV1D
extern const struct dd_backend_ops dd_backend_dav1d;
#endif

#endif
