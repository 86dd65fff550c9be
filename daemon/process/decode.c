/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "clock.h"
#include "deadline_signal.h"
#include "error.h"
#include "log.h"
#include "picture.h"
#include "picture_meter.h"

/* The engine's kind of failure as the protocol's reason code (the words are for the log). */
static uint32_t reason_code(enum dd_error_kind kind)
{
	switch (kind) {
	case DD_ERR_REFERENCE:
		return DAEDALUS_REASON_MISSING_REF;
	case DD_ERR_UNSUPPORTED:
		return DAEDALUS_REASON_UNSUPPORTED;
	case DD_ERR_NO_MEMORY:
		return DAEDALUS_REASON_NO_MEMORY;
	case DD_ERR_INPUT_LOST:
		return DAEDALUS_REASON_INTERNAL;
	case DD_ERR_DATA:
	default:
		return DAEDALUS_REASON_BITSTREAM;
	}
}

/*
 * Around each call into the decoder that may take long (every one that decodes, waits for
 * a picture, or opens or closes a decoder): what the main loop's hang watch reads.
 */
static void call_begins(struct dm_context *ctx)
{
	struct timespec t;

	atomic_store(&ctx->decoder_call_ns, dm_now_ns());
	if (ctx->svc->test_stall_ms) {
		t.tv_sec = ctx->svc->test_stall_ms / 1000;
		t.tv_nsec = (long)(ctx->svc->test_stall_ms % 1000) * 1000000;
		while (nanosleep(&t, &t))
			;
	}
}

static void call_ends(struct dm_context *ctx)
{
	atomic_store(&ctx->decoder_call_ns, 0);
}

/* The engine wants streams opened and closed from one thread at a time. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_stream(struct dm_context *ctx, enum dd_codec codec, uint32_t fourcc,
		       struct dm_failure *fail)
{
	if (ctx->stream && ctx->codec == codec)
		return 0;
	/* not the wait for the lock: a close that hangs is its own context's call */
	pthread_mutex_lock(&open_lock);
	call_begins(ctx);
	if (ctx->stream)
		dd_stream_close(ctx->stream);
	ctx->stream = dd_stream_open(ctx->svc->engine, codec, fourcc, &fail->why);
	call_ends(ctx);
	pthread_mutex_unlock(&open_lock);
	if (!ctx->stream) {
		fail->reason = reason_code(fail->why.kind);
		return -1;
	}
	ctx->codec = codec;
	ctx->fourcc = ctx->width = ctx->height = 0;
	dm_info("ctx %u: %s stream, backend %s", ctx->id, dd_codec_name(codec),
		dd_stream_backend_name(ctx->stream));
	return 0;
}

void dm_decode_close(struct dm_context *ctx)
{
	if (ctx->stream) {
		struct dd_meter *m = dd_stream_meter(ctx->stream);
		uint64_t peak = m ? dd_meter_peak(m) : 0;

		/* what the estimate was worth: the pictures' peak against the claim */
		if (peak)
			dm_info("ctx %u: %s pictures held at most %" PRIu64 " KiB of the %" PRIu64
				" KiB claimed", ctx->id, dd_codec_name(ctx->codec), peak / 1024,
				ctx->claim.bytes / 1024);
		pthread_mutex_lock(&open_lock);
		call_begins(ctx);
		dd_stream_close(ctx->stream);
		call_ends(ctx);
		pthread_mutex_unlock(&open_lock);
		ctx->stream = NULL;
	}
	/* after the close: the memory is free only once the decoder is gone */
	dm_mem_release(ctx->svc->memory, &ctx->claim);
}

/*
 * The level of a line about a change of the stream's format or memory claim: info for the
 * first DM_CHANGES_LOGGED, debug after them (VP9 and AV1 may change size at every frame).
 */
static enum dd_log_level change_level(struct dm_context *ctx)
{
	if (ctx->changes_logged >= DM_CHANGES_LOGGED)
		return DD_LOG_DEBUG;
	if (++ctx->changes_logged == DM_CHANGES_LOGGED)
		dm_info("ctx %u: its next changes of size or memory claim are logged at debug level",
			ctx->id);
	return DD_LOG_INFO;
}

