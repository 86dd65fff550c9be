/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dav1d backend for AV1, used directly (libavcodec's libdav1d wrapper neither outputs
 * invisible frames nor allocates through get_buffer2, see docs/daemon-engine.md).
 *
 * Settings: max_frame_delay = 1 and output_invisible_frames = 1, so each frame fed to
 * dav1d_send_data() yields exactly its own picture from the next dav1d_get_picture(), shown or
 * not, in decoding order; apply_grain = 1, so the picture handed out carries the film grain
 * while dav1d keeps its references grain-free. Tile threads are allowed; with a frame delay of
 * 1 dav1d still finishes the frame before dav1d_get_picture() returns it.
 *
 * Each job is fed as rebuilt OBUs (av1_obu_writer.c): a sequence header (dav1d ignores an
 * unchanged one), a frame header and one tile group holding the tiles named by the
 * TILE_GROUP_ENTRY control. What the client put around the tiles is never parsed.
 *
 * With the engine's frame_delay (the caller's lookahead) above 1, the jobs go through
 * submit/collect/sync instead of decode, with max_frame_delay = frame_delay - 1 (frame
 * threads; 1 while the stream shares the CPUs with other streams, d_set_shared()): dav1d
 * then returns a frame's picture when the frame max_frame_delay later is sent,
 * or when drained. One less than the lookahead, so that a caller keeping frame_delay jobs in
 * flight finds the oldest one finished without a drain: dav1d 1.5 hangs when it is sent data
 * after a drain that left frames in flight (the drain advances the ring's next slot past an
 * empty one, and a later frame lands ahead of older ones), so every drain here is complete. Each frame's data carries a tag (its
 * job's cookie, in Dav1dData's user data), which dav1d copies to the picture and, for a frame
 * that failed, to dav1d_get_decode_error_data_props(): results are matched to jobs by that
 * tag, never by counting, because a frame that fails (or whose reference failed) makes no
 * picture. Pictures and errors come out in the order the frames were sent, so a job still
 * without a result when a later one's arrives has none coming: it failed. Repeated
 * dav1d_get_picture() calls drain one frame at a time and keep the references (sync).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "av1_obu_writer.h"
#include "backend.h"
#include "dav1d_lib.h"
#include "dav1d_pictures.h"
#include "error.h"
#include "picture.h"
#include "picture_meter.h"
#include "warm_samples.h"

#define SEQ_OBU_MAX 64
#define FRAME_OBU_MAX 4096

/* dav1d's max_frame_delay is at most this; more frames in flight buy nothing at 2-4 threads */
#define MAX_FRAME_DELAY 4

struct dav1d_backend {
	struct dd_dav1d_lib lib;
	unsigned int threads;
	unsigned int depth; /* the lookahead: 1 = decode(), else submit/collect/sync */
	dd_log_fn log;
	void *log_opaque;
};

struct dd_backend_stream {
	struct dav1d_backend *be;
	Dav1dContext *ctx;
	unsigned int frame_delay; /* ctx's max_frame_delay (d_set_shared()) */
	struct dd_av1_state state;
	uint8_t seq_obu[SEQ_OBU_MAX]; /* the last sequence header fed to dav1d */
	int seq_len;
	uint8_t *buf; /* the rebuilt OBUs of the current job */
	size_t buf_cap;
	char dav1d_error[160]; /* first message dav1d logged during the current job */
	/* frame threads log from their own threads: dav1d_error is then shared */
	pthread_mutex_t log_lock;
	/* submitted jobs, oldest first, until collected (depth > 1 only) */
	struct async_job *q;
	unsigned int q_cap, q_head, q_count;
	/* the pictures' bytes against the stream's limit (dav1d_pictures.h) */
	struct dd_meter *meter;
	struct dd_dav1d_pictures *pictures;
	/* an older frame's error props that submit_failed() took from dav1d, for route() */
	Dav1dDataProps kept_props;
	bool kept_props_valid;
};

struct async_job {
	const struct dd_job *job;
	bool done;
	struct dd_backend_result res;
};

/* What each Dav1dData carries: the job it belongs to, or that job's replayed key re-show. */
struct frame_tag {
	uint64_t cookie;
	bool replay;
};

static void dav1d_log_hook(void *cookie, const char *fmt, va_list ap)
{
	struct dd_backend_stream *s = cookie;
	char line[256];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	pthread_mutex_lock(&s->log_lock);
	if (!s->dav1d_error[0])
		snprintf(s->dav1d_error, sizeof(s->dav1d_error), "%s", line);
	pthread_mutex_unlock(&s->log_lock);
	if (s->be->log)
		s->be->log(s->be->log_opaque, DD_LOG_DEBUG, line);
}

