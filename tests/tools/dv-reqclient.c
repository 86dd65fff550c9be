// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-reqclient: drives the daedalus-v4l2 decoder like a stateless decoder
 * client (Request API), one or several decoder instances at once, and
 * checks what comes back: buffer flags, timestamps, bytesused and, with the
 * test peer answering, the CAPTURE contents bit for bit (see dv_common.h).
 * It can also misbehave: close its fds, exit or get killed with a job in
 * flight, or STREAMOFF under a running job.
 *
 * Prints one summary line "dv-reqclient: PASS|FAIL ..."; exit status 0 on
 * PASS.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/media.h>
#include <linux/v4l2-controls.h>

#include <linux/daedalus-v4l2.h>

#include "dv_common.h"
#include "dv_signal.h"
#include "dv_v4l2.h"

enum expect { EXPECT_OK, EXPECT_ERROR, EXPECT_ANY };
enum abort_how { ABORT_NONE, ABORT_CLOSE, ABORT_EXIT, ABORT_KILL, ABORT_STREAMOFF };

struct codec {
	const char *name;
	uint32_t fourcc;
	uint32_t id;		/* DAEDALUS_CODEC_* */
};

static const struct codec codecs[] = {
	{ "h264", V4L2_PIX_FMT_H264_SLICE, DAEDALUS_CODEC_H264 },
	{ "vp8", V4L2_PIX_FMT_VP8_FRAME, DAEDALUS_CODEC_VP8 },
	{ "vp9", V4L2_PIX_FMT_VP9_FRAME, DAEDALUS_CODEC_VP9 },
	{ "av1", V4L2_PIX_FMT_AV1_FRAME, DAEDALUS_CODEC_AV1 },
};

static struct {
	const struct codec *codec;
	const char *video;
	unsigned int width, height, frames, contexts, depth, ncap;
	unsigned int data_offset, timeout_ms;
	uint32_t cap_fourcc;
	enum dv_mem cap_mem;
	enum expect expect;
	bool verify, full_bytesused;
	double max_ms, min_ms;
	enum abort_how abort_how;
	unsigned int abort_frame, abort_delay_ms;
	double max_abort_ms;
	const char *go_file;
	const char *abort_when;		/* abort once this file exists, then create FILE.go */
	unsigned int pace_ms;		/* wait before queuing each frame after the first */
	unsigned int enomem_retries;	/* queue a request again after ENOMEM, so often */
	int verbose;
} opt = {
	.codec = &codecs[1], .width = 320, .height = 240, .frames = 4,
	.contexts = 1, .depth = 1, .timeout_ms = 5000, .verify = true,
	.max_abort_ms = 1000,
};

/* Per context results, in memory shared with the parent. */
struct ctx_stats {
	unsigned int ok, err, verified, failures, done, queue_enomem;
	double lat_min, lat_max, lat_sum, abort_ms;
	uint64_t t_first_queue, t_last_done;
	int finished;
};

static struct ctx_stats *stats;

#define CFAIL(s, ...) do { \
	(s)->failures++; \
	fprintf(stderr, "dv-reqclient: ctx %u: FAIL: ", ctx); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
} while (0)

