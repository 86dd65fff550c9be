/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Drives the engine with H.264 the way a V4L2 client drives the device (h264_client.c: the
 * controls from GStreamer's H.264 parser; the scaling matrix applies when the PPS flag says
 * so, as job.c decides for GStreamer's pattern). Prints one line per request, in decoding
 * order, for tests/media/h264-client-check.py:
 *     pic <n> <width>x<height> <md5 of the cropped planar picture> | FAILED
 *
 *   --slices          slice-based: one job per slice, all but the last of a picture held
 *                     (HOLD_CAPTURE_BUF), as GStreamer's and FFmpeg's slice mode submit them
 *   --no-start-code   slices without 00 00 01 (START_CODE_NONE; with --slices)
 *   --format yuv420m  the planar CAPTURE format (default NV12, P010 for 10-bit)
 *   --threads N       slice threads
 *   --forget-at N     before request N the engine forgets everything (a daemon restart, as
 *                     the client sees it): N names pictures the engine never decoded and must
 *                     fail; later requests may fail until the next access point (printed
 *                     "resync <n>"): an IDR, or an I picture (only I slices) as in an open GOP.
 *                     From there everything must decode, except the leading pictures of a
 *                     non-IDR access point (decoded after it, shown before it: POC below its
 *                     own), which predict from lost pictures and may fail (never show garbage)
 *   --no-access-point the stream has no access point after the fault (periodic intra
 *                     refresh: its recovery-point SEIs never reach the decoder, clients send
 *                     slices only), so every later request may fail, none may show garbage
 *   --drop N          request N never reaches the engine, which is not flushed either (a job
 *                     the kernel withdrew while the daemon was stopped): later requests may
 *                     fail until the next access point, as with --forget-at
 *   --corrupt N       request N's buffer after its first 8 bytes (slice header fields)
 *                     becomes garbage: it must fail, later requests may fail until the next
 *                     access point, as above
 *   --flip-header N   one bit in the middle of request N's first slice header flipped, the
 *                     fault matrix's flip-header (fault_damage.h): it must fail, later
 *                     requests may fail until the next access point, as with --corrupt
 *   --garble N        the second half of request N's buffer (slice data) becomes garbage:
 *                     no decoder can tell all such damage from data (entropy-coded data
 *                     decodes to something), so the request may decode or fail and the
 *                     pictures until the next IDR may differ (undetected damage also reaches
 *                     the leading pictures of an I picture); nothing may crash, and from the
 *                     IDR on everything must match again
 *   --cut-slices N    (with --slices) request N's last slice is never sent: its held
 *                     slices are dropped when request N+1 starts a new CAPTURE buffer, as
 *                     when a client releases a buffer early; N fails, later requests may
 *                     fail until the next access point, which must decode (the dropped
 *                     slices carried parameter sets the decoder never got)
 *   --garble-fails    with --garble: this damage is one libavcodec detects (the clip and
 *                     request are chosen so), so the garbled request must fail, whichever
 *                     thread decodes the damaged slice
 *   --seek A:B        after request A-1, a seek: the engine is flushed, the client's DPB and
 *                     POC state start over, and decoding resumes at request B (an I-frame);
 *                     prints "seek A B". Leading pictures of a non-IDR I-frame may fail
 *                     (h264-client-check.py allows it), never show garbage. A seek that
 *                     lands on a picture with P or B slices (an intra-refresh stream's
 *                     recovery point, which the client found by its SEI) is a fault
 *                     ("fault B"): that request must decode, its empty DPB being the
 *                     client's reset one, and the pictures may differ until the next I
 *                     picture or --recovers-at (h264-client-check.py --garbage)
 *   --recovers-at R   with such a seek: from request R on every picture must match (the
 *                     intra refresh has swept the whole picture; prints "resync R")
 *   --empty-dpb N     request N's DPB is emptied by the client mid-stream: with P or B
 *                     slices it must fail (nothing to predict from; libavcodec would
 *                     conceal without an error), later requests may fail until the next
 *                     access point, as with --corrupt
 *   --starve [A:]B    requests A..B-1 (A = 0 if not given) decode with a picture memory
 *                     limit of one byte (dd_stream_set_memory_limit: a decoder past its
 *                     stream's claim); the client waits for its requests before A and before
 *                     B (frame threads allocate after the submit), then the limit goes. They
 *                     must fail, request A with DD_ERR_NO_MEMORY (its picture refused in the
 *                     library), and everything from the next access point must match
 *   --lookahead N     keep up to N jobs submitted (dd_stream_submit; the engine's frame_delay N:
 *                     FFmpeg frame threads) before collecting the oldest; every picture must
 *                     come out as with N = 1, and the oldest must be finished without waiting
 *   --stall-every K   with --lookahead: after every K requests, dd_stream_sync() and collect
 *                     everything without waiting (a client that stops sending)
 *   --switch-every K  with --lookahead: the client starts waiting for each request and
 *                     changes between that and keeping N out K requests after each mode
 *                     change of the engine (mode_switch.h): changes only at an IDR (or right
 *                     after open or a flush), in the one-job mode each picture done at its
 *                     submit, every picture equal to the reference
 *   --expect-switches M  with --switch-every: at least M mode changes (the first included)
 *   --hold-fields N   the first field of each frame before request N is held for its second
 *                     (HOLD_CAPTURE_BUF, GStreamer's pattern: both fields decode as one
 *                     packet, the second queued at once); from request N on each field goes
 *                     alone, as below. With --lookahead the fields from N on are a fault:
 *                     the engine decodes frames in parallel and refuses a lone field there,
 *                     so they may fail until the next IDR, which must decode (printed
 *                     "fault N"); N = 0 sends every field alone
 *   --refuse N        request N's packet is refused by libavcodec before a frame thread
 *                     takes it (AVERROR(ENOMEM), as when an allocation fails there), through
 *                     --avcodec PATH, the send-refusing stand-in (send_refusing_avcodec.c): N
 *                     and the requests in flight with it must fail, later ones may until the
 *                     next access point, as with --corrupt; the refusal must have hit N's
 *                     packet (no smaller than its slices: not a filler)
 *   --avcodec PATH    the libavcodec the engine loads (dd_engine_config.ffmpeg_avcodec_path)
 *   --expect-lookahead L  at the end the engine decodes for a lookahead of L
 *                     (dd_stream_lookahead()), frames in parallel if L > 1, else one at
 *                     a time (dd_stream_frames_in_parallel())
 * Field pictures go (unless --hold-fields) as FFmpeg's v4l2-request sends them: each field a
 * request of its own,
 * the second into the first's picture under its timestamp once the first is back (every
 * request collected first); the frame is printed after the second, as the first field's
 * request, and fails if either field failed. A first field whose second never comes is
 * an error of this client; the fault and seek options take no field streams (no case does).
 * Damage prints "fault <n>" for h264-client-check.py. DD_TEST_DEBUG=1 in the environment also
 * prints the engine's debug lines (libavcodec's log among them).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "engine.h"
