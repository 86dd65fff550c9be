/* SPDX-License-Identifier: BSD-2-Clause */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "backend.h"
#include "codec.h"
#include "error.h"
#include "picture.h"
#include "picture_meter.h"
#include "ref_set.h"

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

/*
 * A submitted job until it is collected. Entries finish (the backend's result is known) and
 * are then finalized (the post-decode checks and the reference bookkeeping) strictly in
 * submission order; only finalized entries are collected.
 */
struct dd_pending {
	uint64_t cookie; /* the caller's */
	const struct dd_job *job;
	struct dd_expectation x;
	/* what this job predicts from: a failure of one of them fails this job too */
	unsigned int num_names;
	uint64_t names[DD_MAX_JOB_REFS];
	bool finished;
	bool doomed; /* a job it names (or, chained, any job before it) failed while pending */
	bool doomed_chained; /* by a job it does not name: see dd_codec_ops.chained */
	uint64_t doomed_by;
	/* submitted behind unfinalized jobs: the codec's access check waits for finalize */
	bool access_later;
	/* dd_job.bitstream_lost was set once the bitstream had been read */
	bool input_lost;
	/* the backend dropped its decoder state with this job (dd_backend_result.reset) */
	bool reset;
	int ret;
	struct dd_decoded got;
	struct dd_error err;
};

struct dd_stream {
	struct dd_engine *engine;
	enum dd_codec codec;
	const struct dd_codec_ops *codec_ops;
	/* the codec's own reference rules (codec_ops->access), or NULL */
	struct dd_codec_state *codec_state;
	const struct dd_backend_ops *ops;
	void *backend; /* the backend instance ops belong to */
	struct dd_backend_stream *bs;
	/* pictures decoded since the last keyframe or flush */
	struct dd_ref_set refs;
	uint32_t last_width, last_height;
	unsigned int last_depth;
	uint64_t jobs, failures;
	/* through the backend's submit/collect ops, or decode() at submit time */
	bool async;
	/*
	 * The caller's lookahead the backend decodes for, and the one it asked for last
	 * (dd_stream_set_lookahead()): they differ until a job that needs no earlier picture.
	 */
	unsigned int lookahead, want_lookahead;
	/* decoding one frame at a time for the CPU share, and asked for (dd_stream_set_shared()) */
	bool shared, want_shared;
	/*
	 * One frame at a time for the fields (codec_ops->fields()): while the sequence may code
	 * fields and no field pair came together yet, and for good after a lone field.
	 */
	bool no_frame_threads;
	bool field_pairs, lone_fields; /* seen since open */
	/* the fields the jobs since the CAPTURE picture being written began coded, 0-3 */
	unsigned int picture_fields;
	bool picture_has_field; /* one of those jobs was a field picture */
	unsigned int client_lookahead; /* the caller's lookahead, before the share */
	bool fresh; /* no job reached the backend since open or flush */
	bool submitted; /* some job reached the backend since open */
	/*
	 * VP9: no frame that sets every saved probability context (dd_expectation.sets_probs)
	 * decoded since open or flush: libavcodec's contexts are zeros, or what frames before a
	 * seek left.
	 */
	bool probs_unset;
	/* the pending jobs: a ring of pend_cap, the oldest at pend_head */
	struct dd_pending *pend;
	unsigned int pend_cap, pend_head, pend_count;
	unsigned int pend_final; /* the oldest pend_final entries are finalized */
	uint64_t head_seq;       /* the backend cookie of the oldest entry */
	/*
	 * A chained codec (dd_codec_ops.chained) whose decoder lacks a frame: the jobs from
	 * position broken_seq on (numbered as head_seq: submission order) fail until a key frame
	 * at or after it decodes. broken_ts names the frame, when known, for the messages.
	 */
	bool broken, broken_ts_known;
	uint64_t broken_seq, broken_ts;
};

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
	struct dd_error first = { "no decoding backend is built in", DD_ERR_UNSUPPORTED };
	bool have_first = false;

	if (!dd_codec_ops_get(codec))
		return dd_fail_kind(why, DD_ERR_UNSUPPORTED, "unknown codec %d", (int)codec);
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
			/* a backend that cannot serve it, whatever made it unable */
			if (tmp.kind == DD_ERR_NO_MEMORY)
				first.kind = DD_ERR_NO_MEMORY;
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

