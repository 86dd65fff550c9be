/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Drives the engine the way a V4L2 client drives the device: one job per coded frame (VP9
 * superframes split), controls filled from the bitstream headers, a fresh CAPTURE-like
 * destination buffer per job, references named by timestamp. Prints one line per picture
 * the client would show, in display order:
 *     pic <index> <width>x<height> <md5 of the planar picture> | FAILED | SKIPPED
 * which run_clips.py compares with `ffmpeg -f framemd5` of the same clip.
 *
 * Hidden frames (show_frame = 0) get their own job and picture; the client shows them later
 * only through VP9 show_existing_frame, which never becomes a job (as in GStreamer).
 *
 * Fault injection (each is checked, the exit status says whether it behaved):
 *   --show-hidden    print hidden (show_frame = 0) pictures too, in decode order (VP8:
 *                    compared with a copy of the clip whose hidden frames are marked shown)
 *   --flush-at N     after job N: flush, send the next inter frame (must fail: its references
 *                    are gone), then skip to the next keyframe, like a seek
 *   --fuzz SEED:FROM:TO  jobs FROM..TO get random damage (bit flips, cuts, appended bytes,
 *                    flipped control bytes); they may fail or not, but every failure must
 *                    carry a reason and nothing may crash; later keyframes must decode
 *   --corrupt N:KIND job N gets KIND = truncate (to half its size) | truncate-header |
 *                    garbage | size | profile | depth | keyflag (the controls disagree with
 *                    the bitstream); that job must fail
 *   --lookahead N    keep up to N jobs submitted (dd_stream_submit, the engine's frame_delay
 *                    N: FFmpeg frame threads for VP9) before collecting the oldest; every
 *                    picture must come out as with N = 1
 *   --stall-every K  with --lookahead: after every K jobs, dd_stream_sync() and collect
 *                    everything without waiting (a client that stops sending), the
 *                    decoder keeping its references
 *   --switch-every K with --lookahead: the client starts waiting for each request (sync and
 *                    collect after every submit) and changes between that and keeping N
 *                    out K jobs after each mode change of the engine (mode_switch.h); the
 *                    engine must change its mode only at a key frame (or right after open or
 *                    a flush), in its one-job mode each picture must be done at its submit,
 *                    and every picture must still equal the reference
 *   --expect-switches M  with --switch-every: at least M mode changes (the first included)
 *   --corrupt N:spoil job N is intact, but its dd_job.bitstream_lost says its memory went
 *                    away while it was read (the daemon's SIGBUS guard): it must fail with
 *                    DD_ERR_INPUT_LOST, and the (inter) job after it too, the decoder's
 *                    state counting it as failed
 *   --corrupt N:drop job N is never sent, as by a client whose parser rejected the frame
 *                    (GStreamer did so with daemon-faults.sh's damaged VP9 frame), and the
 *                    client's reference slots keep what they had. The decoder then lacks what that
 *                    frame changed (its references, its probability context), which the
 *                    engine must notice: some job before the next keyframe must fail (pick a
 *                    frame whose loss a decoder can notice; the pictures in between are not
 *                    compared)
 *   --starve [A:]B   jobs A..B-1 (A = 0 if not given) decode with a picture memory limit of
 *                    one byte (dd_stream_set_memory_limit: a decoder past its stream's
 *                    claim); the client waits for the jobs before A and before B (frame
 *                    threads allocate after the submit), then the limit goes. Those jobs
 *                    must fail, job A with DD_ERR_NO_MEMORY (its picture refused in the
 *                    library, with --lookahead on a frame thread), and the stream must be
 *                    bit-exact again from the next keyframe.
 * At the end the stream is closed: its pictures must then hold no bytes (every picture
 * counted was given back once) and must have held some (the count works).
 *   --inherit-next-key  (VP8, with --corrupt or --flush-at) the first key frame after the
 *                    corrupted job or the flush says, in its controls, that it keeps the
 *                    previous frame's segment map (segmentation on, no map update:
 *                    libavcodec then takes the map from the frame before, which the
 *                    decoder lacks or, after the flush, has lost): that job must fail, and
 *                    decoding resumes at the key frame after it (after the flush the
 *                    client sends no inter frame first: it seeks to the key frame, and
 *                    after the failed one to the next)
 *   --inherit-new-size  with --inherit-next-key --flush-at: that key frame has another size
 *                    than the frames before the flush, where every decoder starts a new,
 *                    zero map (as continuous decoding would): it must decode, and match
 *   --corrupt N:lost job N fails before the engine sees it, and the engine is told
 *                    (dd_stream_lost(): a job the kernel withdrew while the daemon was
 *                    stopped, or cancelled before it started); the client's slots follow the
 *                    bitstream as after any failed job. Later jobs may fail until the next
 *                    keyframe (run_clips.py --shown-exact: none may show a wrong picture)
 *   --corrupt N:refused  job N's packet is refused by libavcodec before a frame thread takes
 *                    it (AVERROR(ENOMEM), as when an allocation fails there), through
 *                    --avcodec PATH, the send-refusing stand-in (send_refusing_avcodec.c).
 *                    Job N and the jobs in flight with it must fail (whether their
 *                    pictures were done when libavcodec's count was lost cannot be known),
 *                    those up to the next keyframe may; none may show a wrong picture
 *                    (run_clips.py --shown-exact), and the refusal must have hit job N's
 *                    packet (its size: not a filler's)
 *   --avcodec PATH   the libavcodec the engine loads (dd_engine_config.ffmpeg_avcodec_path)
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/videodev2.h>

#include "engine.h"
#include "ivf.h"
#include "md5.h"
#include "mode_switch.h"
#include "meter_checks.h"
#include "send_refuser.h"
#include "test_picture.h"
#include "vp8_client.h"
#include "vp9_client.h"

static int verbose;

static void log_cb(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	if (level <= DD_LOG_INFO || verbose)
		fprintf(stderr, "engine: %s\n", msg);
}

enum corruption {
	C_NONE, C_TRUNCATE, C_TRUNCATE_HEADER, C_GARBAGE, C_SIZE, C_PROFILE, C_DEPTH, C_KEYFLAG,
	C_DROP, C_LOST, C_SPOIL, C_REFUSED
};

/* What the daemon's bitstream mappings say once their memory went away (SIGBUS). */
static const atomic_bool bitstream_lost = true;

static int parse_corruption(const char *s, long *at, enum corruption *kind)
{
	static const char *const names[] = { "", "truncate", "truncate-header", "garbage",
					     "size", "profile", "depth", "keyflag", "drop", "lost",
					     "spoil", "refused" };
	char *end;

	*at = strtol(s, &end, 10);
	if (*end != ':')
		return -1;
	for (int i = 1; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(end + 1, names[i])) {
			*kind = (enum corruption)i;
			return 0;
		}
	return -1;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random damage to a frame (data has 64 spare bytes) and its controls. */
static const uint8_t *fuzz(uint8_t *data, size_t *size, void *ctrl, size_t ctrl_size,
			   uint32_t *seed)
{
	uint8_t *c = ctrl;
	unsigned int n;

	switch (xorshift(seed) % 5) {
	case 0: /* bit flips anywhere, headers included */
		n = 1 + xorshift(seed) % 8;
		while (n--)
			data[xorshift(seed) % *size] ^= (uint8_t)(1u << (xorshift(seed) % 8));
		break;
	case 1: /* bit flips in the first bytes, where the headers are */
		n = 1 + xorshift(seed) % 4;
		while (n--)
			data[xorshift(seed) % (*size < 24 ? *size : 24)] ^=
				(uint8_t)(1u << (xorshift(seed) % 8));
		break;
	case 2: /* cut anywhere */
		*size = xorshift(seed) % *size;
		break;
	case 3: /* trailing junk, maybe looking like a superframe index */
		n = 1 + xorshift(seed) % 64;
		for (unsigned int k = 0; k < n; k++)
			data[*size + k] = (uint8_t)xorshift(seed);
		*size += n;
		break;
	default: /* controls that lie */
		n = 1 + xorshift(seed) % 4;
		while (n--)
			c[xorshift(seed) % ctrl_size] ^= (uint8_t)(1u << (xorshift(seed) % 8));
		break;
	}
	return data;
}

static uint32_t parse_fourcc(const char *s)
{
	if (!strcmp(s, "nv12"))
		return V4L2_PIX_FMT_NV12;
	if (!strcmp(s, "p010"))
		return V4L2_PIX_FMT_P010;
	if (!strcmp(s, "yuv420m"))
		return V4L2_PIX_FMT_YUV420M;
	return 0;
}

static void print_pic(long display, const struct pic *p)
{
	char md5[33];

	if (!p) {
		printf("pic %ld SKIPPED\n", display);
	} else if (p->failed) {
		printf("pic %ld FAILED\n", display);
	} else {
		pic_md5(p, md5);
		printf("pic %ld %ux%u %s\n", display, p->width, p->height, md5);
	}
}

/*
 * The pictures the client shows, in display order, printed at the end: with jobs in flight a
 * picture is written only when its job is collected.
 */
static struct pic **shown;
static long num_shown, shown_cap;

static void show_pic(long display, struct pic *p)
{
	if (display != num_shown)
		abort();
	if (num_shown == shown_cap) {
		shown_cap = shown_cap ? shown_cap * 2 : 64;
		shown = realloc(shown, sizeof(*shown) * (size_t)shown_cap);
		if (!shown)
			abort();
	}
	shown[num_shown++] = p ? pic_ref(p) : NULL;
}

/* One submitted job until its result is known: everything the engine reads stays here. */
struct rec {
	size_t i;
	int key, show, expect_fail;
	bool want_reference; /* it must fail with DD_ERR_REFERENCE, for its references */
	bool spoiled; /* its bitstream said lost (dd_job.bitstream_lost): it must fail for that */
	long display; /* the picture number it would have when shown */
	struct pic *p;
	uint8_t *copy;
	struct v4l2_ctrl_vp8_frame c8;
	struct v4l2_ctrl_vp9_frame c9;
	struct v4l2_ctrl_vp9_compressed_hdr ch9;
	struct dd_job job;
};

/* What the checks of a job's result need to know about the run. */
static struct {
	long jobs_ok, jobs_failed, hidden;
	long corrupt_at, fuzz_from, fuzz_to;
	long refused_from; /* --corrupt N:refused: the first job in flight with job N */
	/* the jobs submitted and not collected yet (--lookahead), oldest first */
	struct rec *pending[64];
	unsigned int pend_head, pend_count;
	struct starve starve;
	int bad, faulted, drop_unnoticed;
} run = { .corrupt_at = -1, .fuzz_from = -1, .fuzz_to = -1, .refused_from = -1,
	  .starve = STARVE_NONE };

static void job_result(struct rec *r, int ret, const struct dd_error *err)
{
	size_t i = r->i;

	if (ret) {
		r->p->failed = 1;
		run.jobs_failed++;
		run.drop_unnoticed = 0;
		fprintf(stderr, "job %zu (%s%s): failed: %s\n", i, r->key ? "key" : "inter",
			r->show ? "" : ", hidden", err->msg);
		if (!err->msg[0]) {
			fprintf(stderr, "job %zu: failure without a reason\n", i);
			run.bad = 1;
		}
		/* the refused packet and those in flight with it fail as out of memory */
		if (!(run.refused_from >= 0 && (long)i >= run.refused_from &&
		      (long)i <= run.corrupt_at))
			run.bad |= starve_failed(&run.starve, (long)i, err);
		if (r->spoiled && err->kind != DD_ERR_INPUT_LOST) {
			fprintf(stderr, "job %zu: spoiled, but failed for something else\n", i);
			run.bad = 1;
		}
		if (r->want_reference && err->kind != DD_ERR_REFERENCE) {
			fprintf(stderr, "job %zu: failed, but not for what it takes from earlier "
				"frames\n", i);
			run.bad = 1;
		}
		if (!r->expect_fail && !(run.corrupt_at >= 0 && (long)i > run.corrupt_at) &&
		    !(run.refused_from >= 0 && (long)i >= run.refused_from) &&
		    !(run.fuzz_from >= 0 && (long)i > run.fuzz_from) &&
		    !(run.starve.from >= 0 && (long)i > run.starve.from && run.faulted)) {
			fprintf(stderr, "job %zu: UNEXPECTED failure\n", i);
			run.bad = 1;
		}
	} else {
		run.jobs_ok++;
		if (run.faulted && r->key && !r->expect_fail && (long)i > run.fuzz_to) {
			if (run.drop_unnoticed) {
				fprintf(stderr, "job %zu: keyframe, but no job failed after the "
					"dropped job: the engine did not notice the decoder's "
					"state was wrong\n", i);
				run.bad = 1;
				run.drop_unnoticed = 0;
			}
			printf("resync %ld\n", r->display);
			run.faulted = 0;
		}
		if (!r->show)
			run.hidden++;
		if (r->expect_fail > 0) {
			fprintf(stderr, "job %zu: expected a failure, but it decoded\n", i);
			run.bad = 1;
		}
	}
	free(r->copy);
	pic_unref(r->p);
	free(r);
}

/* The oldest submitted job's result; false when none is pending (or none is ready). */
static bool collect_one(struct dd_stream *stream, bool wait)
{
	struct dd_error err = { .msg = "" };
	uint64_t cookie;
	enum dd_collect c = dd_stream_collect(stream, wait, &cookie, &err);

	if (c == DD_COLLECT_NONE)
		return false;
	/* results come in submission order */
	if (run.pend_count) {
		run.pend_head = (run.pend_head + 1) % 64;
		run.pend_count--;
	}
	job_result((struct rec *)(uintptr_t)cookie, c == DD_COLLECT_FAILED ? -1 : 0, &err);
	return true;
}

/*
 * Job i's packet is refused: the jobs in flight with it must fail too (whether their
 * pictures were finished when libavcodec's count was lost cannot be known), and the
 * pictures from the first of them on are compared only if they decode.
 */
static void refusal_arm(const struct send_refuser *r, long i, const long *display_of)
{
	run.refused_from = i;
	for (unsigned int k = 0; k < run.pend_count; k++) {
		struct rec *q = run.pending[(run.pend_head + k) % 64];

		q->expect_fail = 1;
		if ((long)q->i < run.refused_from)
			run.refused_from = (long)q->i;
	}
	printf("fault %ld\n", display_of[run.refused_from]);
	r->refuse(1);
}

/* A client that stops sending: every job in flight must finish without waiting. */
static void sync_all(struct dd_stream *stream)
{
	dd_stream_sync(stream);
	while (collect_one(stream, false))
		;
	if (dd_stream_pending(stream)) {
		fprintf(stderr, "%u jobs still pending after dd_stream_sync()\n",
			dd_stream_pending(stream));
		run.bad = 1;
		while (collect_one(stream, true))
			;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "flush-at", required_argument, NULL, 's' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "fuzz", required_argument, NULL, 'z' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "show-hidden", no_argument, NULL, 'H' },
		{ "lookahead", required_argument, NULL, 'L' },
		{ "stall-every", required_argument, NULL, 'S' },
		{ "switch-every", required_argument, NULL, 'W' },
		{ "expect-switches", required_argument, NULL, 'E' },
		{ "starve", required_argument, NULL, 'M' },
		{ "inherit-next-key", no_argument, NULL, 'I' },
		{ "inherit-new-size", no_argument, NULL, 'N' },
		{ "avcodec", required_argument, NULL, 'A' },
		{ 0 },
	};
	struct dd_engine_config cfg = { .log = log_cb };
	uint32_t fourcc8 = V4L2_PIX_FMT_NV12;
	long flush_at = -1;
	unsigned int lookahead = 1, stall_every = 0, submitted = 0;
	unsigned int switch_every = 0, expect_switches = 0;
	struct mode_switch ms;
	bool fresh = true; /* no job submitted since open or flush */
	bool starving = false; /* --starve: the limit is one byte */
	bool inherit_next_key = false, inherit_skip = false, inherit_new_size = false;
	enum corruption corrupt = C_NONE;
	struct send_refuser refuser = { 0 };
	long *display_of; /* each frame's picture number (display when it came) */
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9 = { 0 };
	struct pic *slots[8] = { 0 }; /* VP9 slots, or VP8 last/golden/alt in 0..2 */
	struct ivf ivf;
	struct dd_engine *engine;
	struct dd_stream *stream;
	struct dd_error err;
	enum dd_codec codec;
	long display = 0, shown_existing = 0;
	int show_hidden = 0;
	int skipping = 0, expect_fail_next = 0, opt;
	uint32_t seed = 0x12345678;
	unsigned long fuzz_seed = 0;
	long fuzzed = 0;
	struct timespec t0, t1;
	long long decode_ns = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fourcc8 = parse_fourcc(optarg);
			if (fourcc8 == V4L2_PIX_FMT_P010 || !fourcc8) {
				fprintf(stderr, "--format: nv12 or yuv420m (10-bit uses p010)\n");
				return 2;
			}
			break;
		case 't':
			cfg.threads = (unsigned int)atoi(optarg);
			break;
		case 's':
			flush_at = atol(optarg);
			break;
		case 'I':
			inherit_next_key = true;
			break;
		case 'N':
			inherit_new_size = true;
			break;
		case 'c':
			if (parse_corruption(optarg, &run.corrupt_at, &corrupt)) {
				fprintf(stderr, "bad --corrupt %s\n", optarg);
				return 2;
			}
			break;
		case 'z':
			if (sscanf(optarg, "%lu:%ld:%ld", &fuzz_seed, &run.fuzz_from,
				   &run.fuzz_to) != 3 ||
			    run.fuzz_from < 0 || run.fuzz_to < run.fuzz_from) {
				fprintf(stderr, "bad --fuzz %s\n", optarg);
				return 2;
			}
			seed = (uint32_t)fuzz_seed | 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'H':
			show_hidden = 1;
			break;
		case 'L':
			lookahead = (unsigned int)atoi(optarg);
			if (lookahead < 1 || lookahead > 64) {
				fprintf(stderr, "--lookahead: 1 to 64\n");
				return 2;
			}
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
		case 'M':
			if (starve_parse(&run.starve, optarg))
				return 2;
			break;
		case 'A':
			cfg.ffmpeg_avcodec_path = optarg;
			if (send_refuser_load(&refuser, optarg))
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: %s [options] CLIP.ivf\n", argv[0]);
		return 2;
	}
	if (ivf_load(&ivf, argv[optind], 1))
		return 2;
	if (corrupt == C_REFUSED && !send_refuser_found(&refuser)) {
		fprintf(stderr, "--corrupt N:refused needs --avcodec with the send-refusing "
			"stand-in\n");
		return 2;
	}
	display_of = calloc(ivf.count ? ivf.count : 1, sizeof(*display_of));
	if (!display_of)
		return 2;
	cfg.frame_delay = lookahead;
	if (!memcmp(ivf.fourcc, "VP80", 4)) {
		codec = DD_CODEC_VP8;
	} else if (!memcmp(ivf.fourcc, "VP90", 4)) {
		codec = DD_CODEC_VP9;
	} else {
		fprintf(stderr, "unsupported IVF fourcc %s\n", ivf.fourcc);
		return 2;
	}

	engine = dd_engine_new(&cfg);
	if (!engine)
		return 2;
	stream = dd_stream_open(engine, codec, fourcc8, &err);
	if (!stream) {
		fprintf(stderr, "cannot open stream: %s\n", err.msg);
		return 1;
	}
	mode_switch_init(&ms, lookahead > 1 ? switch_every : 0, lookahead, stream);

	for (size_t i = 0; i < ivf.count; i++) {
		const uint8_t *data = ivf.frames[i].data;
		size_t size = ivf.frames[i].size;
		struct v4l2_ctrl_vp8_frame c8 = { 0 };
		struct v4l2_ctrl_vp9_frame c9 = { 0 };
		struct v4l2_ctrl_vp9_compressed_hdr ch9 = { 0 };
		struct vp8_frame_info i8;
		struct vp9_frame_info i9;
		struct dd_job job = { .codec = codec, .timestamp = (uint64_t)i * 1000 };
		uint8_t *copy = NULL;
		int key, show, flush_probe, expect_fail;
		bool want_reference = false;
		bool lost = false, spoil = false, refuse = false;
		uint32_t w, h, fourcc;
		struct pic *p;
		struct rec *r;

		display_of[i] = display;
		if (codec == DD_CODEC_VP8) {
			if (vp8_client_fill(&vp8, data, size, &c8, &i8)) {
				fprintf(stderr, "frame %zu: cannot parse VP8 header\n", i);
				return 2;
			}
			key = i8.key_frame;
			show = i8.show_frame;
			w = c8.width;
			h = c8.height;
			fourcc = fourcc8;
			job.ctrl.vp8.frame = &c8;
		} else {
			if (vp9_client_fill(&vp9, data, size, &c9, &ch9, &i9)) {
				fprintf(stderr, "frame %zu: cannot parse VP9 header\n", i);
				return 2;
			}
			if (i9.show_existing_frame) {
				/* the client shows the slot's picture again; no request */
				if (!skipping)
					show_pic(display, slots[i9.frame_to_show]);
				else
					show_pic(display, NULL);
				display++;
				shown_existing++;
				continue;
			}
			key = i9.key_frame;
			show = i9.show_frame;
			w = i9.width;
			h = i9.height;
			fourcc = c9.bit_depth == 8 ? fourcc8 : V4L2_PIX_FMT_P010;
			job.ctrl.vp9.frame = &c9;
			job.ctrl.vp9.compressed_hdr = &ch9;
		}

		if (skipping && !key) {
			if (show)
				show_pic(display++, NULL);
			continue;
		}
		skipping = 0;

		expect_fail = expect_fail_next;
		flush_probe = expect_fail_next;
		expect_fail_next = 0;
		/* frames shown again by show_existing_frame make no job: from the first one on */
		if (!starving && starve_in(&run.starve, (long)i)) {
			/* the client waits first: frame threads allocate after the submit */
			sync_all(stream);
			run.starve.from = (long)i;
			run.faulted = 1;
			printf("fault %ld\n", display);
			dd_stream_set_memory_limit(stream, 1);
			starving = true;
		} else if (starving && (long)i >= run.starve.to) {
			sync_all(stream);
			dd_stream_set_memory_limit(stream, 0);
			starving = false;
		}
		if (starving)
			expect_fail = 1;
		if ((long)i == run.corrupt_at) {
			expect_fail = 1;
			run.faulted = 1;
			printf("fault %ld\n", display);
			switch (corrupt) {
			case C_TRUNCATE:
				size = size / 2;
				break;
			case C_TRUNCATE_HEADER:
				/* cut inside the first partition / the compressed header */
				if (codec == DD_CODEC_VP8)
					size = (key ? 10 : 3) + c8.first_part_size / 2;
				else
					size = c9.uncompressed_header_size +
					       c9.compressed_header_size / 2u;
				break;
			case C_GARBAGE:
				copy = malloc(size);
				for (size_t k = 0; k < size; k++)
					copy[k] = (uint8_t)xorshift(&seed);
				/* keep the frame tag / first header byte so the flags agree */
				copy[0] = data[0];
				data = copy;
				break;
			case C_SIZE:
				if (codec == DD_CODEC_VP8)
					c8.width += 16;
				else
					c9.frame_width_minus_1 += 16;
				w += 16;
				break;
			case C_PROFILE:
				if (codec == DD_CODEC_VP8)
					c8.version ^= 1;
				else
					c9.profile ^= 2;
				break;
			case C_DEPTH:
				if (codec == DD_CODEC_VP9)
					c9.bit_depth = c9.bit_depth == 8 ? 10 : 8;
				fourcc = codec == DD_CODEC_VP9 && c9.bit_depth == 10 ?
						 V4L2_PIX_FMT_P010 : fourcc8;
				break;
			case C_KEYFLAG:
				if (codec == DD_CODEC_VP8)
					c8.flags ^= V4L2_VP8_FRAME_FLAG_KEY_FRAME;
				else
					c9.flags ^= V4L2_VP9_FRAME_FLAG_KEY_FRAME;
				break;
			case C_DROP:
				/* no request, no picture; the slots stay as they were */
				fprintf(stderr, "job %zu (%s%s): dropped by the client\n", i,
					key ? "key" : "inter", show ? "" : ", hidden");
				run.drop_unnoticed = 1;
				if (show)
					show_pic(display++, NULL);
				continue;
			case C_LOST:
				lost = true;
				break;
			case C_REFUSED:
				/* the jobs in flight with it go with it (a decoder reset) */
				refuse = true; /* refusal_arm(), right before the submit */
				break;
			case C_SPOIL:
				/*
				 * intact data, but its mapping says lost once it has been read:
				 * the decoder's state after it counts as lost, so the next
				 * (inter) frame of a chained codec must fail too
				 */
				spoil = true;
				expect_fail_next = 1;
				break;
			default:
				break;
			}
		}

		if (inherit_next_key && codec == DD_CODEC_VP8 && key &&
		    ((run.corrupt_at >= 0 && (long)i > run.corrupt_at) ||
		     (flush_at >= 0 && (long)i > flush_at))) {
			c8.segment.flags |= V4L2_VP8_SEGMENT_FLAG_ENABLED;
			c8.segment.flags &= ~V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP;
			if (!inherit_new_size) {
				inherit_skip = flush_at >= 0;
				expect_fail = 1;
				want_reference = true;
			}
			inherit_next_key = false;
			fprintf(stderr, "job %zu: key frame said to keep the segment map%s\n", i,
				inherit_new_size ? ", at a new size: it must decode" : "");
		}
		if ((long)i >= run.fuzz_from && (long)i <= run.fuzz_to) {
			if (!run.faulted)
				printf("fault %ld\n", display);
			run.faulted = 1;
			expect_fail = -1; /* anything goes, except crashing */
			copy = malloc(size + 64);
			memcpy(copy, data, size);
			data = fuzz(copy, &size, codec == DD_CODEC_VP8 ? (void *)&c8 : (void *)&c9,
				    codec == DD_CODEC_VP8 ? sizeof(c8) : sizeof(c9), &seed);
			fuzzed++;
		}

		p = pic_new(fourcc, w, h);
		p->width = w;
		p->height = h;
		r = calloc(1, sizeof(*r));
		if (!r)
			return 2;
		*r = (struct rec){ .i = i, .key = key, .show = show, .expect_fail = expect_fail,
				   .want_reference = want_reference, .spoiled = spoil,
				   .display = display,
				   .p = pic_ref(p), .copy = copy,
				   .c8 = c8, .c9 = c9, .ch9 = ch9, .job = job };
		if (codec == DD_CODEC_VP8) {
			r->job.ctrl.vp8.frame = &r->c8;
		} else {
			r->job.ctrl.vp9.frame = &r->c9;
			r->job.ctrl.vp9.compressed_hdr = &r->ch9;
		}
		r->job.bitstream = data;
		r->job.bitstream_size = size;
		if (spoil)
			r->job.bitstream_lost = &bitstream_lost;
		r->job.dst = &p->dst;
		err.msg[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (lost) {
			snprintf(err.msg, sizeof(err.msg), "lost before the engine saw it");
			dd_stream_lost(stream, &r->job.timestamp);
			job_result(r, -1, &err);
		} else if (lookahead == 1) {
			if (refuse)
				refusal_arm(&refuser, (long)i, display_of);
			job_result(r, dd_stream_decode(stream, &r->job, &err), &err);
			if (refuse)
				run.bad |= send_refuser_hit(&refuser, "job", (long)i, size, true);
		} else {
			unsigned int depth = mode_switch_before(&ms, stream);
			bool may_switch = key || fresh; /* the engine's rule */

			/* a client turning to wait for each request waits for those out first */
			if (ms.every && depth == 1 && dd_stream_pending(stream))
				sync_all(stream);

			/*
			 * A client with lookahead requests queued: the oldest must be done
			 * first. It is, without waiting: FFmpeg's frame threads have finished
			 * a packet once lookahead - 1 more were sent (backend_ffmpeg_pipe.c).
			 */
			while (dd_stream_pending(stream) >= depth) {
				if (collect_one(stream, false))
					continue;
				fprintf(stderr, "job %zu: the oldest of %u jobs in flight is not "
					"finished\n", i, dd_stream_pending(stream));
				run.bad = 1;
				collect_one(stream, true);
			}
			if (refuse)
				refusal_arm(&refuser, (long)i, display_of);
			if (dd_stream_submit(stream, &r->job, (uint64_t)(uintptr_t)r, &err)) {
				job_result(r, -1, &err); /* failed at once: never pending */
			} else {
				fresh = false;
				run.pending[(run.pend_head + run.pend_count++) % 64] = r;
			}
			if (refuse)
				run.bad |= send_refuser_hit(&refuser, "job", (long)i, size, true);
			mode_switch_after(&ms, stream, (long)i, may_switch);
			if (ms.every && depth == 1) {
				/* one job at a time: done at its submit, else a sync per job */
				if (dd_stream_lookahead(stream) == 1 && dd_stream_pending(stream) &&
				    !collect_one(stream, false)) {
					fprintf(stderr, "job %zu: not finished at its submit in the "
						"engine's one-job mode\n", i);
					run.bad = 1;
				}
				sync_all(stream);
			}
			if (stall_every && ++submitted % stall_every == 0)
				sync_all(stream);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		decode_ns += (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);

		/* like a client: the reference slots follow the bitstream, whatever happened */
		if (codec == DD_CODEC_VP8) {
			struct pic *last = slots[0], *gold = slots[1], *alt = slots[2];
			struct pic *nl = last, *ng = gold, *na = alt;

			if (i8.copy_to_alt == 1)
				na = last;
			else if (i8.copy_to_alt == 2)
				na = gold;
			if (i8.copy_to_golden == 1)
				ng = last;
			else if (i8.copy_to_golden == 2)
				ng = na;
			if (i8.refresh_golden)
				ng = p;
			if (i8.refresh_alt)
				na = p;
			if (i8.refresh_last)
				nl = p;
			pic_ref(nl);
			pic_ref(ng);
			pic_ref(na);
			pic_unref(slots[0]);
			pic_unref(slots[1]);
			pic_unref(slots[2]);
			slots[0] = nl;
			slots[1] = ng;
			slots[2] = na;
			vp8_client_update_refs(&vp8, &i8, job.timestamp);
		} else {
			for (int s = 0; s < 8; s++) {
				if (!(i9.refresh_frame_flags & (1u << s)))
					continue;
				pic_unref(slots[s]);
				slots[s] = pic_ref(p);
			}
			vp9_client_update_refs(&vp9, &i9, job.timestamp);
		}
		if (show || show_hidden)
			show_pic(display++, p);
		pic_unref(p);

		if ((long)i == flush_at) {
			/* the client waits for its requests before STREAMOFF */
			sync_all(stream);
			dd_stream_flush(stream);
			fresh = true;
			run.faulted = 1;
			printf("fault %ld\n", display);
			/*
			 * The next job must be an inter frame, and fail. With --inherit-next-key
			 * the client seeks to the key frame at once: a failed probe would mark
			 * the decoder's state broken, which fails that key frame for another
			 * reason than the lost segment map.
			 */
			if (inherit_next_key)
				skipping = 1;
			else
				expect_fail_next = 1;
			fprintf(stderr, "flushed after job %zu\n", i);
		} else if (flush_probe || inherit_skip) {
			skipping = 1; /* seek: wait for the next keyframe */
			inherit_skip = false;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sync_all(stream);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	decode_ns += (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	for (long k = 0; k < num_shown; k++) {
		print_pic(k, shown[k]);
		pic_unref(shown[k]);
	}
	free(shown);
	if (run.fuzz_from >= 0)
		fprintf(stderr, "%ld jobs fuzzed\n", fuzzed);
	fprintf(stderr, "%zu frames: %ld jobs ok, %ld failed, %ld hidden decoded, %ld shown via "
		"show_existing, %ld pictures, backend %s, %.1f jobs/s in dd_stream_decode\n",
		ivf.count, run.jobs_ok, run.jobs_failed, run.hidden, shown_existing, display,
		dd_stream_backend_name(stream),
		decode_ns ? (run.jobs_ok + run.jobs_failed) * 1e9 / (double)decode_ns : 0.0);
	run.bad |= starve_done(&run.starve);
	if (corrupt == C_REFUSED && refuser.refused() != 1) {
		fprintf(stderr, "the stand-in refused %u packets, not 1: the refusal was not "
			"checked\n", refuser.refused());
		run.bad = 1;
	}
	free(display_of);

	if (ms.every) {
		fprintf(stderr, "%u mode changes of the engine (at least %u wanted)\n", ms.switches,
			expect_switches);
		if (ms.bad || ms.switches < expect_switches)
			run.bad = 1;
	}
	for (int s = 0; s < 8; s++)
		pic_unref(slots[s]);
	if (stream_close_counted(stream))
		run.bad = 1;
	dd_engine_free(engine);
	ivf_free(&ivf);
	return run.bad;
}
