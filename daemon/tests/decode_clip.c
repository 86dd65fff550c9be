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
 *   --corrupt N:drop job N is never sent, as by a client whose parser rejected the frame
 *                    (GStreamer did so with daemon-faults.sh's damaged VP9 frame), and the
 *                    client's reference slots keep what they had. The decoder then lacks what that
 *                    frame changed (its references, its probability context), which the
 *                    engine must notice: some job before the next keyframe must fail (pick a
 *                    frame whose loss a decoder can notice; the pictures in between are not
 *                    compared)
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
	C_DROP
};

static int parse_corruption(const char *s, long *at, enum corruption *kind)
{
	static const char *const names[] = { "", "truncate", "truncate-header", "garbage",
					     "size", "profile", "depth", "keyflag", "drop" };
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
		{ 0 },
	};
	struct dd_engine_config cfg = { .log = log_cb };
	uint32_t fourcc8 = V4L2_PIX_FMT_NV12;
	long flush_at = -1, corrupt_at = -1;
	enum corruption corrupt = C_NONE;
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9 = { 0 };
	struct pic *slots[8] = { 0 }; /* VP9 slots, or VP8 last/golden/alt in 0..2 */
	struct ivf ivf;
	struct dd_engine *engine;
	struct dd_stream *stream;
	struct dd_error err;
	enum dd_codec codec;
	long display = 0, jobs_ok = 0, jobs_failed = 0, hidden = 0, shown_existing = 0;
	int show_hidden = 0;
	int bad = 0, skipping = 0, expect_fail_next = 0, faulted = 0, opt;
	int drop_unnoticed = 0; /* a job was dropped and no job has failed since */
	uint32_t seed = 0x12345678;
	unsigned long fuzz_seed = 0;
	long fuzz_from = -1, fuzz_to = -1;
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
		case 'c':
			if (parse_corruption(optarg, &corrupt_at, &corrupt)) {
				fprintf(stderr, "bad --corrupt %s\n", optarg);
				return 2;
			}
			break;
		case 'z':
			if (sscanf(optarg, "%lu:%ld:%ld", &fuzz_seed, &fuzz_from, &fuzz_to) != 3 ||
			    fuzz_from < 0 || fuzz_to < fuzz_from) {
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

	for (size_t i = 0; i < ivf.count; i++) {
		const uint8_t *data = ivf.frames[i].data;
		size_t size = ivf.frames[i].size;
		struct v4l2_ctrl_vp8_frame c8;
		struct v4l2_ctrl_vp9_frame c9;
		struct v4l2_ctrl_vp9_compressed_hdr ch9;
		struct vp8_frame_info i8;
		struct vp9_frame_info i9;
		struct dd_job job = { .codec = codec, .timestamp = (uint64_t)i * 1000 };
		uint8_t *copy = NULL;
		int key, show, ret, flush_probe, expect_fail;
		uint32_t w, h, fourcc;
		struct pic *p;

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
					print_pic(display, slots[i9.frame_to_show]);
				else
					print_pic(display, NULL);
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
				print_pic(display++, NULL);
			continue;
		}
		skipping = 0;

		expect_fail = expect_fail_next;
		flush_probe = expect_fail_next;
		expect_fail_next = 0;
		if ((long)i == corrupt_at) {
			expect_fail = 1;
			faulted = 1;
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
				drop_unnoticed = 1;
				if (show)
					print_pic(display++, NULL);
				continue;
			default:
				break;
			}
		}

		if ((long)i >= fuzz_from && (long)i <= fuzz_to) {
			if (!faulted)
				printf("fault %ld\n", display);
			faulted = 1;
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
		job.bitstream = data;
		job.bitstream_size = size;
		job.dst = &p->dst;
		err.msg[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = dd_stream_decode(stream, &job, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		decode_ns += (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
		free(copy);
		if (ret) {
			p->failed = 1;
			jobs_failed++;
			drop_unnoticed = 0;
			fprintf(stderr, "job %zu (%s%s): failed: %s\n", i, key ? "key" : "inter",
				show ? "" : ", hidden", err.msg);
			if (!err.msg[0]) {
				fprintf(stderr, "job %zu: failure without a reason\n", i);
				bad = 1;
			}
			if (!expect_fail && !(corrupt_at >= 0 && (long)i > corrupt_at) &&
			    !(fuzz_from >= 0 && (long)i > fuzz_from)) {
				fprintf(stderr, "job %zu: UNEXPECTED failure\n", i);
				bad = 1;
			}
		} else {
			jobs_ok++;
			if (faulted && key && !expect_fail && (long)i > fuzz_to) {
				if (drop_unnoticed) {
					fprintf(stderr, "job %zu: keyframe, but no job failed after the "
						"dropped job: the engine did not notice the decoder's "
						"state was wrong\n", i);
					bad = 1;
					drop_unnoticed = 0;
				}
				printf("resync %ld\n", display);
				faulted = 0;
			}
			if (!show)
				hidden++;
			if (expect_fail > 0) {
				fprintf(stderr, "job %zu: expected a failure, but it decoded\n", i);
				bad = 1;
			}
		}

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
			print_pic(display++, p);
		pic_unref(p);

		if ((long)i == flush_at) {
			dd_stream_flush(stream);
			faulted = 1;
			printf("fault %ld\n", display);
			expect_fail_next = 1; /* the next job must be an inter frame */
			fprintf(stderr, "flushed after job %zu\n", i);
		} else if (flush_probe) {
			skipping = 1; /* seek: wait for the next keyframe */
		}
	}

	if (fuzz_from >= 0)
		fprintf(stderr, "%ld jobs fuzzed\n", fuzzed);
	fprintf(stderr, "%zu frames: %ld jobs ok, %ld failed, %ld hidden decoded, %ld shown via "
		"show_existing, %ld pictures, backend %s, %.1f jobs/s in dd_stream_decode\n",
		ivf.count, jobs_ok, jobs_failed, hidden, shown_existing, display,
		dd_stream_backend_name(stream),
		decode_ns ? (jobs_ok + jobs_failed) * 1e9 / (double)decode_ns : 0.0);
	for (int s = 0; s < 8; s++)
		pic_unref(slots[s]);
	dd_stream_close(stream);
	dd_engine_free(engine);
	ivf_free(&ivf);
	return bad;
}
