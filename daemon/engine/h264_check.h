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