/* Timestamps: unique per context and frame, multiples of 1 us (timeval). */
static struct timeval frame_tv(unsigned int ctx, int frame)
{
	if (frame < 0)	/* a reference to a frame that never existed */
		return (struct timeval){ .tv_sec = 900000 + ctx, .tv_usec = 7 };
	return (struct timeval){ .tv_sec = 1000 * (ctx + 1) + frame, .tv_usec = 500 };
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static uint64_t frame_ts(unsigned int ctx, int frame)
{
	return tv_ns(frame_tv(ctx, frame));
}

/* What the controls of frame @i name, per reference slot. */
struct refplan {
	unsigned int n;
	uint64_t ts[DAEDALUS_MAX_REFS];
	bool used[DAEDALUS_MAX_REFS];
	int frame[DAEDALUS_MAX_REFS];	/* frame it names, -1 = none */
};

static void plan_refs(unsigned int ctx, int i, struct refplan *rp)
{
	memset(rp, 0, sizeof(*rp));
	switch (opt.codec->id) {
	case DAEDALUS_CODEC_H264:
		rp->n = 16;
		/* dpb[0], [1]: previous frames; [2]: itself (second field style);
		 * [3]: a timestamp nobody has; others not VALID but named. */
		for (int s = 0; s < 16; s++) {
			rp->frame[s] = -1;
			rp->ts[s] = frame_ts(ctx, -1);
		}
		rp->frame[0] = i - 1;
		rp->frame[1] = i - 2;
		rp->frame[2] = i;
		for (int s = 0; s < 3; s++) {
			if (rp->frame[s] < 0)
				rp->frame[s] = -1;
			rp->ts[s] = frame_ts(ctx, rp->frame[s]);
		}
		rp->used[0] = rp->used[1] = rp->used[2] = rp->used[3] = true;
		rp->ts[5] = frame_ts(ctx, i > 0 ? i - 1 : -1);	/* not VALID */
		break;
	case DAEDALUS_CODEC_VP8:
	case DAEDALUS_CODEC_VP9:
	case DAEDALUS_CODEC_AV1:
		rp->n = opt.codec->id == DAEDALUS_CODEC_AV1 ? 8 : 3;
		for (unsigned int s = 0; s < rp->n; s++) {
			int f = s < 3 && opt.codec->id == DAEDALUS_CODEC_AV1 ? i - 1 - (int)s :
				s < 2 ? i - 1 - (int)s : -1;

			rp->frame[s] = f < 0 || i == 0 ? -1 : f;
			rp->ts[s] = frame_ts(ctx, rp->frame[s]);
			rp->used[s] = true;
		}
		break;
	}
}

/* Control payloads of one request (kept for hashing). */
struct ctrlset {
	unsigned int n;
	struct v4l2_ext_control c[4];
	union {
		struct v4l2_ctrl_vp8_frame vp8;
		struct v4l2_ctrl_vp9_frame vp9;
		struct {
			struct v4l2_ctrl_h264_sps sps;
			struct v4l2_ctrl_h264_pps pps;
			struct v4l2_ctrl_h264_decode_params dp;
		} h264;
		struct {
			struct v4l2_ctrl_av1_sequence seq;
			struct v4l2_ctrl_av1_frame frame;
			struct v4l2_ctrl_av1_tile_group_entry tge;
		} av1;
	} u;
};

static void add_ctrl(struct ctrlset *cs, uint32_t id, void *p, uint32_t size)
{
	cs->c[cs->n++] = (struct v4l2_ext_control){ .id = id, .size = size, .ptr = p };
}

static void build_ctrls(struct ctrlset *cs, int i, const struct refplan *rp,
			unsigned int bytes)
{
	unsigned int w = opt.width, h = opt.height;

	memset(cs, 0, sizeof(*cs));
	switch (opt.codec->id) {
	case DAEDALUS_CODEC_VP8: {
		struct v4l2_ctrl_vp8_frame *f = &cs->u.vp8;

		f->width = w;
		f->height = h;
		f->num_dct_parts = 1;
		f->first_part_size = bytes;
		f->flags = V4L2_VP8_FRAME_FLAG_SHOW_FRAME |
			   (i == 0 ? V4L2_VP8_FRAME_FLAG_KEY_FRAME : 0);
		f->last_frame_ts = rp->ts[0];
		f->golden_frame_ts = rp->ts[1];
		f->alt_frame_ts = rp->ts[2];
		add_ctrl(cs, V4L2_CID_STATELESS_VP8_FRAME, f, sizeof(*f));
		break;
	}
	case DAEDALUS_CODEC_VP9: {
		struct v4l2_ctrl_vp9_frame *f = &cs->u.vp9;

		f->frame_width_minus_1 = w - 1;
		f->frame_height_minus_1 = h - 1;
		f->render_width_minus_1 = w - 1;
		f->render_height_minus_1 = h - 1;
		f->bit_depth = 8;
		f->flags = V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING | V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING |
			   V4L2_VP9_FRAME_FLAG_SHOW_FRAME |
			   (i == 0 ? V4L2_VP9_FRAME_FLAG_KEY_FRAME : 0);
		f->last_frame_ts = rp->ts[0];
		f->golden_frame_ts = rp->ts[1];
		f->alt_frame_ts = rp->ts[2];
		add_ctrl(cs, V4L2_CID_STATELESS_VP9_FRAME, f, sizeof(*f));
		break;
	}
	case DAEDALUS_CODEC_H264: {
		struct v4l2_ctrl_h264_sps *sps = &cs->u.h264.sps;
		struct v4l2_ctrl_h264_decode_params *dp = &cs->u.h264.dp;

		sps->profile_idc = 100;
		sps->level_idc = 31;
		sps->chroma_format_idc = 1;
		sps->max_num_ref_frames = 4;
		sps->pic_width_in_mbs_minus1 = (w + 15) / 16 - 1;
		sps->pic_height_in_map_units_minus1 = (h + 15) / 16 - 1;
		sps->flags = V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY |
			     V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE;
		dp->nal_ref_idc = 1;
		dp->frame_num = i;
		dp->top_field_order_cnt = 2 * i;
		dp->bottom_field_order_cnt = 2 * i;
		dp->flags = i == 0 ? V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC : 0;
		for (unsigned int s = 0; s < rp->n; s++) {
			dp->dpb[s].reference_ts = rp->ts[s];
			dp->dpb[s].fields = V4L2_H264_FRAME_REF;
			if (rp->used[s])
				dp->dpb[s].flags = V4L2_H264_DPB_ENTRY_FLAG_VALID |
						   V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;
		}
		add_ctrl(cs, V4L2_CID_STATELESS_H264_SPS, sps, sizeof(*sps));
		add_ctrl(cs, V4L2_CID_STATELESS_H264_PPS, &cs->u.h264.pps,
			 sizeof(cs->u.h264.pps));
		add_ctrl(cs, V4L2_CID_STATELESS_H264_DECODE_PARAMS, dp, sizeof(*dp));
		break;
	}
	case DAEDALUS_CODEC_AV1: {
		struct v4l2_ctrl_av1_sequence *seq = &cs->u.av1.seq;
		struct v4l2_ctrl_av1_frame *f = &cs->u.av1.frame;

		seq->bit_depth = 8;
		seq->flags = V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X |
			     V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y;
		seq->max_frame_width_minus_1 = w - 1;
		seq->max_frame_height_minus_1 = h - 1;
		f->frame_width_minus_1 = w - 1;
		f->frame_height_minus_1 = h - 1;
		f->upscaled_width = w;
		f->render_width_minus_1 = w - 1;
		f->render_height_minus_1 = h - 1;
		f->frame_type = i == 0 ? V4L2_AV1_KEY_FRAME : V4L2_AV1_INTER_FRAME;
		f->flags = V4L2_AV1_FRAME_FLAG_SHOW_FRAME;
		f->tile_info.tile_cols = 1;
		f->tile_info.tile_rows = 1;
		for (unsigned int s = 0; s < rp->n; s++)
			f->reference_frame_ts[s] = rp->ts[s];
		cs->u.av1.tge.tile_size = bytes;
		add_ctrl(cs, V4L2_CID_STATELESS_AV1_SEQUENCE, seq, sizeof(*seq));
		add_ctrl(cs, V4L2_CID_STATELESS_AV1_FRAME, f, sizeof(*f));
		add_ctrl(cs, V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY, &cs->u.av1.tge,
			 sizeof(cs->u.av1.tge));
		break;
	}
	}
}

static int cmp_rctrl(const void *a, const void *b)
{
	const struct dv_record_ctrl *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The record the peer must have written for frame @i. */
static void expected_record(unsigned int ctx, int i, const uint8_t *bits,
			    unsigned int bytes, const struct refplan *rp,
			    const struct ctrlset *cs, struct dv_record *r)
{
	unsigned int ncap = opt.ncap;

	memset(r, 0, sizeof(*r));
	r->magic = DV_RECORD_MAGIC;
	r->version = DV_RECORD_VERSION;
	r->timestamp = frame_ts(ctx, i);
	r->seed = dv_pattern_seed(r->timestamp, bits, bytes);
	r->out_hash = dv_hash(bits, bytes);
	r->out_bytes = bytes;
	r->codec = opt.codec->id;
	r->num_refs = rp->n;
	for (unsigned int s = 0; s < rp->n; s++) {
		int f = rp->frame[s];

		r->refs[s].timestamp = rp->ts[s];
		if (!rp->used[s])
			continue;
		r->refs[s].flags = DAEDALUS_REF_FLAG_USED;
		/* CAPTURE buffers are used round robin: the last ncap frames
		 * up to this one still hold their timestamps. */
		if (f < 0 || f > i || f <= i - (int)ncap)
			continue;
		r->refs[s].flags |= DAEDALUS_REF_FLAG_FOUND;
		if (f == i)
			r->refs[s].flags |= DAEDALUS_REF_FLAG_SELF;
		else
			r->refs[s].content = DV_REF_CONTENT_OK;
	}
	r->num_req_ctrls = cs->n;
	for (unsigned int k = 0; k < cs->n; k++)
		r->ctrls[k] = (struct dv_record_ctrl){
			.id = cs->c[k].id, .size = cs->c[k].size,
			.hash = dv_hash(cs->c[k].ptr, cs->c[k].size),
		};
	qsort(r->ctrls, r->num_req_ctrls, sizeof(r->ctrls[0]), cmp_rctrl);
}

static void explain_record(unsigned int ctx, const struct dv_record *want,
			   const struct dv_record *got)
{
	fprintf(stderr, "  record: magic %#x/%#x ts %" PRIu64 "/%" PRIu64 " seed %s out %u/%u"
		" hash %s codec %u/%u refs %u/%u ctrls %u/%u (want/got)\n",
		want->magic, got->magic, want->timestamp, got->timestamp,
		want->seed == got->seed ? "same" : "DIFF", want->out_bytes, got->out_bytes,
		want->out_hash == got->out_hash ? "same" : "DIFF", want->codec, got->codec,
		want->num_refs, got->num_refs, want->num_req_ctrls, got->num_req_ctrls);
	for (unsigned int s = 0; s < DV_RECORD_REFS; s++)
		if (memcmp(&want->refs[s], &got->refs[s], sizeof(want->refs[s])))
			fprintf(stderr, "  ctx %u ref slot %u: want ts %" PRIu64 " flags %#x content %u,"
				" got ts %" PRIu64 " flags %#x content %u\n", ctx, s,
				want->refs[s].timestamp, want->refs[s].flags, want->refs[s].content,
				got->refs[s].timestamp, got->refs[s].flags, got->refs[s].content);
	for (unsigned int k = 0; k < DV_RECORD_CTRLS; k++)
		if (memcmp(&want->ctrls[k], &got->ctrls[k], sizeof(want->ctrls[k])))
			fprintf(stderr, "  ctrl %u: want id %#x size %u, got id %#x size %u%s\n", k,
				want->ctrls[k].id, want->ctrls[k].size, got->ctrls[k].id,
				got->ctrls[k].size,
				want->ctrls[k].hash != got->ctrls[k].hash ? " (payload differs)" : "");
}

/* Check a decoded CAPTURE buffer bit for bit. */
static bool verify_capture(struct dv_dev *d, unsigned int ctx, unsigned int idx,
			   const struct dv_record *want, const struct v4l2_plane *planes)
{
	struct dv_buf *b = &d->cap[idx];
	bool ok = true;

	for (unsigned int p = 0; p < b->nplanes && ok; p++) {
		const uint8_t *m = b->p[p].map;
		size_t len = planes[p].bytesused, bad, from = 0;

		if (b->p[p].dmabuf >= 0)
			dv_dmabuf_sync(b->p[p].dmabuf, 1, 0);
		if (p == 0) {
			if (len < DV_PATTERN_START || memcmp(m, want, sizeof(*want))) {
				fprintf(stderr, "dv-reqclient: ctx %u: record of %" PRIu64
					" differs\n", ctx, want->timestamp);
				explain_record(ctx, want, (const struct dv_record *)m);
				ok = false;
			}
			for (size_t k = sizeof(*want); ok && k < DV_PATTERN_START; k++)
				if (m[k])
					ok = false;
			from = DV_PATTERN_START;
		}
		if (ok) {
			bad = dv_pattern_check(m, from, len, want->seed, p);
			if (bad != (size_t)-1) {
				fprintf(stderr, "dv-reqclient: ctx %u: plane %u byte %zu of %zu"
					" differs from the pattern\n", ctx, p, bad, len);
				ok = false;
			}
		}
		if (b->p[p].dmabuf >= 0)
			dv_dmabuf_sync(b->p[p].dmabuf, 0, 0);
	}
	return ok;
}

struct inflight {
	int frame;
	int req;
	uint64_t t_queue;
	unsigned int bytes;
	int ref_frame[DAEDALUS_MAX_REFS];	/* frame each slot names, -1 = none */
	struct dv_record want;
};

/* Per frame of this context: did it come back with ERROR? */
static bool *frame_error;

static void do_abort(struct dv_dev *d, unsigned int ctx, struct ctx_stats *s,
		     struct inflight *fl, unsigned int nfl)
{
	uint64_t t0;

	if (opt.abort_when) {
		/* a test's signal: e.g. the test peer holds the job's GET_MSG */
		if (dv_signal_wait(opt.abort_when, "", true, 5, 30000, NULL))
			CFAIL(s, "%s never appeared: aborting anyway", opt.abort_when);
	} else if (opt.abort_delay_ms) {
		usleep(opt.abort_delay_ms * 1000u);
	}
	printf("dv-reqclient: ctx %u: aborting (%s) with a job in flight\n", ctx,
	       opt.abort_how == ABORT_CLOSE ? "close" : opt.abort_how == ABORT_EXIT ? "exit" :
	       opt.abort_how == ABORT_KILL ? "SIGKILL" : "STREAMOFF");
	fflush(stdout);
	t0 = dv_now_ns();
	switch (opt.abort_how) {
	case ABORT_KILL:
		raise(SIGKILL);
		break;
	case ABORT_EXIT:
		s->finished = 1;
		_exit(0);
	case ABORT_STREAMOFF:
		if (dv_stream(d, false))
			s->failures++;
		break;
	case ABORT_CLOSE:
		for (unsigned int k = 0; k < nfl; k++)
			if (fl[k].req >= 0)
				close(fl[k].req);
		dv_close(d);
		break;
	default:
		break;
	}
	s->abort_ms = dv_ms_since(t0);
	printf("dv-reqclient: ctx %u: abort took %.1f ms\n", ctx, s->abort_ms);
	fflush(stdout);
	if (opt.abort_when && dv_signal_create(opt.abort_when, ".go"))
		CFAIL(s, "cannot create %s.go", opt.abort_when);
	if (s->abort_ms > opt.max_abort_ms)
		CFAIL(s, "abort took %.1f ms (> %.0f ms)", s->abort_ms, opt.max_abort_ms);
}

/* Wait for the oldest in-flight frame and check it. */
static int reap(struct dv_dev *d, unsigned int ctx, struct ctx_stats *s,
		struct inflight *f, struct refplan *unused)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int idx = f->frame % opt.ncap, oidx = f->frame % opt.depth;
	const struct v4l2_pix_format_mplane *pix = &d->cap_fmt.fmt.pix_mp;
	bool error;
	double lat;
	int ret;

	(void)unused;
	for (;;) {
		ret = dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, &b, planes);
		if (ret != -EAGAIN)
			break;
		if (dv_ms_since(f->t_queue) > opt.timeout_ms) {
			CFAIL(s, "frame %d: no CAPTURE buffer after %u ms", f->frame,
			      opt.timeout_ms);
			return -ETIMEDOUT;
		}
		dv_wait(d->vfd, POLLIN, 50);
	}
	if (ret) {
		CFAIL(s, "frame %d: DQBUF CAPTURE: %s", f->frame, strerror(-ret));
		return ret;
	}
	lat = dv_ms_since(f->t_queue);
	s->t_last_done = dv_now_ns();
	error = b.flags & V4L2_BUF_FLAG_ERROR;
	frame_error[f->frame] = error;
	s->done++;
	if (error)
		s->err++;
	else
		s->ok++;
	if (s->done == 1 || lat < s->lat_min)
		s->lat_min = lat;
	if (lat > s->lat_max)
		s->lat_max = lat;
	s->lat_sum += lat;
	if (opt.verbose)
		printf("dv-reqclient: ctx %u frame %d: buffer %u %s ts %" PRIu64
		       " bytesused %u latency %.1f ms t_done_ns=%" PRIu64 "\n", ctx,
		       f->frame, b.index, error ? "ERROR" : "ok", tv_ns(b.timestamp),
		       planes[0].bytesused, lat, s->t_last_done);

