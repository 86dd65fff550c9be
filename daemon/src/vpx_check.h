/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checks of a VP8/VP9 job's controls against its bitstream, before any backend sees it, and
 * what the controls promise about the decoded picture (checked again after decoding).
 */
#ifndef DAEDALUS_VPX_CHECK_H
#define DAEDALUS_VPX_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

struct dd_expectation {
	uint32_t width, height;
	unsigned int bit_depth;
	int profile;
	bool key_frame;
	unsigned int num_refs;
	uint64_t ref_ts[3];
	const char *ref_name[3];
};

int dd_check_vp8_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);
int dd_check_vp9_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);

#endif
