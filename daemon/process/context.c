/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "context.h"
#include "clock.h"
#include "error.h"
#include "decode.h"
#include "grace.h"
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
	uint32_t r = dm_reason_index(fail->reason);

	dm_fail_job(ctx->svc, job, fail, ctx->failed[r]++ > 0);
}

/*
 * The grace period (dm_grace_wait_ns(), grace.h): how long the worker waits for the client's
 * next job before it finishes the jobs in flight with a complete drain (dd_stream_sync), so that
 * a client keeping two requests queued (GStreamer) gets its pairs decoded together. A client
 * that waits for each request before sending the next (FFmpeg's hwaccel) would pay it on
 * every frame: the worker learns per context whether the wait ever pays and stops waiting
 * for such a client (grace.c says how, and why a pipelining client loses nothing).
 * dav1d hangs after a drain that leaves frames in flight, so every drain here is complete.
 */

static int64_t ns_between(const struct timespec *t0, const struct timespec *t1)
{
	return (int64_t)(t1->tv_sec - t0->tv_sec) * 1000000000 + (t1->tv_nsec - t0->tv_nsec);
}

static int64_t ns_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ns_between(t0, &t1);
}

static long ms_since(const struct timespec *t0)
{
	return (long)(ns_since(t0) / 1000000);
}

static void flight_free(struct dm_context *ctx, struct dm_flight *f)
{
	if (f->job)
		dm_job_free(f->job, ctx->svc->cache);
	free(f->scratch);
	free(f);
}

/* A job that failed, or was collected: its COMPLETE (ERROR for a cancelled job). */
static void finish_job(struct dm_context *ctx, const struct dm_job *job, int r,
		       const struct dm_failure *fail, const struct timespec *t0)
{
	long ms = ms_since(t0);

	/*
	 * Clients give a frame about a second (GStreamer) before they give up on the device.
	 * The first few are logged, the rest counted for the close: a stream whose every frame
	 * is slow (a fence that never signals) must not fill the journal.
	 */
	if (ms >= 500 && ctx->slow_jobs++ < DM_SLOW_JOBS_LOGGED)
		dm_warn("ctx %u: job %" PRIu64 " took %ld ms%s", ctx->id,
			(uint64_t)job->msg.job_id, ms, ctx->slow_jobs == DM_SLOW_JOBS_LOGGED ?
			" (the next slow ones are counted for the stream's close)" : "");
	if (atomic_load(&job->cancelled)) {
		/*
		 * Say so: after a timeout the kernel keeps the buffers from the application
		 * until this COMPLETE or its second watchdog expiry; after the application's
		 * STREAMOFF or close the job is gone already (ENOENT). The shield points the
		 * picture at scratch memory before each engine call after the cancel; a call
		 * already under way then still writes the real buffer, which the application
		 * got back with ERROR (never shown as a picture), before this worker's next
		 * job writes it again.
		 */
		if (r)
			ctx->failures++;
		dm_dbg("ctx %u: cancelled job %" PRIu64 " %s", ctx->id,
		       (uint64_t)job->msg.job_id, r ? fail->why.msg : "collected");
		complete(ctx->svc, job, DAEDALUS_STATUS_ERROR, DAEDALUS_REASON_CANCELLED);
		return;
	}
	if (r == 0) {
		complete(ctx->svc, job, DAEDALUS_STATUS_OK, DAEDALUS_REASON_NONE);
		return;
	}
	ctx->failures++;
	fail_counted(ctx, job, fail);
}

