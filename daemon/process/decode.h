/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoding the jobs of a context through the engine, with the dmabufs synced around it:
 * a job is submitted, and collected (in submission order) once its picture is written.
 * Without frame threads (the engine's frame_delay <= 1, or a backend without them) a job
 * is decoded when it is submitted and collectable at once.
 */
#ifndef DAEDALUS_DAEMON_DECODE_H
#define DAEDALUS_DAEMON_DECODE_H

#include <stdbool.h>
#include <time.h>

#include "context.h"
#include "job.h"

/* A job handed to the engine, from its submit to its collect; owned by the worker. */
struct dm_flight {
	struct dm_flight *next;
	struct dm_job *job;
	struct dd_job dj; /* what the engine holds on to: points at pic and ctrl */
	struct dd_picture pic;
	struct dm_mapping *cap[DAEDALUS_MAX_MEM_PLANES]; /* distinct CAPTURE mappings */
	unsigned int ncap;
	/* cancelled, or its CAPTURE memory lost: where pic points now, so the buffer is never written */
	uint8_t *scratch;
	bool capture_lost; /* at its submit: decoded into scratch, fails when collected */
	struct timespec t0;
	union dm_job_ctrls ctrl;
};

/*
 * 0: the job is in flight (collect it later); -1 with *fail filled: it failed at once, and
 * nothing of it is left in the engine. The caller has drained the stream before a job that
 * restarts it or changes its codec.
 */
int dm_decode_submit(struct dm_context *ctx, struct dm_flight *f, struct dm_failure *fail);
/*
 * The oldest job in flight, once finished (with wait: blocks until it is; DD_COLLECT_NONE
 * then only when nothing is in flight). *cookie is its job id; on DD_COLLECT_FAILED *fail
 * says why.
 */
enum dd_collect dm_decode_collect(struct dm_context *ctx, bool wait, uint64_t *cookie,
				  struct dm_failure *fail);
/*
 * A job that fails before the engine sees it: the stream is told its picture is lost, so
 * that later pictures predicted from it fail instead of decoding against the state before it.
 */
void dm_decode_lost(struct dm_context *ctx, const struct dm_job *job);
/*
 * After a collect that said OK: -1 with *fail filled if the picture did not reach the
 * client, its CAPTURE memory having gone away while it was written (sigbus_guard.h).
 */
int dm_decode_check_written(const struct dm_flight *f, struct dm_failure *fail);
/*
 * Ends the dmabuf access of a collected job (ok: its picture is written, for the log): -1
 * with *fail filled if an ok job's picture may not have reached its CAPTURE buffer.
 */
int dm_decode_finish(struct dm_context *ctx, struct dm_flight *f, bool ok,
		     struct dm_failure *fail);
/* Finishes every job in flight without losing references: all collectable at once. */
void dm_decode_sync(struct dm_context *ctx);
/* Drops the decoder's state (a restarted stream): jobs in flight fail, still collectable. */
void dm_decode_flush(struct dm_context *ctx);
/*
 * A cancelled job's CAPTURE buffer may be back with the application: point its picture at
 * scratch memory, so that the decoder's later write lands there. Before every engine call.
 */
void dm_decode_shield(struct dm_flight *f);
/* Closes the context's engine stream (if any); jobs still in flight are dropped. */
void dm_decode_close(struct dm_context *ctx);

#endif
