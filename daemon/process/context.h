/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One decoding context (one open of /dev/videoN on the kernel side): its engine stream
 * and a worker thread that decodes its jobs in order, so that streams decode in parallel
 * while each stream's jobs stay in decode order.
 */
#ifndef DAEDALUS_DAEMON_CONTEXT_H
#define DAEDALUS_DAEMON_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridge.h"
#include "bufcache.h"
#include "cpu_share.h"
#include "engine.h"
#include "grace.h"
#include "job.h"
#include "job_queue.h"
#include "mem_budget.h"

struct dm_flight;

/* What every worker shares; each piece does its own locking. */
struct dm_services {
	struct dd_engine *engine;
	struct dm_bridge *bridge;
	struct dm_bufcache *cache;
	unsigned int threads; /* for logs */
	/* which streams may decode frames in parallel (the counter is shared by the workers) */
	struct dm_cpu_share *share;
	/* the decoders' memory, claimed per stream (shared by the workers, locked inside) */
	struct dm_mem_budget *memory;
	unsigned int frames; /* frames a stream decodes at once (the engine's frame_delay) */
	int reap_fd; /* an eventfd a worker of a closed context signals when it has ended, or -1 */
	unsigned int test_stall_ms; /* --test-stall-ms (decode.c) */
};

/* DAEDALUS_REASON_*, for counts by reason; dm_reason_index() maps any value into them */
#define DM_REASONS (DAEDALUS_REASON_CANCELLED + 1)

static inline uint32_t dm_reason_index(uint32_t reason)
{
	return reason < DM_REASONS ? reason : DAEDALUS_REASON_INTERNAL;
}

/* Lines a stream may log at info or warning level for what each of its frames may cause. */
#define DM_SLOW_JOBS_LOGGED 3
#define DM_CHANGES_LOGGED 16

struct dm_context {
	uint32_t id;
	const struct dm_services *svc;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct dm_job_queue queue; /* jobs not taken by the worker yet */
	/* the job the worker took off the queue and is submitting (neither queued nor in flight) */
	struct dm_job *current;
	/* submitted to the engine, not yet collected, oldest first (the worker changes it) */
	struct dm_flight *flights, **flights_tail;
	unsigned int nflights;
	bool stopping;
	/* whether to wait for the client's next job before a drain (under lock) */
	struct dm_grace grace;
	atomic_bool ended; /* the worker has closed the stream and returns: join it at once */
	/*
	 * CLOCK_MONOTONIC ns at which the worker's current call into the decoder began, 0
	 * outside one (decode.c): the main loop's hang watch reads it (dm_context_stuck_ns()).
	 */
	atomic_llong decoder_call_ns;
	/* touched by the worker only */
	struct dd_stream *stream;
	/* for the engine stream (dd_stream_set_lookahead): 1 for a client that waits, else 0 */
	unsigned int lookahead;
	struct dm_share_member share;
	/* the busy streams' frames would not fit the CPUs: dd_stream_set_shared() (cpu_share.h) */
	bool held_to_one;
	enum dd_codec codec;
	uint32_t fourcc, width, height;
	struct dm_mem_claim claim; /* on svc->memory, for the size decoded now */
	uint64_t jobs, failures;
	/* jobs that took 500 ms or more (the first DM_SLOW_JOBS_LOGGED are logged) */
	uint64_t slow_jobs;
	/* format and memory-claim changes logged at info level (DM_CHANGES_LOGGED at most) */
	unsigned int changes_logged;
	/* the last job's sequence number (note_sequence() in context.c), once there is one */
	uint32_t last_seq;
	bool seq_known;
	/* failed jobs by DAEDALUS_REASON_*: the first of each is logged, all are counted */
	uint64_t failed[DM_REASONS];
	/* its jobs the main loop refused (no usable buffer), by reason: the first one is logged */
	uint64_t refusals[DM_REASONS];
	struct dm_context *next; /* the main loop's list */
};

struct dm_context *dm_context_new(uint32_t id, const struct dm_services *svc);
/* Hands a job to the worker (which completes and frees it). */
void dm_context_push(struct dm_context *ctx, struct dm_job *job);
/*
 * JOB_CANCEL: true if the job belongs to this context. It is marked (the worker completes it
 * with ERROR), or, when only queued and the kernel waits for no COMPLETE (!wait: the
 * application's STREAMOFF or close), taken off the queue and freed.
 */
bool dm_context_cancel(struct dm_context *ctx, uint64_t job_id, bool wait);
/*
 * A job of this context that will never reach its worker (the main loop refused it), with
 * its DAEDALUS_JOB_FLAG_*: a stream start passes to the next job pushed.
 */
void dm_context_unseen(struct dm_context *ctx, uint32_t flags);
/*
 * Tells the worker to finish the jobs in flight, fail what is still queued, close its stream
 * and end; returns at once. The caller still owns the context: dm_context_reap() frees it.
 */
void dm_context_detach(struct dm_context *ctx);
/*
 * Joins the worker of a detached context and frees the context: with wait, whenever it
 * ends; without, only if it has ended already (then the join does not block). True if freed.
 */
bool dm_context_reap(struct dm_context *ctx, bool wait);
/*
 * How long the worker has been inside one call into the decoder, at now_ns (CLOCK_MONOTONIC):
 * 0 when it is in none. Any thread may ask, for a context not yet reaped.
 */
int64_t dm_context_stuck_ns(const struct dm_context *ctx, int64_t now_ns);
/*
 * The call in progress, if any, began gap_ns later (but not after now_ns): time in which the
 * watching thread did not run.
 */
void dm_context_excuse_ns(struct dm_context *ctx, int64_t gap_ns, int64_t now_ns);
/* dm_context_detach(), then dm_context_reap() waiting. */
void dm_context_stop(struct dm_context *ctx);

/*
 * Completes a job with an error and logs why: as a warning, or with quiet (a failure of a
 * reason this stream already reported) at debug level only.
 */
void dm_fail_job(const struct dm_services *svc, const struct dm_job *job,
		 const struct dm_failure *fail, bool quiet);

#endif
