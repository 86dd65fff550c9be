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
 *   --corrupt N       request N's buffer after its first 8 bytes (slice header fields)
 *                     becomes garbage: it must fail, later requests may fail until the next
 *                     access point, as above
 *   --garble N        the second half of request N's buffer (slice data) becomes garbage:
 *                     no decoder can tell all such damage from data (entropy-coded data
 *                     decodes to something), so the request may decode or fail and the
 *                     pictures until the next IDR may differ (undetected damage also reaches
 *                     the leading pictures of an I picture); nothing may crash, and from the
 *                     IDR on everything must match again
 *   --seek A:B        after request A-1, a seek: the engine is flushed, the client's DPB and
 *                     POC state start over, and decoding resumes at request B (an I-frame);
 *                     prints "seek A B". Leading pictures of a non-IDR I-frame may fail
 *                     (h264-client-check.py allows it), never show garbage
 * Damage prints "fault <n>" for h264-client-check.py.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "engine.h"
#include "file_load.h"
#include "h264_client.h"
#include "test_picture.h"

static void log_cb(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	if (level <= DD_LOG_WARNING)
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, 'p' },
		{ "slices", no_argument, NULL, 's' },
		{ "no-start-code", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "forget-at", required_argument, NULL, 'g' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "garble", required_argument, NULL, 'b' },
		{ "seek", required_argument, NULL, 'k' },
		{ "no-access-point", no_argument, NULL, 'a' },
		{ 0 },
	};
	struct dd_engine_config cfg = { .log = log_cb };
	bool slices = false, start_codes = true, planar = false, faulted = false;
	bool resynced = false, no_access_point = false;
	long forget_at = -1, corrupt_at = -1, garble_at = -1, n = 0, failed = 0;
	long seek_from = -1, seek_to = -1;
	long ra_at = -1; /* the last non-IDR access point: a seek's landing or a resync */
	int32_t ra_poc = 0;
	bool ra_leading = false;
	static struct h264_job job;
	static struct slice_span spans[512];
	struct h264_client client;
	struct dd_engine *engine;
	struct dd_stream *stream;
	struct dd_error err;
	uint8_t *data;
	size_t size;
	int c, r, status = 0;

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
		case 'c':
			corrupt_at = atol(optarg);
			break;
		case 'b':
			garble_at = atol(optarg);
			break;
		case 'a':
			no_access_point = true;
			break;
		case 'k':
			if (sscanf(optarg, "%ld:%ld", &seek_from, &seek_to) != 2 ||
			    seek_to < seek_from)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: decode_h264 [options] clip.h264\n");
		return 2;
	}
	data = file_load(argv[optind], &size);
	engine = dd_engine_new(&cfg);
	if (!data || !engine || h264_client_init(&client, H264_PATTERN_GST, data, size))
		return 1;
	stream = dd_stream_open(engine, DD_CODEC_H264, V4L2_PIX_FMT_NV12, &err);
	if (!stream) {
		fprintf(stderr, "cannot open an H.264 stream: %s\n", err.msg);
		return 1;
	}
	while ((r = h264_client_next(&client, &job)) == 1) {
		bool ten = job.bit_depth > 8;
		uint32_t fourcc = planar ? V4L2_PIX_FMT_YUV420M :
				  ten ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;
		struct pic *p = pic_new(fourcc, job.width, job.height);
		bool idr = job.dp.flags & V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC;
		bool intra = !(job.dp.flags & (V4L2_H264_DECODE_PARAM_FLAG_PFRAME |
					       V4L2_H264_DECODE_PARAM_FLAG_BFRAME));
		struct dd_job dj = {
			.codec = DD_CODEC_H264,
			.timestamp = (uint64_t)(n + 1) * 1000,
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
			dd_stream_flush(stream);
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
		if (n == forget_at)
			dd_stream_flush(stream);
		if (n == corrupt_at || n == garble_at)
			for (size_t i = n == corrupt_at ? 8 : job.size / 2; i < job.size; i++)
				job.buf[i] = (uint8_t)(job.buf[i] * 167 + i);
		if (n == forget_at || n == corrupt_at || n == garble_at) {
			printf("fault %ld\n", n);
			faulted = true;
		}
		/* an I picture uses no reference: a restart right before it loses nothing */
		if (faulted && !resynced && n != corrupt_at && n != garble_at &&
		    (idr || (intra && garble_at < 0))) {
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
		r = 0;
		for (unsigned int s = 0; s < ns && !r; s++) {
			dj.bitstream = spans[s].nal;
			dj.bitstream_size = spans[s].len;
			dj.new_frame = s == 0;
			dj.hold = s + 1 < ns;
			r = dd_stream_decode(stream, &dj, &err);
		}
		if (r) {
			bool allowed = (faulted && !resynced) ||
				       (ra_leading && n > ra_at && job.dp.top_field_order_cnt < ra_poc);

			fprintf(stderr, "request %ld failed%s: %s\n", n,
				allowed ? " (allowed)" : "", err.msg);
			printf("pic %ld FAILED\n", n);
			failed++;
			if (!allowed)
				status = 1;
		} else if ((n == forget_at && !intra) || n == corrupt_at) {
			fprintf(stderr, "request %ld decoded although %s\n", n, n == forget_at ?
				"it names pictures the engine never decoded" : "its slices are garbage");
			status = 1;
		} else {
			print_md5(n, p, &job);
		}
		pic_unref(p);
		h264_client_done(&client, &job, (uint64_t)(n + 1) * 1000);
		n++;
	}
	if (r < 0) {
		fprintf(stderr, "GStreamer's parser failed after %ld pictures\n", n);
		status = 1;
	}
	if (faulted && !resynced && !no_access_point) {
		fprintf(stderr, "no access point after the fault\n");
		status = 1;
	}
	fprintf(stderr, "decode_h264: %ld requests, %ld failed\n", n, failed);
	dd_stream_close(stream);
	dd_engine_free(engine);
	h264_client_free(&client);
	free(data);
	return status;
}