/* Collects what the engine has finished, oldest first (with wait: everything in flight). */
static void reap(struct dm_context *ctx, bool wait)
{
	while (ctx->flights) {
		struct dm_failure fail = { DAEDALUS_REASON_NONE, { "", DD_ERR_DATA } };
		struct dm_flight *f;
		enum dd_collect c;
		uint64_t cookie = 0;

		for (f = ctx->flights; f; f = f->next)
			dm_decode_shield(f);
		c = dm_decode_collect(ctx, wait, &cookie, &fail);
		if (c == DD_COLLECT_NONE && !wait)
			return;
		pthread_mutex_lock(&ctx->lock);
		f = ctx->flights;
		ctx->flights = f->next;
		if (!ctx->flights)
			ctx->flights_tail = &ctx->flights;
		ctx->nflights--;
		pthread_mutex_unlock(&ctx->lock);
		if (c == DD_COLLECT_NONE) {
			/* the engine lost it (it says it has nothing in flight) */
			fail.reason = DAEDALUS_REASON_INTERNAL;
			dd_fail(&fail.why, "the decoder lost the job");
		} else if (cookie != f->job->msg.job_id) {
			/* never reached while the engine keeps its order: its picture is unknown */
			dm_err("ctx %u: the engine returned job %" PRIu64 " for job %" PRIu64,
			       ctx->id, cookie, (uint64_t)f->job->msg.job_id);
			c = DD_COLLECT_FAILED;
			dm_decode_lost(ctx, f->job);
			fail.reason = DAEDALUS_REASON_INTERNAL;
			dd_fail(&fail.why, "the decoder returned another job");
		} else if (c == DD_COLLECT_OK && dm_decode_check_written(f, &fail)) {
			c = DD_COLLECT_FAILED;
		}
		if (dm_decode_finish(ctx, f, c == DD_COLLECT_OK, &fail))
			c = DD_COLLECT_FAILED;
		finish_job(ctx, f->job, c == DD_COLLECT_OK ? 0 : -1, &fail, &f->t0);
		flight_free(ctx, f);
	}
}

/*
 * Finishes every job in flight (sync) and collects them; or, for a restarted stream (flush),
 * drops the decoder's state, what is in flight included.
 */
static void drain(struct dm_context *ctx, bool flush)
{
	if (!ctx->flights) {
		if (flush)
			dm_decode_flush(ctx);
		return;
	}
	for (struct dm_flight *f = ctx->flights; f; f = f->next)
		dm_decode_shield(f);
	if (flush)
		dm_decode_flush(ctx);
	else
		dm_decode_sync(ctx);
	reap(ctx, true);
}

/*
 * The kernel numbers a context's jobs (sequence: one more per request made into a job since
 * the OUTPUT queue started streaming, 0 skipped when it wraps) whether or not they reach the
 * daemon. A jump means that the jobs in between failed in the kernel without being delivered
 * (withdrawn by the watchdog while the daemon was stopped, no fd left in the daemon, controls
 * the kernel refused), were refused by the main loop, or were cancelled while queued
 * (dm_context_cancel()): frames the decoder never got, which for VP8 and VP9 spoil the frames
 * after them even where these name only intact pictures (dd_stream_lost()).
 */
static void note_sequence(struct dm_context *ctx, const struct dm_job *job)
{
	uint32_t seq = job->msg.sequence, want = ctx->last_seq + 1 ? ctx->last_seq + 1 : 1;

	if (ctx->seq_known && seq != want && ctx->stream &&
	    !(job->msg.flags & DAEDALUS_JOB_FLAG_STREAM_START)) {
		dm_info("ctx %u: jobs %" PRIu32 "..%" PRIu32 " failed or were cancelled before "
			"they reached the decoder: it lacks them", ctx->id, want, seq - 1);
		dd_stream_lost(ctx->stream, NULL);
	}
	ctx->last_seq = seq;
	ctx->seq_known = true;
}

/*
 * Submits a job, or finishes it at once. true: it is in flight (ctx->flights owns it);
 * false: it is finished and the caller frees it, after taking it out of ctx->current.
 */