	if (b.index != idx)
		CFAIL(s, "frame %d: CAPTURE buffer %u, want %u", f->frame, b.index, idx);
	if (tv_ns(b.timestamp) != frame_ts(ctx, f->frame))
		CFAIL(s, "frame %d: CAPTURE timestamp %" PRIu64 ", want %" PRIu64
		      " (TIMESTAMP_COPY)", f->frame, tv_ns(b.timestamp), frame_ts(ctx, f->frame));
	if ((b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_COPY)
		CFAIL(s, "frame %d: CAPTURE buffer without TIMESTAMP_COPY", f->frame);
	if (opt.expect == EXPECT_OK && error)
		CFAIL(s, "frame %d: ERROR buffer, want ok", f->frame);
	if (opt.expect == EXPECT_ERROR && !error)
		CFAIL(s, "frame %d: ok buffer, want ERROR", f->frame);
	if (opt.max_ms && lat > opt.max_ms)
		CFAIL(s, "frame %d: took %.1f ms (> %.0f ms)", f->frame, lat, opt.max_ms);
	if (opt.min_ms && lat < opt.min_ms)
		CFAIL(s, "frame %d: took only %.1f ms (< %.0f ms)", f->frame, lat, opt.min_ms);
	if (!error) {
		for (unsigned int p = 0; p < b.length && p < DV_MAX_PLANES; p++) {
			uint32_t want = opt.full_bytesused ? d->cap[idx].p[p].len :
				       pix->plane_fmt[p].sizeimage;

			if (planes[p].bytesused != want)
				CFAIL(s, "frame %d: plane %u bytesused %u, want %u", f->frame, p,
				      planes[p].bytesused, want);
		}
		if (opt.verify) {
			/* A reference whose own decode failed carries the ERROR
			 * flag to the daemon, which reports it in the record. */
			for (unsigned int k = 0; k < DAEDALUS_MAX_REFS; k++) {
				int rf = f->ref_frame[k];

				if (rf >= 0 && rf < f->frame && frame_error[rf] &&
				    f->want.refs[k].content == DV_REF_CONTENT_OK)
					f->want.refs[k].content = DV_REF_CONTENT_ERROR;
			}
			if (verify_capture(d, ctx, b.index, &f->want, planes))
				s->verified++;
			else
				CFAIL(s, "frame %d: CAPTURE contents wrong", f->frame);
		}
	}

	/*
	 * The request and the OUTPUT buffer must be done too. The m2m core returns CAPTURE
	 * first and OUTPUT just after, and returning OUTPUT completes the request: on another
	 * CPU the OUTPUT buffer can still be on its way here, so wait for the request (as
	 * GStreamer and FFmpeg do) before dequeuing it without blocking.
	 */
	if (dv_wait(f->req, POLLPRI, 1000) != 1)
		CFAIL(s, "frame %d: request not complete", f->frame);
	ret = dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, &b, planes);
	if (ret)
		CFAIL(s, "frame %d: DQBUF OUTPUT: %s", f->frame, strerror(-ret));
	else if (b.index != oidx)
		CFAIL(s, "frame %d: OUTPUT buffer %u, want %u", f->frame, b.index, oidx);
	else if (!!(b.flags & V4L2_BUF_FLAG_ERROR) != error)
		CFAIL(s, "frame %d: OUTPUT and CAPTURE disagree on ERROR", f->frame);
	if (ioctl(f->req, MEDIA_REQUEST_IOC_REINIT, NULL))
		CFAIL(s, "frame %d: REQUEST_IOC_REINIT: %s", f->frame, strerror(errno));
	ret = dv_queue_capture(d, idx);
	if (ret)
		s->failures++;
	return ret;
}

