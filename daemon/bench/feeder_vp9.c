/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VP9 in IVF, as GStreamer's vp9parse + v4l2slvp9dec submit it: superframes split, one job
 * per coded frame (hidden ones included); show_existing_frame is the client showing a
 * picture it already has, never a job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeder.h"
#include "ivf.h"
#include "vp9_client.h"

struct vp9_feeder {
	struct feeder base;
	struct ivf ivf;
	size_t pos;
	struct vp9_client client;
	struct v4l2_ctrl_vp9_frame ctrl;
	struct v4l2_ctrl_vp9_compressed_hdr chdr;
	struct vp9_frame_info info;
};

static struct feeder *vp9_open(const char *path)
{
	struct vp9_feeder *f = calloc(1, sizeof(*f));

	if (!f) {
		fprintf(stderr, "out of memory\n");
		return NULL;
	}
	if (ivf_load(&f->ivf, path, 1)) {
		free(f);
		return NULL;
	}
	if (memcmp(f->ivf.fourcc, "VP90", 4)) {
		fprintf(stderr, "%s: IVF fourcc %s, not VP90\n", path, f->ivf.fourcc);
		ivf_free(&f->ivf);
		free(f);
		return NULL;
	}
	return &f->base;
}

static int vp9_rewind(struct feeder *base)
{
	struct vp9_feeder *f = (struct vp9_feeder *)base;

	f->pos = 0;
	memset(&f->client, 0, sizeof(f->client));
	return 0;
}

static int vp9_next(struct feeder *base, struct bench_job *bj)
{
	struct vp9_feeder *f = (struct vp9_feeder *)base;

	while (f->pos < f->ivf.count) {
		const struct ivf_frame *fr = &f->ivf.frames[f->pos];

		if (vp9_client_fill(&f->client, fr->data, fr->size, &f->ctrl, &f->chdr,
				    &f->info)) {
			fprintf(stderr, "coded frame %zu: cannot parse the VP9 frame header\n",
				f->pos);
			return -1;
		}
		f->pos++;
		if (f->info.show_existing_frame) {
			base->shown++;
			continue;
		}
		memset(bj, 0, sizeof(*bj));
		bj->job.codec = DD_CODEC_VP9;
		bj->job.ctrl.vp9.frame = &f->ctrl;
		bj->job.ctrl.vp9.compressed_hdr = &f->chdr;
		bj->job.bitstream = fr->data;
		bj->job.bitstream_size = fr->size;
		bj->width = bj->crop_w = f->info.width;
		bj->height = bj->crop_h = f->info.height;
		bj->bit_depth = f->ctrl.bit_depth;
		bj->shown = f->info.show_frame;
		return 1;
	}
	return 0;
}

static void vp9_done(struct feeder *base, const struct bench_job *bj, uint64_t ts)
{
	struct vp9_feeder *f = (struct vp9_feeder *)base;

	(void)bj; /* the client keeps its own copy of the job */
	vp9_client_update_refs(&f->client, &f->info, ts);
}

static void vp9_close(struct feeder *base)
{
	struct vp9_feeder *f = (struct vp9_feeder *)base;

	ivf_free(&f->ivf);
	free(f);
}

const struct feeder_ops feeder_vp9 = {
	.name = "vp9",
	.codec = DD_CODEC_VP9,
	.open = vp9_open,
	.rewind = vp9_rewind,
	.next = vp9_next,
	.done = vp9_done,
	.close = vp9_close,
};