static bool handle(struct dm_context *ctx, struct dm_job *job, bool stopping)
{
	struct dm_failure fail = { DAEDALUS_REASON_NONE, { "", DD_ERR_DATA } };
	struct dm_flight *f;
	enum dd_codec codec;

	note_sequence(ctx, job);
	/*
	 * A restarted stream (a seek): nothing from before it applies, whatever becomes of
	 * this job (cancelled, refused, failed before the decoder saw it); what is in flight
	 * finishes first
	 */
	if (job->msg.flags & DAEDALUS_JOB_FLAG_STREAM_START) {
		drain(ctx, true);
		/*
		 * A start past sequence 0: the restarted stream's first jobs failed before they
		 * reached the decoder (in the kernel, or cancelled here: the start passed on)
		 */
		if (job->msg.sequence && ctx->stream)
			dd_stream_lost(ctx->stream, NULL);
	}
	if (atomic_load(&job->cancelled)) {
		dm_dbg("ctx %u: job %" PRIu64 " cancelled before it started", ctx->id,
		       (uint64_t)job->msg.job_id);
		/* never decoded: jobs that name its timestamp fail, VP8/VP9 until a key frame */
		dm_decode_lost(ctx, job);
		/* the kernel waits for this answer before it returns the buffers */
		complete(ctx->svc, job, DAEDALUS_STATUS_ERROR, DAEDALUS_REASON_CANCELLED);
		return false;
	}
	if (stopping) {
		fail.reason = DAEDALUS_REASON_CANCELLED;
		strcpy(fail.why.msg, "the daemon is stopping");
		fail_counted(ctx, job, &fail);
		return false;
	}
	ctx->jobs++;
	/* another codec: what is in flight finishes first */
	if (ctx->flights && (!dm_job_codec(job, &codec) || codec != ctx->codec))
		drain(ctx, false);
	f = calloc(1, sizeof(*f));
	if (!f) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		fail.reason = DAEDALUS_REASON_NO_MEMORY;
		dd_fail_kind(&fail.why, DD_ERR_NO_MEMORY, "out of memory");
		dm_decode_lost(ctx, job);
		finish_job(ctx, job, -1, &fail, &now);
		return false;
	}
	f->job = job;
	clock_gettime(CLOCK_MONOTONIC, &f->t0);
	for (struct dm_flight *o = ctx->flights; o; o = o->next)
		dm_decode_shield(o);
	if (dm_decode_submit(ctx, f, &fail)) {
		finish_job(ctx, job, -1, &fail, &f->t0);
		f->job = NULL; /* the caller frees it */
		flight_free(ctx, f);
		return false;
	}
	pthread_mutex_lock(&ctx->lock);
	*ctx->flights_tail = f;
	ctx->flights_tail = &f->next;
	ctx->nflights++;
	pthread_mutex_unlock(&ctx->lock);
	return true;
}

static void deadline_in(struct timespec *t, int64_t ns)
{
	int64_t n;

	clock_gettime(CLOCK_MONOTONIC, t);
	n = t->tv_nsec + ns;
	t->tv_sec += (time_t)(n / 1000000000);
	t->tv_nsec = (long)(n % 1000000000);
}

/*
 * The end of a worker, on its own thread, so that the main loop never waits for a stream's
 * close (dav1d joins its threads, a hung decode never returns): close the stream, log the
 * context's counts, then tell the main loop the thread can be joined without blocking.
 */
static void worker_end(struct dm_context *ctx)
{
	const uint64_t one = 1;
	struct dm_grace grace;

	/* first: a close that takes long (dav1d joins its threads) holds no CPU share */
	dm_cpu_share_leave(ctx->svc->share, &ctx->share);
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
		if (ctx->slow_jobs > DM_SLOW_JOBS_LOGGED)
			dm_info("ctx %u: %" PRIu64 " jobs took 500 ms or more", ctx->id,
				ctx->slow_jobs);
	}
	/* a copy under the lock: the main loop may still push (and count an overlap) */
	pthread_mutex_lock(&ctx->lock);
	grace = ctx->grace;
	pthread_mutex_unlock(&ctx->lock);
	if (grace.waits || grace.skipped)
		dm_info("ctx %u: waited for a next job %llu times (%llu timed out; a lone job's "
			"decode %lld ms), drained at once %llu times: the client %s", ctx->id,
			grace.waits, grace.timeouts, (long long)(grace.decode_ns / 1000000),
			grace.skipped,
			dm_grace_synchronous(&grace) ? "waits for each request" :
			"keeps requests queued");
	if (grace.start_probed)
		dm_info("ctx %u: its first request came %s; last seen, the client %s", ctx->id,
			grace.start_alone ? "alone" : "with a second one",
			dm_grace_pipelining(&grace) ? "keeps requests out (frame threads)" :
			"waits for each request (one job at a time)");
	atomic_store(&ctx->ended, true);
	if (ctx->svc->reap_fd >= 0 && write(ctx->svc->reap_fd, &one, sizeof(one)) < 0)
		dm_warn("ctx %u: cannot signal the end of its worker: %s", ctx->id,
			strerror(errno));
}

/*
 * True when the kernel sends this context no further job before one of those in flight is
 * completed: it keeps at most the granted number out (daedalus_job_ready()). Waiting for a
 * next job then only delays the drain that has to come (dav1d returns none of G pictures
 * with G jobs in flight and max_frame_delay G), so the worker drains at once.
 */