static void *d_init(const struct dd_engine_config *config, struct dd_error *why)
{
	struct dav1d_backend *be = calloc(1, sizeof(*be));
	long cpus;

	if (!be) {
		dd_fail_kind(why, DD_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	if (dd_dav1d_lib_load(&be->lib, config->dav1d_path, why)) {
		free(be);
		return NULL;
	}
	be->log = config->log;
	be->log_opaque = config->log_opaque;
	be->threads = config->threads;
	if (!be->threads) {
		/* tile and post-filter threads; more than 4 buys little at these frame sizes */
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		be->threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned int)cpus;
	}
	be->depth = config->frame_delay < 2 ? 1 :
		    config->frame_delay > MAX_FRAME_DELAY + 1 ? MAX_FRAME_DELAY + 1 :
		    config->frame_delay;
	return be;
}

static void d_fini(void *backend)
{
	struct dav1d_backend *be = backend;

	if (!be)
		return;
	dd_dav1d_lib_unload(&be->lib);
	free(be);
}

static bool d_supports(void *backend, enum dd_codec codec, uint32_t fourcc, unsigned int bit_depth,
		       struct dd_error *why)
{
	(void)backend;
	if (codec != DD_CODEC_AV1) {
		dd_fail(why, "the dav1d backend decodes AV1 only");
		return false;
	}
	if (bit_depth != 8 && bit_depth != 10) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "%u-bit pictures have no capture format", bit_depth);
		return false;
	}
	if (fourcc != V4L2_PIX_FMT_NV12 && fourcc != V4L2_PIX_FMT_YUV420M &&
	    fourcc != V4L2_PIX_FMT_P010) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "capture format not supported by the dav1d backend");
		return false;
	}
	if (dd_fourcc_bit_depth(fourcc) != bit_depth) {
		dd_fail(why, "capture format does not carry %u-bit samples", bit_depth);
		return false;
	}
	return true;
}

/* Forgets the error props submit_failed() kept (their decoder is flushed or gone). */
static void drop_error_props(struct dd_backend_stream *s)
{
	if (s->kept_props_valid)
		s->be->lib.dav1d_data_props_unref(&s->kept_props);
	s->kept_props_valid = false;
}

static void d_close(struct dd_backend_stream *s)
{
	if (!s)
		return;
	drop_error_props(s);
	/* frees the tags of frames still in flight, through tag_free() */
	if (s->ctx)
		s->be->lib.dav1d_close(&s->ctx);
	/* pictures the caller still holds keep the allocator, and it the meter */
	dd_dav1d_pictures_unref(s->pictures);
	dd_meter_unref(s->meter);
	pthread_mutex_destroy(&s->log_lock);
	free(s->q);
	free(s->buf);
	free(s);
}

/*
 * The kind of a failure dav1d returned (its DAV1D_ERR codes are negated errnos): its own
 * allocations failing is no fault of the stream, a feature it does not decode is a limit.
 */
static enum dd_error_kind dav1d_error_kind(int ret)
{
	if (ret == DAV1D_ERR(ENOMEM))
		return DD_ERR_NO_MEMORY;
	if (ret == DAV1D_ERR(ENOPROTOOPT))
		return DD_ERR_UNSUPPORTED;
	return DD_ERR_DATA;
}

/* A dav1d decoder for stream s that runs up to frame_delay frames at once; NULL with err. */
static Dav1dContext *open_decoder(struct dd_backend_stream *s, unsigned int frame_delay,
				  struct dd_error *err)
{
	const struct dav1d_backend *be = s->be;
	Dav1dContext *ctx = NULL;
	Dav1dSettings set;
	int ret;

	be->lib.dav1d_default_settings(&set);
	set.n_threads = (int)be->threads;
	/* dav1d runs min(max_frame_delay, n_threads) frames at once (see the top) */
	set.max_frame_delay = (int)frame_delay;
	set.apply_grain = 1;
	set.output_invisible_frames = 1;
	set.all_layers = 0;
	set.operating_point = 0;
	/* the engine has checked the frame against the CAPTURE buffer; this is a backstop */
	set.frame_size_limit = 16384u * 16384u;
	/*
	 * Damage inside tile data: AV1 ends each tile's symbol data with a marker bit and zero
	 * padding up to the tile's size, which dav1d checks only in strict mode. Noise or a
	 * flipped bit desynchronises the symbol decoder, which then rarely stops exactly at the
	 * marker: without the check such a frame decodes "fine" into a wrong picture (the fault
	 * matrix's AV1 garbage and flip-data cells), with it the frame fails. The tiles dav1d
	 * sees end exactly where the client's tile_size says (av1_obu_writer.c), and the OBUs the
	 * engine writes have their trailing bits, so a conformant stream passes.
	 */
	set.strict_std_compliance = 1;
	set.logger.cookie = s;
	set.logger.callback = dav1d_log_hook;
	set.allocator = dd_dav1d_pictures_allocator(s->pictures);
	ret = be->lib.dav1d_open(&ctx, &set);
	if (ret < 0) {
		dd_fail_kind(err, ret == DAV1D_ERR(ENOMEM) ? DD_ERR_NO_MEMORY : DD_ERR_UNSUPPORTED,
			     "cannot open a dav1d decoder: %s", strerror(-ret));
		return NULL;
	}
	return ctx;
}

/* A stream whose dav1d runs up to frame_delay frames at once; NULL with err. */
static struct dd_backend_stream *open_stream(struct dav1d_backend *be, unsigned int frame_delay,
					     struct dd_error *err)
{
	struct dd_backend_stream *s;

