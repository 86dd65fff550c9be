/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * H.264 Annex-B byte stream, as GStreamer's h264parse + v4l2slh264dec submit it in
 * frame-based mode: one job per picture with 00 00 01 before every slice, the scaling matrix
 * only when the PPS flag says so (h264_client.c's GStreamer pattern, decode_h264.c's default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeder.h"
#include "file_load.h"
#include "h264_client.h"

struct h264_feeder {
	struct feeder base;
	uint8_t *data;
	size_t size;
	struct h264_client client;
	struct h264_job job;
};

static struct feeder *h264_open(const char *path)
{
	struct h264_feeder *f = calloc(1, sizeof(*f));

	if (!f) {
		fprintf(stderr, "out of memory\n");
		return NULL;
	}
	f->data = file_load(path, &f->size);
	if (!f->data) {
		free(f);
		return NULL;
	}
	if (h264_client_init(&f->client, H264_PATTERN_GST, f->data, f->size)) {
		fprintf(stderr, "cannot create GStreamer's H.264 parser\n");
		free(f->data);
		free(f);
		return NULL;
	}
	return &f->base;
}

static int h264_rewind(struct feeder *base)
{
	struct h264_feeder *f = (struct h264_feeder *)base;

	/* a new parser: parameter sets and the DPB start over, as for a new stream */
	h264_client_free(&f->client);
	if (h264_client_init(&f->client, H264_PATTERN_GST, f->data, f->size)) {
		fprintf(stderr, "cannot create GStreamer's H.264 parser\n");
		return -1;
	}
	return 0;
}

static int h264_next(struct feeder *base, struct bench_job *bj)
{
	struct h264_feeder *f = (struct h264_feeder *)base;
	struct h264_job *job = &f->job;
	int r = h264_client_next(&f->client, job);

	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "GStreamer's H.264 parser failed at byte %zu\n",
				f->client.pos);
		return r;
	}
	memset(bj, 0, sizeof(*bj));
	bj->job.codec = DD_CODEC_H264;
	bj->job.ctrl.h264.sps = &job->sps;
	bj->job.ctrl.h264.pps = &job->pps;
	bj->job.ctrl.h264.decode_params = &job->dp;
	bj->job.ctrl.h264.scaling_matrix =
		job->pps.flags & V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT ? &job->matrix : NULL;
	bj->job.ctrl.h264.annex_b = true;
	/* frame-based: the whole picture in one job into its own CAPTURE buffer */
	bj->job.new_frame = true;
	bj->job.hold = false;
	bj->job.bitstream = job->buf;
	bj->job.bitstream_size = job->size;
	/* the CAPTURE format a client sets: the macroblock-aligned coded size */
	bj->width = job->width;
	bj->height = job->height;
	bj->bit_depth = job->bit_depth;
	bj->crop_x = job->crop_x;
	bj->crop_y = job->crop_y;
	bj->crop_w = job->crop_w;
	bj->crop_h = job->crop_h;
	bj->shown = true;
	return 1;
}

static void h264_done(struct feeder *base, const struct bench_job *bj, uint64_t ts)
{
	struct h264_feeder *f = (struct h264_feeder *)base;

	(void)bj; /* the client keeps its own copy of the job */
	h264_client_done(&f->client, &f->job, ts);
}

static void h264_close(struct feeder *base)
{
	struct h264_feeder *f = (struct h264_feeder *)base;

	h264_client_free(&f->client);
	free(f->job.buf);
	free(f->data);
	free(f);
}

const struct feeder_ops feeder_h264 = {
	.name = "h264",
	.codec = DD_CODEC_H264,
	.open = h264_open,
	.rewind = h264_rewind,
	.next = h264_next,
	.done = h264_done,
	.close = h264_close,
};
