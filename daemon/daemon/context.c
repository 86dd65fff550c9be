/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context.h"
#include "decode.h"
#include "log.h"

static void complete(const struct dm_services *svc, const struct dm_job *job, uint32_t status,
		     uint32_t reason)
{
	int r = dm_bridge_complete(svc->bridge, job->msg.job_id, job->msg.ctx_id, status, reason);

	if (r == -ENOENT)
		dm_dbg("ctx %u: job %" PRIu64 " was already finished by the kernel (cancelled or "
		       "timed out)", job->msg.ctx_id, (uint64_t)job->msg.job_id);
	else if (r)
		dm_err("ctx %u: COMPLETE of job %" PRIu64 " failed: %s", job->msg.ctx_id,
		       (uint64_t)job->msg.job_id, strerror(-r));
}

void dm_fail_job(const struct dm_services *svc, const struct dm_job *job,
		 const struct dm_failure *fail, bool quiet)
{
	dm_log(quiet ? DD_LOG_DEBUG : DD_LOG_WARNING, "ctx %u: job %" PRIu64 " (sequence %u, ts %"
	       PRIu64 ") failed: %s", job->msg.ctx_id, (uint64_t)job->msg.job_id,
	       job->msg.sequence, (uint64_t)job->msg.capture.timestamp, fail->why.msg);
	complete(svc, job, DAEDALUS_STATUS_ERROR, fail->reason);
}

static const char *const reason_names[] = {
	[DAEDALUS_REASON_NONE] = "no reason",
	[DAEDALUS_REASON_BITSTREAM] = "bad data",
	[DAEDALUS_REASON_MISSING_REF] = "lost reference",
	[DAEDALUS_REASON_UNSUPPORTED] = "unsupported",
	[DAEDALUS_REASON_NO_MEMORY] = "out of memory",
	[DAEDALUS_REASON_INTERNAL] = "internal",
	[DAEDALUS_REASON_CANCELLED] = "cancelled",
};

/*
 * A damaged stream or a lost reference fails every job until the next keyframe: one line
 * per stream and reason says why, the rest are counted for the line that closes the context.
 */
static void fail_counted(struct dm_context *ctx, const struct dm_job *job,
			 const struct dm_failure *fail)
{
	uint32_t r = fail->reason <= DAEDALUS_REASON_CANCELLED ? fail->reason :
		     DAEDALUS_REASON_INTERNAL;

	dm_fail_job(ctx->svc, job, fail, ctx->failed[r]++ > 0);
}

static void handle(struct dm_context *ctx, struct dm_job *job, bool stopping)
{
	struct dm_failure fail = { DAEDALUS_REASON_NONE, { "", DD_ERR_DATA } };
	struct timespec t0, t1;
	long ms;
	int r;

	if (atomic_load(&job->cancelled)) {
		dm_dbg("ctx %u: job %" PRIu64 " cancelled before it started", ctx->id,
		       (uint64_t)job->msg.job_id);
		return;
	}
	if (stopping) {
		fail.reason = DAEDALUS_REASON_CANCELLED;
		strcpy(fail.why.msg, "the daemon is stopping");
		fail_counted(ctx, job, &fail);
		return;
	}
	ctx->jobs++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = dm_decode_job(ctx, job, &fail);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* clients give a frame about a second (GStreamer) before they give up on the device */
	if (ms >= 500)
		dm_warn("ctx %u: job %" PRIu64 " took %ld ms", ctx->id, (uint64_t)job->msg.job_id,
			ms);
	if (r == 0) {
		complete(ctx->svc, job, DAEDALUS_STATUS_OK, DAEDALUS_REASON_NONE);
		return;
	}
	ctx->failures++;
	if (atomic_load(&job->cancelled))
		dm_dbg("ctx %u: cancelled job %" PRIu64 " failed: %s", ctx->id,
		       (uint64_t)job->msg.job_id, fail.why.msg);
	else
		fail_counted(ctx, job, &fail);
}

static void *worker(void *arg)
{
	struct dm_context *ctx = arg;

	for (;;) {
		struct dm_job *job;
		bool stopping;

		pthread_mutex_lock(&ctx->lock);
		while (!ctx->head && !ctx->stopping)
			pthread_cond_wait(&ctx->wake, &ctx->lock);
		job = ctx->head;
		if (job) {
			ctx->head = job->next;
			if (!ctx->head)
				ctx->tail = &ctx->head;
		}
		ctx->current = job;
		stopping = ctx->stopping;
		pthread_mutex_unlock(&ctx->lock);
		if (!job)
			break;

		handle(ctx, job, stopping);

		pthread_mutex_lock(&ctx->lock);
		ctx->current = NULL;
		pthread_mutex_unlock(&ctx->lock);
		dm_job_free(job, ctx->svc->cache);
	}
	return NULL;
}

struct dm_context *dm_context_new(uint32_t id, const struct dm_services *svc)
{
	struct dm_context *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx)
		return NULL;
	ctx->id = id;
	ctx->svc = svc;
	ctx->tail = &ctx->head;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->wake, NULL);
	r = pthread_create(&ctx->thread, NULL, worker, ctx);
	if (r) {
		dm_err("ctx %u: cannot start a worker thread: %s", id, strerror(r));
		pthread_cond_destroy(&ctx->wake);
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return NULL;
	}
	dm_dbg("ctx %u: worker started", id);
	return ctx;
}

void dm_context_push(struct dm_context *ctx, struct dm_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&ctx->lock);
	*ctx->tail = job;
	ctx->tail = &job->next;
	pthread_cond_signal(&ctx->wake);
	pthread_mutex_unlock(&ctx->lock);
}

bool dm_context_cancel(struct dm_context *ctx, uint64_t job_id)
{
	bool found = false;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->current && ctx->current->msg.job_id == job_id) {
		atomic_store(&ctx->current->cancelled, true);
		found = true;
	}
	for (struct dm_job *j = ctx->head; j && !found; j = j->next) {
		if (j->msg.job_id == job_id) {
			atomic_store(&j->cancelled, true);
			found = true;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	return found;
}

void dm_context_stop(struct dm_context *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->stopping = true;
	pthread_cond_signal(&ctx->wake);
	pthread_mutex_unlock(&ctx->lock);
	pthread_join(ctx->thread, NULL);
	dm_decode_close(ctx);
	if (ctx->jobs) {
		char counts[256] = "";
		size_t used = 0;

		for (size_t r = 0; r < sizeof(ctx->failed) / sizeof(ctx->failed[0]); r++)
			if (ctx->failed[r] && used < sizeof(counts))
				used += (size_t)snprintf(counts + used, sizeof(counts) - used,
							 "%s%s %" PRIu64, used ? ", " : " (",
							 reason_names[r], ctx->failed[r]);
		if (used && used < sizeof(counts))
			snprintf(counts + used, sizeof(counts) - used, ")");
		dm_info("ctx %u: closed after %" PRIu64 " jobs, %" PRIu64 " failed%s", ctx->id,
			ctx->jobs, ctx->failures, counts);
	}
	pthread_cond_destroy(&ctx->wake);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}
