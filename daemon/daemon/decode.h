/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoding one job of a context through the engine, with the dmabufs synced around it. */
#ifndef DAEDALUS_DAEMON_DECODE_H
#define DAEDALUS_DAEMON_DECODE_H

#include "context.h"
#include "job.h"

/* 0 when the picture is in the CAPTURE buffer; -1 with *fail filled. */
int dm_decode_job(struct dm_context *ctx, const struct dm_job *job, struct dm_failure *fail);
/* Closes the context's engine stream (if any). */
void dm_decode_close(struct dm_context *ctx);

#endif