	s = calloc(1, sizeof(*s));
	if (!s) {
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	s->be = be;
	pthread_mutex_init(&s->log_lock, NULL);
	dd_av1_state_reset(&s->state);
	s->meter = dd_meter_new();
	s->pictures = s->meter ? dd_dav1d_pictures_new(s->meter) : NULL;
	if (!s->pictures) {
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		d_close(s);
		return NULL;
	}
	s->ctx = open_decoder(s, frame_delay, err);
	if (!s->ctx) {
		d_close(s);
		return NULL;
	}
	s->frame_delay = frame_delay;
	return s;
}

/*
 * The stream shares the CPUs with other busy streams (dd_stream_set_shared()), or no longer:
 * a new decoder with one frame context, or with the frame_delay - 1 that d_open() gives. The
 * engine calls this with nothing in flight, before a shown key frame (which refreshes every
 * slot) or the first job after open or a flush: the new decoder starts from nothing, as after
 * a seek, and decodes exactly what the old one would have.
 */
static int d_set_shared(struct dd_backend_stream *s, bool shared, struct dd_error *err)
{
	unsigned int want = shared || s->be->depth < 2 ? 1 : s->be->depth - 1;
	Dav1dContext *ctx;

	if (want == s->frame_delay)
		return 1; /* decodes that way already (with a frame_delay of 2 or less, always) */
	ctx = open_decoder(s, want, err);
	if (!ctx)
		return -1; /* the old one decodes on */
	/* nothing is in flight: no frame's tag is left to free */
	drop_error_props(s); /* the old decoder's */
	s->be->lib.dav1d_close(&s->ctx);
	s->ctx = ctx;
	s->frame_delay = want;
	dd_av1_state_reset(&s->state);
	s->seq_len = 0;
	return 0;
}

static struct dd_backend_stream *d_open(void *backend, enum dd_codec codec, struct dd_error *err)
{
	struct dav1d_backend *be = backend;

