/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daedalus-v4l2-engine-bench: times the decode engine without the kernel. It drives the
 * engine as the daemon does for a V4L2 client: one dd_job per coded frame with the controls
 * a client fills from the bitstream (the tests' client emulators, see feeder.h), each picture
 * written into a CAPTURE buffer from a ring laid out like the module's (capture.h). Only the
 * decode loop is timed; the result is one line of JSON (report.h), meant to sit next to
 * `ffmpeg -threads N -i FILE -f null -` on the same file.
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
	unsigned int threads, repeat, buffers;
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
		"[--md5-last] FILE\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *codec = NULL;
	unsigned long v;
	int c;

	*o = (struct options){ .threads = 1, .repeat = 1, .buffers = 8 };
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
		default:
			return -1;
		}
	}
	if (!codec || optind + 1 != argc)
		return -1;
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

/*
 * One pass over the stream, from a fresh engine stream (a keyframe start, as after a client
 * opens the device); adds to r and returns 0, or -1 when the stream cannot be parsed or
 * opened or a buffer cannot be allocated (the reason on stderr).
 */
static int run_pass(const struct options *o, unsigned int pass, struct dd_engine *engine,
		    struct feeder *f, struct capture_ring *ring, struct bench_result *r,
		    struct last_picture *last, bool *reported_failure)
{
	const struct feeder_ops *ops = f->ops;
	uint32_t hint = o->fourcc ? o->fourcc : V4L2_PIX_FMT_NV12;
	struct dd_stream *stream;
	struct timespec t0, t1, d0, d1;
	struct rusage ru0, ru1;
	struct bench_job bj;
	struct dd_error err;
	unsigned long n;
	int ret = 0;

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
		bj.job.dst = capture_ring_next(ring, fourcc, bj.width, bj.height);
		if (!bj.job.dst) {
			fprintf(stderr, "out of memory for %u CAPTURE buffers of %ux%u\n",
				o->buffers, bj.width, bj.height);
			ret = -1;
			break;
		}
		err.msg[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &d0);
		if (dd_stream_decode(stream, &bj.job, &err)) {
			r->failed++;
			if (!*reported_failure)
				fprintf(stderr, "pass %u, job %lu failed: %s\n", pass, n, err.msg);
			*reported_failure = true;
		} else {
			r->pictures++;
		}
		clock_gettime(CLOCK_MONOTONIC, &d1);
		r->decode_s += seconds(&d1) - seconds(&d0);
		r->jobs++;
		last->dst = bj.job.dst;
		last->bj = bj;
		/* like a client: the reference slots follow the bitstream, whatever happened */
		ops->done(f, &bj, ts);
		if (bj.shown)
			f->shown++;
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
	engine = dd_engine_new(&cfg);
	if (!engine) {
		fprintf(stderr, "cannot create the engine: out of memory\n");
		o.feeder->close(f);
		return 2;
	}
	capture_ring_init(&ring, o.buffers);

	for (unsigned int pass = 0; pass < o.repeat && !status; pass++)
		if ((pass && o.feeder->rewind(f)) ||
		    run_pass(&o, pass, engine, f, &ring, &r, &last, &reported_failure))
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
		r.repeat = o.repeat;
		r.shown = f->shown;
		r.maxrss_kib = ru.ru_maxrss; /* KiB on Linux */
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
	dd_engine_free(engine);
	o.feeder->close(f);
	return status;
}
