/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Makes the seed corpus of a fuzz target from a real clip: the jobs a V4L2 client makes of
 * it, through the test clients the engine's clip tests use (vp8_client, vp9_client,
 * h264_client, av1_client: GStreamer's parsers for H.264 and AV1), written in the fuzz input
 * format (fuzz_input.h). Each seed is a short window of the stream from its first key frame:
 * short, so that libFuzzer runs many of them a second, and several, so that it starts from
 * key frames alone, from inter frames predicted from them and from jobs in flight.
 *
 *   fuzz_seeds vp8|vp9|av1 CLIP.ivf OUTDIR NAME
 *   fuzz_seeds h264 CLIP.h264 OUTDIR NAME     (Annex B)
 *
 * Writes OUTDIR/NAME-J<jobs>[-submit|-chromium|...]: fuzz inputs every job of which decodes
 * (fuzz_replay --clean checks that).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "av1_client.h"
#include "file_load.h"
#include "fuzz_input.h"
#include "h264_client.h"
#include "ivf.h"
#include "vp8_client.h"
#include "vp9_client.h"

/* How many jobs each seed has: a key frame alone, a few inter frames, a mini-GOP. */
static const unsigned int windows[] = { 1, 3, 8 };
#define MAX_WINDOW 8

/* A job as the seed maker keeps it until the seed is written. */
struct seed_job {
	struct fz_job_head head;
	const void *ctrl[FZ_MAX_CTRLS];
	uint16_t elems[FZ_MAX_CTRLS];
	uint8_t *ctrl_copy[FZ_MAX_CTRLS];
	uint8_t *bits;
	uint32_t width, height; /* the frame's, for the CAPTURE format */
	bool ten_bit;
};

struct seeds {
	enum dd_codec codec;
	const struct fz_ctrl_desc *desc;
	unsigned int n_ctrls;
	struct seed_job jobs[MAX_WINDOW];
	unsigned int count;
	const char *dir, *name;
	int status;
};

/* Keeps a copy of the job (its controls and bitstream) for the seeds still to write. */
static void add_job(struct seeds *s, uint8_t set, const void *const *ctrl, const uint16_t *elems,
		    const uint8_t *bits, size_t size, uint64_t ts, uint32_t w, uint32_t h, bool ten)
{
	struct seed_job *j = &s->jobs[s->count++];

	memset(j, 0, sizeof(*j));
	j->head = (struct fz_job_head){ .flags = FZ_JOB_NEW_FRAME, .set = set,
					.bitstream_size = (uint32_t)size, .timestamp = ts };
	if (s->count == 1)
		j->head.flags |= FZ_JOB_STREAM_START;
	for (unsigned int i = 0; i < s->n_ctrls; i++) {
		size_t len;

		if (!(set & (1u << i)))
			continue;
		j->elems[i] = elems ? elems[i] : 1;
		len = (size_t)j->elems[i] * s->desc[i].elem_size;
		j->ctrl_copy[i] = malloc(len ? len : 1);
		if (!j->ctrl_copy[i])
			abort();
		memcpy(j->ctrl_copy[i], ctrl[i], len);
	}
	j->bits = malloc(size ? size : 1);
	if (!j->bits)
		abort();
	memcpy(j->bits, bits, size);
	j->width = w;
	j->height = h;
	j->ten_bit = ten;
}