	if (codec != DD_CODEC_AV1) {
		dd_fail(err, "the dav1d backend decodes AV1 only");
		return NULL;
	}
	return open_stream(be, be->depth > 1 ? be->depth - 1 : 1, err);
}

static int grow(struct dd_backend_stream *s, size_t need, struct dd_error *err)
{
	uint8_t *p;

	if (need <= s->buf_cap)
		return 0;
	p = realloc(s->buf, need);
	if (!p)
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	s->buf = p;
	s->buf_cap = need;
	return 0;
}

/*
 * The meter refused a picture since it counted `before`: what dav1d allocates while a frame
 * is sent is that frame's picture, and in feed() (one frame context) the film grain copy of
 * it too, so the frame failed for it, whatever dav1d returned (with frame contexts dav1d
 * may even accept the data: submit_failed()).
 */
static bool refused_since(const struct dd_backend_stream *s, uint64_t before)
{
	return dd_meter_refusals(s->meter, NULL) != before;
}

/* Feeds len bytes of s->buf to dav1d and takes the one picture they make. */
static int feed(struct dd_backend_stream *s, size_t len, Dav1dPicture *pic, struct dd_error *err)
{
	const struct dd_dav1d_lib *lib = &s->be->lib;
	Dav1dData data = { 0 };
	uint8_t *p = lib->dav1d_data_create(&data, len);
	uint64_t refusals = dd_meter_refusals(s->meter, NULL);
	int ret, tries = 0;

	if (!p)
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	memcpy(p, s->buf, len);
	while (data.sz) {
		ret = lib->dav1d_send_data(s->ctx, &data);
		if (ret == DAV1D_ERR(EAGAIN) && tries++ < 2) {
			/* a picture is waiting (there should be none): it is not this job's */
			Dav1dPicture stale = { 0 };

			if (lib->dav1d_get_picture(s->ctx, &stale) == 0)
				lib->dav1d_picture_unref(&stale);
			continue;
		}
		if (ret < 0) {
			lib->dav1d_data_unref(&data);
			if (refused_since(s, refusals))
				return dd_meter_fail(s->meter, err);
			return dd_fail_kind(err, dav1d_error_kind(ret), "dav1d rejected the frame: %s",
					    s->dav1d_error[0] ? s->dav1d_error : strerror(-ret));
		}
	}
	memset(pic, 0, sizeof(*pic));
	ret = lib->dav1d_get_picture(s->ctx, pic);
	if (ret == DAV1D_ERR(EAGAIN)) /* a second call drains a frame still in flight */
		ret = lib->dav1d_get_picture(s->ctx, pic);
	if (refused_since(s, refusals)) {
		if (ret == 0)
			lib->dav1d_picture_unref(pic);
		return dd_meter_fail(s->meter, err);
	}
	if (ret == DAV1D_ERR(EAGAIN))
		return dd_fail(err, "dav1d decoded no picture for this frame%s%s",
			       s->dav1d_error[0] ? ": " : "", s->dav1d_error);
	if (ret < 0)
		return dd_fail_kind(err, dav1d_error_kind(ret), "dav1d failed: %s",
				    s->dav1d_error[0] ? s->dav1d_error : strerror(-ret));
	return 0;
}

/*
 * The sample's temporal units fed one at a time as a job's rebuilt OBUs are (feed()), with
 * the threads a stream gets and one frame at a time; the pictures are dropped.
 */
static int d_warm_up(void *backend, enum dd_codec codec, struct dd_error *err)
{
	const struct dd_warm_sample *sample = dd_warm_sample(codec);
	struct dd_backend_stream *s;
	Dav1dPicture pic;
	int r = 0, pictures = 0;

	if (codec != DD_CODEC_AV1 || !sample || !sample->count)
		return 0;
	s = open_stream(backend, 1, err);
	if (!s)
		return -1;
	for (unsigned int i = 0; i < sample->count && !r; i++) {
		r = grow(s, sample->packet[i].size, err);
		if (r)
			break;
		memcpy(s->buf, sample->packet[i].data, sample->packet[i].size);
		r = feed(s, sample->packet[i].size, &pic, err);
		if (!r) {
			s->be->lib.dav1d_picture_unref(&pic);
			pictures++;
		}
	}
	d_close(s);
	return r ? -1 : pictures;
}

/*
 * A key frame shown again by show_existing_frame refreshes all eight slots, but clients never
 * send that as a request. It shows in the next request: every slot names the key frame's
 * timestamp, while our state has it in some slots only (an empty slot counts as different:
 * clients name empty slots 0, which may well be the key frame's own timestamp). Replay the
 * re-show into dav1d then. Replaying it early or twice is harmless: it only refreshes the
 * slots with the frame the client already names in all of them.
 */
static int send_tagged(struct dd_backend_stream *s, size_t len, uint64_t cookie, bool replay,
		       struct dd_error *err);

static int replay_key_reshow(struct dd_backend_stream *s, const struct v4l2_ctrl_av1_frame *f,
			     const uint64_t *cookie, struct dd_error *err)
{
	struct dd_av1_state *st = &s->state;
	bool differs = false;
	Dav1dPicture pic;
	int k, len;

	for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
		differs |= !st->slot[i].valid || st->slot[i].ts != f->reference_frame_ts[i];
	if (!differs)
		return 0;
	for (k = 0; k < DD_AV1_NUM_SLOTS; k++) {
		bool all = st->slot[k].valid && st->slot[k].showable &&
			   st->slot[k].frame_type == V4L2_AV1_KEY_FRAME;

		for (int i = 0; i < DD_AV1_NUM_SLOTS && all; i++)
			all = f->reference_frame_ts[i] == st->slot[k].ts;
		if (all)
			break;
	}
	if (k == DD_AV1_NUM_SLOTS)
		return 0; /* not a re-shown key frame; the reference check below decides */
	if (grow(s, 16, err))
		return -1;
	len = dd_av1_write_show_existing((unsigned int)k, s->buf, s->buf_cap, err);
	if (len < 0)
		return -1;
	if (cookie) {
		/* its picture comes out in turn and is dropped */
		if (send_tagged(s, (size_t)len, *cookie, true, err))
			return -1;
	} else {
		if (feed(s, (size_t)len, &pic, err))
			return -1;
		s->be->lib.dav1d_picture_unref(&pic);
	}
	dd_av1_state_show_existing_key(st, (unsigned int)k);
	if (s->be->log)
		s->be->log(s->be->log_opaque, DD_LOG_DEBUG,
			   "AV1: key frame re-shown by show_existing_frame replayed");
	return 0;
}

static int check_refs(const struct dd_backend_stream *s, const struct v4l2_ctrl_av1_frame *f,
		      struct dd_error *err)
{
	if (f->frame_type == V4L2_AV1_KEY_FRAME || f->frame_type == V4L2_AV1_INTRA_ONLY_FRAME)
		return 0;
	for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++) {
		int idx = f->ref_frame_idx[i];
		const struct dd_av1_slot *slot;

		if (idx < 0 || idx >= DD_AV1_NUM_SLOTS)
			return dd_fail(err, "AV1 ref_frame_idx[%d] = %d is invalid", i, idx);
		slot = &s->state.slot[idx];
		if (!slot->valid)
			return dd_fail_kind(err, DD_ERR_REFERENCE,
					    "AV1 reference slot %d was not decoded by this stream "
					    "since the last keyframe or flush", idx);
		if (slot->ts != f->reference_frame_ts[idx])
			return dd_fail_kind(err, DD_ERR_REFERENCE,
					    "AV1 reference slot %d: the request names ts %llu, this "
					    "stream decoded ts %llu into it", idx,
					    (unsigned long long)f->reference_frame_ts[idx],
					    (unsigned long long)slot->ts);
	}
	return 0;
}

/*
 * One debug line per frame naming the tools it uses: the VM tests read it to prove that a
 * clip exercises what it is meant to (hidden frames, tiles, grain, intra block copy).
 */
