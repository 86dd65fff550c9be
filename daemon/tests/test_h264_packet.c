/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The access units the FFmpeg backend builds from held H.264 requests (h264_packet.c): the
 * requests that fill one CAPTURE buffer must be slices of one picture, or the two fields of
 * one frame. Two fields of different frames would decode into two pictures, of which the
 * engine writes only the last, as a whole frame: the other field's lines were never
 * decoded there.
 */
#include <stdio.h>
#include <string.h>

#include "h264_packet.h"

static int failures;

#include "test_check.h"

/* 0: top field, 1: bottom field, 3: frame */
static int add(struct dd_h264_packet *p, unsigned int what, uint16_t frame_num,
	       struct dd_error *err)
{
	static const uint8_t slice[] = { 0, 0, 1, 0x41, 0x9a, 0x20 };
	struct v4l2_ctrl_h264_sps sps = {
		.profile_idc = 77, .level_idc = 30, .chroma_format_idc = 1,
		.max_num_ref_frames = 2, .pic_width_in_mbs_minus1 = 7,
		.pic_height_in_map_units_minus1 = 2,
	};
	struct v4l2_ctrl_h264_pps pps = { 0 };
	struct v4l2_ctrl_h264_decode_params dp = { .frame_num = frame_num };
	struct dd_job job = { .codec = DD_CODEC_H264, .timestamp = 7000, .hold = true };

	if (what != 3)
		dp.flags = V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC |
			   (what ? V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD : 0);
	job.ctrl.h264.sps = &sps;
	job.ctrl.h264.pps = &pps;
	job.ctrl.h264.decode_params = &dp;
	job.ctrl.h264.annex_b = true;
	job.bitstream = slice;
	job.bitstream_size = sizeof(slice);
	memset(err, 0, sizeof(*err));
	return dd_h264_packet_add(p, &job, err);
}

static void refused(struct dd_h264_packet *p, const char *what, unsigned int first,
		    uint16_t fn1, unsigned int second, uint16_t fn2)
{
	int failed_before = failures;
	struct dd_error err;
	size_t len;

	dd_h264_packet_clear(p);
	CHECK(add(p, first, fn1, &err) == 0, "%s: the first piece failed: %s", what, err.msg);
	len = p->len;
	CHECK(add(p, second, fn2, &err) == -1, "%s: passed", what);
	CHECK(strstr(err.msg, "not one picture"), "%s: failed for another reason: %s", what,
	      err.msg);
	CHECK(p->len == len && p->pieces == 1, "%s: the refused piece was appended", what);
	if (failures == failed_before)
		printf("ok   %s: %s\n", what, err.msg);
}

/*
 * A new decoder in the middle of a picture (a mode change at a held piece): the held pieces
 * must reach it with the parameter sets they were added under in front.
 */
static void restart_checks(struct dd_h264_packet *p)
{
	int failed_before = failures;
	struct dd_error err;
	uint8_t before[256];
	size_t len, lead;

	dd_h264_packet_reset(p);
	CHECK(add(p, 3, 5, &err) == 0, "a frame refused: %s", err.msg);
	len = p->len;
	CHECK(p->lead_params && dd_h264_packet_restart(p, &err) == 0 && p->len == len,
	      "pieces that begin with their parameter sets were changed: %zu bytes, were %zu",
	      p->len, len);
	/* the decoder has the parameter sets: the next picture's pieces do not carry them */
	dd_h264_packet_clear(p);
	CHECK(add(p, 0, 6, &err) == 0 && add(p, 1, 6, &err) == 0, "a pair refused: %s", err.msg);
	len = p->len;
	lead = p->sps_len + p->pps_len;
	CHECK(!p->lead_params && lead && len <= sizeof(before),
	      "a pair after a frame came with parameter sets");
	memcpy(before, p->data, len < sizeof(before) ? len : sizeof(before));
	/* what an earlier picture left past the end must not pass for moved slices */
	memset(p->data + p->len, 0xee, p->cap - p->len);
	CHECK(dd_h264_packet_restart(p, &err) == 0, "the pair was not carried over: %s",
	      err.msg);
	CHECK(p->len == len + lead && !memcmp(p->data, p->sps, p->sps_len) &&
	      !memcmp(p->data + p->sps_len, p->pps, p->pps_len),
	      "the carried pair does not begin with its SPS and PPS (%zu bytes, %zu + %zu)",
	      p->len, len, lead);
	CHECK(p->len == len + lead && !memcmp(p->data + lead, before, len),
	      "the carried pair's slices changed");
	CHECK(p->sps_len && p->pps_len, "the parameter sets the new decoder gets were forgotten");
	CHECK(dd_h264_packet_restart(p, &err) == 0 && p->len == len + lead,
	      "a second restart added them again");
	/* the first piece carried its PPS only: both go in front, its PPS then once more */
	dd_h264_packet_clear(p);
	p->pps_len = 0;
	CHECK(add(p, 0, 8, &err) == 0 && add(p, 1, 8, &err) == 0 && !p->lead_params,
	      "a pair carrying only its PPS counted as carrying both");
	len = p->len;
	lead = p->sps_len + p->pps_len;
	CHECK(dd_h264_packet_restart(p, &err) == 0 && p->len == len + lead &&
	      !memcmp(p->data, p->sps, p->sps_len), "a pair carrying only its PPS got no SPS");
	/* a later piece carried a parameter set: the first piece's are no longer known */
	dd_h264_packet_clear(p);
	CHECK(add(p, 0, 7, &err) == 0, "a field refused: %s", err.msg);
	p->pps_len = 0; /* as if the decoder had lost its PPS: the next piece carries one */
	CHECK(add(p, 1, 7, &err) == 0 && p->params_later, "the second field carried no PPS");
	len = p->len;
	CHECK(dd_h264_packet_restart(p, &err) == -1 && p->len == len && p->pieces == 2,
	      "pieces whose parameter sets changed between them were carried over");
	/* no pieces: the decoder simply has nothing */
	dd_h264_packet_clear(p);
	CHECK(dd_h264_packet_restart(p, &err) == 0 && !p->sps_len && !p->pps_len,
	      "a restart without pieces kept the parameter sets");
	if (failures == failed_before)
		printf("ok   held pieces carried to a new decoder with their parameter sets\n");
}

int main(void)
{
	struct dd_h264_packet p;
	struct dd_error err;

	dd_h264_packet_init(&p);
	CHECK(add(&p, 0, 5, &err) == 0 && add(&p, 1, 5, &err) == 0 && p.fields == 3 &&
	      p.pieces == 2, "a field pair of frame_num 5 refused: %s", err.msg);
	dd_h264_packet_clear(&p);
	CHECK(add(&p, 3, 5, &err) == 0 && add(&p, 3, 5, &err) == 0 && p.fields == 3,
	      "two slices of one frame refused: %s", err.msg);
	dd_h264_packet_clear(&p);
	CHECK(add(&p, 1, 9, &err) == 0 && add(&p, 1, 9, &err) == 0 && p.fields == 2,
	      "two slices of one bottom field refused: %s", err.msg);
	refused(&p, "a top field of frame_num 5, a bottom field of 6", 0, 5, 1, 6);
	refused(&p, "a field, then a frame", 0, 5, 3, 5);
	refused(&p, "a frame, then a field", 3, 5, 1, 5);
	refused(&p, "a frame of frame_num 5, a slice of 6", 3, 5, 3, 6);
	restart_checks(&p);
	dd_h264_packet_free(&p);
	return check_summary("h264-packet", failures);
}
