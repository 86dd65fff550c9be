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
 *
 * Optional asynchronous ops (submit, collect, sync), used only when the engine's frame_delay
 * is above 1; a backend without them is driven through decode() at submit time. The same
 * contract, except that:
 *  - submit() may return before the picture is written; the job and everything it points to
 *    stay valid until its result has been collected;
 *  - results come out of collect() strictly in submission order, each naming its cookie;
 *    a job that fails after submit() returned 0 comes out failed (err filled);
 *  - sync() finishes every submitted job without dropping the decoder's references;
 *  - flush() fails every job not collected yet (they still come out of collect());
 *  - a backend that has to drop its decoder state on its own fails the jobs in flight with
 *    dd_backend_result.reset set.
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

/* One finished asynchronous job. */
struct dd_backend_result {
	uint64_t cookie;
	int ret; /* 0, or -1 with err filled */
	/*
	 * With ret -1: the backend dropped its decoder state with this job (it lost count of
	 * the jobs in its decoder and flushed it). Every picture decoded before is gone; the
	 * jobs after it decode as after pictures lost, so nothing may predict from them.
	 */
	bool reset;
	struct dd_decoded out;
	struct dd_error err;
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
	/* Optional, see above: 0 when pending, -1 with err when the job failed at once. */
	int (*submit)(struct dd_backend_stream *stream, const struct dd_job *job, uint64_t cookie,
		      struct dd_error *err);
	/*
	 * 1 with *res filled: the oldest submitted job is finished; 0: it is not, or nothing is
	 * pending. With wait, blocks until the oldest job is finished (0 only when none is).
	 */
	int (*collect)(struct dd_backend_stream *stream, bool wait, struct dd_backend_result *res);
	void (*sync)(struct dd_backend_stream *stream);
	/*
	 * Optional: from now on the caller keeps at most frame_delay jobs submitted
	 * (dd_stream_set_lookahead()); a backend without it decodes as well either way. Called
	 * only with nothing in flight (every submitted job finished) and right before a job
	 * that needs no earlier picture (or the first after open or flush), so the backend may
	 * drop its decoder state; next is that job (held pieces it starts a new picture over
	 * will never complete). 0: done; 1: not before this job (the backend keeps something
	 * of the jobs before it that cannot move to a new decoder: a first field decoded alone,
	 * held H.264 slices whose parameter sets changed between them; err may say which), the
	 * engine asks again at the next such job; -1 with err: it cannot, and decodes on in its
	 * old mode.
	 */
	int (*set_frame_delay)(struct dd_backend_stream *stream, unsigned int frame_delay,
			       const struct dd_job *next, struct dd_error *err);
	/* Optional: whether it decodes several frames at once now; NULL: never. */
	bool (*frames_in_parallel)(const struct dd_backend_stream *stream);
	/*
	 * Optional: the stream shares the CPUs with other busy streams (dd_stream_set_shared()):
	 * decode one frame at a time, with no frame-level parallelism of the backend's own
	 * (dav1d's frame contexts). Called as set_frame_delay is, after it. 0: done; 1: it
	 * decodes that way already; -1 with err: it cannot, and decodes on as before.
	 */
	int (*set_shared)(struct dd_backend_stream *stream, bool shared, struct dd_error *err);
	/* Forget all pictures and state (seek / STREAMOFF). */
	void (*flush)(struct dd_backend_stream *stream);
	/*
	 * Optional, for a backend that checks a job's references itself (dav1d's slots): the
	 * picture this timestamp named is gone from the client's buffer (a job with it failed or
	 * never reached the backend), or with NULL, pictures of unknown timestamps are. A later
	 * job that names such a picture must fail, not predict from what the decoder still
	 * holds under the name. The engine's own reference set is told apart from this.
	 */
	void (*forget)(struct dd_backend_stream *stream, const uint64_t *timestamp);
	/*
	 * Optional: decodes codec's sample (warm_samples.h) in a stream of its own as a job's
	 * data would be decoded, and drops the pictures. The number of pictures decoded, or -1
	 * with err: the sample did not decode, so neither would a client's stream.
	 */
	int (*warm_up)(void *backend, enum dd_codec codec, struct dd_error *err);
	void (*close)(struct dd_backend_stream *stream);
	/*
	 * Optional: the meter the stream's picture allocations take their bytes from
	 * (picture_meter.h), which the engine sets the stream's limit on; the stream owns it.
	 * A backend whose pictures live in memory it does not allocate (a hardware decoder's
	 * dmabufs) has none, and its streams have no limit here.
	 */
	struct dd_meter *(*meter)(struct dd_backend_stream *stream);
};

extern const struct dd_backend_ops dd_backend_ffmpeg;
#ifdef DD_HAVE_DAV1D
extern const struct dd_backend_ops dd_backend_dav1d;
#endif

#endif