static void log_frame(const struct dd_backend_stream *s, const struct dd_job *job,
		      const struct dd_av1_frame_info *info)
{
	static const char *const type[] = { "KEY", "INTER", "INTRA_ONLY", "SWITCH" };
	const struct v4l2_ctrl_av1_frame *f = job->ctrl.av1.frame;
	const struct v4l2_ctrl_av1_film_grain *g = job->ctrl.av1.film_grain;
	bool gm = false, lr = false;
	char line[240];

	if (!s->be->log)
		return;
	for (int r = V4L2_AV1_REF_LAST_FRAME; r <= V4L2_AV1_REF_ALTREF_FRAME && !info->intra; r++)
		gm |= f->global_motion.type[r] != V4L2_AV1_WARP_MODEL_IDENTITY;
	for (int p = 0; p < 3; p++)
		lr |= f->loop_restoration.frame_restoration_type[p] != V4L2_AV1_FRAME_RESTORE_NONE;
	snprintf(line, sizeof(line), "AV1 frame ts %llu: %s%s %ux%u tiles %ux%u%s%s%s%s%s%s%s%s",
		 (unsigned long long)job->timestamp, type[info->frame_type & 3],
		 info->show_frame ? "" : info->showable_frame ? " hidden-showable" : " hidden",
		 info->upscaled_width, info->frame_height, info->tile_cols, info->tile_rows,
		 (job->ctrl.av1.sequence->flags & V4L2_AV1_SEQUENCE_FLAG_FILM_GRAIN_PARAMS_PRESENT) &&
		 g && (g->flags & V4L2_AV1_FILM_GRAIN_FLAG_APPLY_GRAIN) ? " grain" : "",
		 (f->flags & V4L2_AV1_FRAME_FLAG_ALLOW_SCREEN_CONTENT_TOOLS) ? " screen-content" : "",
		 (f->flags & V4L2_AV1_FRAME_FLAG_ALLOW_INTRABC) ? " intrabc" : "",
		 (f->flags & V4L2_AV1_FRAME_FLAG_USE_SUPERRES) ? " superres" : "",
		 (f->segmentation.flags & V4L2_AV1_SEGMENTATION_FLAG_ENABLED) ? " segmentation" : "",
		 (f->quantization.flags & V4L2_AV1_QUANTIZATION_FLAG_USING_QMATRIX) ? " qmatrix" : "",
		 gm ? " global-motion" : "", lr ? " loop-restoration" : "");
	s->be->log(s->be->log_opaque, DD_LOG_DEBUG, line);
}

/*
 * The job's OBUs into s->buf (*len bytes), after the checks that need the slots; info says
 * what the frame header holds. replay_cookie: frame threads, the replay is sent tagged.
 */
static int build_frame(struct dd_backend_stream *s, const struct dd_job *job,
		       const uint64_t *replay_cookie, struct dd_av1_frame_info *info, size_t *len,
		       struct dd_error *err)
{
	const struct v4l2_ctrl_av1_frame *f = job->ctrl.av1.frame;
	struct dd_av1_frame_in in = {
		.seq = job->ctrl.av1.sequence,
		.frame = f,
		.film_grain = job->ctrl.av1.film_grain,
	};
	size_t need;
	long tg;
	int n;

	*len = 0;
	if (!in.seq || !f || !job->ctrl.av1.tiles || !job->ctrl.av1.num_tiles)
		return dd_fail(err, "AV1 job without SEQUENCE, FRAME or TILE_GROUP_ENTRY");
	if (in.seq->flags & V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME)
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED,
				    "monochrome AV1 is not supported (no capture format for it)");
	pthread_mutex_lock(&s->log_lock); /* dav1d's frame threads may be logging */
	s->dav1d_error[0] = '\0';
	pthread_mutex_unlock(&s->log_lock);
	if (replay_key_reshow(s, f, replay_cookie, err) || check_refs(s, f, err))
		return -1;
	need = SEQ_OBU_MAX + FRAME_OBU_MAX +
	       dd_av1_tile_group_bound(job->ctrl.av1.num_tiles, job->bitstream_size);
	if (grow(s, need, err))
		return -1;
	n = dd_av1_write_sequence_header(in.seq, s->buf, SEQ_OBU_MAX, err);
	if (n < 0)
		return -1;
	/* dav1d empties its slots when the sequence header changes: so must we */
	if (s->seq_len && (n != s->seq_len || memcmp(s->buf, s->seq_obu, (size_t)n)))
		dd_av1_state_reset(&s->state);
	memcpy(s->seq_obu, s->buf, (size_t)n);
	s->seq_len = n;
	*len = (size_t)n;
	n = dd_av1_write_frame_header(&in, &s->state, info, s->buf + *len, FRAME_OBU_MAX, err);
	if (n < 0)
		return -1;
	*len += (size_t)n;
	tg = dd_av1_write_tile_group(info, job->ctrl.av1.tiles, job->ctrl.av1.num_tiles,
				     job->bitstream, job->bitstream_size, s->buf + *len,
				     s->buf_cap - *len, err);
	if (tg < 0)
		return -1;
	*len += (size_t)tg;
	return 0;
}