static void write_seed(struct seeds *s, unsigned int n, const char *variant, uint8_t format,
		       uint8_t flags)
{
	struct fz_writer w = { 0 };
	struct fz_stream hdr = { .format = format, .flags = flags, .lookahead = 2 };
	uint32_t width = 0, height = 0;
	char path[4096];
	FILE *f;

	for (unsigned int k = 0; k < n; k++) {
		width = s->jobs[k].width > width ? s->jobs[k].width : width;
		height = s->jobs[k].height > height ? s->jobs[k].height : height;
	}
	hdr.width = (uint16_t)width;
	hdr.height = (uint16_t)height;
	fz_write(&w, &hdr, sizeof(hdr));
	for (unsigned int k = 0; k < n; k++) {
		const struct seed_job *j = &s->jobs[k];

		fz_write(&w, &j->head, sizeof(j->head));
		for (unsigned int i = 0; i < s->n_ctrls; i++) {
			if (!(j->head.set & (1u << i)))
				continue;
			if (s->desc[i].max_elems > 1)
				fz_write(&w, &j->elems[i], sizeof(j->elems[i]));
			fz_write(&w, j->ctrl_copy[i], (size_t)j->elems[i] * s->desc[i].elem_size);
		}
		fz_write(&w, j->bits, j->head.bitstream_size);
	}
	snprintf(path, sizeof(path), "%s/%s-J%u%s", s->dir, s->name, n, variant);
	f = fopen(path, "wb");
	if (!f || fwrite(w.data, 1, w.size, f) != w.size || fclose(f)) {
		perror(path);
		s->status = 1;
	}
	fz_writer_free(&w);
}