static int run_context(unsigned int ctx, int go_fd, int ready_fd)
{
	struct ctx_stats *s = &stats[ctx];
	struct inflight fl[DV_MAX_BUFS];
	unsigned int head = 0, count = 0;
	struct dv_dev d;
	char c = 'r';
	int ret;

	frame_error = calloc(opt.frames, sizeof(*frame_error));
	if (!frame_error)
		return -ENOMEM;
	ret = dv_open(&d, opt.video);
	if (!ret)
		ret = dv_set_formats(&d, opt.codec->fourcc, opt.width, opt.height,
				     opt.cap_fourcc);
	if (!ret)
		ret = dv_alloc(&d, opt.depth, opt.ncap, opt.cap_mem);
	if (!ret)
		ret = dv_stream(&d, true);
	for (unsigned int k = 0; !ret && k < opt.ncap; k++)
		ret = dv_queue_capture(&d, k);
	for (unsigned int k = 0; k < opt.depth; k++)
		fl[k].req = -1;
	for (unsigned int k = 0; !ret && k < opt.depth; k++) {
		fl[k].req = dv_req_alloc(&d);
		if (fl[k].req < 0)
			ret = fl[k].req;
	}
	if (ctx == 0 && !ret)
		printf("dv-reqclient: %s + %s, %s %ux%u -> CAPTURE %.4s %ux%u, %u planes, "
		       "sizeimage %u, %s memory\n", d.video, d.media, opt.codec->name,
		       opt.width, opt.height, (char *)&d.cap_fmt.fmt.pix_mp.pixelformat,
		       d.cap_fmt.fmt.pix_mp.width, d.cap_fmt.fmt.pix_mp.height,
		       d.cap_fmt.fmt.pix_mp.num_planes,
		       d.cap_fmt.fmt.pix_mp.plane_fmt[0].sizeimage,
		       opt.cap_mem == DV_MEM_MMAP ? "MMAP" :
		       opt.cap_mem == DV_MEM_HEAP ? "dma-heap DMABUF" : "udmabuf DMABUF");
	/* Start all contexts together so they really overlap. */
	if (ready_fd >= 0) {
		if (write(ready_fd, &c, 1) != 1)
			ret = -EIO;
		close(ready_fd);
	}
	if (go_fd >= 0) {
		while (read(go_fd, &c, 1) > 0)
			;
		close(go_fd);
	}
	/* set up and waiting: a test starts it when something else is under way */
	if (opt.go_file)
		dv_signal_wait(opt.go_file, "", true, 20, -1, NULL);
	if (ret) {
		s->failures++;
		return ret;
	}

	for (unsigned int i = 0; i < opt.frames || count; ) {
		if (i < opt.frames && count < opt.depth) {
			struct inflight *f = &fl[(head + count) % opt.depth];
			unsigned int oidx = i % opt.depth;
			uint8_t *bits = d.out[oidx].p[0].map + opt.data_offset;
			struct timeval tv = frame_tv(ctx, i);
			struct refplan rp;
			struct ctrlset cs;

			if (i && opt.pace_ms)
				nanosleep(&(struct timespec){ opt.pace_ms / 1000,
							      (long)(opt.pace_ms % 1000) * 1000000 },
					  NULL);
			f->frame = i;
			f->bytes = 1000 + (i * 37 + ctx * 101) % 3000;
			if (opt.data_offset + f->bytes > d.out[oidx].p[0].len) {
				CFAIL(s, "OUTPUT buffer too small");
				break;
			}
			dv_bitstream_fill(bits, f->bytes, ctx, i);
			plan_refs(ctx, i, &rp);
			build_ctrls(&cs, i, &rp, f->bytes);
			ret = dv_req_set_ctrls(&d, f->req, cs.c, cs.n);
			if (!ret)
				ret = dv_queue_output(&d, oidx, f->req, &tv, opt.data_offset,
						      f->bytes, 0);
			/* The record the peer must write, from what was queued;
			 * reference contents are settled when the frame is reaped. */
			expected_record(ctx, i, bits, f->bytes, &rp, &cs, &f->want);
			for (unsigned int k = 0; k < DAEDALUS_MAX_REFS; k++)
				f->ref_frame[k] = k < rp.n ? rp.frame[k] : -1;
			f->t_queue = dv_now_ns();
			/*
			 * ENOMEM is a shortage the application may wait out: the
			 * request, still whole (IDLE), is queued again.
			 */
			while (!ret && ioctl(f->req, MEDIA_REQUEST_IOC_QUEUE, NULL)) {
				if (errno == ENOMEM && s->queue_enomem < opt.enomem_retries) {
					s->queue_enomem++;
					continue;
				}
				ret = -errno;
				CFAIL(s, "frame %u: MEDIA_REQUEST_IOC_QUEUE: %s", i, strerror(errno));
			}
			if (ret) {
				s->failures++;
				break;
			}
			if (!s->t_first_queue)
				s->t_first_queue = f->t_queue;
			count++;
			if (opt.abort_how != ABORT_NONE && i == opt.abort_frame) {
				do_abort(&d, ctx, s, fl, opt.depth);
				s->finished = 1;
				return s->failures ? -EIO : 0;
			}
			i++;
			continue;
		}
		ret = reap(&d, ctx, s, &fl[head], NULL);
		if (ret == -ETIMEDOUT)
			break;
		head = (head + 1) % opt.depth;
		count--;
	}
	for (unsigned int k = 0; k < opt.depth; k++)
		if (fl[k].req >= 0)
			close(fl[k].req);
	if (dv_stream(&d, false))
		s->failures++;
	dv_close(&d);
	s->finished = 1;
	return s->failures ? -EIO : 0;
}