/* What dav1d decoded into *out, and the picture copied into dst. */
static int take_picture(const Dav1dPicture *pic, const struct dd_picture *dst,
			struct dd_decoded *out, struct dd_error *err)
{
	struct dd_yuv420 src;

	*out = (struct dd_decoded){
		.width = (uint32_t)pic->p.w,
		.height = (uint32_t)pic->p.h,
		.bit_depth = (unsigned int)pic->p.bpc,
		.profile = pic->seq_hdr ? (int)pic->seq_hdr->profile : -1,
	};
	if (pic->p.layout != DAV1D_PIXEL_LAYOUT_I420)
		return dd_fail(err, "decoded AV1 picture is not 4:2:0");
	src = (struct dd_yuv420){
		.data = { pic->data[0], pic->data[1], pic->data[2] },
		.stride = { pic->stride[0], pic->stride[1], pic->stride[1] },
		.width = out->width,
		.height = out->height,
		.bit_depth = out->bit_depth,
	};
	return dd_picture_write(dst, &src, err);
}

static int d_decode(struct dd_backend_stream *s, const struct dd_job *job, struct dd_decoded *out,
		    struct dd_error *err)
{
	const struct dd_dav1d_lib *lib = &s->be->lib;
	struct dd_av1_frame_info info;
	Dav1dPicture pic;
	size_t len;
	int ret;

	if (build_frame(s, job, NULL, &info, &len, err))
		return -1;
	if (feed(s, len, &pic, err)) {
		/* dav1d may have half-updated its slots: only a key frame can follow */
		lib->dav1d_flush(s->ctx);
		dd_av1_state_reset(&s->state);
		return -1;
	}
	ret = take_picture(&pic, job->dst, out, err);
	lib->dav1d_picture_unref(&pic);
	/*
	 * The frame is in dav1d's slots whether or not it fit the CAPTURE buffer; when it did
	 * not, the job fails and the engine empties the slots again (d_forget), since the
	 * client's buffer under that timestamp holds no picture.
	 */
	dd_av1_state_update(&s->state, &info, job->timestamp);
	log_frame(s, job, &info);
	return ret;
}

/* ---- frame threads (depth > 1) --------------------------------------------------------- */

static struct async_job *q_at(const struct dd_backend_stream *s, unsigned int i)
{
	return &s->q[(s->q_head + i) % s->q_cap];
}

static int q_reserve(struct dd_backend_stream *s)
{
	unsigned int cap = s->q_cap ? s->q_cap * 2 : 8;
	struct async_job *q;

	if (s->q_count < s->q_cap)
		return 0;
	q = malloc(sizeof(*q) * cap);
	if (!q)
		return -1;
	for (unsigned int i = 0; i < s->q_count; i++)
		q[i] = *q_at(s, i);
	free(s->q);
	s->q = q;
	s->q_cap = cap;
	s->q_head = 0;
	return 0;
}

/* The queue position of cookie's job, or -1 (collected already, or not ours). */
static int q_find(const struct dd_backend_stream *s, uint64_t cookie)
{
	for (unsigned int i = 0; i < s->q_count; i++)
		if (q_at(s, i)->res.cookie == cookie)
			return (int)i;
	return -1;
}

static void job_failed(struct async_job *j, enum dd_error_kind kind, const char *fmt,
		       const char *detail)
{
	j->done = true;
	j->res.ret = dd_fail_kind(&j->res.err, kind, fmt, detail);
}

/* dav1d's first log line since the last call (frame threads log from their own threads). */
static void take_dav1d_error(struct dd_backend_stream *s, char *buf, size_t len)
{
	pthread_mutex_lock(&s->log_lock);
	snprintf(buf, len, "%s", s->dav1d_error);
	s->dav1d_error[0] = '\0';
	pthread_mutex_unlock(&s->log_lock);
}

/* Results come in sending order: jobs before position end without one made no picture. */
static void fail_before(struct dd_backend_stream *s, unsigned int end)
{
	for (unsigned int i = 0; i < end; i++)
		if (!q_at(s, i)->done)
			job_failed(q_at(s, i), DD_ERR_DATA, "dav1d made no picture for this frame%s",
				   " (it or a frame it predicts from failed to decode)");
}

static void tag_free(const uint8_t *data, void *cookie)
{
	(void)cookie;
	free((void *)data);
}

static const struct frame_tag *tag_of(const Dav1dDataProps *m)
{
	return (const struct frame_tag *)m->user_data.data;
}

/*
 * The data props of dav1d's last decoding error, which taking empties: those that
 * submit_failed() took for an older frame first, else dav1d's own.
 */
static void take_error_props(struct dd_backend_stream *s, Dav1dDataProps *props)
{
	if (s->kept_props_valid) {
		*props = s->kept_props;
		s->kept_props_valid = false;
		return;
	}
	s->be->lib.dav1d_get_decode_error_data_props(s->ctx, props);
}

/*
 * One result of dav1d_get_picture(): a picture (ret 0) goes into its job's CAPTURE buffer;
 * an error fails the job the error's data props name, or with refused (the meter refused a
 * picture during the call: the film grain copy of the picture being output) the oldest job
 * without a result. Returns false for EAGAIN.
 */