#include "fault_damage.h"
#include "file_load.h"
#include "h264_client.h"
#include "mode_switch.h"
#include "meter_checks.h"
#include "send_refuser.h"
#include "test_picture.h"

static void log_cb(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	if (level <= DD_LOG_WARNING || getenv("DD_TEST_DEBUG"))
		fprintf(stderr, "engine: %s\n", msg);
}

/* The cropped picture, hashed as framemd5 hashes FFmpeg's output. */
static void print_md5(long n, const struct pic *p, const struct h264_job *job)
{
	struct pic c = *p;
	size_t bps = job->bit_depth > 8 ? 2 : 1;
	char md5[33];

	c.width = job->crop_w;
	c.height = job->crop_h;
	for (unsigned int i = 0; i < c.dst.num_planes; i++) {
		unsigned int sub = i ? 1 : 0;
		/* NV12/P010 chroma: interleaved pairs */
		size_t xb = (job->crop_x >> sub) * bps * (i && c.dst.num_planes == 2 ? 2 : 1);

		c.dst.planes[i].data += (size_t)c.dst.planes[i].stride * (job->crop_y >> sub) + xb;
	}
	pic_md5(&c, md5);
	printf("pic %ld %ux%u %s\n", n, job->crop_w, job->crop_h, md5);
}