static void usage(void)
{
	fputs("usage: dv-reqclient [options]\n"
	      "  --codec h264|vp8|vp9|av1  OUTPUT format (default vp8)\n"
	      "  --size WxH            coded size (default 320x240)\n"
	      "  --frames N            frames per context (default 4)\n"
	      "  --contexts N          decoder instances at once, one process each\n"
	      "  --depth N             requests in flight per context (default 1)\n"
	      "  --capture-buffers N   CAPTURE buffers (default max(depth, 3) + 1)\n"
	      "  --capture-fmt NV12|YUV420M\n"
	      "  --capture-mem mmap|heap|udmabuf\n"
	      "  --data-offset N       bitstream starts N bytes into the OUTPUT plane\n"
	      "  --expect ok|error|any (default ok); buffers without ERROR are always\n"
	      "                        verified bit for bit unless --no-verify\n"
	      "  --no-verify           do not check CAPTURE contents\n"
	      "  --full-bytesused      CAPTURE bytesused must be the whole buffer length\n"
	      "  --max-ms M / --min-ms M   bounds on each frame's queue-to-done time\n"
	      "  --timeout-ms T        give up on a frame after T ms (default 5000)\n"
	      "  --abort close|exit|kill|streamoff  with frame --abort-frame K in flight,\n"
	      "                        after --abort-delay-ms D (must take < --max-abort-ms)\n"
	      "  --abort-when FILE     abort once FILE exists (not after a delay), then create\n"
	      "                        FILE.go (close and streamoff)\n"
	      "  --go-file PATH        set up every context, then wait for PATH to exist\n"
	      "  --video /dev/videoN   skip the device search\n"
	      "  --pace-ms P           wait P ms before queuing each frame after the first\n"
	      "  --retry-enomem N      queue a request again when QUEUE fails with ENOMEM,\n"
	      "                        up to N times per context (counted: queue_enomem)\n"
	      "  -v                    one line per frame\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "codec", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "contexts", required_argument, NULL, 'n' },
		{ "depth", required_argument, NULL, 'D' },
		{ "capture-buffers", required_argument, NULL, 'b' },
		{ "capture-fmt", required_argument, NULL, 'F' },
		{ "capture-mem", required_argument, NULL, 'M' },
		{ "data-offset", required_argument, NULL, 'o' },
		{ "expect", required_argument, NULL, 'e' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "full-bytesused", no_argument, NULL, 'U' },
		{ "max-ms", required_argument, NULL, 'x' },
		{ "min-ms", required_argument, NULL, 'y' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "abort", required_argument, NULL, 'a' },
		{ "abort-frame", required_argument, NULL, 'k' },
		{ "abort-delay-ms", required_argument, NULL, 'd' },
		{ "abort-when", required_argument, NULL, 'W' },
		{ "max-abort-ms", required_argument, NULL, 'A' },
		{ "video", required_argument, NULL, 'i' },
		{ "go-file", required_argument, NULL, 'g' },
		{ "pace-ms", required_argument, NULL, 'p' },
		{ "retry-enomem", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int ok = 0, err = 0, verified = 0, failures = 0, done = 0, killed = 0;
	unsigned int queue_enomem = 0;
	double lat_min = 0, lat_max = 0, lat_sum = 0, abort_max = 0;
	uint64_t t0, first_queue = 0, last_done = 0;
	int ready[2], go[2], c;

	while ((c = getopt_long(argc, argv, "v", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.codec = NULL;
			for (size_t k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++)
				if (!strcmp(optarg, codecs[k].name))
					opt.codec = &codecs[k];
			if (!opt.codec)
				usage();
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &opt.width, &opt.height) != 2)
				usage();
			break;
		case 'f': opt.frames = atoi(optarg); break;
		case 'n': opt.contexts = atoi(optarg); break;
		case 'D': opt.depth = atoi(optarg); break;
		case 'b': opt.ncap = atoi(optarg); break;
		case 'F':
			if (!strcmp(optarg, "NV12"))
				opt.cap_fourcc = V4L2_PIX_FMT_NV12;
			else if (!strcmp(optarg, "YUV420M"))
				opt.cap_fourcc = V4L2_PIX_FMT_YUV420M;
			else
				usage();
			break;
		case 'M':
			if (!strcmp(optarg, "mmap"))
				opt.cap_mem = DV_MEM_MMAP;
			else if (!strcmp(optarg, "heap"))
				opt.cap_mem = DV_MEM_HEAP;
			else if (!strcmp(optarg, "udmabuf"))
				opt.cap_mem = DV_MEM_UDMABUF;
			else
				usage();
			break;
		case 'o': opt.data_offset = atoi(optarg); break;
		case 'e':
			if (!strcmp(optarg, "ok"))
				opt.expect = EXPECT_OK;
			else if (!strcmp(optarg, "error"))
				opt.expect = EXPECT_ERROR;
			else if (!strcmp(optarg, "any"))
				opt.expect = EXPECT_ANY;
			else
				usage();
			break;
		case 'V': opt.verify = false; break;
		case 'U': opt.full_bytesused = true; break;
		case 'x': opt.max_ms = atof(optarg); break;
		case 'y': opt.min_ms = atof(optarg); break;
		case 't': opt.timeout_ms = atoi(optarg); break;
		case 'a':
			if (!strcmp(optarg, "close"))
				opt.abort_how = ABORT_CLOSE;
			else if (!strcmp(optarg, "exit"))
				opt.abort_how = ABORT_EXIT;
			else if (!strcmp(optarg, "kill"))
				opt.abort_how = ABORT_KILL;
			else if (!strcmp(optarg, "streamoff"))
				opt.abort_how = ABORT_STREAMOFF;
			else
				usage();
			break;
		case 'k': opt.abort_frame = atoi(optarg); break;
		case 'd': opt.abort_delay_ms = atoi(optarg); break;
		case 'W': opt.abort_when = optarg; break;
		case 'A': opt.max_abort_ms = atof(optarg); break;
		case 'i': opt.video = optarg; break;
		case 'g': opt.go_file = optarg; break;
		case 'p':
			opt.pace_ms = (unsigned int)strtoul(optarg, NULL, 10);
			if (opt.pace_ms > 60000)
				usage();
			break;
		case 'R':
			opt.enomem_retries = (unsigned int)strtoul(optarg, NULL, 10);
			if (opt.enomem_retries > 1000)
				usage();
			break;
		case 'v': opt.verbose++; break;
		default: usage();
		}
	}
	if (!opt.frames || !opt.contexts || opt.contexts > 64 || !opt.depth ||
	    opt.depth > DV_MAX_BUFS)
		usage();
	if (!opt.ncap)
		opt.ncap = (opt.depth > 3 ? opt.depth : 3) + 1;
	if (opt.ncap > DV_MAX_BUFS || opt.ncap < opt.depth)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	stats = mmap(NULL, opt.contexts * sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED || pipe(ready) || pipe(go)) {
		perror("dv-reqclient: setup");
		return 2;
	}
	t0 = dv_now_ns();
	for (unsigned int k = 0; k < opt.contexts; k++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (!pid) {
			close(ready[0]);
			close(go[1]);
			_exit(run_context(k, go[0], ready[1]) ? 1 : 0);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (unsigned int k = 0; k < opt.contexts; k++) {
		char ch;

		if (read(ready[0], &ch, 1) != 1)
			break;	/* a child died during setup; its status says why */
	}
	t0 = dv_now_ns();
	close(go[1]);
	for (unsigned int k = 0; k < opt.contexts; k++) {
		int status;

		if (wait(&status) < 0)
			break;
		if (WIFSIGNALED(status)) {
			if (WTERMSIG(status) == SIGKILL && opt.abort_how == ABORT_KILL)
				killed++;
			else
				failures++;
		} else if (WEXITSTATUS(status)) {
			failures++;
		}
	}
	for (unsigned int k = 0; k < opt.contexts; k++) {
		struct ctx_stats *s = &stats[k];

		ok += s->ok;
		err += s->err;
		verified += s->verified;
		failures += s->failures;
		queue_enomem += s->queue_enomem;
		if (s->done && (!done || s->lat_min < lat_min))
			lat_min = s->lat_min;
		if (s->lat_max > lat_max)
			lat_max = s->lat_max;
		if (s->abort_ms > abort_max)
			abort_max = s->abort_ms;
		lat_sum += s->lat_sum;
		done += s->done;
		if (s->t_first_queue && (!first_queue || s->t_first_queue < first_queue))
			first_queue = s->t_first_queue;
		if (s->t_last_done > last_done)
			last_done = s->t_last_done;
		if (!s->finished && !(opt.abort_how == ABORT_KILL))
			failures++;
	}
	if (opt.abort_how == ABORT_NONE && done != opt.frames * opt.contexts) {
		fprintf(stderr, "dv-reqclient: %u of %u frames done\n", done,
			opt.frames * opt.contexts);
		failures++;
	}
	if (opt.abort_how == ABORT_KILL && killed != opt.contexts) {
		fprintf(stderr, "dv-reqclient: %u of %u contexts were killed as planned\n",
			killed, opt.contexts);
		failures++;
	}
	printf("dv-reqclient: %s codec=%s contexts=%u frames=%u done=%u ok=%u error=%u "
	       "verified=%u lat_ms_min=%.1f lat_ms_avg=%.1f lat_ms_max=%.1f abort_ms=%.1f "
	       "wall_ms=%.1f first_queue_ns=%" PRIu64 " last_done_ns=%" PRIu64
	       " queue_enomem=%u\n",
	       failures ? "FAIL" : "PASS", opt.codec->name, opt.contexts, opt.frames, done,
	       ok, err, verified, lat_min, done ? lat_sum / done : 0.0, lat_max, abort_max,
	       dv_ms_since(t0), first_queue, last_done, queue_enomem);
	return failures ? 1 : 0;
}
