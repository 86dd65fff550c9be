/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "h264_check.h"
#include "h264_packet.h"

void dd_h264_packet_init(struct dd_h264_packet *p)
{
	memset(p, 0, sizeof(*p));
}

void dd_h264_packet_free(struct dd_h264_packet *p)
{
	free(p->data);
	dd_h264_packet_init(p);
}

void dd_h264_packet_clear(struct dd_h264_packet *p)
{
	p->len = 0;
	p->pieces = 0;
	p->fields = 0;
	p->lead_params = p->params_later = false;
}

void dd_h264_packet_reset(struct dd_h264_packet *p)
{
	dd_h264_packet_clear(p);
	p->sps_len = p->pps_len = 0;
}

static int reserve(struct dd_h264_packet *p, size_t more, struct dd_error *err)
{
	size_t cap;
	uint8_t *d;

	if (more > DD_H264_MAX_BYTES || p->len > DD_H264_MAX_BYTES - more)
		return dd_fail(err, "H.264 picture larger than %u MiB", DD_H264_MAX_BYTES >> 20);
	if (p->len + more <= p->cap)
		return 0;
	cap = p->cap ? p->cap : 64 * 1024;
	while (cap < p->len + more)
		cap *= 2;
	d = realloc(p->data, cap);
	if (!d)
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	p->data = d;
	p->cap = cap;
	return 0;
}

static int append(struct dd_h264_packet *p, const uint8_t *b, size_t n, struct dd_error *err)
{
	if (reserve(p, n, err))
		return -1;
	memcpy(p->data + p->len, b, n);
	p->len += n;
	return 0;
}

static int add_slice(void *opaque, const uint8_t *nal, size_t len, struct dd_error *err)
{
	struct dd_h264_packet *p = opaque;

	if (append(p, (const uint8_t *)"\0\0\0\1", 4, err))
		return -1;
	return append(p, nal, len, err);
}

static bool is_flat(const struct v4l2_ctrl_h264_scaling_matrix *m)
{
	for (unsigned int i = 0; i < 6; i++)
		for (unsigned int j = 0; j < 16; j++)
			if (m->scaling_list_4x4[i][j] != 16)
				return false;
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < 64; j++)
			if (m->scaling_list_8x8[i][j] != 16)
				return false;
	return true;
}

/* Writes the NAL into the packet (and remembers it) unless the decoder has it already. */
static int add_param_set(struct dd_h264_packet *p, uint8_t *last, size_t *last_len,
			 const uint8_t *nal, size_t len, struct dd_error *err)
{
	if (len == *last_len && !memcmp(nal, last, len))
		return 0;
	if (append(p, nal, len, err))
		return -1;
	memcpy(last, nal, len);
	*last_len = len;
	return 0;
}

int dd_h264_packet_restart(struct dd_h264_packet *p, struct dd_error *err)
{
	size_t lead = p->sps_len + p->pps_len;

	if (!p->pieces) {
		dd_h264_packet_reset(p);
		return 0;
	}
	if (p->lead_params)
		return 0; /* the new decoder gets them with the pieces */
	/*
	 * The first piece came under the parameter sets the old decoder had; unless a later
	 * piece changed them, those are still the ones remembered.
	 */
	if (p->params_later)
		return dd_fail(err, "the held H.264 pieces' parameter sets changed between them");
	if (!p->sps_len || !p->pps_len)
		return dd_fail(err, "the parameter sets of the held H.264 pieces were forgotten");
	if (reserve(p, lead, err))
		return -1;
	memmove(p->data + lead, p->data, p->len);
	memcpy(p->data, p->sps, p->sps_len);
	memcpy(p->data + p->sps_len, p->pps, p->pps_len);
	p->len += lead;
	p->lead_params = true;
	return 0;
}

int dd_h264_packet_add(struct dd_h264_packet *p, const struct dd_job *job, struct dd_error *err)
{
	const struct v4l2_ctrl_h264_sps *sps = job->ctrl.h264.sps;
	const struct v4l2_ctrl_h264_decode_params *dp = job->ctrl.h264.decode_params;
	const struct v4l2_ctrl_h264_scaling_matrix *m = job->ctrl.h264.scaling_matrix;
	uint8_t nal[DD_H264_PARAM_NAL_MAX];
	size_t old_len = p->len, n, sps_end;
	bool old_lead = p->lead_params, old_later = p->params_later;
	unsigned int fields = 3;

	if (p->pieces >= DD_H264_MAX_PIECES)
		return dd_fail(err, "more than %u H.264 requests for one CAPTURE buffer",
			       DD_H264_MAX_PIECES);
	if (dp->flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC)
		fields = dp->flags & V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD ? 2 : 1;
	/*
	 * The pieces of one CAPTURE buffer are slices of one picture, or the fields of one
	 * frame. Anything else decodes into two pictures of which only the last is written,
	 * with the lines the other one decoded missing.
	 */
	if (p->pieces && (p->frame != (fields == 3) || p->frame_num != dp->frame_num))
		return dd_fail(err, "H.264 requests for one CAPTURE buffer that are not one "
			       "picture or the two fields of one frame (%s frame_num %u after %s "
			       "frame_num %u)", fields == 3 ? "frame" : "field", dp->frame_num,
			       p->frame ? "frame" : "field", p->frame_num);
	/* a flat matrix is the default; without High profile the PPS cannot carry one */
	if (m && (is_flat(m) || !dd_h264_high_profile(sps->profile_idc)))
		m = NULL;
	n = dd_h264_write_sps(sps, nal, sizeof(nal));
	if (!n || add_param_set(p, p->sps, &p->sps_len, nal, n, err))
		goto fail;
	sps_end = p->len;
	n = dd_h264_write_pps(job->ctrl.h264.pps, m, nal, sizeof(nal));
	if (!n || add_param_set(p, p->pps, &p->pps_len, nal, n, err))
		goto fail;
	/* which parameter sets the pieces carry (dd_h264_packet_restart()) */
	if (!p->pieces)
		p->lead_params = sps_end != old_len && p->len != sps_end;
	else
		p->params_later |= p->len != old_len;
	if (dd_h264_for_each_slice(job->bitstream, job->bitstream_size, job->ctrl.h264.annex_b,
				   add_slice, p, err) <= 0)
		goto fail;
	p->fields |= fields;
	p->frame = fields == 3;
	p->frame_num = dp->frame_num;
	p->timestamp = job->timestamp;
	p->pieces++;
	return 0;
fail:
	if (!n)
		dd_fail(err, "H.264 parameter set does not fit %d bytes", DD_H264_PARAM_NAL_MAX);
	/* the decoder never saw what was appended: forget the parameter sets too */
	p->len = old_len;
	p->lead_params = old_lead;
	p->params_later = old_later;
	p->sps_len = p->pps_len = 0;
	return -1;
}
