/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checks of an H.264 job before any backend sees it: the SPS/PPS/decode-params controls are
 * within the ranges the standard allows and the parameter-set writer can express (4:2:0 or
 * monochrome, 8 or 10 bit, no FMO), the OUTPUT buffer holds only slice NAL units that agree
 * with the controls (IDR or not), and what the controls promise about the picture.
 */
#ifndef DAEDALUS_H264_CHECK_H
#define DAEDALUS_H264_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "expectation.h"

/* SPS, PPS and scaling matrix only (no job): also what the writer requires. */
int dd_h264_check_params(const struct v4l2_ctrl_h264_sps *sps,
			 const struct v4l2_ctrl_h264_pps *pps,
			 const struct v4l2_ctrl_h264_scaling_matrix *matrix, struct dd_error *err);

/* High profiles carry 8x8 transforms, scaling lists and a second chroma QP offset. */
bool dd_h264_high_profile(uint8_t profile_idc);

int dd_check_h264_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);

/*
 * Random access at a non-IDR I-frame (the landing picture of a seek into an open GOP, or the
 * I-frame that ends a run of failed pictures): the pictures that follow it in decoding order
 * but precede it in display order ("leading" pictures, POC below the access point's) may
 * predict from pictures before the access point, which this stream never decoded or decoded
 * damaged. libavcodec would decode them from the frames it invents for the frame_num gap, so
 * they fail instead, until a reference picture after the access point in display order ends
 * the leading run, or an IDR. Pictures after the access point in display order do not use
 * what precedes it (the recovery point contract of open GOPs). POCs are the client's
 * (DECODE_PARAMS top/bottom_field_order_cnt): a client that leaves them zero only loses this
 * check.
 */
struct dd_h264_random_access {
	bool after_flush;  /* nothing decoded since the stream opened or flushed */
	bool leading;      /* in the leading run of a non-IDR access point */
	int32_t poc;       /* that access point's POC */
};

void dd_h264_ra_reset(struct dd_h264_random_access *ra);
/* -1 with err for a leading picture of the current access point. */
int dd_h264_ra_check(const struct dd_h264_random_access *ra,
		     const struct v4l2_ctrl_h264_decode_params *dp, struct dd_error *err);
/* After the picture of dp decoded; access_point: a non-IDR picture random access starts at. */
void dd_h264_ra_update(struct dd_h264_random_access *ra,
		       const struct v4l2_ctrl_h264_decode_params *dp, bool access_point);

/*
 * The NAL units of the OUTPUT buffer: with Annex-B start codes, every unit between them;
 * without, the whole buffer is one unit. Calls fn for each slice (types 1 and 5, NAL header
 * included, no start code); SEI, access unit delimiters, end of sequence/stream and filler
 * are skipped; anything else (parameter sets, which would override the controls, data
 * partitions, extensions) is an error. Returns the number of slices or -1.
 */
typedef int (*dd_h264_nal_fn)(void *opaque, const uint8_t *nal, size_t len, struct dd_error *err);
int dd_h264_for_each_slice(const uint8_t *buf, size_t len, bool annex_b, dd_h264_nal_fn fn,
			   void *opaque, struct dd_error *err);

#endif