/* One request in flight (--lookahead): its own copy of everything the engine reads. */
struct rec {
	long n;
	struct h264_job job;   /* controls; buf is this request's copy */
	struct dd_job *dj;     /* one per slice */
	unsigned int remaining; /* slices not collected yet */
	bool failed, allowed, must_fail;
	bool first_field; /* half a frame: its result waits for the second field's */
	struct dd_error err;
	struct pic *p;
};

static struct {
	long failed;
	struct starve starve;
	int status;
	/* the first field of the frame being decoded failed: so does the frame */
	bool field_failed;
	struct dd_error field_err;
	bool held_fields; /* --hold-fields: some jobs in flight are held first fields */
	/* fields the engine refused as sent alone while frames decode in parallel */
	long refused_lone;
	/* --refuse N: the requests in flight with N, and N (they must fail) */
	long refused_from, refused_to;
	/* the requests submitted and not collected yet (--lookahead), oldest first */
	struct rec *pending[64];
	unsigned int pend_head, pend_count;
	/* the send-refusing stand-in (--avcodec), and whether the next submit is refused */
	struct send_refuser refuser;
	bool arm_refusal;
} run = { .starve = STARVE_NONE, .refused_from = -1, .refused_to = -1 };

/* In flight with the refused request, or that request: it fails, out of memory too. */
static bool refused_window(long n)
{
	return run.refused_from >= 0 && n >= run.refused_from && n <= run.refused_to;
}

/*
 * Request n's packet is refused: the requests in flight with it must fail too (whether
 * their pictures were finished when libavcodec's count was lost cannot be known).
 */
static void refusal_arm(long n)
{
	run.refused_from = run.refused_to = n;
	for (unsigned int k = 0; k < run.pend_count; k++) {
		struct rec *q = run.pending[(run.pend_head + k) % 64];

		q->must_fail = q->allowed = true;
		if (q->n < run.refused_from)
			run.refused_from = q->n;
	}
	run.refuser.refuse(1);
	run.arm_refusal = false;
}

/*
 * A first field's result is held for its frame (true: nothing more to do with it now); any
 * other picture takes on the failure of the first field held before it.
 */
static bool field_result(bool first_field, bool *failed, struct dd_error *err)
{
	if (first_field) {
		run.field_failed = *failed;
		run.field_err = *err;
		return true;
	}
	if (run.field_failed && !*failed) {
		*failed = true;
		*err = run.field_err;
	}
	run.field_failed = false;
	return false;
}

/* A request's result, once all its slices are collected (or failed at submit). */
static void request_done(struct rec *rc)
{
	/* its own failure, before a first field's is passed on to its frame */
	if (rc->failed && rc->err.kind == DD_ERR_UNSUPPORTED)
		run.refused_lone++;
	if (field_result(rc->first_field, &rc->failed, &rc->err)) {
		if (rc->failed && !rc->allowed)
			run.status = 1;
		goto free;
	}
	if (rc->failed && refused_window(rc->n))
		rc->allowed = true;
	if (rc->failed) {
		fprintf(stderr, "request %ld failed%s: %s\n", rc->n,
			rc->allowed ? " (allowed)" : "", rc->err.msg);
		if (!refused_window(rc->n))
			run.status |= starve_failed(&run.starve, rc->n, &rc->err);
		printf("pic %ld FAILED\n", rc->n);
		run.failed++;
		if (!rc->allowed)
			run.status = 1;
	} else if (rc->must_fail) {
		fprintf(stderr, "request %ld decoded although it must fail\n", rc->n);
		run.status = 1;
	} else {
		print_md5(rc->n, rc->p, &rc->job);
	}
free:
	pic_unref(rc->p);
	free(rc->job.buf);
	free(rc->dj);
	free(rc);
}

static bool collect_one(struct dd_stream *stream, bool wait)
{
	struct dd_error err = { .msg = "" };
	uint64_t cookie;
	enum dd_collect c = dd_stream_collect(stream, wait, &cookie, &err);
	struct rec *rc;

	if (c == DD_COLLECT_NONE)
		return false;
	rc = (struct rec *)(uintptr_t)cookie;
	if (c == DD_COLLECT_FAILED && !rc->failed) {
		rc->failed = true;
		rc->err = err;
	}
	if (!--rc->remaining) {
		/* results come in submission order */
		if (run.pend_count && run.pending[run.pend_head] == rc) {
			run.pend_head = (run.pend_head + 1) % 64;
			run.pend_count--;
		}
		request_done(rc);
	}
	return true;
}