static bool held_back(const struct dm_context *ctx)
{
	return ctx->nflights >= ctx->svc->bridge->max_inflight;
}

/*
 * The latest end of a wait for a next job, from the oldest job's submit: DM_GRACE_DECODE_MAX_NS,
 * and well inside the module's watchdog (a quarter), whatever it is set to.
 */
static int64_t wait_limit(const struct dm_context *ctx)
{
	int64_t quarter = ctx->svc->bridge->hello.job_timeout_ms * 1000000LL / 4;

	return quarter && quarter < DM_GRACE_DECODE_MAX_NS ? quarter : DM_GRACE_DECODE_MAX_NS;
}

/*
 * The context's first job, with more than one granted: held up to DM_GRACE_START_NS for a
 * second one, which tells a client that keeps requests out from one that waits for each
 * before the decoder's mode for its first key frame is chosen (grace.h). Under ctx->lock.
 */
static void probe_start(struct dm_context *ctx)
{
	struct timespec until;

	if (!ctx->queue.head || ctx->queue.head->next || ctx->flights || ctx->stopping ||
	    ctx->svc->bridge->max_inflight < 2 || !dm_grace_should_probe_start(&ctx->grace))
		return;
	deadline_in(&until, DM_GRACE_START_NS);
	/* the job may leave the queue meanwhile (a JOB_CANCEL: dm_context_cancel()) */
	while (ctx->queue.head && !ctx->queue.head->next && !ctx->stopping)
		if (pthread_cond_timedwait(&ctx->wake, &ctx->lock, &until) == ETIMEDOUT)
			break;
	if (ctx->queue.head && !ctx->queue.head->next && !ctx->stopping)
		dm_grace_start_alone(&ctx->grace);
}

/*
 * Nothing queued and nothing in flight: wait for a job. A stream that has had none for
 * DM_SHARE_IDLE_NS gives its CPUs back to the others (cpu_share.h). Under ctx->lock.
 */
static void wait_for_job(struct dm_context *ctx)
{
	int64_t left = dm_cpu_share_idle_in_ns(&ctx->share, dm_now_ns());
	struct timespec until;

	if (!left) {
		pthread_cond_wait(&ctx->wake, &ctx->lock);
		return;
	}
	deadline_in(&until, left);
	if (pthread_cond_timedwait(&ctx->wake, &ctx->lock, &until) == ETIMEDOUT)
		dm_cpu_share_idle(ctx->svc->share, &ctx->share, dm_now_ns());
}

/* The frames at once the context's client can use: the grant if it keeps requests out. */
static unsigned int client_depth(const struct dm_context *ctx)
{
	unsigned int granted = ctx->svc->bridge->max_inflight;

	return granted > 1 && dm_grace_pipelining(&ctx->grace) ? granted : 1;
}

/*
 * The decoder's mode for the job just taken (applied at a key frame): frames in parallel
 * for a client that keeps requests out (ctx->lookahead), unless the busy streams would then
 * have more frames at once than there are CPUs (ctx->held_to_one, cpu_share.h). Under
 * ctx->lock; true when the CPU share changed this stream's mode (the caller logs it,
 * outside the lock). A client that waits for each request decodes one frame at a time
 * anyway: nothing to hold, nothing to log.
 */
static bool choose_lookahead(struct dm_context *ctx)
{
	unsigned int depth = client_depth(ctx);
	bool held = depth > 1 && !dm_cpu_share_frames_fit(ctx->svc->share, &ctx->share, depth);
	bool changed = depth > 1 && held != ctx->held_to_one;

	ctx->lookahead = depth > 1 ? 0 : 1;
	ctx->held_to_one = held;
	return changed;
}

/* The first job after the client (re)started the stream: after open, a seek, a flush. */
static bool job_starts_stream(const struct dm_job *job)
{
	return job->msg.flags & DAEDALUS_JOB_FLAG_STREAM_START;
}

/*
 * Jobs in decode order: each is submitted, then whatever the engine has finished is
 * completed. With jobs in flight and none queued, the worker waits for the next one until
 * the youngest job's decode is expected to end (dm_grace_wait_ns()), then finishes them all
 * (a client waiting for its oldest request sends no more); it finishes them at once with as
 * many in flight as the kernel grants (held_back()), or when the client has shown it waits
 * for each request (dm_grace_should_wait()).
 */