/*
 * The stream's claim on the decoders' memory for the job (mem_budget.h), before its decoder
 * sees the picture. The size is the coded size, but no larger than the CAPTURE picture: the
 * engine refuses a larger one before the library allocates anything, and the client pays
 * for its CAPTURE buffers itself (its memory cgroup), so a request cannot claim more than
 * its buffers show. A decoder keeps its largest pictures (VP9 and AV1 references of another
 * size, VP8 inter frames that carry no size), so its claim only grows; a new decoder (a new
 * codec, or after a refusal) starts afresh. A claim that does not fit fails the job; with
 * nothing in flight the stream's decoder is closed too, giving its memory to the others, and
 * the next job that fits gets a new decoder, which resumes at a key frame.
 */
static int claim_memory(struct dm_context *ctx, const struct dm_job *job, const struct dd_job *dj,
			struct dm_failure *fail)
{
	bool same_decoder;
	uint64_t bytes, free_bytes;
	uint32_t w, h;
	enum dm_mem_verdict verdict;
	char user[32] = "";

	/*
	 * Another codec: the old decoder goes now (the worker drained it), so that its memory
	 * is back before the new one is claimed, not while both are held.
	 */
	if (ctx->stream && ctx->codec != dj->codec && !ctx->flights)
		dm_decode_close(ctx);
	same_decoder = ctx->stream && ctx->codec == dj->codec;
	dd_job_coded_size(dj, &w, &h);
	w = w < dj->dst->width ? w : dj->dst->width;
	h = h < dj->dst->height ? h : dj->dst->height;
	bytes = dm_mem_estimate(dj->codec, w, h, dd_fourcc_bit_depth(dj->dst->fourcc),
				ctx->svc->frames);
	if (same_decoder ? bytes <= ctx->claim.bytes : bytes == ctx->claim.bytes)
		return 0;
	/* the user is the context's for its whole life; set while the claim holds nothing */
	if (!ctx->claim.bytes)
		ctx->claim.owner = ctx->svc->bridge->owners ? job->msg.owner : DM_OWNER_UNKNOWN;
	verdict = dm_mem_claim(ctx->svc->memory, &ctx->claim, bytes, &free_bytes);
	if (verdict != DM_MEM_FITS) {
		if (!ctx->flights)
			dm_decode_close(ctx);
		fail->reason = DAEDALUS_REASON_NO_MEMORY;
		if (verdict == DM_MEM_OVER_SHARE)
			return dd_fail(&fail->why, "memory budget: a %s stream of %" PRIu32 "x%"
				       PRIu32 " may take %" PRIu64 " MiB, user %" PRIu32 " has %"
				       PRIu64 " MiB of its share left (--memory-per-user)",
				       dd_codec_name(dj->codec), w, h,
				       bytes / DM_MIB + (bytes % DM_MIB != 0), ctx->claim.owner,
				       free_bytes / DM_MIB);
		return dd_fail(&fail->why, "memory budget: a %s stream of %" PRIu32 "x%" PRIu32
			       " may take %" PRIu64 " MiB, %" PRIu64 " MiB of the budget are left "
			       "for it (--memory-budget)", dd_codec_name(dj->codec), w, h,
			       bytes / DM_MIB + (bytes % DM_MIB != 0), free_bytes / DM_MIB);
	}
	if (ctx->claim.owner != DM_OWNER_UNKNOWN)
		snprintf(user, sizeof(user), " for user %" PRIu32, ctx->claim.owner);
	dm_log(change_level(ctx), "ctx %u: %s %" PRIu32 "x%" PRIu32 " claims %" PRIu64
	       " KiB of the memory budget%s", ctx->id, dd_codec_name(dj->codec), w, h,
	       bytes / 1024, user);
	return 0;
}

/* The distinct mappings of the CAPTURE buffer (planes of NV12 share one). */
static unsigned int capture_mappings(const struct dm_job *job, struct dm_mapping **out)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < job->msg.capture.num_mem_planes; i++) {
		bool seen = false;

		for (unsigned int k = 0; k < n; k++)
			seen |= out[k] == job->capture[i];
		if (!seen)
			out[n++] = job->capture[i];
	}
	return n;
}

/*
 * Ends the job's CPU access to its buffers: -1 if that failed for a CAPTURE buffer, whose
 * exporter may then not have made the picture written through the mapping visible to the
 * devices that read the buffer (the job must not say it is good). The OUTPUT buffer was
 * only read: a failure there changes nothing. Not logged here: a client whose exporter
 * fails every time would have one line per frame; the job's failure says it, once per stream.
 */
static int sync_end(const struct dm_job *job, struct dm_mapping **cap, unsigned int ncap)
{
	int r = 0;

	while (ncap--)
		if (dm_mapping_sync_end(cap[ncap], true))
			r = -1;
	if (dm_mapping_sync_end(job->output, false))
		dm_dbg("ctx %u: DMA_BUF_SYNC_END on OUTPUT failed", job->msg.ctx_id);
	return r;
}