static bool route(struct dd_backend_stream *s, int ret, Dav1dPicture *pic, bool refused)
{
	const struct dd_dav1d_lib *lib = &s->be->lib;
	const struct frame_tag *tag;
	Dav1dDataProps props = { 0 };
	struct async_job *j;
	char msg[160];
	int i;

	if (ret == DAV1D_ERR(EAGAIN))
		return false;
	if (ret == 0) {
		tag = tag_of(&pic->m);
		i = tag ? q_find(s, tag->cookie) : -1;
		if (i >= 0) {
			j = q_at(s, (unsigned int)i);
			fail_before(s, (unsigned int)i);
			/* a replayed re-show only refreshes the slots; its picture is not a job's */
			if (!tag->replay && !j->done) {
				j->done = true;
				j->res.ret = take_picture(pic, j->job->dst, &j->res.out,
							  &j->res.err);
			}
		}
		lib->dav1d_picture_unref(pic);
		return true;
	}
	take_dav1d_error(s, msg, sizeof(msg));
	if (!msg[0])
		snprintf(msg, sizeof(msg), "%s", strerror(-ret));
	take_error_props(s, &props);
	tag = refused ? NULL : tag_of(&props);
	i = tag ? q_find(s, tag->cookie) : -1;
	if (i < 0) {
		/* no data to name the frame: the oldest job without a result takes the blame */
		for (i = 0; i < (int)s->q_count && q_at(s, (unsigned int)i)->done; i++)
			;
	}
	if (i < (int)s->q_count) {
		j = q_at(s, (unsigned int)i);
		fail_before(s, (unsigned int)i);
		if (!j->done && refused) {
			j->done = true;
			j->res.ret = dd_meter_fail(s->meter, &j->res.err);
		} else if (!j->done) {
			job_failed(j, dav1d_error_kind(ret), tag && tag->replay ?
				   "dav1d failed to re-show the key frame: %s" :
				   "dav1d failed to decode the frame: %s", msg);
		}
	}
	lib->dav1d_data_props_unref(&props);
	return true;
}

/* dav1d_get_picture() and its result routed (route()). */
static bool get_and_route(struct dd_backend_stream *s)
{
	Dav1dPicture pic = { 0 };
	uint64_t refusals = dd_meter_refusals(s->meter, NULL);
	int ret = s->be->lib.dav1d_get_picture(s->ctx, &pic);

	return route(s, ret, &pic, refused_since(s, refusals));
}

/*
 * Whether the frame tagged cookie failed in dav1d's submit although dav1d took its data: with
 * frame contexts dav1d 1.5 first moves the older picture held in the context it reuses out
 * for output, then a failing submit (a refused picture, a reference of a size it cannot
 * scale from, its own allocation failures) only records the frame's data props as the last
 * error's and the send returns 0. Without this check the frame would count as sent, its
 * slots as refreshed, and a later frame could be decoded against the pictures dav1d still
 * has in them. Props of another frame are kept for route().
 */
static bool submit_failed(struct dd_backend_stream *s, uint64_t cookie)
{
	Dav1dDataProps props = { 0 };
	const struct frame_tag *tag;

	s->be->lib.dav1d_get_decode_error_data_props(s->ctx, &props);
	tag = tag_of(&props);
	if (tag && tag->cookie == cookie) {
		s->be->lib.dav1d_data_props_unref(&props);
		return true;
	}
	if (tag) {
		drop_error_props(s);
		s->kept_props = props;
		s->kept_props_valid = true;
	} else {
		s->be->lib.dav1d_data_props_unref(&props);
	}
	return false;
}

/*
 * Blocks until dav1d has returned every frame in flight (see the top: a partial drain is not
 * safe to send after). The first call after a send only takes a ready picture and arms the
 * drain; every later one drains: two EAGAINs in a row mean nothing is left.
 */
static void drain_all(struct dd_backend_stream *s)
{
	int idle = 0;

	while (idle < 2) {
		if (get_and_route(s))
			idle = 0;
		else
			idle++;
	}
}

/*
 * Sends len bytes of s->buf tagged with cookie. A picture that dav1d holds back the input for
 * (its ring of frames wrapped) is routed to its job, and so is one ready afterwards.
 */
static int send_tagged(struct dd_backend_stream *s, size_t len, uint64_t cookie, bool replay,
		       struct dd_error *err)
{
	const struct dd_dav1d_lib *lib = &s->be->lib;
	Dav1dData data = { 0 };
	struct frame_tag *tag;
	char msg[160];
	uint8_t *p;
	uint64_t refusals = 0;
	int ret, tries = 0;

