/* SPDX-License-Identifier: BSD-2-Clause */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "backend.h"
#include "error.h"
#include "picture.h"
#include "ref_set.h"
#include "av1_check.h"
#include "h264_check.h"
#include "vpx_check.h"

/* In order of preference; a new backend is one more line here. */
static const struct dd_backend_ops *const backend_list[] = {
	&dd_backend_ffmpeg,
#ifdef DD_HAVE_DAV1D
	&dd_backend_dav1d, /* AV1: libavcodec cannot hand out invisible frames */
#endif
};
#define NUM_BACKENDS (sizeof(backend_list) / sizeof(backend_list[0]))

struct dd_engine {
	struct dd_engine_config config;
	void *backend[NUM_BACKENDS];
	struct dd_error backend_why[NUM_BACKENDS];
};

struct dd_stream {
	struct dd_engine *engine;
	enum dd_codec codec;
	const struct dd_backend_ops *ops;
	void *backend; /* the backend instance ops belong to */
	struct dd_backend_stream *bs;
	struct dd_ref_set refs;
	/* jobs that failed since the last keyframe or flush */
	struct dd_ref_set bad;
	/*
	 * H.264: pictures before the current random access point, which the pictures after it
	 * do not use (h264_check.h), though the client's DPB may still list them
	 */
	struct dd_ref_set exempt;
	struct dd_h264_random_access h264_ra;
	uint32_t last_width, last_height;
	unsigned int last_depth;
	uint64_t jobs, failures;
};


const char *dd_codec_name(enum dd_codec codec)
{
	switch (codec) {
	case DD_CODEC_VP8:
		return "VP8";
	case DD_CODEC_VP9:
		return "VP9";
	case DD_CODEC_AV1:
		return "AV1";
	case DD_CODEC_H264:
		return "H.264";
	default:
		return "unknown codec";
	}
}

static void elog(const struct dd_engine *e, enum dd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void elog(const struct dd_engine *e, enum dd_log_level level, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	if (!e->config.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->config.log(e->config.log_opaque, level, msg);
}

struct dd_engine *dd_engine_new(const struct dd_engine_config *config)
{
	struct dd_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (config)
		e->config = *config;
	for (size_t i = 0; i < NUM_BACKENDS; i++) {
		e->backend[i] = backend_list[i]->init(&e->config, &e->backend_why[i]);
		if (!e->backend[i])
			elog(e, DD_LOG_WARNING, "backend %s unavailable: %s", backend_list[i]->name,
			     e->backend_why[i].msg);
	}
	return e;
}

void dd_engine_free(struct dd_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < NUM_BACKENDS; i++)
		if (e->backend[i])
			backend_list[i]->fini(e->backend[i]);
	free(e);
}

/* The first backend that can serve codec into fourcc at bit_depth, or -1 with why. */
static int pick_backend(struct dd_engine *e, enum dd_codec codec, uint32_t fourcc,
			unsigned int bit_depth, struct dd_error *why)
{
	struct dd_error first = { "no decoding backend is built in" };
	bool have_first = false;

	if ((unsigned int)codec >= DD_CODEC_COUNT)
		return dd_fail(why, "unknown codec %d", (int)codec);
	for (size_t i = 0; i < NUM_BACKENDS; i++) {
		struct dd_error tmp;

		if (!e->backend[i]) {
			tmp = e->backend_why[i];
		} else if (backend_list[i]->supports(e->backend[i], codec, fourcc, bit_depth,
						     &tmp)) {
			return (int)i;
		}
		if (!have_first) {
			snprintf(first.msg, sizeof(first.msg), "%s backend: %.200s",
				 backend_list[i]->name, tmp.msg);
			have_first = true;
		}
	}
	if (why)
		*why = first;
	return -1;
}

bool dd_engine_supports(struct dd_engine *e, enum dd_codec codec, uint32_t fourcc,
			unsigned int bit_depth, const char **backend, struct dd_error *why)
{
	int i = pick_backend(e, codec, fourcc, bit_depth, why);

	if (i < 0)
		return false;
	if (backend)
		*backend = backend_list[i]->name;
	return true;
}

void dd_engine_describe(struct dd_engine *e, enum dd_codec codec, char *buf, size_t len)
{
	static const struct {
		uint32_t fourcc;
		unsigned int depth;
	} formats[] = {
		{ V4L2_PIX_FMT_NV12, 8 },
		{ V4L2_PIX_FMT_YUV420M, 8 },
		{ V4L2_PIX_FMT_P010, 10 },
	};
	struct dd_error why = { "" };
	size_t used;
	const char *backend;
	char name[8];
	bool any = false;

	used = (size_t)snprintf(buf, len, "%s:", dd_codec_name(codec));
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]) && used < len; i++) {
		if (!dd_engine_supports(e, codec, formats[i].fourcc, formats[i].depth, &backend,
					&why))
			continue;
		used += (size_t)snprintf(buf + used, len - used, " %s(%u-bit, %s)",
					 dd_fourcc_name(formats[i].fourcc, name),
					 formats[i].depth, backend);
		any = true;
	}
	if (!any && used < len)
		snprintf(buf + used, len - used, " unavailable (%s)", why.msg);
}