static int sync_failed(struct dm_failure *fail, int err, const char *which, int timeout_ms)
{
	fail->reason = DAEDALUS_REASON_INTERNAL;
	if (err == -ETIMEDOUT)
		return dd_fail(&fail->why, "%s dmabuf is still in use by another device (its fences "
			       "did not signal within %d ms)", which, timeout_ms);
	return dd_fail(&fail->why, "DMA_BUF_SYNC_START on %s dmabuf failed: %s", which,
		       strerror(-err));
}

/* The kernel fails the job at its timeout: no use waiting longer for a buffer's fences. */
static int fence_timeout_ms(const struct dm_context *ctx)
{
	unsigned int ms = ctx->svc->bridge->hello.job_timeout_ms;

	return ms && ms < INT_MAX ? (int)ms : 2000;
}

static int sync_start(const struct dm_context *ctx, const struct dm_job *job,
		      struct dm_mapping **cap, unsigned int ncap, struct dm_failure *fail)
{
	int timeout_ms = fence_timeout_ms(ctx);
	/* one bound for the fences of all the job's buffers */
	int64_t deadline = dm_now_ms() + timeout_ms;
	struct dm_deadline bound;
	unsigned int done;
	int err;

	/* what ends a wait for a fence added after dm_mapping_sync_start()'s poll */
	err = dm_deadline_arm(&bound, deadline);
	if (err) {
		fail->reason = DAEDALUS_REASON_INTERNAL;
		return dd_fail(&fail->why, "cannot bound the wait for the buffers' fences: %s",
			       strerror(-err));
	}
	err = dm_mapping_sync_start(job->output, false, deadline);
	if (err) {
		dm_deadline_disarm(&bound);
		return sync_failed(fail, err, "the OUTPUT", timeout_ms);
	}
	for (done = 0; done < ncap; done++) {
		err = dm_mapping_sync_start(cap[done], true, deadline);
		if (err) {
			dm_deadline_disarm(&bound);
			sync_end(job, cap, done);
			return sync_failed(fail, err, "a CAPTURE", timeout_ms);
		}
	}
	dm_deadline_disarm(&bound);
	return 0;
}

/* Whether an exporter took back memory the job uses (sigbus_guard.h): it stays lost. */
static bool any_lost(struct dm_mapping *const *m, unsigned int n)
{
	while (n--)
		if (dm_mapping_lost(m[n]))
			return true;
	return false;
}

static void log_format(struct dm_context *ctx, const struct dd_job *dj)
{
	uint32_t w, h;
	char name[8];

	dd_job_coded_size(dj, &w, &h);
	if (w == ctx->width && h == ctx->height && dj->dst->fourcc == ctx->fourcc)
		return;
	ctx->width = w;
	ctx->height = h;
	ctx->fourcc = dj->dst->fourcc;
	char threads[16] = "auto";

	if (ctx->svc->threads)
		snprintf(threads, sizeof(threads), "%u", ctx->svc->threads);
	dm_log(change_level(ctx), "ctx %u: %s %" PRIu32 "x%" PRIu32 " into %s %" PRIu32 "x%"
	       PRIu32 ", backend %s, threads %s", ctx->id, dd_codec_name(dj->codec), w, h,
	       dd_fourcc_name(dj->dst->fourcc, name), dj->dst->width, dj->dst->height,
	       dd_stream_backend_name(ctx->stream), threads);
}
/*
 * The kernel marks a reference buffer whose last job failed (DAEDALUS_BUF_FLAG_ERROR): a
 * timed-out job the daemon never saw (the kernel withdrew it while the daemon was stopped),
 * a job cancelled or failed. Its timestamp may still name an older picture the decoder holds
 * (clients reuse timestamps): forgotten, the job fails for a lost reference instead of being
 * decoded against that older picture. The job's own buffer (an H.264 second field) is left.
 */
static void forget_failed_refs(struct dm_context *ctx, const struct dm_job *job)
{
	for (uint32_t i = 0; i < job->msg.num_refs && i < DAEDALUS_MAX_REFS; i++) {
		const struct daedalus_ref *r = &job->msg.refs[i];

		if ((r->flags & DAEDALUS_REF_FLAG_FOUND) && !(r->flags & DAEDALUS_REF_FLAG_SELF) &&
		    (r->buf.flags & DAEDALUS_BUF_FLAG_ERROR))
			dd_stream_forget(ctx->stream, r->timestamp);
	}
}

