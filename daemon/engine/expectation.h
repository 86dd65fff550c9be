/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a job's controls promise about the decoded picture, filled by the per-codec checks
 * (vpx_check, av1_check, h264_check) before decoding and compared with what the backend
 * reports after it.
 */
#ifndef DAEDALUS_EXPECTATION_H
#define DAEDALUS_EXPECTATION_H

#include <stdbool.h>
#include <stdint.h>

/* H.264's DPB is the largest reference set (VP8/VP9: last, golden, altref) */
#define DD_MAX_JOB_REFS 16

struct dd_expectation {
	uint32_t width, height;
	unsigned int bit_depth;
	int profile;
	bool key_frame; /* nothing decoded before it can be referenced after it */
	/*
	 * A key frame that still takes state from the frame before it (VP8: segmentation on
	 * without a new segment map keeps the previous frame's map): a decoder opened just
	 * before it would decode it differently, so a stream changes mode only elsewhere.
	 */
	bool inherits;
	unsigned int num_refs;
	uint64_t ref_ts[DD_MAX_JOB_REFS];
	/* H.264 second field: one of ref_ts may be this very picture's first field */
	bool may_ref_self;
	bool intra;   /* H.264: only I (or SI) slices */
	/*
	 * VP9: the frame sets all four saved probability contexts (a key frame, error resilient,
	 * an intra-only frame that resets them all), or loads one that only earlier frames set
	 * (an intra-only frame without that reset: its probabilities are context 0's).
	 */
	bool sets_probs, needs_probs;
	bool leading; /* H.264: rejected as a leading picture of a random access point */
	/* H.264: P or B slices, and the DPB (checked: no gaps in frame_num) lists no reference */
	bool no_refs;
};

#endif