struct dd_stream *dd_stream_open(struct dd_engine *e, enum dd_codec codec, uint32_t fourcc,
				 struct dd_error *err)
{
	struct dd_stream *s;
	unsigned int depth = dd_fourcc_bit_depth(fourcc);
	int i = pick_backend(e, codec, fourcc, depth ? depth : 8, err);

	if (i < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		dd_fail(err, "out of memory");
		return NULL;
	}
	s->engine = e;
	s->codec = codec;
	s->ops = backend_list[i];
	s->backend = e->backend[i];
	s->bs = s->ops->open(s->backend, codec, err);
	if (!s->bs) {
		free(s);
		return NULL;
	}
	dd_ref_set_init(&s->refs);
	dd_ref_set_init(&s->bad);
	dd_ref_set_init(&s->exempt);
	dd_h264_ra_reset(&s->h264_ra);
	elog(e, DD_LOG_INFO, "%s stream opened with the %s backend", dd_codec_name(codec),
	     s->ops->name);
	return s;
}

void dd_stream_close(struct dd_stream *s)
{
	if (!s)
		return;
	s->ops->close(s->bs);
	dd_ref_set_free(&s->refs);
	dd_ref_set_free(&s->bad);
	dd_ref_set_free(&s->exempt);
	free(s);
}

const char *dd_stream_backend_name(const struct dd_stream *s)
{
	return s->ops->name;
}

void dd_stream_flush(struct dd_stream *s)
{
	s->ops->flush(s->bs);
	/* nothing decoded before the flush may be referenced after it */
	dd_ref_set_clear(&s->refs);
	dd_ref_set_clear(&s->bad);
	dd_ref_set_clear(&s->exempt);
	dd_h264_ra_reset(&s->h264_ra);
}

static int check_job(struct dd_stream *s, const struct dd_job *job, struct dd_expectation *x,
		     struct dd_error *err)
{
	static const char *const vpx_refs[3] = { "last", "golden", "altref" };
	int ret;