static void *worker(void *arg)
{
	struct dm_context *ctx = arg;

	for (;;) {
		struct dm_job *job;
		struct timespec until, lone_t0, timed_out;
		bool stopping, idle = false, wait = false, lone = false, share_changed;

		pthread_mutex_lock(&ctx->lock);
		/* only this thread changes the flights: the decision holds for the whole wait */
		if (!ctx->queue.head && !ctx->stopping && ctx->flights && !held_back(ctx) &&
		    dm_grace_should_wait(&ctx->grace)) {
			const struct dm_flight *young = ctx->flights;

			while (young->next)
				young = young->next;
			wait = true;
			deadline_in(&until, dm_grace_wait_ns(&ctx->grace, ns_since(&young->t0),
							     ns_since(&ctx->flights->t0),
							     wait_limit(ctx)));
		}
		while (!ctx->queue.head && !ctx->stopping) {
			if (!ctx->flights) {
				wait_for_job(ctx);
			} else if (!wait) {
				idle = true;
				break;
			} else if (pthread_cond_timedwait(&ctx->wake, &ctx->lock, &until) ==
				   ETIMEDOUT) {
				idle = !ctx->queue.head && !ctx->stopping;
				if (idle)
					dm_grace_timed_out(&ctx->grace);
				/* the drain shows how long a lone job's decode takes */
				lone = idle && ctx->nflights == 1;
				if (lone) {
					lone_t0 = ctx->flights->t0;
					clock_gettime(CLOCK_MONOTONIC, &timed_out);
				}
				break;
			}
		}
		/*
		 * Counted busy before the start probe's wait: streams that start together
		 * then see each other when they choose their mode
		 */
		if (ctx->queue.head)
			dm_cpu_share_job(ctx->svc->share, &ctx->share, client_depth(ctx), dm_now_ns());
		probe_start(ctx);
		job = dm_job_queue_take(&ctx->queue);
		/* in neither list until handle() decides: JOB_CANCEL finds it here */
		ctx->current = job;
		share_changed = job && choose_lookahead(ctx);
		stopping = ctx->stopping;
		pthread_mutex_unlock(&ctx->lock);
		if (share_changed)
			dm_info("ctx %u: %u streams decoding on %u CPUs: %s", ctx->id,
				atomic_load(&ctx->svc->share->busy), ctx->svc->share->cpus,
				ctx->held_to_one ?
				"one frame of this one at a time (its decoder's mode from its next key frame)" :
				"its frames in parallel again, from its next key frame");

		if (job) {
			/* read now: once handled, the job may be completed and freed */
			bool alone = ctx->held_to_one || job_starts_stream(job);
			bool in_flight = handle(ctx, job, stopping);

			pthread_mutex_lock(&ctx->lock);
			ctx->current = NULL;
			pthread_mutex_unlock(&ctx->lock);
			if (!in_flight)
				dm_job_free(job, ctx->svc->cache);
			reap(ctx, false);
			/*
			 * Each job finishes before the next goes in: while the CPU share holds the
			 * stream to one frame at once (at once, not only from its next key frame,
			 * when the decoder's mode changes: until then FFmpeg's frame threads pay a
			 * drain per job), and for a stream's first job, whose request the client
			 * waits for before it starts playing (GStreamer gives it a second; paired
			 * with the next one it completes only when that one has too).
			 */
			if (alone)
				drain(ctx, false);
			/* a decode that outlasts the idle time leaves the stream busy */
			dm_cpu_share_touch(&ctx->share, dm_now_ns());
			continue;
		}
		if (idle || stopping) {
			drain(ctx, false);
			dm_cpu_share_touch(&ctx->share, dm_now_ns());
		}
		if (lone) {
			int64_t drain_ns = ns_since(&timed_out);

			pthread_mutex_lock(&ctx->lock);
			dm_grace_drained(&ctx->grace, ns_between(&lone_t0, &timed_out), drain_ns);
			pthread_mutex_unlock(&ctx->lock);
		}
		if (stopping)
			break;
	}
	worker_end(ctx);
	return NULL;
}

struct dm_context *dm_context_new(uint32_t id, const struct dm_services *svc)
{
	struct dm_context *ctx = calloc(1, sizeof(*ctx));
	pthread_condattr_t attr;
	int r;

