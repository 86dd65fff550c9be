/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AV1 in IVF (one temporal unit per IVF frame), as GStreamer's av1parse + v4l2slav1dec
 * submit it: GStreamer's OBU parser (av1_client.c) splits each temporal unit into frames, one
 * job per frame, the OUTPUT buffer in GStreamer's layout. show_existing_frame never becomes a
 * job (the client shows the picture it has; for a key frame it also renames all slots, which
 * av1_client_done() does), as decode_av1.c does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "av1_client.h"
#include "feeder.h"
#include "ivf.h"

struct av1_feeder {
	struct feeder base;
	struct ivf ivf;
	size_t pos;     /* the next temporal unit */
	bool in_tu;     /* av1_client has frames of unit pos - 1 left */
	struct av1_client client;
	struct av1_job job; /* large (512 tile entries): on the heap with the feeder */
};

static struct feeder *av1_open(const char *path)
{
	struct av1_feeder *f = calloc(1, sizeof(*f));

	if (!f) {
		fprintf(stderr, "out of memory\n");
		return NULL;
	}
	if (ivf_load(&f->ivf, path, 0)) {
		free(f);
		return NULL;
	}
	if (memcmp(f->ivf.fourcc, "AV01", 4)) {
		fprintf(stderr, "%s: IVF fourcc %s, not AV01\n", path, f->ivf.fourcc);
		goto fail;
	}
	if (av1_client_init(&f->client, AV1_LAYOUT_GST)) {
		fprintf(stderr, "cannot create GStreamer's AV1 parser\n");
		goto fail;
	}
	return &f->base;
fail:
	ivf_free(&f->ivf);
	free(f);
	return NULL;
}

static int av1_rewind(struct feeder *base)
{
	struct av1_feeder *f = (struct av1_feeder *)base;

	/* a new parser: its reference state must not leak into the next pass */
	av1_client_free(&f->client);
	f->pos = 0;
	f->in_tu = false;
	if (av1_client_init(&f->client, AV1_LAYOUT_GST)) {
		fprintf(stderr, "cannot create GStreamer's AV1 parser\n");
		return -1;
	}
	return 0;
}

static int av1_next(struct feeder *base, struct bench_job *bj)
{
	struct av1_feeder *f = (struct av1_feeder *)base;
	struct av1_job *job = &f->job;
	int r;

	for (;;) {
		if (!f->in_tu) {
			if (f->pos == f->ivf.count)
				return 0;
			av1_client_start_tu(&f->client, f->ivf.frames[f->pos].data,
					    f->ivf.frames[f->pos].size);
			f->pos++;
			f->in_tu = true;
		}
		/* the timestamp argument is unused by the client: done() names the picture */
		r = av1_client_next(&f->client, job, 0);
		if (r < 0) {
			fprintf(stderr, "temporal unit %zu: GStreamer's AV1 parser failed\n",
				f->pos - 1);
			return -1;
		}
		if (r == 0) {
			f->in_tu = false;
			continue;
		}
		if (job->show_existing) {
			base->shown++;
			av1_client_done(&f->client, job, 0);
			continue;
		}
		break;
	}
	memset(bj, 0, sizeof(*bj));
	bj->job.codec = DD_CODEC_AV1;
	bj->job.ctrl.av1.sequence = &job->seq;
	bj->job.ctrl.av1.frame = &job->frame;
	bj->job.ctrl.av1.tiles = job->tiles;
	bj->job.ctrl.av1.num_tiles = job->num_tiles;
	bj->job.ctrl.av1.film_grain = &job->grain;
	bj->job.bitstream = job->buf;
	bj->job.bitstream_size = job->size;
	/* the picture dav1d outputs: after super-resolution upscaling */
	bj->width = bj->crop_w = job->frame.upscaled_width;
	bj->height = bj->crop_h = job->frame.frame_height_minus_1 + 1u;
	bj->bit_depth = job->seq.bit_depth;
	bj->shown = job->fh.show_frame;
	return 1;
}

static void av1_done(struct feeder *base, const struct bench_job *bj, uint64_t ts)
{
	struct av1_feeder *f = (struct av1_feeder *)base;

	(void)bj; /* the client keeps its own copy of the job */
	av1_client_done(&f->client, &f->job, ts);
}

static void av1_close(struct feeder *base)
{
	struct av1_feeder *f = (struct av1_feeder *)base;

	av1_client_free(&f->client);
	free(f->job.buf);
	ivf_free(&f->ivf);
	free(f);
}

const struct feeder_ops feeder_av1 = {
	.name = "av1",
	.codec = DD_CODEC_AV1,
	.open = av1_open,
	.rewind = av1_rewind,
	.next = av1_next,
	.done = av1_done,
	.close = av1_close,
};