	if (job->codec != s->codec)
		return dd_fail(err, "%s job on a %s stream", dd_codec_name(job->codec),
			       dd_codec_name(s->codec));
	if (!job->bitstream || !job->bitstream_size)
		return dd_fail(err, "empty bitstream buffer");
	if (!job->dst)
		return dd_fail(err, "no capture buffer");
	switch (s->codec) {
	case DD_CODEC_VP8:
		ret = dd_check_vp8_job(job, x, err);
		break;
	case DD_CODEC_VP9:
		ret = dd_check_vp9_job(job, x, err);
		break;
	case DD_CODEC_AV1:
		ret = dd_check_av1_job(job, x, err);
		break;
	case DD_CODEC_H264:
		ret = dd_check_h264_job(job, x, err);
		if (!ret && dd_h264_ra_check(&s->h264_ra, job->ctrl.h264.decode_params, err)) {
			x->leading = true;
			ret = -1;
		}
		break;
	default:
		ret = dd_fail(err, "unknown codec");
	}
	if (ret)
		return ret;
	for (unsigned int i = 0; i < x->num_refs; i++) {
		const char *name = s->codec == DD_CODEC_H264 ? "DPB" : vpx_refs[i < 3 ? i : 2];

		if (x->may_ref_self && x->ref_ts[i] == job->timestamp)
			continue;
		if (dd_ref_set_contains(&s->refs, x->ref_ts[i]))
			continue;
		/*
		 * An H.264 DPB lists every picture kept for reference, used by this picture or
		 * not: those before the random access point are not used after it.
		 */
		if (s->codec == DD_CODEC_H264 && dd_ref_set_contains(&s->exempt, x->ref_ts[i]))
			continue;
		return dd_fail(err, "%s reference (ts %" PRIu64 ") was not decoded by this "
			       "stream since the last keyframe or flush", name, x->ref_ts[i]);
	}
	/* the capture format may change at a keyframe (e.g. to P010 for profile 2) */
	if (!s->ops->supports(s->backend, s->codec, job->dst->fourcc, x->bit_depth, err))
		return -1;
	return dd_picture_check(job->dst, x->width, x->height, x->bit_depth, err);
}

/*
 * A non-IDR picture random access starts at: the first one after a flush, or an I-picture
 * while pictures have failed (it ends their run: what precedes it is not used after it).
 */
static void update_h264_access(struct dd_stream *s, const struct dd_job *job,
			       const struct dd_expectation *x)
{
	bool access_point = !x->key_frame && (s->h264_ra.after_flush ||
					      (x->intra && !dd_ref_set_empty(&s->bad)));

	if (access_point)
		dd_ref_set_move_all(&s->bad, &s->exempt);
	dd_h264_ra_update(&s->h264_ra, job->ctrl.h264.decode_params, access_point);
}

int dd_stream_decode(struct dd_stream *s, const struct dd_job *job, struct dd_error *err)
{
	struct dd_expectation x = { 0 };
	struct dd_decoded got = { 0 };
	int ret;

	s->jobs++;
	if (!job)
		return dd_fail(err, "no job");
	ret = check_job(s, job, &x, err);
	if (!ret)
		ret = s->ops->decode(s->bs, job, &got, err);
	if (!ret && got.pending)
		return 0; /* a held slice or field: checked with the job that completes it */
	if (!ret && (got.width != x.width || got.height != x.height))
		ret = dd_fail(err, "controls say %ux%u, decoder found %ux%u", x.width, x.height,
			      got.width, got.height);
	if (!ret && got.bit_depth != x.bit_depth)
		ret = dd_fail(err, "controls say %u-bit, decoder found %u-bit", x.bit_depth,
			      got.bit_depth);
	if (!ret && got.profile >= 0 && got.profile != x.profile)
		ret = dd_fail(err, "controls say profile %d, decoder found %d", x.profile,
			      got.profile);
	if (ret) {
		s->failures++;
		/* whatever this timestamp named before, its picture is now garbage */
		dd_ref_set_remove(&s->refs, job->timestamp);
		dd_ref_set_remove(&s->exempt, job->timestamp);
		dd_ref_set_add(x.leading ? &s->exempt : &s->bad, job->timestamp);
		return -1;
	}
	dd_ref_set_remove(&s->bad, job->timestamp);
	dd_ref_set_remove(&s->exempt, job->timestamp);
	if (x.key_frame) {
		dd_ref_set_clear(&s->refs);
		dd_ref_set_clear(&s->bad);
		dd_ref_set_clear(&s->exempt);
	}
	if (s->codec == DD_CODEC_H264)
		update_h264_access(s, job, &x);
	dd_ref_set_add(&s->refs, job->timestamp);
	if (got.width != s->last_width || got.height != s->last_height ||
	    got.bit_depth != s->last_depth) {
		elog(s->engine, DD_LOG_INFO, "%s stream: %ux%u %u-bit via %s",
		     dd_codec_name(s->codec), got.width, got.height, got.bit_depth, s->ops->name);
		s->last_width = got.width;
		s->last_height = got.height;
		s->last_depth = got.bit_depth;
	}
	return 0;
}
