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
#include "expectation.h"

int dd_check_vp8_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);
int dd_check_vp9_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);

#endif
