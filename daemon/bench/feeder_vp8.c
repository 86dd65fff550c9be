/* SPDX-License-Identifier: BSD-2-Clause */
/* VP8 in IVF, as GStreamer's vp8 parser + v4l2slvp8dec submit it: one job per IVF frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeder.h"
#include "ivf.h"
#include "vp8_client.h"

struct vp8_feeder {
	struct feeder base;
	struct ivf ivf;
	size_t pos;
	struct vp8_client client;
	struct v4l2_ctrl_vp8_frame ctrl;
	struct vp8_frame_info info;
};

static struct feeder *vp8_open(const char *path)
{
	struct vp8_feeder *f = calloc(1, sizeof(*f));

	if (!f) {
		fprintf(stderr, "out of memory\n");
		return NULL;
	}
	if (ivf_load(&f->ivf, path, 0)) {
		free(f);
		return NULL;
	}
	if (memcmp(f->ivf.fourcc, "VP80", 4)) {
		fprintf(stderr, "%s: IVF fourcc %s, not VP80\n", path, f->ivf.fourcc);
		ivf_free(&f->ivf);
		free(f);
		return NULL;
	}
	return &f->base;
}

static int vp8_rewind(struct feeder *base)
{
	struct vp8_feeder *f = (struct vp8_feeder *)base;

	f->pos = 0;
	memset(&f->client, 0, sizeof(f->client));
	return 0;
}

static int vp8_next(struct feeder *base, struct bench_job *bj)
{
	struct vp8_feeder *f = (struct vp8_feeder *)base;
	const struct ivf_frame *fr;

	if (f->pos == f->ivf.count)
		return 0;
	fr = &f->ivf.frames[f->pos];
	if (vp8_client_fill(&f->client, fr->data, fr->size, &f->ctrl, &f->info)) {
		fprintf(stderr, "IVF frame %zu: cannot parse the VP8 frame header\n", f->pos);
		return -1;
	}
	f->pos++;
	memset(bj, 0, sizeof(*bj));
	bj->job.codec = DD_CODEC_VP8;
	bj->job.ctrl.vp8.frame = &f->ctrl;
	bj->job.bitstream = fr->data;
	bj->job.bitstream_size = fr->size;
	bj->width = bj->crop_w = f->ctrl.width;
	bj->height = bj->crop_h = f->ctrl.height;
	bj->bit_depth = 8;
	bj->shown = f->info.show_frame;
	return 1;
}

static void vp8_done(struct feeder *base, const struct bench_job *bj, uint64_t ts)
{
	struct vp8_feeder *f = (struct vp8_feeder *)base;

	(void)bj; /* the client keeps its own copy of the job */
	vp8_client_update_refs(&f->client, &f->info, ts);
}

static void vp8_close(struct feeder *base)
{
	struct vp8_feeder *f = (struct vp8_feeder *)base;

	ivf_free(&f->ivf);
	free(f);
}

const struct feeder_ops feeder_vp8 = {
	.name = "vp8",
	.codec = DD_CODEC_VP8,
	.open = vp8_open,
	.rewind = vp8_rewind,
	.next = vp8_next,
	.done = vp8_done,
	.close = vp8_close,
};
