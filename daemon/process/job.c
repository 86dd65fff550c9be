/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "error.h"
#include "job.h"

static int fail_with(struct dm_failure *fail, uint32_t reason, const char *what)
{
	fail->reason = reason;
	return dd_fail(&fail->why, "%s", what);
}

struct dm_job *dm_job_new(const struct daedalus_job *msg, const uint8_t *ctrl_data,
			  size_t ctrl_size, struct dm_bufcache *cache, struct dm_failure *fail)
{
	struct dm_job *job;

	/* the kernel never says more than it wrote; a mangled message must not read past */
	if (msg->ctrl_bytes > ctrl_size) {
		fail_with(fail, DAEDALUS_REASON_INTERNAL,
			  "the job's control payload is larger than the area it was read into");
		return NULL;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		fail_with(fail, DAEDALUS_REASON_NO_MEMORY, "out of memory");
		return NULL;
	}
	job->msg = *msg;
	atomic_init(&job->cancelled, false);
	job->ctrl_data = malloc(msg->ctrl_bytes ? msg->ctrl_bytes : 1);
	if (!job->ctrl_data) {
		fail_with(fail, DAEDALUS_REASON_NO_MEMORY, "out of memory");
		goto err;
	}
	memcpy(job->ctrl_data, ctrl_data, msg->ctrl_bytes);

	if (msg->output.num_mem_planes < 1 || msg->output.num_mem_planes > DAEDALUS_MAX_MEM_PLANES ||
	    msg->capture.num_mem_planes < 1 ||
	    msg->capture.num_mem_planes > DAEDALUS_MAX_MEM_PLANES) {
		fail_with(fail, DAEDALUS_REASON_INTERNAL, "bad memory plane count in the job");
		goto err;
	}
	job->output = dm_bufcache_get(cache, msg->output.mem[0].handle);
	if (!job->output) {
		fail_with(fail, DAEDALUS_REASON_INTERNAL,
			  "the OUTPUT buffer's dmabuf was never sent (or failed to map)");
		goto err;
	}
	for (uint32_t i = 0; i < msg->capture.num_mem_planes; i++) {
		job->capture[i] = dm_bufcache_get(cache, msg->capture.mem[i].handle);
		if (!job->capture[i]) {
			fail_with(fail, DAEDALUS_REASON_INTERNAL,
				  "a CAPTURE buffer's dmabuf was never sent (or failed to map)");
			goto err;
		}
		if (!job->capture[i]->writable) {
			fail_with(fail, DAEDALUS_REASON_INTERNAL, "a CAPTURE dmabuf is read-only");
			goto err;
		}
	}
	return job;
err:
	dm_job_free(job, cache);
	return NULL;
}

void dm_job_free(struct dm_job *job, struct dm_bufcache *cache)
{
	if (!job)
		return;
	dm_bufcache_put(cache, job->output);
	for (size_t i = 0; i < DAEDALUS_MAX_MEM_PLANES; i++)
		dm_bufcache_put(cache, job->capture[i]);
	free(job->ctrl_data);
	free(job);
}

/*
 * Copies control id's payload into dst; 1 found, 0 absent, -1 malformed. *flags (may be
 * NULL) gets the control's DAEDALUS_CTRL_FLAG_*.
 */
static int find_ctrl_flags(const struct dm_job *job, uint32_t id, void *dst, size_t size,
			   uint32_t *flags)
{
	uint32_t n = job->msg.num_ctrls;

	if (n > DAEDALUS_MAX_CTRLS)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const struct daedalus_ctrl *c = &job->msg.ctrls[i];

		if (c->id != id)
			continue;
		if (c->elem_size != size || c->elems != 1 || c->size != size ||
		    c->offset > job->msg.ctrl_bytes || c->size > job->msg.ctrl_bytes - c->offset)
			return -1;
		memcpy(dst, job->ctrl_data + c->offset, size);
		if (flags)
			*flags = c->flags;
		return 1;
	}
	return 0;
}

static int find_ctrl(const struct dm_job *job, uint32_t id, void *dst, size_t size)
{
	return find_ctrl_flags(job, id, dst, size, NULL);
}

/* A dynamic array control: copies up to max elements into dst; the count, or -1 if malformed. */
static int find_array_ctrl(const struct dm_job *job, uint32_t id, void *dst, size_t elem_size,
			   uint32_t max)
{
	for (uint32_t i = 0; i < job->msg.num_ctrls && i < DAEDALUS_MAX_CTRLS; i++) {
		const struct daedalus_ctrl *c = &job->msg.ctrls[i];

		if (c->id != id)
			continue;
		if (c->elem_size != elem_size || c->elems > max ||
		    c->size != (uint64_t)c->elems * elem_size || c->offset > job->msg.ctrl_bytes ||
		    c->size > job->msg.ctrl_bytes - c->offset)
			return -1;
		memcpy(dst, job->ctrl_data + c->offset, c->size);
		return (int)c->elems;
	}
	return 0;
}

static int get_av1_ctrls(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_job *out,
			 struct dm_failure *fail)
{
	int r;