static void sync_all(struct dd_stream *stream)
{
	dd_stream_sync(stream);
	while (collect_one(stream, false))
		;
	if (dd_stream_pending(stream)) {
		fprintf(stderr, "%u jobs still pending after dd_stream_sync()\n",
			dd_stream_pending(stream));
		run.status = 1;
		while (collect_one(stream, true))
			;
	}
}

struct slice_span {
	const uint8_t *nal; /* at the start code, or the NAL header without start codes */
	size_t len;
};

/* The slices of the job's OUTPUT buffer (each "00 00 01" + NAL). */
static unsigned int split_slices(const struct h264_job *job, bool start_codes,
				 struct slice_span *out, unsigned int max)
{
	unsigned int n = 0;
	size_t pos = 0;

	while (pos + 3 <= job->size && n < max) {
		size_t end = pos + 3;

		while (end + 3 <= job->size && memcmp(job->buf + end, "\0\0\1", 3))
			end++;
		if (end + 3 > job->size)
			end = job->size;
		out[n].nal = job->buf + pos + (start_codes ? 0 : 3);
		out[n].len = end - pos - (start_codes ? 0 : 3);
		n++;
		pos = end;
	}
	return n;
}

/*
 * Submits one request (its slices) with a copy of its controls and bitstream, after
 * collecting the oldest while lookahead jobs are in flight: that one must be finished.
 * false if its first slice failed at once (nothing of it reached the decoder).
 */
/*
 * Slice s of ns of a request: the first starts the CAPTURE picture unless it continues a
 * held first field's; all but the last are held, the last too when the request is a first
 * field held for its second.
 */
static void piece_flags(struct dd_job *dj, unsigned int s, unsigned int ns, bool held,
			bool continues)
{
	dj->new_frame = s == 0 && !continues;
	dj->hold = s + 1 < ns || held;
}

