/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * H.264 for the generic engine. A picture's DPB names up to 16 references, and a stream
 * becomes decodable again not only at an IDR but at an I picture, whose leading pictures
 * still fail (h264_access.h): that per-stream state and those rules replace the engine's
 * reference check, and a failure no longer fails the jobs in flight behind it by name; each
 * of them is checked against the state the jobs before it left, once they have finished.
 */
#include <stdlib.h>

#include "codec.h"
#include "h264_access.h"
#include "h264_check.h"

struct dd_codec_state {
	struct dd_h264_access access;
};

static struct dd_codec_state *h264_state_new(void)
{
	struct dd_codec_state *st = malloc(sizeof(*st));

	if (st)
		dd_h264_access_init(&st->access);
	return st;
}

static void h264_state_free(struct dd_codec_state *st)
{
	if (!st)
		return;
	dd_h264_access_free(&st->access);
	free(st);
}

static void h264_reset(struct dd_codec_state *st)
{
	dd_h264_access_reset(&st->access);
}

static int h264_access_check(const struct dd_codec_state *st, const struct dd_job *job,
			     struct dd_expectation *x, const struct dd_ref_set *decoded,
			     struct dd_error *err)
{
	return dd_h264_access_check(&st->access, job, x, decoded, err);
}

static void h264_decoded(struct dd_codec_state *st, const struct dd_job *job,
			 const struct dd_expectation *x, const struct dd_ref_set *decoded)
{
	dd_h264_access_decoded(&st->access, job, x, decoded);
}

/* A leading picture belongs to what precedes its access point: excused, not lost. */
static void h264_failed(struct dd_codec_state *st, uint64_t timestamp,
			const struct dd_expectation *x)
{
	dd_h264_access_failed(&st->access, timestamp, x->leading);
}

static bool h264_restart(const struct dd_codec_state *st, const struct dd_job *job,
			 const struct dd_expectation *x, const struct dd_ref_set *decoded)
{
	return dd_h264_access_restart(&st->access, job, x, decoded);
}

static const struct dd_codec_access_ops h264_access = {
	.state_new = h264_state_new,
	.state_free = h264_state_free,
	.reset = h264_reset,
	.check = h264_access_check,
	.decoded = h264_decoded,
	.failed = h264_failed,
	.restart = h264_restart,
};

/* Whole macroblocks; a field-coded sequence counts map units in pairs of lines. */
static void h264_coded_size(const struct dd_job *job, uint32_t *width, uint32_t *height)
{
	const struct v4l2_ctrl_h264_sps *sps = job->ctrl.h264.sps;

	if (!sps)
		return;
	*width = (sps->pic_width_in_mbs_minus1 + 1u) * 16;
	*height = (sps->pic_height_in_map_units_minus1 + 1u) * 16 *
		  (sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY ? 1 : 2);
}

/*
 * A stream that may code field pictures starts one frame at a time. A client that sends
 * each field as a request of its own (FFmpeg's v4l2-request) waits for the first field's
 * request before it queues the second into the same CAPTURE buffer, so the first has to be
 * finished alone; with libavcodec's frame threads that takes packets sent after it (the
 * sync's fillers, backend_ffmpeg_pipe.c), and each packet's frame thread repeats the
 * reference marking of the picture before it when it takes over the decoder state: the
 * first field's marking twice, a reference frame slid out of the DPB too early, and
 * "Missing reference picture" two frames later (h264-paff-lookahead without the rule).
 * Which kind of client it is shows only at its first field pair, and a broadcast stream
 * may code MBAFF frames first and field pictures later: the engine turns to frame threads
 * only once the client sent the fields of a frame together (GStreamer holds the first
 * field's CAPTURE buffer for the second: one packet), and back for good at a lone field.
 */
static unsigned int h264_fields(const struct dd_job *job)
{
	uint32_t flags = job->ctrl.h264.decode_params->flags;
	unsigned int possible = job->ctrl.h264.sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY ?
				0 : DD_FIELDS_POSSIBLE;

	if (!(flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC))
		return possible | 3;
	return possible | (flags & V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD ? 2 : 1);
}

const struct dd_codec_ops dd_codec_h264 = {
	.codec = DD_CODEC_H264,
	.name = "H.264",
	.check = dd_check_h264_job,
	.coded_size = h264_coded_size,
	.access = &h264_access,
	.fields = h264_fields,
};