	tag = malloc(sizeof(*tag));
	if (!tag)
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	*tag = (struct frame_tag){ .cookie = cookie, .replay = replay };
	p = lib->dav1d_data_create(&data, len);
	if (!p) {
		free(tag);
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	}
	memcpy(p, s->buf, len);
	if (lib->dav1d_data_wrap_user_data(&data, (const uint8_t *)tag, tag_free, NULL) < 0) {
		free(tag);
		lib->dav1d_data_unref(&data);
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	}
	while (data.sz) {
		/* pictures made while dav1d holds this frame back are older frames' */
		refusals = dd_meter_refusals(s->meter, NULL);
		ret = lib->dav1d_send_data(s->ctx, &data);
		if (ret == DAV1D_ERR(EAGAIN) && tries++ < 16) {
			get_and_route(s);
			continue;
		}
		if (ret < 0) {
			lib->dav1d_data_unref(&data);
			take_dav1d_error(s, msg, sizeof(msg));
			submit_failed(s, cookie); /* the frame's props, if dav1d kept them */
			if (refused_since(s, refusals))
				return dd_meter_fail(s->meter, err);
			return dd_fail_kind(err, dav1d_error_kind(ret), "dav1d rejected the frame: %s",
					    msg[0] ? msg : strerror(-ret));
		}
	}
	/*
	 * Accepted, but its submit may have failed all the same (submit_failed(); its picture
	 * refused: refused_since()): the caller's error path then finishes the frames before it
	 * and flushes, as for a frame dav1d rejects, instead of counting on slots dav1d never
	 * filled.
	 */
	if (submit_failed(s, cookie) || refused_since(s, refusals)) {
		take_dav1d_error(s, msg, sizeof(msg));
		if (refused_since(s, refusals))
			return dd_meter_fail(s->meter, err);
		return dd_fail(err, "dav1d could not start the frame%s%s", msg[0] ? ": " : "", msg);
	}
	get_and_route(s);
	return 0;
}

static void d_sync(struct dd_backend_stream *s)
{
	unsigned int i;

	for (i = 0; i < s->q_count && q_at(s, i)->done; i++)
		;
	if (i == s->q_count)
		return;
	drain_all(s);
	/* nothing is left in dav1d: a job without a result has none coming */
	fail_before(s, s->q_count);
}

static int d_submit(struct dd_backend_stream *s, const struct dd_job *job, uint64_t cookie,
		    struct dd_error *err)
{
	const struct dd_dav1d_lib *lib = &s->be->lib;
	struct dd_av1_frame_info info;
	struct async_job *j;
	size_t len;

	if (q_reserve(s))
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	/* queued first: with one frame context dav1d returns the picture before send returns */
	j = q_at(s, s->q_count++);
	*j = (struct async_job){ .job = job, .res = { .cookie = cookie } };
	if (build_frame(s, job, &cookie, &info, &len, err)) {
		s->q_count--;
		return -1;
	}
	if (send_tagged(s, len, cookie, false, err)) {
		/*
		 * dav1d may have half-updated its slots: finish the frames before this one, then
		 * only a key frame can follow, as in d_decode()
		 */
		j->done = true;
		j->res.ret = -1;
		d_sync(s);
		lib->dav1d_flush(s->ctx);
		drop_error_props(s);
		dd_av1_state_reset(&s->state);
		s->q_count--;
		return -1;
	}
	dd_av1_state_update(&s->state, &info, job->timestamp);
	log_frame(s, job, &info);
	return 0;
}

static int d_collect(struct dd_backend_stream *s, bool wait, struct dd_backend_result *res)
{
	for (;;) {
		if (s->q_count && q_at(s, 0)->done) {
			*res = q_at(s, 0)->res;
			s->q_head = (s->q_head + 1) % s->q_cap;
			s->q_count--;
			return 1;
		}
		if (!s->q_count || !wait)
			return 0;
		d_sync(s);
	}
}

static void d_flush(struct dd_backend_stream *s)
{
	s->be->lib.dav1d_flush(s->ctx);
	drop_error_props(s);
	dd_av1_state_reset(&s->state);
	/* the frames in flight are gone: their jobs fail, and are still collected */
	for (unsigned int i = 0; i < s->q_count; i++)
		if (!q_at(s, i)->done)
			job_failed(q_at(s, i), DD_ERR_DATA, "%s",
				   "the stream was flushed before the job finished");
}

/*
 * Clients reuse timestamps (a CAPTURE buffer's), so a slot naming one may hold an older
 * picture than the client now means by it. Unknown timestamps: any slot may be stale, and
 * decoding resumes at the next shown key frame (which refreshes all eight).
 */
static void d_forget(struct dd_backend_stream *s, const uint64_t *ts)
{
	for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
		if (!ts || s->state.slot[i].ts == *ts)
			s->state.slot[i].valid = false;
}

static struct dd_meter *d_meter(struct dd_backend_stream *s)
{
	return s->meter;
}

const struct dd_backend_ops dd_backend_dav1d = {
	.name = "dav1d",
	.init = d_init,
	.fini = d_fini,
	.supports = d_supports,
	.open = d_open,
	.decode = d_decode,
	.submit = d_submit,
	.collect = d_collect,
	.sync = d_sync,
	.set_shared = d_set_shared,
	.flush = d_flush,
	.forget = d_forget,
	.close = d_close,
	.warm_up = d_warm_up,
	.meter = d_meter,
};