static bool submit_request(struct dd_stream *stream, const struct h264_job *job,
			   const struct dd_job *tmpl, const struct slice_span *spans,
			   unsigned int ns, long n, struct pic *p, unsigned int lookahead,
			   bool allowed, bool must_fail, bool first_field, bool held, bool continues)
{
	struct rec *rc = calloc(1, sizeof(*rc));

	if (!rc || !(rc->dj = calloc(ns, sizeof(*rc->dj))) || !(rc->job.buf = malloc(job->size)))
		abort();
	{
		uint8_t *buf = rc->job.buf;

		rc->job = *job;
		rc->job.buf = buf;
		memcpy(buf, job->buf, job->size);
	}
	rc->n = n;
	rc->p = pic_ref(p);
	rc->allowed = allowed;
	rc->must_fail = must_fail;
	rc->first_field = first_field;
	rc->remaining = ns;
	for (unsigned int s = 0; s < ns; s++) {
		struct dd_job *dj = &rc->dj[s];

		while (dd_stream_pending(stream) >= lookahead) {
			/*
			 * held slices and fields take no decoder slot: only whole pictures are
			 * timed (a held piece is a job in flight of no packet)
			 */
			if (collect_one(stream, ns > 1 || run.held_fields))
				continue;
			fprintf(stderr, "request %ld: the oldest of %u jobs in flight is not "
				"finished\n", n, dd_stream_pending(stream));
			run.status = 1;
			collect_one(stream, true);
		}
		*dj = *tmpl;
		dj->ctrl.h264.sps = &rc->job.sps;
		dj->ctrl.h264.pps = &rc->job.pps;
		dj->ctrl.h264.decode_params = &rc->job.dp;
		if (tmpl->ctrl.h264.scaling_matrix)
			dj->ctrl.h264.scaling_matrix = &rc->job.matrix;
		dj->bitstream = rc->job.buf + (spans[s].nal - job->buf);
		dj->bitstream_size = spans[s].len;
		piece_flags(dj, s, ns, held, continues);
		bool refusing = run.arm_refusal;

		if (refusing)
			refusal_arm(n);
		int failed_now = dd_stream_submit(stream, dj, (uint64_t)(uintptr_t)rc, &rc->err);

		if (refusing)
			run.status |= send_refuser_hit(&run.refuser, "request", n,
							 dj->bitstream_size, false);
		if (failed_now) {
			/* failed at once: never pending, nor are the slices not sent */
			rc->failed = true;
			rc->remaining -= ns - s;
			if (!rc->remaining)
				request_done(rc);
			return s > 0;
		}
		if (!s && run.pend_count < 64)
			run.pending[(run.pend_head + run.pend_count++) % 64] = rc;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, 'p' },
		{ "slices", no_argument, NULL, 's' },
		{ "no-start-code", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "forget-at", required_argument, NULL, 'g' },
		{ "drop", required_argument, NULL, 'd' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "flip-header", required_argument, NULL, 'F' },
		{ "garble", required_argument, NULL, 'b' },
		{ "seek", required_argument, NULL, 'k' },
		{ "no-access-point", no_argument, NULL, 'a' },
		{ "recovers-at", required_argument, NULL, 'r' },
		{ "empty-dpb", required_argument, NULL, 'e' },
		{ "garble-fails", no_argument, NULL, 'G' },
		{ "cut-slices", required_argument, NULL, 'u' },
		{ "starve", required_argument, NULL, 'M' },
		{ "lookahead", required_argument, NULL, 'L' },
		{ "stall-every", required_argument, NULL, 'S' },
		{ "switch-every", required_argument, NULL, 'W' },
		{ "expect-switches", required_argument, NULL, 'E' },
		{ "hold-fields", required_argument, NULL, 'h' },
		{ "expect-lookahead", required_argument, NULL, 'l' },
		{ "refuse", required_argument, NULL, 'R' },
		{ "avcodec", required_argument, NULL, 'A' },
		{ 0 },
	};
	struct dd_engine_config cfg = { .log = log_cb };
	bool slices = false, start_codes = true, planar = false, faulted = false;
	bool resynced = false, no_access_point = false, garble_fails = false;
	long forget_at = -1, corrupt_at = -1, garble_at = -1, cut_at = -1, n = 0;
	long seek_from = -1, seek_to = -1, drop_at = -1, flip_at = -1;
	long recovers_at = -1, empty_at = -1, hold_fields = 0;
	long expect_lookahead = 0, refuse_at = -1;
	unsigned int lookahead = 1, stall_every = 0, switch_every = 0, expect_switches = 0;
	struct mode_switch ms;
	bool fresh = true; /* nothing submitted since open or a flush */
	long ra_at = -1; /* the last non-IDR access point: a seek's landing or a resync */
	int32_t ra_poc = 0;
	bool ra_leading = false;
	struct pic *field_p = NULL; /* the picture of an open first field, and its request */
	long field_n = -1;
	bool field_held = false; /* that first field was held for its second (--hold-fields) */
	bool lone_seen = false;  /* a first field went alone */
	bool lone_fault = false; /* ... after held ones, with frames in parallel */
	static struct h264_job job;
	static struct slice_span spans[512];
	struct h264_client client;
	struct dd_engine *engine;
	struct dd_stream *stream;
	struct dd_error err;
	uint8_t *data;
	size_t size;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': /* only GStreamer's pattern makes sense without the kernel's rule */
			break;
		case 's':
			slices = true;
			break;
		case 'n':
			start_codes = false;
			break;
		case 'f':
			planar = !strcmp(optarg, "yuv420m");
			break;
		case 't':
			cfg.threads = (unsigned int)atoi(optarg);
			break;
		case 'g':
			forget_at = atol(optarg);
			break;
		case 'd':
			drop_at = atol(optarg);
			break;
		case 'c':
			corrupt_at = atol(optarg);
			break;
		case 'F':
			flip_at = atol(optarg);
			break;
		case 'b':
			garble_at = atol(optarg);
			break;
		case 'G':
			garble_fails = true;
			break;
		case 'u':
			cut_at = atol(optarg);
			break;
		case 'a':
			no_access_point = true;
			break;
		case 'r':
			recovers_at = atol(optarg);
			break;
		case 'e':
			empty_at = atol(optarg);
			break;
		case 'L':
			lookahead = (unsigned int)atoi(optarg);
			if (lookahead < 1 || lookahead > 64)
				return 2;
			break;
		case 'S':
			stall_every = (unsigned int)atoi(optarg);
			break;
		case 'W':
			switch_every = (unsigned int)atoi(optarg);
			break;
		case 'E':
			expect_switches = (unsigned int)atoi(optarg);
			break;
		case 'h':
			hold_fields = atol(optarg);
			run.held_fields = hold_fields > 0;
			break;
		case 'l':
			expect_lookahead = atol(optarg);
			break;
		case 'R':
			refuse_at = atol(optarg);
			break;
		case 'A':
			cfg.ffmpeg_avcodec_path = optarg;
			if (send_refuser_load(&run.refuser, optarg))
				return 2;
			break;
		case 'k':
			if (sscanf(optarg, "%ld:%ld", &seek_from, &seek_to) != 2 ||
			    seek_to < seek_from)
				return 2;
			break;
		case 'M':
			if (starve_parse(&run.starve, optarg))
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (cut_at >= 0 && (!slices || lookahead > 1)) {
		fprintf(stderr, "--cut-slices needs --slices and no --lookahead\n");
		return 2;
	}
	if (refuse_at >= 0 && (!send_refuser_found(&run.refuser) || slices)) {
		fprintf(stderr, "--refuse needs --avcodec with the send-refusing stand-in, and "
			"no --slices\n");
		return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: decode_h264 [options] clip.h264\n");
		return 2;
	}
	data = file_load(argv[optind], &size);
	cfg.frame_delay = lookahead;
	engine = dd_engine_new(&cfg);
	if (!data || !engine || h264_client_init(&client, H264_PATTERN_GST, data, size))
		return 1;
	stream = dd_stream_open(engine, DD_CODEC_H264, V4L2_PIX_FMT_NV12, &err);
	if (!stream) {
		fprintf(stderr, "cannot open an H.264 stream: %s\n", err.msg);
		return 1;
	}
	mode_switch_init(&ms, lookahead > 1 ? switch_every : 0, lookahead, stream);
	while ((r = h264_client_next(&client, &job)) == 1) {
		bool ten = job.bit_depth > 8;
		uint32_t fourcc = planar ? V4L2_PIX_FMT_YUV420M :
				  ten ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;
		/* a second field: into its first field's picture, under its timestamp */
		bool second = job.second_field && field_p;

		if (field_p && !second) {
			fprintf(stderr, "request %ld: a first field whose second never came: this "
				"client shows no lone field\n", field_n);
			run.status = 1;
			pic_unref(field_p);
			field_p = NULL;
			field_held = false;
			run.field_failed = false;
		}
		bool first = (job.dp.flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC) && !second;
		bool hold_first = first && n < hold_fields;
		bool continues = second && field_held;
		long shown = second ? field_n : n;
		uint64_t ts = (uint64_t)(shown + 1) * 1000;
		struct pic *p = second ? pic_ref(field_p) : pic_new(fourcc, job.width, job.height);
		bool failed;
		bool idr = job.dp.flags & V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC;
		bool intra = !(job.dp.flags & (V4L2_H264_DECODE_PARAM_FLAG_PFRAME |
					       V4L2_H264_DECODE_PARAM_FLAG_BFRAME));
		struct dd_job dj = {
			.codec = DD_CODEC_H264,
			.timestamp = ts,
			.ctrl.h264 = {
				.sps = &job.sps, .pps = &job.pps, .decode_params = &job.dp,
				.scaling_matrix = job.pps.flags &
					V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT ? &job.matrix : NULL,
				.annex_b = start_codes,
			},
			.dst = &p->dst,
		};
		unsigned int ns = slices ? split_slices(&job, start_codes, spans, 512) : 1;

		if (n == seek_from) {
			printf("seek %ld %ld\n", seek_from, seek_to);
			sync_all(stream);
			dd_stream_flush(stream);
			fresh = true;
			h264_client_seek(&client);
		}
		if (n >= seek_from && n < seek_to) {
			pic_unref(p);
			n++;
			continue;
		}
		/* leading pictures of the access point the seek landed on (display before it) */
		if (n == seek_to && !idr) {
			ra_at = n;
			ra_poc = job.dp.top_field_order_cnt;
			ra_leading = true;
		} else if (idr) {
			ra_leading = false;
		}
		if (n == forget_at) {
			sync_all(stream);
			dd_stream_flush(stream);
			fresh = true;
		}
		if (n == drop_at) {
			printf("fault %ld\npic %ld FAILED\n", n, n);
			faulted = true;
			run.failed++;
			goto next;
		}
		if (n == corrupt_at || n == garble_at)
			for (size_t i = n == corrupt_at ? 8 : job.size / 2; i < job.size; i++)
				job.buf[i] = (uint8_t)(job.buf[i] * 167 + i);
		if (n == flip_at && job.slice_hdr_end <= job.size)
			job.buf[fault_flip_header_byte(job.slice_hdr_end)] ^= FAULT_FLIP_MASK;
		bool damaged = n == corrupt_at || n == flip_at || n == refuse_at;
		/* the seek landed on P or B slices: an intra-refresh recovery point */
		bool blind = n == seek_to && !intra;
		bool emptied = n == empty_at && !intra;

		if (n == empty_at)
			memset(job.dp.dpb, 0, sizeof(job.dp.dpb));
		/* requests that must fail, and why */
		const char *must_fail = n == forget_at && !intra ?
					"it names pictures the engine never decoded" :
					emptied ? "it has P or B slices and its DPB was emptied" :
					starve_in(&run.starve, n) ?
					"its picture memory limit is one byte" :
					n == flip_at ? "a bit of its slice header is flipped" :
					n == refuse_at ? "libavcodec refused its packet" :
					damaged || (n == garble_at && garble_fails) ?
					"its slices are garbage" : NULL;
		if (n == run.starve.from)
			sync_all(stream); /* the client waits: frame threads allocate late */
		/*
		 * The first field sent alone after held ones, while frames decode in parallel.
		 * Not at an IDR: there the engine knows a whole field is alone before it changes
		 * mode, and decodes it one frame at a time.
		 */
		bool lone_switch = lookahead > 1 && hold_fields > 0 && first && !hold_first &&
				   !lone_seen && !idr;

		lone_seen |= first && !hold_first;
		lone_fault |= lone_switch;

		if (n == forget_at || damaged || n == garble_at || n == cut_at ||
		    n == run.starve.from || blind || emptied || lone_switch) {
			printf("fault %ld\n", n);
			faulted = true;
		}
		if (starve_in(&run.starve, n)) {
			dd_stream_set_memory_limit(stream, 1);
		} else if (n == run.starve.to) {
			sync_all(stream);
			dd_stream_set_memory_limit(stream, 0);
		}
		/* an I picture uses no reference: a restart right before it loses nothing */
		if (faulted && !resynced && !damaged && n != garble_at && n != cut_at &&
		    !starve_in(&run.starve, n) && !blind && !emptied &&
		    (idr || (intra && garble_at < 0) || n == recovers_at)) {
			printf("resync %ld\n", n);
			resynced = true;
			/* its leading pictures, as after a seek */
			ra_at = n;
			ra_poc = job.dp.top_field_order_cnt;
			ra_leading = !idr;
		}
		if (!slices) {
			spans[0].nal = job.buf;
			spans[0].len = job.size;
		}
		/* the client has the first field's buffer back before it queues the second */
		if (second && !continues)
			sync_all(stream);
		if (lookahead > 1) {
			unsigned int depth = mode_switch_before(&ms, stream);
			bool may_switch = idr || fresh; /* the engine's rule */

			/* a client turning to wait for each request waits for those out first */
			if (ms.every && depth == 1 && dd_stream_pending(stream))
				sync_all(stream);

			run.arm_refusal = n == refuse_at;
			if (submit_request(stream, &job, &dj, spans, ns, shown, p, depth,
					   (faulted && !resynced) || (ra_leading && n > ra_at &&
						   job.dp.top_field_order_cnt < ra_poc),
					   must_fail != NULL, first, hold_first, continues))
				fresh = false;
			mode_switch_after(&ms, stream, n, may_switch);
			if (ms.every && depth == 1) {
				/* one job at a time: done at its submit, else a sync per request */
				if (dd_stream_lookahead(stream) == 1 && dd_stream_pending(stream) &&
				    !collect_one(stream, false)) {
					fprintf(stderr, "request %ld: not finished at its submit in "
						"the engine's one-job mode\n", n);
					run.status = 1;
				}
				sync_all(stream);
			}
			if (stall_every && (n + 1) % stall_every == 0)
				sync_all(stream);
			goto next;
		}
		r = 0;
		for (unsigned int s = 0; s < ns && !r; s++) {
			dj.bitstream = spans[s].nal;
			dj.bitstream_size = spans[s].len;
			piece_flags(&dj, s, ns, hold_first, continues);
			if (n == cut_at && !dj.hold) {
				/* the last slice never comes: no picture for this request */
				r = -1;
				snprintf(err.msg, sizeof(err.msg), "its last slice was cut");
				break;
			}
			if (n == refuse_at)
				refusal_arm(n);
			r = dd_stream_decode(stream, &dj, &err);
			if (n == refuse_at)
				run.status |= send_refuser_hit(&run.refuser, "request", n,
								 dj.bitstream_size, false);
		}
		failed = r != 0;
		if (field_result(first, &failed, &err)) {
			if (failed)
				fprintf(stderr, "request %ld (a first field) failed: %s\n", n,
					err.msg);
			goto next;
		}
		if (failed) {
			bool allowed = (faulted && !resynced) ||
				       (ra_leading && n > ra_at && job.dp.top_field_order_cnt < ra_poc);

			fprintf(stderr, "request %ld failed%s: %s\n", n,
				allowed ? " (allowed)" : "", err.msg);
			if (!refused_window(n))
				run.status |= starve_failed(&run.starve, n, &err);
			printf("pic %ld FAILED\n", shown);
			run.failed++;
			if (!allowed)
				run.status = 1;
		} else if (must_fail) {
			fprintf(stderr, "request %ld decoded although %s\n", n, must_fail);
			run.status = 1;
		} else {
			print_md5(shown, p, &job);
		}
next:
		if (first) {
			pic_unref(field_p);
			field_p = pic_ref(p);
			field_n = n;
			field_held = hold_first;
		} else if (second) {
			pic_unref(field_p);
			field_p = NULL;
			field_held = false;
		}
		pic_unref(p);
		h264_client_done(&client, &job, ts);
		n++;
	}
	sync_all(stream);
	pic_unref(field_p);
	if (r < 0) {
		fprintf(stderr, "GStreamer's parser failed after %ld pictures\n", n);
		run.status = 1;
	}
	if (faulted && !resynced && !no_access_point) {
		fprintf(stderr, "no access point after the fault\n");
		run.status = 1;
	}
	fprintf(stderr, "decode_h264: %ld requests, %ld failed, lookahead %u\n", n, run.failed,
		lookahead);
	run.status |= starve_done(&run.starve);
	if (refuse_at >= 0 && run.refuser.refused() != 1) {
		fprintf(stderr, "the stand-in refused %u packets, not 1: the refusal was not "
			"checked\n", run.refuser.refused());
		run.status = 1;
	}
	if (ms.every) {
		fprintf(stderr, "%u mode changes of the engine (at least %u wanted)\n", ms.switches,
			expect_switches);
		if (ms.bad || ms.switches < expect_switches)
			run.status = 1;
	}
	if (expect_lookahead && (dd_stream_lookahead(stream) != (unsigned int)expect_lookahead ||
				 dd_stream_frames_in_parallel(stream) != (expect_lookahead > 1))) {
		fprintf(stderr, "the engine decodes for a lookahead of %u at the end, %s, not %ld\n",
			dd_stream_lookahead(stream), dd_stream_frames_in_parallel(stream) ?
			"frames in parallel" : "one frame at a time", expect_lookahead);
		run.status = 1;
	}
	/*
	 * Failing is not enough: a lone field that reached the frame threads could fail there
	 * too, for the wrong reason, or show a wrong picture. The engine must refuse it first.
	 */
	if (lone_fault && lookahead > 1) {
		fprintf(stderr, "%ld fields refused as sent alone while frames decode in parallel\n",
			run.refused_lone);
		if (!run.refused_lone)
			run.status = 1;
	}
	if (stream_close_counted(stream))
		run.status = 1;
	dd_engine_free(engine);
	h264_client_free(&client);
	free(data);
	return run.status;
}