/* Points the picture at scratch memory of its size: 0, or -1 when there is none. */
static int to_scratch(struct dm_flight *f)
{
	size_t total = 0;

	for (unsigned int i = 0; i < f->pic.num_planes; i++)
		total += f->pic.planes[i].size;
	f->scratch = malloc(total ? total : 1);
	if (!f->scratch)
		return -1;
	total = 0;
	for (unsigned int i = 0; i < f->pic.num_planes; i++) {
		f->pic.planes[i].data = f->scratch + total;
		total += f->pic.planes[i].size;
	}
	return 0;
}

/* A job failed before the engine saw it: the decoder lacks that frame (dd_stream_lost()). */
void dm_decode_lost(struct dm_context *ctx, const struct dm_job *job)
{
	uint64_t ts = job->msg.capture.timestamp;

	if (!ctx->stream)
		return;
	/*
	 * The engine may finish the jobs in flight first (H.264: their verdicts come before
	 * this loss, in decoding order): a call into the decoder, watched by the hang check,
	 * writing only pictures that still have their buffers
	 */
	for (struct dm_flight *o = ctx->flights; o; o = o->next)
		dm_decode_shield(o);
	call_begins(ctx);
	dd_stream_lost(ctx->stream, &ts);
	call_ends(ctx);
}

static int lost(struct dm_context *ctx, const struct dm_job *job)
{
	dm_decode_lost(ctx, job);
	return -1;
}

int dm_decode_submit(struct dm_context *ctx, struct dm_flight *f, struct dm_failure *fail)
{
	const struct dm_job *job = f->job;
	bool opened;
	int r;

	if (dm_job_to_engine(job, &f->ctrl, &f->pic, &f->dj, fail))
		return lost(ctx, job);
	if (claim_memory(ctx, job, &f->dj, fail))
		return lost(ctx, job);
	/* claim_memory() may have closed the decoder */
	opened = !ctx->stream || ctx->codec != f->dj.codec;
	if (open_stream(ctx, f->dj.codec, f->pic.fourcc, fail)) {
		/* no decoder holds the memory: the claim goes back until one opens */
		dm_mem_release(ctx->svc->memory, &ctx->claim);
		return -1;
	}
	/*
	 * The claim bounds the decoder's pictures too (picture_meter.h): a library that would
	 * hold more than the estimate of a conformant stream fails that frame, and the memory
	 * stays with the other streams' claims. With no budget there is no bound; a job that
	 * claimed nothing (no size: a VP8 inter frame on a new decoder, which fails anyway) gets
	 * no picture either, rather than no limit.
	 */
	dd_stream_set_memory_limit(ctx->stream, !ctx->svc->memory->limit ? 0 :
				   ctx->claim.bytes ? ctx->claim.bytes : 1);
	/*
	 * A restarted stream (a seek) was flushed already (handle() in context.c). Unless its
	 * first jobs never reached the decoder (a stream start past sequence 0: they failed in
	 * the kernel, or another daemon had them), a decoder opened for its first job lacks
	 * nothing.
	 */
	if (opened && (!(job->msg.flags & DAEDALUS_JOB_FLAG_STREAM_START) || job->msg.sequence)) {
		/*
		 * A decoder new to a stream the client started earlier (this daemon restarted,
		 * or the decoder was closed to give its memory back): it lacks every frame
		 * before this one, which VP8 and VP9 key frames that keep state from the frame
		 * before them (a segment map) would need.
		 */
		dd_stream_lost(ctx->stream, NULL);
		dm_dbg("ctx %u: decoder opened mid-stream: earlier frames count as lost", ctx->id);
	}
	/* what the client does decides the decoder's mode, from the next key frame on */
	dd_stream_set_lookahead(ctx->stream, ctx->lookahead);
	/* and whether the CPUs go to other streams' frames too (cpu_share.h) */
	dd_stream_set_shared(ctx->stream, ctx->held_to_one);
	f->ncap = capture_mappings(job, f->cap);
	if (sync_start(ctx, job, f->cap, f->ncap, fail))
		return lost(ctx, job);
	/* a cancelled job's CAPTURE buffer may already be back with the application */
	if (atomic_load(&job->cancelled)) {
		sync_end(job, f->cap, f->ncap);
		fail->reason = DAEDALUS_REASON_CANCELLED;
		dd_fail(&fail->why, "cancelled");
		/* never decoded: jobs that name its timestamp fail, VP8/VP9 until a key frame */
		return lost(ctx, job);
	}
	/* a bitstream lost before: the decoder must not see its zeros */
	if (any_lost(&job->output, 1)) {
		sync_end(job, f->cap, f->ncap);
		fail->reason = DAEDALUS_REASON_INTERNAL;
		dd_fail(&fail->why, "the memory of its OUTPUT buffer went away (SIGBUS from the "
			"dmabuf's exporter)");
		return lost(ctx, job);
	}
	/*
	 * A picture with nowhere to go: decoded all the same (into scratch memory), so that the
	 * decoder's state stays whole for the frames after it, and failed when collected
	 */
	if (any_lost(f->cap, f->ncap)) {
		f->capture_lost = true;
		if (to_scratch(f)) {
			sync_end(job, f->cap, f->ncap);
			fail->reason = DAEDALUS_REASON_NO_MEMORY;
			dd_fail_kind(&fail->why, DD_ERR_NO_MEMORY, "out of memory");
			return lost(ctx, job);
		}
	}
	forget_failed_refs(ctx, job);
	call_begins(ctx);
	r = dd_stream_submit(ctx->stream, &f->dj, job->msg.job_id, &fail->why);
	call_ends(ctx);
	if (r) {
		sync_end(job, f->cap, f->ncap);
		/* a bitstream lost while read fails as DD_ERR_INPUT_LOST (engine.c) */
		fail->reason = reason_code(fail->why.kind);
		return -1;
	}
	return 0;
}

