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
#include "vpx_header.h"

/* In order of preference; a new backend is one more line here. */
static const struct dd_backend_ops *const backend_list[] = {
	&dd_backend_ffmpeg,
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
	uint32_t last_width, last_height;
	unsigned int last_depth;
	uint64_t jobs, failures;
};

/* What the controls promise about a job; checked against the bitstream and the decoder. */
struct expectation {
	uint32_t width, height;
	unsigned int bit_depth;
	int profile;
	bool key_frame;
	unsigned int num_refs;
	uint64_t ref_ts[3];
	const char *ref_name[3];
};

const char *dd_codec_name(enum dd_codec codec)
{
	switch (codec) {
	case DD_CODEC_VP8:
		return "VP8";
	case DD_CODEC_VP9:
		return "VP9";
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
}

static int check_vp8(const struct dd_job *job, struct expectation *x, struct dd_error *err)
{
	const struct v4l2_ctrl_vp8_frame *c = job->ctrl.vp8.frame;
	struct dd_vp8_tag tag;
	bool key, show;
	uint64_t end;

	if (!c)
		return dd_fail(err, "VP8 job without V4L2_CID_STATELESS_VP8_FRAME");
	if (dd_vp8_parse_tag(job->bitstream, job->bitstream_size, &tag, err))
		return -1;
	key = c->flags & V4L2_VP8_FRAME_FLAG_KEY_FRAME;
	show = c->flags & V4L2_VP8_FRAME_FLAG_SHOW_FRAME;
	if (key != tag.key_frame)
		return dd_fail(err, "controls say %s, bitstream says %s", key ? "keyframe" :
			       "inter frame", tag.key_frame ? "keyframe" : "inter frame");
	if (show != tag.show_frame)
		return dd_fail(err, "controls say show_frame=%d, bitstream says %d", show,
			       tag.show_frame);
	if (tag.version > 3 || c->version != tag.version)
		return dd_fail(err, "controls say version %u, bitstream says %u", c->version,
			       tag.version);
	if (c->first_part_size != tag.first_part_size)
		return dd_fail(err, "controls say first partition of %u bytes, bitstream says %u",
			       c->first_part_size, tag.first_part_size);
	if (c->num_dct_parts != 1 && c->num_dct_parts != 2 && c->num_dct_parts != 4 &&
	    c->num_dct_parts != 8)
		return dd_fail(err, "invalid number of DCT partitions %u", c->num_dct_parts);
	end = tag.header_size + (uint64_t)tag.first_part_size + 3 * (c->num_dct_parts - 1u);
	for (unsigned int i = 0; i < c->num_dct_parts; i++)
		end += c->dct_part_sizes[i];
	if (end > job->bitstream_size)
		return dd_fail(err, "frame truncated: partitions need %" PRIu64 " bytes, buffer has %zu",
			       end, job->bitstream_size);
	if (key && (tag.width != c->width || tag.height != c->height))
		return dd_fail(err, "controls say %ux%u, bitstream says %ux%u", c->width,
			       c->height, tag.width, tag.height);

	*x = (struct expectation){
		.width = c->width,
		.height = c->height,
		.bit_depth = 8,
		.profile = (int)tag.version,
		.key_frame = key,
	};
	if (!key) {
		x->num_refs = 3;
		x->ref_ts[0] = c->last_frame_ts;
		x->ref_ts[1] = c->golden_frame_ts;
		x->ref_ts[2] = c->alt_frame_ts;
	}
	return 0;
}

/*
 * Every tile but the last is preceded by its 4-byte size, so a buffer cut short anywhere
 * before the last tile is detected here. The last tile runs to the end of the buffer: a
 * cut inside it cannot be told from a shorter tile (nor can hardware decoders tell).
 */
static int check_vp9_tiles(const struct dd_job *job, const struct v4l2_ctrl_vp9_frame *c,
			   struct dd_error *err)
{
	uint64_t pos = (uint64_t)c->uncompressed_header_size + c->compressed_header_size;
	unsigned int tiles;

	if (c->tile_cols_log2 > 6 || c->tile_rows_log2 > 2)
		return dd_fail(err, "invalid tile layout log2 %ux%u", c->tile_cols_log2,
			       c->tile_rows_log2);
	tiles = (1u << c->tile_cols_log2) << c->tile_rows_log2;
	for (unsigned int t = 0; t + 1 < tiles; t++) {
		const uint8_t *p = job->bitstream + pos;
		uint32_t size;

		if (pos + 4 > job->bitstream_size)
			return dd_fail(err, "frame truncated before the size of tile %u of %u", t,
				       tiles);
		size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		pos += 4 + (uint64_t)size;
		if (pos >= job->bitstream_size)
			return dd_fail(err, "frame truncated: tile %u of %u needs %" PRIu64
				       " bytes, buffer has %zu", t, tiles, pos + 1,
				       job->bitstream_size);
	}
	return 0;
}

static int check_vp9(const struct dd_job *job, struct expectation *x, struct dd_error *err)
{
	const struct v4l2_ctrl_vp9_frame *c = job->ctrl.vp9.frame;
	unsigned int frames = dd_vp9_superframe_count(job->bitstream, job->bitstream_size);
	struct dd_vp9_peek h;
	bool key, show, er, intra_only;
	unsigned int want_depth;

	if (!c)
		return dd_fail(err, "VP9 job without V4L2_CID_STATELESS_VP9_FRAME");
	if (frames > 1)
		return dd_fail(err, "buffer holds a VP9 superframe of %u frames; each frame must be "
			       "its own request", frames);
	if (dd_vp9_peek(job->bitstream, job->bitstream_size, &h, err))
		return -1;
	if (h.show_existing_frame)
		return dd_fail(err, "VP9 show_existing_frame is not a decode request (the client "
			       "shows the existing picture itself)");
	key = c->flags & V4L2_VP9_FRAME_FLAG_KEY_FRAME;
	show = c->flags & V4L2_VP9_FRAME_FLAG_SHOW_FRAME;
	er = c->flags & V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT;
	intra_only = c->flags & V4L2_VP9_FRAME_FLAG_INTRA_ONLY;
	if (c->profile != h.profile)
		return dd_fail(err, "controls say profile %u, bitstream says %u", c->profile,
			       h.profile);
	if (key != h.key_frame || show != h.show_frame || er != h.error_resilient ||
	    intra_only != h.intra_only)
		return dd_fail(err, "frame flags disagree with the bitstream (controls key=%d "
			       "show=%d error_resilient=%d intra_only=%d, bitstream %d %d %d %d)",
			       key, show, er, intra_only, h.key_frame, h.show_frame,
			       h.error_resilient, h.intra_only);
	want_depth = c->profile < 2 ? 8 : c->bit_depth;
	if (c->bit_depth != want_depth || (want_depth != 8 && want_depth != 10 &&
					   want_depth != 12))
		return dd_fail(err, "bit depth %u is invalid for profile %u", c->bit_depth,
			       c->profile);
	if (h.has_size && (h.bit_depth != c->bit_depth || h.width != c->frame_width_minus_1 + 1u ||
			   h.height != c->frame_height_minus_1 + 1u))
		return dd_fail(err, "controls say %ux%u %u-bit, bitstream says %ux%u %u-bit",
			       c->frame_width_minus_1 + 1u, c->frame_height_minus_1 + 1u,
			       c->bit_depth, h.width, h.height, h.bit_depth);
	if (!c->uncompressed_header_size || !c->compressed_header_size ||
	    (uint64_t)c->uncompressed_header_size + c->compressed_header_size >=
		    job->bitstream_size)
		return dd_fail(err, "frame truncated: headers of %u + %u bytes leave no tile data in "
			       "%zu bytes", c->uncompressed_header_size,
			       c->compressed_header_size, job->bitstream_size);

	if (check_vp9_tiles(job, c, err))
		return -1;

	*x = (struct expectation){
		.width = c->frame_width_minus_1 + 1u,
		.height = c->frame_height_minus_1 + 1u,
		.bit_depth = c->bit_depth,
		.profile = c->profile,
		.key_frame = key,
	};
	if (!key && !intra_only) {
		x->num_refs = 3;
		x->ref_ts[0] = c->last_frame_ts;
		x->ref_ts[1] = c->golden_frame_ts;
		x->ref_ts[2] = c->alt_frame_ts;
	}
	return 0;
}

static int check_job(struct dd_stream *s, const struct dd_job *job, struct expectation *x,
		     struct dd_error *err)
{
	static const char *const ref_names[3] = { "last", "golden", "altref" };
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
		ret = check_vp8(job, x, err);
		break;
	case DD_CODEC_VP9:
		ret = check_vp9(job, x, err);
		break;
	default:
		ret = dd_fail(err, "unknown codec");
	}
	if (ret)
		return ret;
	for (unsigned int i = 0; i < x->num_refs; i++) {
		x->ref_name[i] = ref_names[i];
		if (!dd_ref_set_contains(&s->refs, x->ref_ts[i]))
			return dd_fail(err, "%s reference (ts %" PRIu64 ") was not decoded by this "
				       "stream since the last keyframe or flush",
				       x->ref_name[i], x->ref_ts[i]);
	}
	/* the capture format may change at a keyframe (e.g. to P010 for profile 2) */
	if (!s->ops->supports(s->backend, s->codec, job->dst->fourcc, x->bit_depth, err))
		return -1;
	return dd_picture_check(job->dst, x->width, x->height, x->bit_depth, err);
}

int dd_stream_decode(struct dd_stream *s, const struct dd_job *job, struct dd_error *err)
{
	struct expectation x = { 0 };
	struct dd_decoded got = { 0 };
	int ret;

	s->jobs++;
	if (!job)
		return dd_fail(err, "no job");
	ret = check_job(s, job, &x, err);
	if (!ret)
		ret = s->ops->decode(s->bs, job, &got, err);
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
		return -1;
	}
	if (x.key_frame)
		dd_ref_set_clear(&s->refs);
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