/* Every window's seed, written once the longest window is full (or the stream ended). */
static void write_seeds(struct seeds *s)
{
	uint8_t format = s->jobs[0].ten_bit ? FZ_FORMAT_P010 : FZ_FORMAT_NV12;

	for (unsigned int i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
		if (windows[i] <= s->count)
			write_seed(s, windows[i], "", format, 0);
	/* the other layouts and the asynchronous path, on the longest window */
	write_seed(s, s->count, "-submit", format, FZ_STREAM_SUBMIT);
	if (!s->jobs[0].ten_bit)
		write_seed(s, s->count, "-yuv420m", FZ_FORMAT_YUV420M, FZ_STREAM_WIDE_STRIDE);
}

static void free_jobs(struct seeds *s)
{
	for (unsigned int k = 0; k < s->count; k++) {
		for (unsigned int i = 0; i < FZ_MAX_CTRLS; i++)
			free(s->jobs[k].ctrl_copy[i]);
		free(s->jobs[k].bits);
	}
	s->count = 0;
}

static int seeds_vpx(struct seeds *s, const char *path)
{
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9 = { 0 };
	struct ivf ivf;

	if (ivf_load(&ivf, path, s->codec == DD_CODEC_VP9))
		return 1;
	for (size_t i = 0; i < ivf.count && s->count < MAX_WINDOW; i++) {
		const uint8_t *data = ivf.frames[i].data;
		size_t size = ivf.frames[i].size;
		uint64_t ts = (uint64_t)(i + 1) * 1000;

		if (s->codec == DD_CODEC_VP8) {
			struct v4l2_ctrl_vp8_frame c;
			struct vp8_frame_info info;
			const void *ctrl[] = { &c };

			if (vp8_client_fill(&vp8, data, size, &c, &info))
				break;
			add_job(s, 1, ctrl, NULL, data, size, ts, c.width, c.height, false);
			vp8_client_update_refs(&vp8, &info, ts);
		} else {
			struct v4l2_ctrl_vp9_frame c;
			struct v4l2_ctrl_vp9_compressed_hdr h;
			struct vp9_frame_info info;
			const void *ctrl[] = { &c, &h };

			if (vp9_client_fill(&vp9, data, size, &c, &h, &info))
				break;
			if (info.show_existing_frame)
				continue; /* shown by the client, never a job */
			add_job(s, 3, ctrl, NULL, data, size, ts, info.width, info.height,
				c.bit_depth > 8);
			vp9_client_update_refs(&vp9, &info, ts);
		}
	}
	ivf_free(&ivf);
	return s->count ? 0 : 1;
}

static int seeds_h264(struct seeds *s, const char *path, enum h264_pattern pattern)
{
	static struct h264_job job;
	struct h264_client c;
	size_t size;
	uint8_t *data = file_load(path, &size);
	const uint32_t annex_b = V4L2_STATELESS_H264_START_CODE_ANNEX_B;

	if (!data || h264_client_init(&c, pattern, data, size))
		return 1;
	while (s->count < MAX_WINDOW && h264_client_next(&c, &job) == 1) {
		uint64_t ts = (uint64_t)(s->count + 1) * 1000;
		const void *ctrl[] = { &job.sps, &job.pps, &job.matrix, &job.dp, &annex_b };
		uint8_t set = 1u << 3; /* the decode parameters: every request */

		if (job.send_sps_pps)
			set |= 1u << 0 | 1u << 1;
		if (job.send_matrix)
			set |= 1u << 2;
		if (s->count == 0)
			set |= 1u << 4;
		add_job(s, set, ctrl, NULL, job.buf, job.size, ts, job.width, job.height,
			job.bit_depth > 8);
		h264_client_done(&c, &job, ts);
	}
	h264_client_free(&c);
	free(data);
	return s->count ? 0 : 1;
}

static int seeds_av1(struct seeds *s, const char *path)
{
	static struct av1_job job;
	struct av1_client c;
	struct ivf ivf;
	uint64_t jobs = 0;

	if (ivf_load(&ivf, path, 0) || av1_client_init(&c, AV1_LAYOUT_GST))
		return 1;
	for (size_t f = 0; f < ivf.count && s->count < MAX_WINDOW; f++) {
		av1_client_start_tu(&c, ivf.frames[f].data, ivf.frames[f].size);
		while (s->count < MAX_WINDOW && av1_client_next(&c, &job, jobs * 1000) == 1) {
			uint64_t ts = jobs * 1000;
			const void *ctrl[] = { &job.seq, &job.frame, job.tiles, &job.grain };
			uint16_t elems[] = { 1, 1, (uint16_t)job.num_tiles, 1 };

			if (!job.show_existing) {
				add_job(s, 0xf, ctrl, elems, job.buf, job.size, ts,
					job.frame.upscaled_width, job.frame.frame_height_minus_1 + 1,
					job.seq.bit_depth > 8);
				jobs++;
			}
			av1_client_done(&c, &job, ts);
		}
	}
	av1_client_free(&c);
	ivf_free(&ivf);
	return s->count ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct seeds s;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: fuzz_seeds vp8|vp9|av1|h264 CLIP OUTDIR NAME\n");
		return 2;
	}
	s.dir = argv[3];
	s.name = argv[4];
	if (!strcmp(argv[1], "vp8"))
		s.codec = DD_CODEC_VP8;
	else if (!strcmp(argv[1], "vp9"))
		s.codec = DD_CODEC_VP9;
	else if (!strcmp(argv[1], "av1"))
		s.codec = DD_CODEC_AV1;
	else if (!strcmp(argv[1], "h264"))
		s.codec = DD_CODEC_H264;
	else
		return 2;
	s.n_ctrls = fz_codec_ctrls(s.codec, &s.desc);
	if (s.codec == DD_CODEC_H264) {
		r = seeds_h264(&s, argv[2], H264_PATTERN_GST);
		if (!r) {
			write_seeds(&s);
			free_jobs(&s);
			/* Chromium's pattern: every control in every request */
			r = seeds_h264(&s, argv[2], H264_PATTERN_CHROMIUM);
			if (!r)
				write_seed(&s, s.count, "-chromium", s.jobs[0].ten_bit ?
					   FZ_FORMAT_P010 : FZ_FORMAT_NV12, 0);
			free_jobs(&s);
		}
	} else {
		r = s.codec == DD_CODEC_AV1 ? seeds_av1(&s, argv[2]) : seeds_vpx(&s, argv[2]);
		if (!r)
			write_seeds(&s);
		free_jobs(&s);
	}
	if (r)
		fprintf(stderr, "fuzz_seeds: no job made of %s\n", argv[2]);
	return r || s.status;
}
