/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daedalus-v4l2-engine-bench: times the decode engine without the kernel. It drives the
 * engine as the daemon does for a V4L2 client: one dd_job per coded frame with the controls
 * a client fills from the bitstream (the tests' client emulators, see feeder.h), each picture
 * written into a CAPTURE buffer from a ring laid out like the module's (capture.h). Only the
 * decode loop is timed; the result is one line of JSON (report.h), meant to sit next to
 * `ffmpeg -threads N -i FILE -f null -` on the same file.
 *
 * --lookahead N keeps up to N jobs submitted before collecting the oldest (dd_stream_submit,
 * the engine's frame_delay N), like a client with N requests queued, and syncs at the end of
 * each pass; 1 (the default) calls dd_stream_decode() per job. The jobs in flight need their
 * own copy of the controls and the bitstream (a feeder's job lives until its next call) and
 * their own CAPTURE buffers: --buffers must be at least N + 1.
 *
 * --inflight G drives the engine the way the daemon does when the module grants it G jobs
 * of a context at once (daemon/process/main.c and context.c): frame_delay G + 1 (G above
 * 1), at most G jobs submitted (the kernel dispatches no more until one completes), the
 * finished ones collected without waiting after every submit, and when G are in flight and
 * the oldest is not finished, a complete sync. That is the device's decode with a client that
 * always has a request queued (the daemon's grace period before a drain applies only when
 * the kernel could still send a job); --lookahead is a client the kernel never holds back.
 * --sync-client wait|learn (with --inflight G above 1) is instead a client that waits for
 * each request before sending the next (FFmpeg's hwaccel): after every submit and reap with a
 * job still in flight, the worker's wait for a next job can only time out, then it drains;
 * `wait` waits DM_GRACE_NS every time and keeps the decoder's mode (the daemon before it
 * learnt), `learn` does what the daemon does now (daemon/process/grace.c, linked in): the
 * start probe (the first job held DM_GRACE_START_NS, no second comes), the waits grace.c asks
 * for, and the decoder's mode for a client that waits (dd_stream_set_lookahead(), applied at
 * a key frame). The pipelining client of --inflight shows the daemon an overlap with every
 * job but the first (its second comes during the start probe), so its mode stays.
 *
 * Nothing is checked beyond the engine's own verdict: no per-picture hashing, no allocation
 * per job. --md5-last hashes the last picture once, after the clock stopped, to compare with
 * decode_clip / decode_h264 / decode_av1.
 *
 * Exit status: 0 all jobs decoded, 1 some job failed, 2 usage, file or setup errors.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <linux/videodev2.h>

#include "capture.h"
#include "feeder.h"
#include "grace.h"
#include "report.h"
#include "test_picture.h"

static const struct feeder_ops *const feeders[] = {
	&feeder_vp8,
	&feeder_vp9,
#ifdef BENCH_HAVE_GST
	&feeder_av1,
	&feeder_h264,
#endif
};

struct options {
	const struct feeder_ops *feeder;
	const char *file;
	unsigned int threads, repeat, buffers, lookahead;
	unsigned int inflight;    /* 0: --lookahead; else the daemon's loop with G granted */
	enum { PIPELINING, SYNC_WAIT, SYNC_LEARN } client; /* --sync-client */
	unsigned long max_frames; /* per pass, 0 = all */
	uint32_t fourcc;          /* 0 = auto: NV12 for 8-bit, P010 for deeper */
	bool md5_last;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: daedalus-v4l2-engine-bench --codec h264|vp8|vp9|av1 [--threads N] "
		"[--repeat R]\n"
		"       [--buffers K] [--max-frames F] [--format auto|nv12|p010|yuv420m] "
		"[--md5-last]\n"
		"       [--lookahead N | --inflight G [--sync-client wait|learn]] FILE\n"
		"FILE: IVF for vp8/vp9/av1, an Annex-B byte stream for h264\n");
}

static void log_cb(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	if (level <= DD_LOG_WARNING)
		fprintf(stderr, "engine: %s\n", msg);
}

/* A whole decimal number in [min, max], or -1. */
static int parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "--%s: expected a number in %lu..%lu, got '%s'\n", opt, min, max, s);
	return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "codec", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "max-frames", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "md5-last", no_argument, NULL, '5' },
		{ "lookahead", required_argument, NULL, 'l' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "sync-client", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *codec = NULL;
	unsigned long v;
	int c;

	*o = (struct options){ .threads = 1, .repeat = 1, .buffers = 8, .lookahead = 1 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			codec = optarg;
			break;
		case 't':
			if (parse_uint("threads", optarg, 0, 256, &v))
				return -1;
			o->threads = (unsigned int)v;
			break;
		case 'r':
			if (parse_uint("repeat", optarg, 1, 1000000, &v))
				return -1;
			o->repeat = (unsigned int)v;
			break;
		case 'b':
			/* a V4L2 queue has at most VIDEO_MAX_FRAME (64) buffers */
			if (parse_uint("buffers", optarg, 1, 64, &v))
				return -1;
			o->buffers = (unsigned int)v;
			break;
		case 'm':
			if (parse_uint("max-frames", optarg, 0, (unsigned long)LONG_MAX, &v))
				return -1;
			o->max_frames = v;
			break;
		case 'f':
			if (!strcmp(optarg, "auto")) {
				o->fourcc = 0;
			} else if (!strcmp(optarg, "nv12")) {
				o->fourcc = V4L2_PIX_FMT_NV12;
			} else if (!strcmp(optarg, "p010")) {
				o->fourcc = V4L2_PIX_FMT_P010;
			} else if (!strcmp(optarg, "yuv420m")) {
				o->fourcc = V4L2_PIX_FMT_YUV420M;
			} else {
				fprintf(stderr, "--format: auto, nv12, p010 or yuv420m\n");
				return -1;
			}
			break;
		case '5':
			o->md5_last = true;
			break;
		case 'l':
			if (parse_uint("lookahead", optarg, 1, 63, &v))
				return -1;
			o->lookahead = (unsigned int)v;
			break;
		case 'i':
			/* the daemon asks the module for at most 8 (options.c) */
			if (parse_uint("inflight", optarg, 1, 8, &v))
				return -1;
			o->inflight = (unsigned int)v;
			break;
		case 's':
			if (!strcmp(optarg, "wait")) {
				o->client = SYNC_WAIT;
			} else if (!strcmp(optarg, "learn")) {
				o->client = SYNC_LEARN;
			} else {
				fprintf(stderr, "--sync-client: wait or learn\n");
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (!codec || optind + 1 != argc)
		return -1;
	if (o->inflight && o->lookahead > 1) {
		fprintf(stderr, "--inflight and --lookahead are two different clients: one of them\n");
		return -1;
	}
	if (o->client != PIPELINING && o->inflight < 2) {
		fprintf(stderr, "--sync-client needs --inflight 2 or more\n");
		return -1;
	}
	if (o->inflight > 1)
		o->lookahead = o->inflight; /* the most jobs submitted at once */
	if (o->buffers < o->lookahead + 1) {
		/* a buffer is handed out again only after its job was collected */
		fprintf(stderr, "--lookahead %u needs at least %u CAPTURE buffers (--buffers)\n",
			o->lookahead, o->lookahead + 1);
		return -1;
	}
	o->file = argv[optind];
	for (size_t i = 0; i < sizeof(feeders) / sizeof(feeders[0]); i++)
		if (!strcmp(codec, feeders[i]->name))
			o->feeder = feeders[i];
	if (!o->feeder) {
		if (!strcmp(codec, "h264") || !strcmp(codec, "av1"))
			fprintf(stderr, "--codec %s: not built in (needs "
				"gstreamer-codecparsers-1.0)\n", codec);
		else
			fprintf(stderr, "--codec: h264, vp8, vp9 or av1\n");
		return -1;
	}
	return 0;
}

static double seconds(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

static double cpu_seconds(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
}

/* The last job: the report gives its picture's size and, on request, its MD5. */
struct last_picture {
	const struct dd_picture *dst; /* a ring buffer, or NULL: no job yet */
	struct bench_job bj;
};

/* MD5 of the visible picture, hashed the way decode_clip/decode_h264/decode_av1 print it. */
static void md5_of(const struct last_picture *last, char out[33])
{
	const struct bench_job *bj = &last->bj;
	size_t bps = last->dst->fourcc == V4L2_PIX_FMT_P010 ? 2 : 1;
	struct pic p = { .fourcc = last->dst->fourcc, .width = bj->crop_w,
			 .height = bj->crop_h, .dst = *last->dst };

	for (unsigned int i = 0; i < p.dst.num_planes; i++) {
		unsigned int sub = i ? 1 : 0;
		/* NV12/P010 chroma: interleaved pairs */
		size_t xb = (bj->crop_x >> sub) * bps * (i && p.dst.num_planes == 2 ? 2 : 1);

		p.dst.planes[i].data += (size_t)p.dst.planes[i].stride * (bj->crop_y >> sub) + xb;
	}
	pic_md5(&p, out);
}

/* A job in flight (--lookahead above 1): its own copy of what the engine reads. */
struct held_job {
	struct dd_job job;
	union {
		struct v4l2_ctrl_vp8_frame vp8;
		struct v4l2_ctrl_vp9_frame vp9;
		struct v4l2_ctrl_av1_frame av1;
		struct v4l2_ctrl_h264_decode_params h264;
	} frame;
	union {
		struct v4l2_ctrl_vp9_compressed_hdr vp9;
		struct v4l2_ctrl_av1_sequence av1;
		struct v4l2_ctrl_h264_sps h264;
	} seq;
	struct v4l2_ctrl_av1_film_grain grain;
	struct v4l2_ctrl_h264_pps pps;
	struct v4l2_ctrl_h264_scaling_matrix scaling;
	struct v4l2_ctrl_av1_tile_group_entry tiles[V4L2_AV1_MAX_TILE_COUNT];
	uint8_t *bits;
	size_t bits_cap;
};

#define HOLD(dst, src)                                  \
	do {                                            \
		if (src) {                              \
			memcpy(&(dst), src, sizeof(dst)); \
			src = &(dst);                   \
		}                                       \
	} while (0)

/* Copies job (controls and bitstream) into h; -1 when out of memory. */
static int hold_job(struct held_job *h, const struct dd_job *job)
{
	struct dd_job *j = &h->job;

	if (job->bitstream_size > h->bits_cap) {
		uint8_t *p = realloc(h->bits, job->bitstream_size);

		if (!p)
			return -1;
		h->bits = p;
		h->bits_cap = job->bitstream_size;
	}
	*j = *job;
	if (job->bitstream_size)
		memcpy(h->bits, job->bitstream, job->bitstream_size);
	j->bitstream = h->bits;
	switch (job->codec) {
	case DD_CODEC_VP8:
		HOLD(h->frame.vp8, j->ctrl.vp8.frame);
		break;
	case DD_CODEC_VP9:
		HOLD(h->frame.vp9, j->ctrl.vp9.frame);
		HOLD(h->seq.vp9, j->ctrl.vp9.compressed_hdr);
		break;
	case DD_CODEC_AV1:
		HOLD(h->frame.av1, j->ctrl.av1.frame);
		HOLD(h->seq.av1, j->ctrl.av1.sequence);
		HOLD(h->grain, j->ctrl.av1.film_grain);
		if (j->ctrl.av1.num_tiles > V4L2_AV1_MAX_TILE_COUNT)
			return -1;
		if (j->ctrl.av1.tiles) {
			memcpy(h->tiles, j->ctrl.av1.tiles,
			       sizeof(h->tiles[0]) * j->ctrl.av1.num_tiles);
			j->ctrl.av1.tiles = h->tiles;
		}
		break;
	case DD_CODEC_H264:
		HOLD(h->frame.h264, j->ctrl.h264.decode_params);
		HOLD(h->seq.h264, j->ctrl.h264.sps);
		HOLD(h->pps, j->ctrl.h264.pps);
		HOLD(h->scaling, j->ctrl.h264.scaling_matrix);
		break;
	default:
		break;
	}
	return 0;
}

/* The jobs in flight of one pass: a FIFO of lookahead entries. */
struct inflight {
	struct held_job *held;
	unsigned int size, head, count;
};

static void count_result(struct bench_result *r, enum dd_collect c, unsigned int pass,
			 uint64_t cookie, const struct dd_error *err, bool *reported_failure)
{
	if (c == DD_COLLECT_OK) {
		r->pictures++;
		return;
	}
	r->failed++;
	if (!*reported_failure)
		fprintf(stderr, "pass %u, job %llu failed: %s\n", pass,
			(unsigned long long)cookie,
			c == DD_COLLECT_NONE ? "never collected" : err->msg);
	*reported_failure = true;
}

/* Collects the oldest job in flight (waiting for it). */
static void collect_oldest(struct dd_stream *stream, struct inflight *q, bool wait,
			   unsigned int pass, struct bench_result *r, bool *reported_failure)
{
	struct dd_error err = { "", DD_ERR_DATA };
	uint64_t cookie = 0;
	enum dd_collect c = dd_stream_collect(stream, wait, &cookie, &err);

	count_result(r, c, pass, cookie, &err, reported_failure);
	q->head = (q->head + 1) % q->size;
	q->count--;
}

/* Every job in flight finished and collected: the end of a pass, or a format change. */
static void drain(struct dd_stream *stream, struct inflight *q, unsigned int pass,
		  struct bench_result *r, bool *reported_failure)
{
	dd_stream_sync(stream);
	while (q->count)
		collect_oldest(stream, q, false, pass, r, reported_failure);
}

/* --inflight: the daemon's reap after a submit, every finished job without waiting. */
static void reap_finished(struct dd_stream *stream, struct inflight *q, unsigned int pass,
			  struct bench_result *r, bool *reported_failure)
{
	while (q->count) {
		struct dd_error err = { "", DD_ERR_DATA };
		uint64_t cookie = 0;
		enum dd_collect c = dd_stream_collect(stream, false, &cookie, &err);

		if (c == DD_COLLECT_NONE)
			return;
		count_result(r, c, pass, cookie, &err, reported_failure);
		q->head = (q->head + 1) % q->size;
		q->count--;
	}
}

/*
 * --inflight: after a submit, what the daemon's worker does next. It completes what is
 * finished; with all G granted jobs still in flight the kernel dispatches nothing more, so
 * the worker drains completely at once (held_back() in daemon/process/context.c). With a
 * synchronous client (--sync-client) the next job comes only after this one completes:
 * with a job still in flight the worker's wait for a next job (if it waits) times out, then
 * it drains.
 */
static void daemon_step(const struct options *o, struct dd_stream *stream, struct inflight *q,
			struct dm_grace *grace, unsigned int pass, struct bench_result *r,
			bool *reported_failure)
{
	reap_finished(stream, q, pass, r, reported_failure);
	if (q->count < o->inflight) {
		if (o->client == PIPELINING || !q->count)
			return;
		if (o->client == SYNC_WAIT || dm_grace_should_wait(grace)) {
			struct timespec t = { 0, DM_GRACE_NS };

			while (nanosleep(&t, &t))
				;
			dm_grace_timed_out(grace);
			r->grace_waits++;
		}
	}
	r->drains++;
	drain(stream, q, pass, r, reported_failure);
}

/*
 * --inflight: what the daemon's worker learns of the client before it submits job n
 * (daemon/process/context.c), and the decoder's mode it asks for. A pipelining client's
 * every job but the first arrives while another is in the daemon (its second during the
 * start probe); a synchronous client's first job is held DM_GRACE_START_NS for nothing.
 */
static void daemon_learns(const struct options *o, struct dd_stream *stream,
			  struct dm_grace *grace, unsigned long n)
{
	if (o->inflight < 2)
		return;
	if (n == 0 && dm_grace_should_probe_start(grace)) {
		if (o->client == PIPELINING) {
			dm_grace_overlap(grace);
		} else {
			struct timespec t = { 0, DM_GRACE_START_NS };

			while (nanosleep(&t, &t))
				;
			dm_grace_start_alone(grace);
		}
	} else if (n && o->client == PIPELINING) {
		dm_grace_overlap(grace);
	}
	dd_stream_set_lookahead(stream, dm_grace_pipelining(grace) ? 0 : 1);
}

/*
 * One pass over the stream, from a fresh engine stream (a keyframe start, as after a client
 * opens the device); adds to r and returns 0, or -1 when the stream cannot be parsed or
 * opened or a buffer cannot be allocated (the reason on stderr).
 */
static int run_pass(const struct options *o, unsigned int pass, struct dd_engine *engine,
		    struct feeder *f, struct capture_ring *ring, struct inflight *q,
		    struct bench_result *r, struct last_picture *last, bool *reported_failure)
{
	const struct feeder_ops *ops = f->ops;
	uint32_t hint = o->fourcc ? o->fourcc : V4L2_PIX_FMT_NV12;
	struct dd_stream *stream;
	struct timespec t0, t1, d0, d1;
	struct rusage ru0, ru1;
	struct bench_job bj;
	struct dd_error err;
	struct dm_grace grace; /* the daemon's per context, so per stream */
	unsigned long n;
	int ret = 0;

	dm_grace_init(&grace);
	/* the daemon probes only with more than one job granted */
	if (o->inflight < 2)
		grace.start_probed = true;
	/* opened outside the clock, like engine creation: the daemon does it once per stream */
	stream = dd_stream_open(engine, ops->codec, hint, &err);
	if (!stream) {
		fprintf(stderr, "cannot open a %s stream: %s\n", ops->name, err.msg);
		return -1;
	}
	r->backend = dd_stream_backend_name(stream);
	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; !o->max_frames || n < o->max_frames; n++) {
		/* unique per stream, as a client's OUTPUT timestamps are (decode_h264's scheme) */
		uint64_t ts = (uint64_t)(n + 1) * 1000;
		uint32_t fourcc;
		int got = ops->next(f, &bj);

		if (got <= 0) {
			ret = got;
			break;
		}
		fourcc = o->fourcc ? o->fourcc :
				     bj.bit_depth > 8 ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;
		bj.job.timestamp = ts;
		/* a new CAPTURE format reallocates the ring: nothing may be in flight then */
		if (q->count && last->dst && (fourcc != last->dst->fourcc ||
					      bj.width != last->bj.width ||
					      bj.height != last->bj.height)) {
			clock_gettime(CLOCK_MONOTONIC, &d0);
			drain(stream, q, pass, r, reported_failure);
			clock_gettime(CLOCK_MONOTONIC, &d1);
			r->decode_s += seconds(&d1) - seconds(&d0);
		}
		bj.job.dst = capture_ring_next(ring, fourcc, bj.width, bj.height);
		if (!bj.job.dst) {
			fprintf(stderr, "out of memory for %u CAPTURE buffers of %ux%u\n",
				o->buffers, bj.width, bj.height);
			ret = -1;
			break;
		}
		err.msg[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &d0);
		if (o->client != SYNC_WAIT)
			daemon_learns(o, stream, &grace, n);
		if (o->lookahead == 1) {
			if (dd_stream_decode(stream, &bj.job, &err)) {
				r->failed++;
				if (!*reported_failure)
					fprintf(stderr, "pass %u, job %lu failed: %s\n", pass, n,
						err.msg);
				*reported_failure = true;
			} else {
				r->pictures++;
			}
		} else {
			struct held_job *h;

			/* a client with lookahead requests queued: the oldest must be done first */
			while (q->count >= o->lookahead)
				collect_oldest(stream, q, true, pass, r, reported_failure);
			h = &q->held[(q->head + q->count) % q->size];
			if (hold_job(h, &bj.job)) {
				fprintf(stderr, "out of memory for a job in flight\n");
				ret = -1;
				break;
			}
			if (dd_stream_submit(stream, &h->job, n, &err))
				count_result(r, DD_COLLECT_FAILED, pass, n, &err,
					     reported_failure);
			else
				q->count++;
		}
		clock_gettime(CLOCK_MONOTONIC, &d1);
		r->decode_s += seconds(&d1) - seconds(&d0);
		if (o->inflight > 1) {
			daemon_step(o, stream, q, &grace, pass, r, reported_failure);
			clock_gettime(CLOCK_MONOTONIC, &d0);
			r->decode_s += seconds(&d0) - seconds(&d1);
		}
		r->jobs++;
		last->dst = bj.job.dst;
		last->bj = bj;
		/* like a client: the reference slots follow the bitstream, whatever happened */
		ops->done(f, &bj, ts);
		if (bj.shown)
			f->shown++;
	}
	if (q->count) {
		clock_gettime(CLOCK_MONOTONIC, &d0);
		drain(stream, q, pass, r, reported_failure);
		clock_gettime(CLOCK_MONOTONIC, &d1);
		r->decode_s += seconds(&d1) - seconds(&d0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru1);
	r->wall_s += seconds(&t1) - seconds(&t0);
	r->cpu_s += cpu_seconds(&ru1) - cpu_seconds(&ru0);
	dd_stream_close(stream);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	struct dd_engine_config cfg = { .log = log_cb };
	struct bench_result r = { 0 };
	struct last_picture last = { 0 };
	struct capture_ring ring;
	struct inflight q = { 0 };
	struct dd_engine *engine;
	struct feeder *f;
	struct rusage ru;
	bool reported_failure = false;
	char md5[33];
	int status = 0;

	if (parse_options(argc, argv, &o)) {
		usage();
		return 2;
	}
	f = o.feeder->open(o.file);
	if (!f)
		return 2;
	f->ops = o.feeder;
	f->shown = 0;
	cfg.threads = o.threads;
	/* the daemon: frame_delay one above the grant, so dav1d decodes the G jobs together */
	cfg.frame_delay = o.inflight > 1 ? o.inflight + 1 : o.lookahead;
	cfg.inflight = o.inflight > 1 ? o.inflight : 0;
	q.size = o.lookahead;
	q.held = calloc(q.size, sizeof(*q.held));
	if (!q.held) {
		fprintf(stderr, "out of memory\n");
		o.feeder->close(f);
		return 2;
	}
	engine = dd_engine_new(&cfg);
	if (!engine) {
		fprintf(stderr, "cannot create the engine: out of memory\n");
		free(q.held);
		o.feeder->close(f);
		return 2;
	}
	capture_ring_init(&ring, o.buffers);

	for (unsigned int pass = 0; pass < o.repeat && !status; pass++)
		if ((pass && o.feeder->rewind(f)) ||
		    run_pass(&o, pass, engine, f, &ring, &q, &r, &last, &reported_failure))
			status = 2;

	if (!status && !r.jobs) {
		/* not a stream of this codec (or an empty one): nothing was measured */
		fprintf(stderr, "%s: no %s frames found\n", o.file, o.feeder->name);
		status = 2;
	}
	if (!status) {
		getrusage(RUSAGE_SELF, &ru);
		r.codec = o.feeder->name;
		r.file = o.file;
		r.threads = o.threads;
		r.lookahead = o.lookahead;
		r.inflight = o.inflight;
		r.frame_delay = cfg.frame_delay;
		r.repeat = o.repeat;
		r.shown = f->shown;
		r.maxrss_kib = ru.ru_maxrss; /* KiB on Linux */
		r.capture_alloc_s = ring.alloc_s;
		if (last.dst) {
			r.width = last.bj.crop_w;
			r.height = last.bj.crop_h;
			r.bits = last.bj.bit_depth;
			r.fourcc = last.dst->fourcc;
			/* after a failure it may not be a picture at all: no MD5 then */
			if (o.md5_last && !r.failed) {
				md5_of(&last, md5);
				r.md5_last = md5;
			}
		}
		bench_report_json(stdout, &r);
		status = r.failed ? 1 : 0;
	}
	capture_ring_free(&ring);
	for (unsigned int i = 0; i < q.size; i++)
		free(q.held[i].bits);
	free(q.held);
	dd_engine_free(engine);
	o.feeder->close(f);
	return status;
}