	r = find_ctrl(job, V4L2_CID_STATELESS_AV1_SEQUENCE, &ctrl->av1.sequence,
		      sizeof(ctrl->av1.sequence));
	if (r <= 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 r ? "malformed AV1_SEQUENCE control" : "no AV1_SEQUENCE control");
	out->ctrl.av1.sequence = &ctrl->av1.sequence;
	r = find_ctrl(job, V4L2_CID_STATELESS_AV1_FRAME, &ctrl->av1.frame, sizeof(ctrl->av1.frame));
	if (r <= 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 r ? "malformed AV1_FRAME control" : "no AV1_FRAME control");
	out->ctrl.av1.frame = &ctrl->av1.frame;
	r = find_array_ctrl(job, V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY, ctrl->av1.tiles,
			    sizeof(ctrl->av1.tiles[0]), V4L2_AV1_MAX_TILE_COUNT);
	if (r <= 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 r ? "malformed AV1_TILE_GROUP_ENTRY control" :
				 "no AV1_TILE_GROUP_ENTRY elements");
	out->ctrl.av1.tiles = ctrl->av1.tiles;
	out->ctrl.av1.num_tiles = (unsigned int)r;
	r = find_ctrl(job, V4L2_CID_STATELESS_AV1_FILM_GRAIN, &ctrl->av1.film_grain,
		      sizeof(ctrl->av1.film_grain));
	if (r < 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM, "malformed AV1_FILM_GRAIN control");
	out->ctrl.av1.film_grain = r ? &ctrl->av1.film_grain : NULL;
	return 0;
}

static int get_h264_struct(const struct dm_job *job, uint32_t id, void *dst, size_t size,
			   const char *name, uint32_t *flags, struct dm_failure *fail)
{
	int r = find_ctrl_flags(job, id, dst, size, flags);
	char msg[64];

	if (r > 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s H.264 %s control", r ? "malformed" : "no", name);
	return fail_with(fail, DAEDALUS_REASON_BITSTREAM, msg);
}

/*
 * The scaling matrix applies if the PPS says so (GStreamer sets the flag when the SPS or
 * the PPS carries lists and sends the control only then) or if the control is part of this
 * very request (Chromium sends it with every request and sets the PPS flag only for lists
 * in the PPS itself). Otherwise a stale matrix from an earlier stream would apply: flat.
 */
static int get_h264_ctrls(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_job *out,
			  struct dm_failure *fail)
{
	uint32_t matrix_flags = 0, mode = V4L2_STATELESS_H264_START_CODE_ANNEX_B;
	int r;

	if (get_h264_struct(job, V4L2_CID_STATELESS_H264_SPS, &ctrl->h264.sps,
			    sizeof(ctrl->h264.sps), "SPS", NULL, fail) ||
	    get_h264_struct(job, V4L2_CID_STATELESS_H264_PPS, &ctrl->h264.pps,
			    sizeof(ctrl->h264.pps), "PPS", NULL, fail) ||
	    get_h264_struct(job, V4L2_CID_STATELESS_H264_DECODE_PARAMS, &ctrl->h264.decode_params,
			    sizeof(ctrl->h264.decode_params), "DECODE_PARAMS", NULL, fail))
		return -1;
	out->ctrl.h264.sps = &ctrl->h264.sps;
	out->ctrl.h264.pps = &ctrl->h264.pps;
	out->ctrl.h264.decode_params = &ctrl->h264.decode_params;
	r = find_ctrl_flags(job, V4L2_CID_STATELESS_H264_SCALING_MATRIX,
			    &ctrl->h264.scaling_matrix, sizeof(ctrl->h264.scaling_matrix),
			    &matrix_flags);
	if (r < 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 "malformed H.264 SCALING_MATRIX control");
	if (r && ((ctrl->h264.pps.flags & V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT) ||
		  (matrix_flags & DAEDALUS_CTRL_FLAG_IN_REQUEST)))
		out->ctrl.h264.scaling_matrix = &ctrl->h264.scaling_matrix;
	r = find_ctrl(job, V4L2_CID_STATELESS_H264_START_CODE, &mode, sizeof(mode));
	if (r < 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM, "malformed H.264 START_CODE control");
	out->ctrl.h264.annex_b = mode == V4L2_STATELESS_H264_START_CODE_ANNEX_B;
	return 0;
}

static int get_vp8_ctrls(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_job *out,
			 struct dm_failure *fail)
{
	int r = find_ctrl(job, V4L2_CID_STATELESS_VP8_FRAME, &ctrl->vp8, sizeof(ctrl->vp8));

	if (r <= 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 r ? "malformed VP8_FRAME control" : "no VP8_FRAME control");
	out->ctrl.vp8.frame = &ctrl->vp8;
	return 0;
}

static int get_vp9_ctrls(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_job *out,
			 struct dm_failure *fail)
{
	int r;

	r = find_ctrl(job, V4L2_CID_STATELESS_VP9_FRAME, &ctrl->vp9.frame, sizeof(ctrl->vp9.frame));
	if (r <= 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 r ? "malformed VP9_FRAME control" : "no VP9_FRAME control");
	out->ctrl.vp9.frame = &ctrl->vp9.frame;
	r = find_ctrl(job, V4L2_CID_STATELESS_VP9_COMPRESSED_HDR, &ctrl->vp9.hdr,
		      sizeof(ctrl->vp9.hdr));
	if (r < 0)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM, "malformed VP9_COMPRESSED_HDR control");
	out->ctrl.vp9.compressed_hdr = r ? &ctrl->vp9.hdr : NULL;
	return 0;
}