	if (!ctx)
		return NULL;
	ctx->id = id;
	ctx->svc = svc;
	dm_job_queue_init(&ctx->queue);
	ctx->flights_tail = &ctx->flights;
	dm_grace_init(&ctx->grace);
	pthread_mutex_init(&ctx->lock, NULL);
	/* the grace period is measured on the monotonic clock */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->wake, &attr);
	pthread_condattr_destroy(&attr);
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
	/*
	 * Another job of this context still unfinished here (queued, being submitted or in
	 * flight; a flight leaves the list before its COMPLETE): the client did not wait for
	 * it, so waiting for its next job pays (grace.c).
	 */
	if (!dm_job_queue_empty(&ctx->queue) || ctx->current || ctx->nflights)
		dm_grace_overlap(&ctx->grace);
	dm_job_queue_push(&ctx->queue, job);
	pthread_cond_signal(&ctx->wake);
	pthread_mutex_unlock(&ctx->lock);
}

void dm_context_unseen(struct dm_context *ctx, uint32_t flags)
{
	pthread_mutex_lock(&ctx->lock);
	dm_job_queue_unseen(&ctx->queue, flags);
	pthread_mutex_unlock(&ctx->lock);
}

bool dm_context_cancel(struct dm_context *ctx, uint64_t job_id, bool wait)
{
	struct dm_job *dropped = NULL;
	bool found = false;

	pthread_mutex_lock(&ctx->lock);
	/* in hand: dm_decode_submit() checks the mark after taking the buffers */
	if (ctx->current && ctx->current->msg.job_id == job_id) {
		atomic_store(&ctx->current->cancelled, true);
		found = true;
	}
	/* in flight: collected later, never written (see dm_decode_shield) */
	for (struct dm_flight *f = ctx->flights; f && !found; f = f->next) {
		if (f->job->msg.job_id == job_id) {
			atomic_store(&f->job->cancelled, true);
			found = true;
		}
	}
	/*
	 * Queued: with WAIT (a timeout) the kernel waits for its COMPLETE, which the worker
	 * sends. Without, the kernel has finished it already and a COMPLETE gets ENOENT: it
	 * leaves the queue now. Kept there, a client cycling STREAMOFF and STREAMON while its
	 * worker is held up (a slow decode, a fence wait) would queue job after job, each
	 * holding its controls and its buffers' mappings, which the kernel no longer counts.
	 * The worker learns of it from the gap in the sequence numbers (note_sequence()), and
	 * a dropped stream start restarts the stream at the job after it.
	 */
	if (!found && wait) {
		struct dm_job *queued = dm_job_queue_find(&ctx->queue, job_id);

		if (queued) {
			atomic_store(&queued->cancelled, true);
			found = true;
		}
	} else if (!found) {
		dropped = dm_job_queue_remove(&ctx->queue, job_id);
		found = dropped != NULL;
	}
	pthread_mutex_unlock(&ctx->lock);
	/* not under ctx->lock: the cache's lock is never taken inside it */
	if (dropped) {
		dm_dbg("ctx %u: job %" PRIu64 " dropped from the queue", ctx->id,
		       (uint64_t)dropped->msg.job_id);
		dm_job_free(dropped, ctx->svc->cache);
	}
	return found;
}

void dm_context_detach(struct dm_context *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->stopping = true;
	pthread_cond_signal(&ctx->wake);
	pthread_mutex_unlock(&ctx->lock);
}

int64_t dm_context_stuck_ns(const struct dm_context *ctx, int64_t now_ns)
{
	int64_t since = atomic_load(&ctx->decoder_call_ns);

	return since && now_ns > since ? now_ns - since : 0;
}

void dm_context_excuse_ns(struct dm_context *ctx, int64_t gap_ns, int64_t now_ns)
{
	long long since = atomic_load(&ctx->decoder_call_ns);
	long long later = since + gap_ns < now_ns ? since + gap_ns : now_ns;

	/* fails, and rightly so, if the worker has left the call (0) or begun another */
	if (since && later > since)
		atomic_compare_exchange_strong(&ctx->decoder_call_ns, &since, later);
}

bool dm_context_reap(struct dm_context *ctx, bool wait)
{
	if (!wait && !atomic_load(&ctx->ended))
		return false;
	pthread_join(ctx->thread, NULL);
	pthread_cond_destroy(&ctx->wake);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return true;
}

void dm_context_stop(struct dm_context *ctx)
{
	dm_context_detach(ctx);
	dm_context_reap(ctx, true);
}