int dm_decode_check_written(const struct dm_flight *f, struct dm_failure *fail)
{
	/* a cancelled job's scratch is not the buffer's loss */
	if (!f->capture_lost && (f->scratch || !any_lost(f->cap, f->ncap)))
		return 0;
	/*
	 * The decoder's own picture is intact, so is its state: the frames after it decode on,
	 * but for those that name this picture, which the kernel marks failed in its buffer
	 * (forget_failed_refs())
	 */
	fail->reason = DAEDALUS_REASON_INTERNAL;
	return dd_fail_kind(&fail->why, DD_ERR_INPUT_LOST, "the memory of its CAPTURE buffer "
			    "went away (SIGBUS from the dmabuf's exporter)");
}

enum dd_collect dm_decode_collect(struct dm_context *ctx, bool wait, uint64_t *cookie,
				  struct dm_failure *fail)
{
	enum dd_collect c;

	if (!ctx->stream)
		return DD_COLLECT_NONE;
	call_begins(ctx);
	c = dd_stream_collect(ctx->stream, wait, cookie, &fail->why);
	call_ends(ctx);
	if (c == DD_COLLECT_FAILED)
		fail->reason = reason_code(fail->why.kind);
	return c;
}

int dm_decode_finish(struct dm_context *ctx, struct dm_flight *f, bool ok,
		     struct dm_failure *fail)
{
	int ended = sync_end(f->job, f->cap, f->ncap);

	if (!ok || f->scratch)
		return 0;
	if (ended) {
		/* as for memory that went away: the decoder's own picture and state are whole */
		fail->reason = DAEDALUS_REASON_INTERNAL;
		return dd_fail_kind(&fail->why, DD_ERR_INPUT_LOST, "DMA_BUF_SYNC_END on its "
				    "CAPTURE dmabuf failed: the picture may not have reached the "
				    "devices that read the buffer");
	}
	log_format(ctx, &f->dj);
	dm_dbg("ctx %u: job %" PRIu64 " (sequence %u, ts %" PRIu64 ") decoded", ctx->id,
	       (uint64_t)f->job->msg.job_id, f->job->msg.sequence, (uint64_t)f->dj.timestamp);
	return 0;
}

void dm_decode_sync(struct dm_context *ctx)
{
	if (ctx->stream) {
		call_begins(ctx);
		dd_stream_sync(ctx->stream);
		call_ends(ctx);
	}
}

void dm_decode_flush(struct dm_context *ctx)
{
	if (ctx->stream) {
		call_begins(ctx);
		dd_stream_flush(ctx->stream);
		call_ends(ctx);
		dm_dbg("ctx %u: decoder state dropped", ctx->id);
	}
}

void dm_decode_shield(struct dm_flight *f)
{
	if (f->scratch || !atomic_load(&f->job->cancelled))
		return;
	if (to_scratch(f))
		dm_err("ctx %u: out of memory: cancelled job %" PRIu64 " may still write its "
		       "CAPTURE buffer", f->job->msg.ctx_id, (uint64_t)f->job->msg.job_id);
}