int dd_engine_warm_up(struct dd_engine *e, enum dd_codec codec, struct dd_error *err)
{
	int i = pick_backend(e, codec, V4L2_PIX_FMT_NV12, 8, NULL);

	if (i < 0 || !backend_list[i]->warm_up)
		return 0;
	return backend_list[i]->warm_up(e->backend[i], codec, err);
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
	struct dd_error why = { "", DD_ERR_UNSUPPORTED };
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

/* What a stream starts with, and the most a caller may keep submitted to it. */
static unsigned int max_lookahead(const struct dd_engine *e)
{
	return e->config.frame_delay > 1 ? e->config.frame_delay : 1;
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
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	s->engine = e;
	s->codec = codec;
	s->codec_ops = dd_codec_ops_get(codec);
	if (s->codec_ops->access) {
		s->codec_state = s->codec_ops->access->state_new();
		if (!s->codec_state) {
			free(s);
			dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
			return NULL;
		}
	}
	s->ops = backend_list[i];
	s->backend = e->backend[i];
	s->bs = s->ops->open(s->backend, codec, err);
	if (!s->bs) {
		if (s->codec_state)
			s->codec_ops->access->state_free(s->codec_state);
		free(s);
		return NULL;
	}
	s->async = e->config.frame_delay > 1 && s->ops->submit && s->ops->collect &&
		   s->ops->sync;
	s->lookahead = s->want_lookahead = s->client_lookahead = max_lookahead(e);
	s->fresh = true;
	s->probs_unset = true;
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
	free(s->pend);
	dd_ref_set_free(&s->refs);
	if (s->codec_state)
		s->codec_ops->access->state_free(s->codec_state);
	free(s);
}

struct dd_meter *dd_stream_meter(const struct dd_stream *s)
{
	return s->ops->meter ? s->ops->meter(s->bs) : NULL;
}

void dd_stream_set_memory_limit(struct dd_stream *s, uint64_t bytes)
{
	struct dd_meter *m = dd_stream_meter(s);

	if (m)
		dd_meter_set_limit(m, bytes);
}

const char *dd_stream_backend_name(const struct dd_stream *s)
{
	return s->ops->name;
}

static struct dd_pending *pending_at(const struct dd_stream *s, unsigned int i)
{
	return &s->pend[(s->pend_head + i) % s->pend_cap];
}

/* Room for one more pending entry; -1 when out of memory. */
static int pending_reserve(struct dd_stream *s)
{
	unsigned int cap = s->pend_cap ? s->pend_cap * 2 : 4;
	struct dd_pending *p;

	if (s->pend_count < s->pend_cap)
		return 0;
	p = malloc(sizeof(*p) * cap);
	if (!p)
		return -1;
	for (unsigned int i = 0; i < s->pend_count; i++)
		p[i] = *pending_at(s, i);
	free(s->pend);
	s->pend = p;
	s->pend_cap = cap;
	s->pend_head = 0;
	return 0;
}

/*
 * A reference ts a new job may name: a job still in flight (decoded or not, it has not been
 * counted yet), unless a key frame in flight comes after it; else one this stream decoded.
 */
static bool ref_known(const struct dd_stream *s, uint64_t ts)
{
	for (unsigned int i = s->pend_count; i-- > s->pend_final;) {
		const struct dd_pending *e = pending_at(s, i);

		if (e->job->timestamp == ts)
			return true;
		if (e->x.key_frame)
			return false;
	}
	return dd_ref_set_contains(&s->refs, ts);
}

/*
 * Whether a frame starts the chain afresh: a key frame that takes nothing from the frames
 * before it. A VP8 key frame with segmentation on and no new segment map keeps the previous
 * frame's map (libavcodec and libvpx alike), so it does not, and after a lost or failed frame
 * it decodes with a map the decoder never had.
 */
static bool resets_chain(const struct dd_expectation *x)
{
	return x->key_frame && !x->inherits;
}

/*
 * A chained codec's decoder lacks the job at position seq (or got it and failed): the jobs
 * after it fail until a key frame after it decodes. The latest such position counts, since a
 * key frame before it does not make up for it.
 */
static void mark_broken(struct dd_stream *s, uint64_t seq, const uint64_t *ts)
{
	if (!s->codec_ops->chained || (s->broken && seq < s->broken_seq))
		return;
	s->broken = true;
	s->broken_seq = seq;
	s->broken_ts_known = ts != NULL;
	s->broken_ts = ts ? *ts : 0;
}

/*
 * Whether a job submitted now (after everything pending) comes after a frame the chained
 * decoder lacks, with no key frame in flight since: a key frame in flight that fails
 * dooms the jobs behind it when it finishes (doom_dependents).
 */
static bool broken_now(const struct dd_stream *s)
{
	if (!s->broken)
		return false;
	for (unsigned int i = s->pend_count; i-- > s->pend_final;) {
		if (s->head_seq + i < s->broken_seq)
			break;
		if (resets_chain(&pending_at(s, i)->x))
			return false;
	}
	return true;
}

/* Whether a job submitted now loads probabilities that nothing decoded or in flight has set. */
static bool probs_unset_now(const struct dd_stream *s)
{
	if (!s->probs_unset)
		return false;
	for (unsigned int i = s->pend_final; i < s->pend_count; i++)
		if (pending_at(s, i)->x.sets_probs)
			return false;
	return true;
}

/*
 * The references a job names, by the codec's own rules (codec_ops->access) or the engine's:
 * every one decoded since the last key frame or flush, or in flight. The codec's rules need
 * the state every job before this one left (H.264: the leading run, excused DPB entries), so
 * with unfinalized jobs in flight they are applied at finalize(), in order.
 */
static int check_refs(struct dd_stream *s, const struct dd_job *job, struct dd_expectation *x,
		      struct dd_pending *e, struct dd_error *err)
{
	const struct dd_codec_ops *c = s->codec_ops;

	if (c->chained && !resets_chain(x) && broken_now(s)) {
		char which[48] = "";

		if (s->broken_ts_known)
			snprintf(which, sizeof(which), " (ts %" PRIu64 ")", s->broken_ts);
		return dd_fail_kind(err, DD_ERR_REFERENCE,
				    "an earlier frame%s was lost or failed: %s decoder state "
				    "depends on every frame since the key frame, so decoding "
				    "resumes at the next key frame", which, dd_codec_name(s->codec));
	}
	/*
	 * After a flush that followed decoding (a seek), the decoder has no segment map of
	 * this stream's, only the zeros a decoder starts with: right at open, those are the
	 * map the encoder started from too; after a seek, the frame before it had another.
	 * Unless the size changed: decoders start a new, zero map then (GStreamer restarts
	 * streaming at a resolution change, which flushes).
	 */
	if (x->inherits && s->fresh && s->submitted && x->width == s->last_width &&
	    x->height == s->last_height)
		return dd_fail_kind(err, DD_ERR_REFERENCE,
				    "VP8 key frame that keeps the segment map of the frame before "
				    "it, first after a flush (a seek): the decoder lost that map, "
				    "so decoding resumes at a key frame that sends its map");
	if (x->needs_probs && probs_unset_now(s))
		return dd_fail_kind(err, DD_ERR_REFERENCE,
				    "VP9 intra-only frame that loads a saved probability context, "
				    "and no frame since the stream started or was flushed set them "
				    "(decoding resumes at a key frame)");
	if (c->access) {
		if (s->pend_final < s->pend_count) {
			e->access_later = true;
			return 0;
		}
		return c->access->check(s->codec_state, job, x, &s->refs, err);
	}
	for (unsigned int i = 0; i < x->num_refs; i++) {
		if (x->may_ref_self && x->ref_ts[i] == job->timestamp)
			continue;
		if (ref_known(s, x->ref_ts[i]))
			continue;
		return dd_fail_kind(err, DD_ERR_REFERENCE,
				    "%s reference (ts %" PRIu64 ") was not decoded by this "
				    "stream since the last keyframe or flush",
				    c->ref_name ? c->ref_name(i) : "reference", x->ref_ts[i]);
	}
	return 0;
}

static int check_job(struct dd_stream *s, const struct dd_job *job, struct dd_pending *e,
		     struct dd_error *err)
{
	struct dd_expectation *x = &e->x;

	if (job->codec != s->codec)
		return dd_fail(err, "%s job on a %s stream", dd_codec_name(job->codec),
			       dd_codec_name(s->codec));
	if (!job->bitstream || !job->bitstream_size)
		return dd_fail(err, "empty bitstream buffer");
	if (!job->dst)
		return dd_fail(err, "no capture buffer");
	if (job->lost_piece)
		return dd_fail(err, "an earlier request of this picture (a slice or first field) "
			       "failed, or went to a daemon that is gone: the picture lacks it");
	if (s->codec_ops->check(job, x, err))
		return -1;
	/* whether this job restarts the decoder depends on the results of those before it */
	if (s->codec_ops->access && s->codec_ops->access->restart && x->intra && !x->key_frame &&
	    job->new_frame && s->pend_final < s->pend_count)
		dd_stream_sync(s);
	if (check_refs(s, job, x, e, err))
		return -1;
	/* the capture format may change at a keyframe (e.g. to P010 for profile 2) */
	if (!s->ops->supports(s->backend, s->codec, job->dst->fourcc, x->bit_depth, err))
		return -1;
	return dd_picture_check(job->dst, x->width, x->height, x->bit_depth, err);
}

/* ts (NULL: unknown ones) no longer names an intact picture: see dd_backend_ops.forget. */
static void forget_picture(struct dd_stream *s, const uint64_t *ts)
{
	if (ts)
		dd_ref_set_remove(&s->refs, *ts);
	if (s->ops->forget)
		s->ops->forget(s->bs, ts);
}

/*
 * An access rule (H.264's) learns of a failure in decoding order: the jobs still in flight
 * before a job that fails at its submit, or that the caller says is lost, are finished
 * first (a failure found when a job is finalized is in order already). Their verdicts come
 * in later otherwise, and an I picture among them would be taken for an access point after
 * the failure, excusing the failed picture it precedes (its successors, which may predict
 * from it, would be decoded against the picture libavcodec makes up for the missing one,
 * without an error). The synchronous path sees this order by itself; with frames in flight
 * it costs a drain, on failures only.
 */
static void access_in_order(struct dd_stream *s)
{
	if (s->codec_state && s->pend_final < s->pend_count)
		dd_stream_sync(s);
}

/* seq: the job's position (head_seq numbering), for a chained codec. */
static void record_failure(struct dd_stream *s, uint64_t ts, const struct dd_expectation *x,
			   uint64_t seq)
{
	s->failures++;
	mark_broken(s, seq, &ts);
	/* whatever this timestamp named before, its picture is now garbage */
	forget_picture(s, &ts);
	if (s->codec_state)
		s->codec_ops->access->failed(s->codec_state, ts, x);
}

void dd_stream_forget(struct dd_stream *s, uint64_t ts)
{
	forget_picture(s, &ts);
}

void dd_stream_lost(struct dd_stream *s, const uint64_t *ts)
{
	if (ts)
		access_in_order(s);
	forget_picture(s, ts);
	if (ts && s->codec_state) {
		struct dd_expectation none = { 0 };

		s->codec_ops->access->failed(s->codec_state, *ts, &none);
	}
	mark_broken(s, s->head_seq + s->pend_count, ts);
}

static void record_success(struct dd_stream *s, const struct dd_job *job,
			   const struct dd_expectation *x, const struct dd_decoded *got,
			   uint64_t seq)
{
	if (x->key_frame)
		dd_ref_set_clear(&s->refs);
	if (resets_chain(x) && s->broken && seq >= s->broken_seq)
		s->broken = false;
	if (x->sets_probs)
		s->probs_unset = false;
	if (s->codec_state)
		s->codec_ops->access->decoded(s->codec_state, job, x, &s->refs);
	/* the live references: the last pictures the bounded set would forget */
	for (unsigned int i = 0; i < x->num_refs; i++)
		dd_ref_set_touch(&s->refs, x->ref_ts[i]);
	dd_ref_set_add(&s->refs, job->timestamp);
	if (got->width != s->last_width || got->height != s->last_height ||
	    got->bit_depth != s->last_depth) {
		elog(s->engine, DD_LOG_INFO, "%s stream: %ux%u %u-bit via %s",
		     dd_codec_name(s->codec), got->width, got->height, got->bit_depth,
		     s->ops->name);
		s->last_width = got->width;
		s->last_height = got->height;
		s->last_depth = got->bit_depth;
	}
}

/* The jobs in flight after a failed one that predict from it fail when they finish. */
static void doom_dependents(struct dd_stream *s, unsigned int failed)
{
	uint64_t ts = pending_at(s, failed)->job->timestamp;

	/* a chained decoder lacks that frame's state: everything up to the next key frame */
	for (unsigned int i = failed + 1; s->codec_ops->chained && i < s->pend_count; i++) {
		struct dd_pending *e = pending_at(s, i);

		if (resets_chain(&e->x))
			break;
		if (!e->doomed) {
			e->doomed = e->doomed_chained = true;
			e->doomed_by = ts;
		}
	}
	/* a codec with its own rules checks the jobs behind it at finalize (check_refs) */
	if (s->codec_ops->access)
		return;
	for (unsigned int i = failed + 1; i < s->pend_count; i++) {
		struct dd_pending *e = pending_at(s, i);

		for (unsigned int n = 0; n < e->num_names && !e->doomed; n++)
			if (e->names[n] == ts) {
				e->doomed = true;
				e->doomed_by = ts;
			}
	}
}

/* dd_job.bitstream_lost, read once the backend has taken the bitstream (in the submit). */
static bool bitstream_lost(const struct dd_job *job)
{
	return job->bitstream_lost && atomic_load(job->bitstream_lost);
}

static int input_lost(struct dd_error *err)
{
	return dd_fail_kind(err, DD_ERR_INPUT_LOST, "the memory of its bitstream went away while "
			    "it was read");
}

/*
 * The backend flushed its decoder with the job at seq (dd_backend_result.reset): the
 * pictures decoded before are gone from it, though the client's buffers still hold them.
 * As for pictures lost (a daemon restart): later jobs that name them fail, H.264 resumes at
 * the next access point, a chained codec at the next key frame. Not a flush for the codec's
 * access rules: the client did not reset its references.
 */
static void decoder_was_reset(struct dd_stream *s, uint64_t seq)
{
	dd_ref_set_clear(&s->refs);
	forget_picture(s, NULL);
	mark_broken(s, seq, NULL);
}

/* The post-decode checks and the reference bookkeeping of a finished job, in order. */
static void finalize(struct dd_stream *s, unsigned int i)
{
	struct dd_pending *e = pending_at(s, i);
	const struct dd_expectation *x = &e->x;
	const struct dd_decoded *got = &e->got;
	struct dd_error *err = &e->err;
	int ret = e->ret;

	/* whatever the library made of what it read, the reason is the lost memory */
	if (e->input_lost)
		ret = input_lost(err);
	if (!ret && got->pending)
		return; /* a held slice or field: checked with the job that completes it */
	if (!ret && e->doomed && e->doomed_chained)
		ret = dd_fail_kind(err, DD_ERR_REFERENCE, "an earlier frame (ts %" PRIu64 ") "
				   "failed while this job was in flight: %s decoder state depends "
				   "on every frame since the key frame", e->doomed_by,
				   dd_codec_name(s->codec));
	else if (!ret && e->doomed)
		ret = dd_fail_kind(err, DD_ERR_REFERENCE, "reference ts %" PRIu64 " failed to "
				   "decode while this job was in flight", e->doomed_by);
	if (!ret && e->access_later)
		ret = s->codec_ops->access->check(s->codec_state, e->job, &e->x, &s->refs, err);
	if (!ret && (got->width != x->width || got->height != x->height))
		ret = dd_fail(err, "controls say %ux%u, decoder found %ux%u", x->width,
			      x->height, got->width, got->height);
	if (!ret && got->bit_depth != x->bit_depth)
		ret = dd_fail(err, "controls say %u-bit, decoder found %u-bit", x->bit_depth,
			      got->bit_depth);
	if (!ret && got->profile >= 0 && got->profile != x->profile)
		ret = dd_fail(err, "controls say profile %d, decoder found %d", x->profile,
			      got->profile);
	e->ret = ret;
	if (e->reset)
		decoder_was_reset(s, s->head_seq + i);
	if (ret) {
		record_failure(s, e->job->timestamp, x, s->head_seq + i);
		doom_dependents(s, i);
		return;
	}
	record_success(s, e->job, x, got, s->head_seq + i);
}

static void finalize_ready(struct dd_stream *s)
{
	while (s->pend_final < s->pend_count && pending_at(s, s->pend_final)->finished)
		finalize(s, s->pend_final++);
}

/* One result from an asynchronous backend; false when it has none (yet). */
static bool pull(struct dd_stream *s, bool wait)
{
	struct dd_backend_result res;
	struct dd_pending *e;

	if (!s->async || !s->ops->collect(s->bs, wait, &res))
		return false;
	/* results come in submission order; anything else is a backend bug, not client data */
	if (res.cookie < s->head_seq || res.cookie - s->head_seq >= s->pend_count) {
		elog(s->engine, DD_LOG_ERROR, "%s backend returned an unknown job",
		     s->ops->name);
		return true;
	}
	e = pending_at(s, (unsigned int)(res.cookie - s->head_seq));
	e->finished = true;
	e->ret = res.ret;
	e->reset = res.ret && res.reset;
	e->got = res.out;
	e->err = res.err;
	return true;
}

/* Jobs the backend no longer knows (it has nothing left to return) fail. */
static void fail_unfinished(struct dd_stream *s, const char *why)
{
	for (unsigned int i = s->pend_final; i < s->pend_count; i++) {
		struct dd_pending *e = pending_at(s, i);

		if (!e->finished) {
			e->finished = true;
			e->ret = dd_fail(&e->err, "%s", why);
		}
	}
}

/* A new CAPTURE picture begins (note_fields()), or the backend dropped the one begun. */
static void forget_picture_fields(struct dd_stream *s)
{
	s->picture_fields = 0;
	s->picture_has_field = false;
}

void dd_stream_flush(struct dd_stream *s)
{
	s->ops->flush(s->bs);
	if (s->async && s->pend_final < s->pend_count) {
		while (pull(s, false))
			;
		fail_unfinished(s, "the stream was flushed before the job finished");
		finalize_ready(s);
	}
	/* nothing decoded before the flush may be referenced after it */
	dd_ref_set_clear(&s->refs);
	if (s->codec_state)
		s->codec_ops->access->reset(s->codec_state);
	s->broken = false;
	s->fresh = true;
	s->probs_unset = true;
	/* the backend forgot the held pieces of the picture being written */
	forget_picture_fields(s);
}

/*
 * The codec says the backend's decoder must start afresh before this job (accepted by its
 * check, nothing in flight): as a flush, but the job decodes as the first after it.
 */
static void restart_decoder(struct dd_stream *s, const struct dd_job *job)
{
	elog(s->engine, DD_LOG_INFO, "%s stream: the decoder starts afresh at ts %" PRIu64
	     ", an access point after lost pictures", dd_codec_name(s->codec), job->timestamp);
	s->ops->flush(s->bs);
	dd_ref_set_clear(&s->refs);
	s->codec_ops->access->reset(s->codec_state);
	s->broken = false;
	s->fresh = true;
	forget_picture_fields(s);
}

/*
 * Before a job that needs no earlier picture (or the first after open or flush): the
 * backend's mode for the caller's lookahead. Everything in flight is finished first, by the
 * old mode's decoder, and no job from this one on predicts from anything before it, so a
 * backend that starts a new decoder here changes no picture.
 */
static void switch_mode(struct dd_stream *s, const struct dd_job *next)
{
	struct dd_error err = { "", DD_ERR_DATA };
	int r = 0;

	if (s->want_lookahead != s->lookahead && s->ops->set_frame_delay) {
		dd_stream_sync(s);
		r = s->ops->set_frame_delay(s->bs, s->want_lookahead, next, &err);
		if (r > 0) {
			/* the backend holds part of a picture: at the next such job */
			if (err.msg[0])
				elog(s->engine, DD_LOG_INFO, "%s stream: the mode changes at a "
				     "later key frame: %s", dd_codec_name(s->codec), err.msg);
			return;
		}
		if (r < 0) {
			/* the old mode stays in force: tried again at the next key frame */
			elog(s->engine, DD_LOG_WARNING, "%s stream: cannot change mode for a "
			     "lookahead of %u, decoding on as for %u: %s", dd_codec_name(s->codec),
			     s->want_lookahead, s->lookahead, err.msg);
			return;
		}
		elog(s->engine, DD_LOG_INFO, "%s stream: decoding for a lookahead of %u (was %u)%s",
		     dd_codec_name(s->codec), s->want_lookahead, s->lookahead,
		     s->want_shared ? ", sharing the CPUs with other streams" : "");
	}
	s->lookahead = s->want_lookahead;
	if (s->want_shared != s->shared && s->ops->set_shared) {
		dd_stream_sync(s);
		r = s->ops->set_shared(s->bs, s->want_shared, &err);
		if (r > 0)
			goto done; /* already so: nothing changed, nothing to say */
		if (r < 0) {
			elog(s->engine, DD_LOG_WARNING, "%s stream: cannot %s: %s",
			     dd_codec_name(s->codec), s->want_shared ?
			     "decode one frame at a time for the CPU share" :
			     "decode frames in parallel again", err.msg);
			return;
		}
		elog(s->engine, DD_LOG_INFO, "%s stream: %s", dd_codec_name(s->codec),
		     s->want_shared ? "one frame at a time, sharing the CPUs with other streams" :
		     "frames in parallel again, no longer sharing the CPUs");
	}
done:
	s->shared = s->want_shared;
}

/* The lookahead to decode for: the caller's, or 1 while the CPUs are shared. */
static void want_mode(struct dd_stream *s)
{
	s->want_lookahead = s->want_shared || s->no_frame_threads ? 1 : s->client_lookahead;
}

void dd_stream_set_lookahead(struct dd_stream *s, unsigned int lookahead)
{
	unsigned int max = max_lookahead(s->engine);

	s->client_lookahead = !lookahead || lookahead > max ? max : lookahead;
	want_mode(s);
}

void dd_stream_set_shared(struct dd_stream *s, bool shared)
{
	s->want_shared = shared;
	want_mode(s);
}

unsigned int dd_stream_lookahead(const struct dd_stream *s)
{
	return s->lookahead;
}

bool dd_stream_frames_in_parallel(const struct dd_stream *s)
{
	return s->ops->frames_in_parallel && s->ops->frames_in_parallel(s->bs);
}

/*
 * The fields of the CAPTURE picture the job writes (codec_ops->fields()), from the job that
 * starts it to the one not held: whether frame threads may decode the stream (see
 * codec_h264.c). True when the job completes the picture with one field only.
 */
static bool note_fields(struct dd_stream *s, const struct dd_job *job)
{
	unsigned int f;
	bool lone = false, one_at_a_time;

	if (!s->codec_ops->fields)
		return false;
	f = s->codec_ops->fields(job);
	if (job->new_frame)
		forget_picture_fields(s);
	s->picture_fields |= f & 3;
	s->picture_has_field |= (f & 3) != 3;
	if (!job->hold && s->picture_has_field) {
		lone = s->picture_fields != 3;
		s->lone_fields |= lone;
		s->field_pairs |= !lone;
	}
	one_at_a_time = s->lone_fields || ((f & DD_FIELDS_POSSIBLE) && !s->field_pairs);
	if (one_at_a_time != s->no_frame_threads) {
		elog(s->engine, DD_LOG_INFO, "%s stream: %s", dd_codec_name(s->codec),
		     !one_at_a_time ? "the fields of a frame came together: frames in parallel "
		     "from the next key frame" : s->lone_fields ? "a field came alone: one frame "
		     "at a time (frame threads and a field sent alone do not mix)" :
		     "its pictures may be fields: one frame at a time until the fields of a "
		     "frame come together");
		s->no_frame_threads = one_at_a_time;
		want_mode(s);
	}
	return lone;
}

int dd_stream_submit(struct dd_stream *s, const struct dd_job *job, uint64_t cookie,
		     struct dd_error *err)
{
	struct dd_pending *e;
	bool lone;

	s->jobs++;
	if (!job)
		return dd_fail(err, "no job");
	if (pending_reserve(s))
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	e = pending_at(s, s->pend_count);
	*e = (struct dd_pending){ .cookie = cookie, .job = job };
	if (check_job(s, job, e, err))
		goto fail;
	if (s->codec_ops->access && s->codec_ops->access->restart && e->x.intra &&
	    !e->x.key_frame && job->new_frame && !e->access_later &&
	    s->codec_ops->access->restart(s->codec_state, job, &e->x, &s->refs))
		restart_decoder(s, job);
	if (s->codec_ops->predicts_from)
		e->num_names = s->codec_ops->predicts_from(job, &e->x, e->names);
	lone = note_fields(s, job);
	if ((s->want_lookahead != s->lookahead || s->want_shared != s->shared) &&
	    (resets_chain(&e->x) || s->fresh))
		switch_mode(s, job);
	/*
	 * Frame threads cannot finish a lone field without the filler packets that break the
	 * reference marking (codec_h264.c): a client that held the fields of earlier frames
	 * together and now sends one alone loses the frames until the decoder can start
	 * afresh, one frame at a time (at the next key frame).
	 */
	if (lone && dd_stream_frames_in_parallel(s)) {
		dd_fail_kind(err, DD_ERR_UNSUPPORTED, "a field sent alone while the stream decodes "
			     "frames in parallel (the fields of earlier frames came together): "
			     "decoded one frame at a time from the next key frame");
		goto fail;
	}
	s->fresh = false;
	s->submitted = true;
	if (s->async) {
		if (s->ops->submit(s->bs, job, s->head_seq + s->pend_count, err))
			goto fail;
	} else {
		e->ret = s->ops->decode(s->bs, job, &e->got, &e->err);
		e->finished = true;
	}
	/* the backends copy the bitstream in their submit (decode), on this thread */
	e->input_lost = bitstream_lost(job);
	s->pend_count++;
	/* a synchronous backend's job is finalized at once, as dd_stream_decode() always did */
	finalize_ready(s);
	return 0;
fail:
	/* whatever the checks or the library made of what they read, as in finalize() */
	if (bitstream_lost(job))
		input_lost(err);
	access_in_order(s);
	record_failure(s, job->timestamp, &e->x, s->head_seq + s->pend_count);
	return -1;
}

enum dd_collect dd_stream_collect(struct dd_stream *s, bool wait, uint64_t *cookie,
				  struct dd_error *err)
{
	struct dd_pending *e;

	for (;;) {
		if (s->pend_final) {
			e = pending_at(s, 0);
			*cookie = e->cookie;
			if (e->ret && err)
				*err = e->err;
			s->pend_head = (s->pend_head + 1) % s->pend_cap;
			s->pend_count--;
			s->pend_final--;
			s->head_seq++;
			return e->ret ? DD_COLLECT_FAILED : DD_COLLECT_OK;
		}
		if (!s->pend_count)
			return DD_COLLECT_NONE;
		if (!pull(s, false)) {
			if (!wait)
				return DD_COLLECT_NONE;
			if (!pull(s, true))
				fail_unfinished(s, "the decoder lost the job");
		}
		finalize_ready(s);
	}
}

void dd_stream_sync(struct dd_stream *s)
{
	if (!s->async || s->pend_final == s->pend_count)
		return;
	s->ops->sync(s->bs);
	while (pull(s, false))
		;
	fail_unfinished(s, "the decoder lost the job");
	finalize_ready(s);
}

unsigned int dd_stream_pending(const struct dd_stream *s)
{
	return s->pend_count;
}

int dd_stream_decode(struct dd_stream *s, const struct dd_job *job, struct dd_error *err)
{
	uint64_t cookie;

	if (s->pend_count) {
		s->jobs++;
		return dd_fail(err, "submitted jobs are still pending on this stream");
	}
	if (dd_stream_submit(s, job, 0, err))
		return -1;
	dd_stream_sync(s);
	switch (dd_stream_collect(s, true, &cookie, err)) {
	case DD_COLLECT_OK:
		return 0;
	case DD_COLLECT_FAILED:
		return -1;
	default:
		return dd_fail(err, "the decoder lost the job");
	}
}