/*
 * One line per codec of the protocol: the engine's name for it and how its controls become
 * the engine job's (what each codec's controls mean is the engine's, codec_*.c).
 */
static const struct job_codec {
	uint32_t proto; /* DAEDALUS_CODEC_* */
	enum dd_codec codec;
	int (*get_ctrls)(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_job *out,
			 struct dm_failure *fail);
} job_codecs[] = {
	{ DAEDALUS_CODEC_H264, DD_CODEC_H264, get_h264_ctrls },
	{ DAEDALUS_CODEC_VP8, DD_CODEC_VP8, get_vp8_ctrls },
	{ DAEDALUS_CODEC_VP9, DD_CODEC_VP9, get_vp9_ctrls },
	{ DAEDALUS_CODEC_AV1, DD_CODEC_AV1, get_av1_ctrls },
};

static const struct job_codec *job_codec(const struct dm_job *job)
{
	for (size_t i = 0; i < sizeof(job_codecs) / sizeof(job_codecs[0]); i++)
		if (job_codecs[i].proto == job->msg.codec)
			return &job_codecs[i];
	return NULL;
}

bool dm_job_codec(const struct dm_job *job, enum dd_codec *codec)
{
	const struct job_codec *c = job_codec(job);

	if (c)
		*codec = c->codec;
	return c != NULL;
}

static int get_bitstream(const struct dm_job *job, struct dd_job *out, struct dm_failure *fail)
{
	const struct daedalus_mem_plane *p = &job->msg.output.mem[0];
	size_t len = job->output->len;

	if (p->length < len)
		len = p->length;
	if (p->data_offset > len || p->bytesused > len - p->data_offset)
		return fail_with(fail, DAEDALUS_REASON_BITSTREAM,
				 "the bitstream lies outside its OUTPUT buffer");
	out->bitstream = job->output->addr + p->data_offset;
	out->bitstream_lost = dm_mapping_lost_flag(job->output);
	out->bitstream_size = p->bytesused;
	return 0;
}

static int get_picture(const struct dm_job *job, struct dd_picture *pic, struct dm_failure *fail)
{
	const struct daedalus_picture *lay = &job->msg.picture;

	memset(pic, 0, sizeof(*pic));
	if (lay->num_color_planes < 1 || lay->num_color_planes > DD_MAX_PLANES)
		return fail_with(fail, DAEDALUS_REASON_INTERNAL, "bad color plane count");
	pic->fourcc = lay->fourcc;
	pic->width = lay->width;
	pic->height = lay->height;
	pic->num_planes = lay->num_color_planes;
	for (uint32_t i = 0; i < lay->num_color_planes; i++) {
		const struct daedalus_color_plane *cp = &lay->plane[i];
		const struct dm_mapping *m;
		size_t len;

		if (cp->mem_plane >= job->msg.capture.num_mem_planes)
			return fail_with(fail, DAEDALUS_REASON_INTERNAL,
					 "a color plane names a missing memory plane");
		m = job->capture[cp->mem_plane];
		len = m->len;
		if (job->msg.capture.mem[cp->mem_plane].length < len)
			len = job->msg.capture.mem[cp->mem_plane].length;
		if (cp->offset > len || cp->size > len - cp->offset)
			return fail_with(fail, DAEDALUS_REASON_INTERNAL,
					 "a color plane lies outside its CAPTURE buffer");
		pic->planes[i].data = m->addr + cp->offset;
		pic->planes[i].stride = cp->stride;
		pic->planes[i].size = cp->size;
	}
	return 0;
}

int dm_job_to_engine(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_picture *pic,
		     struct dd_job *out, struct dm_failure *fail)
{
	const struct job_codec *c = job_codec(job);

	memset(out, 0, sizeof(*out));
	if (!c)
		return fail_with(fail, DAEDALUS_REASON_UNSUPPORTED,
				 "this daemon does not decode that codec yet");
	out->codec = c->codec;
	/* the OUTPUT timestamp, copied to CAPTURE: later frames name this picture by it */
	out->timestamp = job->msg.capture.timestamp;
	out->hold = job->msg.flags & DAEDALUS_JOB_FLAG_HOLD;
	out->new_frame = job->msg.flags & DAEDALUS_JOB_FLAG_NEW_FRAME;
	out->lost_piece = job->msg.flags & DAEDALUS_JOB_FLAG_LOST_PIECE;
	if (c->get_ctrls(job, ctrl, out, fail) || get_bitstream(job, out, fail) ||
	    get_picture(job, pic, fail))
		return -1;
	out->dst = pic;
	return 0;
}
