/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Several streams of one engine decoding at the same time, one thread each, as the daemon
 * runs one worker per decoding context: every stream must produce, job for job, the same
 * pictures as a stream decoding alone (hidden frames included). Catches state shared
 * between streams (the capture hook, the log hook, the backend).
 * Usage: parallel_clip [--streams N] [--threads T] CLIP.ivf
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "engine.h"
#include "ivf.h"
#include "test_picture.h"
#include "vp8_client.h"
#include "vp9_client.h"

struct run {
	struct dd_engine *engine;
	const struct ivf *ivf;
	enum dd_codec codec;
	char (*md5)[33]; /* per coded frame; "" for show_existing / failed */
	int failed_jobs;
	int opened;
};

static void *decode_all(void *arg)
{
	struct run *r = arg;
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9 = { 0 };
	struct dd_error err;
	struct dd_stream *s = dd_stream_open(r->engine, r->codec, V4L2_PIX_FMT_NV12, &err);

	if (!s) {
		fprintf(stderr, "open: %s\n", err.msg);
		return NULL;
	}
	r->opened = 1;
	for (size_t i = 0; i < r->ivf->count; i++) {
		const struct ivf_frame *f = &r->ivf->frames[i];
		struct v4l2_ctrl_vp8_frame c8;
		struct v4l2_ctrl_vp9_frame c9;
		struct v4l2_ctrl_vp9_compressed_hdr ch9;
		struct vp8_frame_info i8;
		struct vp9_frame_info i9;
		struct dd_job job = { .codec = r->codec, .timestamp = (uint64_t)i * 1000,
				      .bitstream = f->data, .bitstream_size = f->size };
		uint32_t w, h, fourcc = V4L2_PIX_FMT_NV12;
		struct pic *p;

		r->md5[i][0] = '\0';
		if (r->codec == DD_CODEC_VP8) {
			if (vp8_client_fill(&vp8, f->data, f->size, &c8, &i8))
				break;
			job.ctrl.vp8.frame = &c8;
			w = c8.width;
			h = c8.height;
		} else {
			if (vp9_client_fill(&vp9, f->data, f->size, &c9, &ch9, &i9))
				break;
			if (i9.show_existing_frame)
				continue;
			job.ctrl.vp9.frame = &c9;
			job.ctrl.vp9.compressed_hdr = &ch9;
			w = i9.width;
			h = i9.height;
			if (c9.bit_depth != 8)
				fourcc = V4L2_PIX_FMT_P010;
		}
		p = pic_new(fourcc, w, h);
		p->width = w;
		p->height = h;
		job.dst = &p->dst;
		if (dd_stream_decode(s, &job, &err)) {
			fprintf(stderr, "job %zu: %s\n", i, err.msg);
			r->failed_jobs++;
		} else {
			pic_md5(p, r->md5[i]);
		}
		pic_unref(p);
		if (r->codec == DD_CODEC_VP8)
			vp8_client_update_refs(&vp8, &i8, job.timestamp);
		else
			vp9_client_update_refs(&vp9, &i9, job.timestamp);
	}
	dd_stream_close(s);
	return NULL;
}

int main(int argc, char **argv)
{
	struct dd_engine_config cfg = { 0 };
	unsigned int streams = 4;
	struct run alone, *runs;
	pthread_t *threads;
	struct ivf ivf;
	int argi = 1, bad = 0;
	size_t compared = 0;

	for (; argi + 1 < argc && argv[argi][0] == '-'; argi += 2) {
		if (!strcmp(argv[argi], "--streams"))
			streams = (unsigned int)atoi(argv[argi + 1]);
		else if (!strcmp(argv[argi], "--threads"))
			cfg.threads = (unsigned int)atoi(argv[argi + 1]);
		else
			break;
	}
	if (argi + 1 != argc || streams < 2 || streams > 64) {
		fprintf(stderr, "usage: %s [--streams 2..64] [--threads T] CLIP.ivf\n", argv[0]);
		return 2;
	}
	if (ivf_load(&ivf, argv[argi], 1))
		return 2;

	alone = (struct run){ .engine = dd_engine_new(&cfg), .ivf = &ivf,
			      .codec = memcmp(ivf.fourcc, "VP80", 4) ? DD_CODEC_VP9 :
								       DD_CODEC_VP8 };
	if (!alone.engine)
		return 2;
	alone.md5 = calloc(ivf.count, sizeof(*alone.md5));
	decode_all(&alone);

	runs = calloc(streams, sizeof(*runs));
	threads = calloc(streams, sizeof(*threads));
	for (unsigned int t = 0; t < streams; t++) {
		runs[t] = alone;
		runs[t].md5 = calloc(ivf.count, sizeof(*runs[t].md5));
		runs[t].failed_jobs = 0;
		runs[t].opened = 0;
		if (pthread_create(&threads[t], NULL, decode_all, &runs[t]))
			return 2;
	}
	for (unsigned int t = 0; t < streams; t++)
		pthread_join(threads[t], NULL);

	if (!alone.opened || alone.failed_jobs)
		bad = 1;
	for (unsigned int t = 0; t < streams; t++) {
		if (!runs[t].opened || runs[t].failed_jobs)
			bad = 1;
		for (size_t i = 0; i < ivf.count; i++) {
			if (strcmp(runs[t].md5[i], alone.md5[i])) {
				fprintf(stderr, "stream %u job %zu: %s, alone: %s\n", t, i,
					runs[t].md5[i], alone.md5[i]);
				bad = 1;
			} else if (alone.md5[i][0]) {
				compared++;
			}
		}
		free(runs[t].md5);
	}
	printf("%u parallel streams: %zu pictures compared with a lone stream, %s\n", streams,
	       compared, bad ? "MISMATCH" : "all identical");
	free(runs);
	free(threads);
	free(alone.md5);
	dd_engine_free(alone.engine);
	ivf_free(&ivf);
	return bad || !compared;
}
