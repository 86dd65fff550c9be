/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What an AV1 job's controls promise about the decoded picture (checked again after
 * decoding). The reference slots are checked by the dav1d backend, which keeps them.
 */
#ifndef DAEDALUS_AV1_CHECK_H
#define DAEDALUS_AV1_CHECK_H

#include "engine.h"
#include "expectation.h"

int dd_check_av1_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);

#endif
