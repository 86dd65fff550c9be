// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the life of a job once device_run() has built it: its
 * references, the device-level job table it is published in, the claim
 * that decides who finishes it, and the finishing itself (its buffers going
 * back, in dispatch order for jobs in flight).
 *
 * Jobs live in the table under the bridge spinlock; whoever moves a job to
 * DONE under that lock (daemon reply, watchdog, abort, daemon gone) is the
 * only one that finishes it. Nothing here waits for the daemon, and only
 * the m2m job finishing of a pipelined dispatch takes a V4L2 lock (q_lock,
 * from a work item or from job_abort, which holds it already).
 */

#include <linux/delay.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <linux/wait_bit.h>

#include "daedalus.h"

/* allocation */

/**
 * daedalus_job_reserve() - allocate the job an OUTPUT buffer's run will fill
 * @buf: the OUTPUT buffer, being prepared (QBUF, or the queueing of its request)
 *
 * Here rather than in device_run(): a shortage is then an error the
 * application gets from the ioctl that queued the buffer, which it can
 * queue again, and device_run() never has to fail a job for want of its
 * structure, which it could only do ahead of the older jobs still in flight
 * (a job it allocates fails in order, behind them). Charged to the memory
 * cgroup of the application queueing the buffer, which at its limit gets
 * ENOMEM rather than its cgroup's OOM killer (as for the buffers' pages).
 *
 * Return: 0, or -ENOMEM.
 */
int daedalus_job_reserve(struct daedalus_buf *buf)
{
	if (buf->job)
		return 0;
	if (daedalus_fail_job_alloc())
		return -ENOMEM;
	buf->job = kzalloc(sizeof(*buf->job),
			   GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	return buf->job ? 0 : -ENOMEM;
}

/* The buffer goes back without having run (or is freed): its job with it. */
void daedalus_job_unreserve(struct daedalus_buf *buf)
{
	kfree(buf->job);
	buf->job = NULL;
}

/* device_run(): the buffer's job, zeroed, for the caller to set up. */
struct daedalus_kjob *daedalus_job_take_reserved(struct daedalus_buf *buf)
{
	struct daedalus_kjob *job = buf->job;

	buf->job = NULL;
	return job;
}

/* references */

static void daedalus_job_release(struct kref *ref)
{
	struct daedalus_kjob *job = container_of(ref, struct daedalus_kjob, ref);
	unsigned int i, j;

	for (i = 0; i < DAEDALUS_MAX_MEM_PLANES; i++) {
		if (job->out_h[i])
			daedalus_handle_put(job->out_h[i]);
		if (job->cap_h[i])
			daedalus_handle_put(job->cap_h[i]);
		for (j = 0; j < DAEDALUS_MAX_REFS; j++)
			if (job->ref_h[j][i])
				daedalus_handle_put(job->ref_h[j][i]);
	}
	kvfree(job->ctrl_data);
	atomic_dec(&job->bridge->live_jobs);
	kfree(job);
}

void daedalus_job_put(struct daedalus_kjob *job)
{
	kref_put(&job->ref, daedalus_job_release);
}

/* the job table: publishing and claiming */

static void daedalus_arm_watchdog(struct daedalus_kjob *job)
{
	kref_get(&job->ref);
	if (!queue_delayed_work(job->bridge->wdq, &job->watchdog,
				msecs_to_jiffies(daedalus_job_timeout_ms)))
		daedalus_job_put(job);
}

void daedalus_disarm_watchdog(struct daedalus_kjob *job)
{
	if (cancel_delayed_work(&job->watchdog))
		daedalus_job_put(job);
}

/*
 * A pipelined dispatch takes its buffers off the m2m queues before the
 * daemon can answer, and leaves its m2m job to finish_work (or job_abort,
 * which looks at finish_pending under the bridge lock), so that device_run()
 * touches nothing of the context once the job is out. The caller queues
 * finish_work. Bridge lock held.
 *
 * CAPTURE first: V4L2_DEC_CMD_FLUSH (the m2m core, under its job spinlock,
 * not ours) returns a held CAPTURE buffer as done when no OUTPUT buffer is
 * queued. Between OUTPUT's removal and CAPTURE's it would find the buffer
 * this job is about to decode into (the last piece of a held picture) and
 * hand it back while the job is in flight; with CAPTURE gone first it only
 * clears the HOLD flag of this job's OUTPUT buffer, which asks for none.
 */
static void daedalus_add_inflight(struct daedalus_ctx *ctx, struct daedalus_kjob *job)
{
	v4l2_m2m_dst_buf_remove(ctx->fh.m2m_ctx);
	v4l2_m2m_src_buf_remove(ctx->fh.m2m_ctx);
	job->msg.queued = v4l2_m2m_num_src_bufs_ready(ctx->fh.m2m_ctx);
	atomic_set(&ctx->finish_pending, 1);
	/* The list's own reference: it outlives the claim. */
	kref_get(&job->ref);
	list_add_tail(&job->ctx_node, &ctx->inflight);
	job->msg.inflight = atomic_inc_return(&ctx->nr_inflight);
}

/*
 * The pieces of a picture (H.264 slices, a field pair: all but the last ask
 * for HOLD_CAPTURE_BUF) are decoded by the daemon that was given them: one
 * that answered the first pieces DONE and then went away (killed, restarted)
 * took them with it, and the daemon of the next session would complete the
 * picture from the later pieces alone, a wrong picture without ERROR. So the
 * CAPTURE buffer remembers the session its last job was queued to, and a job
 * that continues the picture (neither NEW_FRAME nor STREAM_START: the daemon
 * drops what it held at those) queued to another session loses the earlier
 * pieces as if they had failed: &daedalus_buf.lost, and LOST_PIECE for the
 * daemon. A job of one session is never answered by another (the bridge's
 * close fails every job of its session), so the pieces a session answered
 * DONE are the ones its daemon held.
 *
 * Bridge lock held, before the job is published. The buffer's previous job
 * is finished (its finisher wrote &daedalus_buf.lost): a HOLD job runs alone
 * until it is finished, and the m2m core dispatches the next job after it.
 */
static void daedalus_note_session(struct daedalus_bridge *br, struct daedalus_kjob *job)
{
	struct daedalus_buf *buf = daedalus_vb_to_buf(&job->dst->vb2_buf);
	u32 starts = DAEDALUS_JOB_FLAG_NEW_FRAME | DAEDALUS_JOB_FLAG_STREAM_START;

	lockdep_assert_held(&br->lock);
	if (!(job->msg.flags & starts) && buf->session != br->session) {
		buf->lost = true;
		job->msg.flags |= DAEDALUS_JOB_FLAG_LOST_PIECE;
	}
	buf->session = br->session;
}

/*
 * The job that completes a picture (no HOLD) is about to be published: the
 * picture in its CAPTURE buffer is this job's from now on, whose verdict the
 * daemon learns itself (a failure in flight marks the buffer at once:
 * daedalus_cap_failed()). The held pieces before it left the buffer marked
 * (daedalus_cap_done()), and a job built while this one is in flight would
 * take that for the failure of the picture it names as a reference and drop
 * it. A lost piece keeps the mark: the daemon fails this job. The job's own
 * references were described before: a second field's own slot still shows
 * its first field as held.
 *
 * Bridge lock held, after daedalus_note_session(), before the job is
 * published.
 */
static void daedalus_cap_in_flight(struct daedalus_bridge *br, struct daedalus_kjob *job)
{
	struct daedalus_buf *buf = daedalus_vb_to_buf(&job->dst->vb2_buf);

	lockdep_assert_held(&br->lock);
	if (!(job->msg.flags & DAEDALUS_JOB_FLAG_HOLD))
		WRITE_ONCE(buf->error, buf->lost);
}

/**
 * daedalus_bridge_submit() - publish a job to the daemon
 * @br:		the bridge
 * @ctx:	the job's context
 * @job:	the job, or NULL when vb2 ran a buffer it had not prepared (none
 *		was reserved)
 * @err:	non-zero when the job could not be built (it fails)
 * @pipelined:	the job joins @ctx->inflight (its m2m job finishes at
 *		dispatch) instead of being the context's running job
 * @why:	set when the job fails: @err, -ENOTCONN (no daemon), -ENOSPC
 *		(the job table past its hard limit) or -ECANCELED (the context
 *		being aborted or closed)
 *
 * Return: DAEDALUS_SUBMITTED if the job was queued. Otherwise (no daemon,
 * job table full, the context being aborted, or @err) the job fails:
 * DAEDALUS_SUBMIT_FAILED if the caller must fail it now, or, for a pipelined
 * job of a context that is not being aborted, DAEDALUS_SUBMIT_FAILED_IN_ORDER:
 * it joined @ctx->inflight already failed, and the caller returns it with
 * daedalus_return_done(), behind the older jobs in flight, then queues
 * finish_work (not before: the context's next job would start while the
 * caller still uses the context). Either failing is counted in
 * &daedalus_ctx.finishing like a claim: the caller calls
 * daedalus_bridge_finished() once it is done with the context.
 */
enum daedalus_submit daedalus_bridge_submit(struct daedalus_bridge *br,
					    struct daedalus_ctx *ctx,
					    struct daedalus_kjob *job, int err,
					    bool pipelined, int *why)
{
	bool aborted;

	spin_lock(&br->lock);
	aborted = ctx->abort_requested;
	ctx->abort_requested = false;
	if (err || !job)
		*why = err ?: -ENOMEM;
	else if (aborted || ctx->dying)
		*why = -ECANCELED;
	else if (!br->ready)
		*why = -ENOTCONN;
	else if (br->nr_jobs >= DAEDALUS_MAX_JOBS_HARD)
		*why = -ENOSPC;
	else
		*why = 0;
	if (*why) {
		atomic_inc(&ctx->finishing);
		/*
		 * Not when aborted: job_abort, which has run, waits for this
		 * m2m job to be finished, under the q_lock finish_work needs.
		 */
		if (job && pipelined && !aborted && !ctx->dying) {
			/* In no table: nobody claims it, and no JOB_CANCEL. */
			job->state = DAEDALUS_JOB_DONE;
			job->result = VB2_BUF_STATE_ERROR;
			job->done = true;
			daedalus_cap_failed(&job->dst->vb2_buf);
			daedalus_add_inflight(ctx, job);
			spin_unlock(&br->lock);
			return DAEDALUS_SUBMIT_FAILED_IN_ORDER;
		}
		spin_unlock(&br->lock);
		return DAEDALUS_SUBMIT_FAILED;
	}
	job->state = DAEDALUS_JOB_QUEUED;
	job->session = br->session;
	/*
	 * The first job queued since STREAMON starts the stream for the
	 * daemon, also when the ones before it (sequence 0 on) failed here
	 * without reaching it: it drops what it held from before the restart.
	 */
	if (ctx->stream_start) {
		job->msg.flags |= DAEDALUS_JOB_FLAG_STREAM_START;
		ctx->stream_start = false;
	}
	/* the user's uid in the initial namespace, whichever the daemon runs in */
	if (br->owners)
		job->msg.owner = from_kuid_munged(&init_user_ns, ctx->owner);
	daedalus_note_session(br, job);
	daedalus_cap_in_flight(br, job);
	list_add_tail(&job->table, &br->jobs);
	br->nr_jobs++;
	if (pipelined) {
		daedalus_add_inflight(ctx, job);
		schedule_work(&ctx->finish_work);
	} else {
		ctx->job = job;
		job->msg.inflight = 1;
	}
	list_add_tail(&job->node.entry, &br->fifo);
	daedalus_arm_watchdog(job);
	spin_unlock(&br->lock);
	wake_up_interruptible(&br->wq);
	return DAEDALUS_SUBMITTED;
}

/**
 * daedalus_bridge_has_room() - may a context dispatch its next job (job_ready)
 * @br:		the bridge
 * @ctx:	the context
 *
 * Back-pressure instead of failing frames: while the job table is full the
 * context waits on &daedalus_bridge.table_wait, and the job that leaves the
 * table reschedules it. Without a daemon its jobs run, and fail at once.
 *
 * Called under the context's m2m job spinlock, a lock class other drivers
 * take in interrupts: so not the bridge lock, but the irq-safe wait_lock.
 * @nr_jobs is changed under the bridge lock and read here under wait_lock,
 * which the claim that lowers it takes afterwards to wake the waiters: a
 * context either sees the room or is on the list when they are woken.
 *
 * Return: true if it may.
 */
bool daedalus_bridge_has_room(struct daedalus_bridge *br, struct daedalus_ctx *ctx)
{
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&br->wait_lock, flags);
	room = !READ_ONCE(br->ready) || READ_ONCE(br->nr_jobs) < DAEDALUS_MAX_JOBS;
	if (!room && !READ_ONCE(ctx->dying) && list_empty(&ctx->table_wait)) {
		list_add_tail(&ctx->table_wait, &br->table_wait);
		br->table_waits++;
	}
	spin_unlock_irqrestore(&br->wait_lock, flags);
	return room;
}

/* Reschedule every context held back by a full table; bridge lock held. */
static void daedalus_wake_table_waiters(struct daedalus_bridge *br)
{
	struct daedalus_ctx *ctx, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&br->wait_lock, flags);
	list_for_each_entry_safe(ctx, tmp, &br->table_wait, table_wait) {
		list_del_init(&ctx->table_wait);
		/* a dying context left the list when it was marked */
		schedule_work(&ctx->resched_work);
	}
	spin_unlock_irqrestore(&br->wait_lock, flags);
}

/* Tell the daemon to let go of a job it has fetched; bridge lock held. */
static void daedalus_queue_cancel(struct daedalus_bridge *br,
				  struct daedalus_kjob *job, u32 flags)
{
	job->cancel.type = DAEDALUS_MSG_JOB_CANCEL;
	job->cancel.flags = flags;
	job->cancel.id = job->msg.job_id;
	kref_get(&job->ref);	/* the message's, dropped when it is freed */
	list_add_tail(&job->cancel.entry, &br->fifo);
}

/*
 * A job that started the stream and fails before the daemon fetched it (its
 * watchdog while the daemon is stopped, no free fd in the daemon, STREAMOFF),
 * or while GET_MSG is still handing it over (whose delivery may then fail),
 * passes the start on: to the next job of its context still queued, or to the
 * next one queued. Delivered after all, the daemon may get both as starts (the
 * first claimed: cancelled, or answered too late): it flushes at each and
 * counts the jobs before the second as lost, failing what predicts from the
 * claimed one. Bridge lock held; @job is off the FIFO.
 */
static void daedalus_pass_stream_start(struct daedalus_bridge *br,
				       struct daedalus_kjob *job)
{
	struct daedalus_msgnode *node;
	struct daedalus_kjob *next;

	if (!(job->msg.flags & DAEDALUS_JOB_FLAG_STREAM_START))
		return;
	list_for_each_entry(node, &br->fifo, entry) {
		if (node->type != DAEDALUS_MSG_JOB)
			continue;
		next = container_of(node, struct daedalus_kjob, node);
		if (next->ctx == job->ctx && next->state == DAEDALUS_JOB_QUEUED) {
			next->msg.flags |= DAEDALUS_JOB_FLAG_STREAM_START;
			return;
		}
	}
	job->ctx->stream_start = true;
}

/**
 * daedalus_unqueue_cancel() - take a job's JOB_CANCEL back off the FIFO
 * @job:	the job
 *
 * For a job the daemon never got and never will: claimed while GET_MSG was
 * handing it over and the delivery then failed, or back in the FIFO after a
 * failed delivery with the WAIT cancel of its watchdog's first expiry behind
 * it, and then claimed. A cancel would name a job the daemon does not know.
 * Bridge lock held; the caller holds a reference of its own (the table's, or
 * GET_MSG's), so the cancel's is never the last.
 */
void daedalus_unqueue_cancel(struct daedalus_kjob *job)
{
	if (list_empty(&job->cancel.entry))
		return;
	list_del_init(&job->cancel.entry);
	refcount_dec(&job->ref.refcount);
}

/* Move a job to DONE; bridge lock held. */
static void __daedalus_claim(struct daedalus_bridge *br,
			     struct daedalus_kjob *job, bool notify)
{
	bool sent = job->state == DAEDALUS_JOB_SENT;

	/* never delivered: a cancel left from a failed delivery goes */
	if (!sent)
		daedalus_unqueue_cancel(job);

	job->state = DAEDALUS_JOB_DONE;
	list_del_init(&job->table);
	br->nr_jobs--;
	if (br->nr_jobs < DAEDALUS_MAX_JOBS)
		daedalus_wake_table_waiters(br);
	list_del_init(&job->node.entry);
	if (!sent || job->delivering)
		daedalus_pass_stream_start(br, job);
	if (job->ctx->job == job)
		job->ctx->job = NULL;
	/* A job that timed out has had its JOB_CANCEL already. */
	if (notify && sent && !job->timed_out && br->ready &&
	    job->session == br->session) {
		daedalus_queue_cancel(br, job, 0);
	}
}

/*
 * Claim for the watchdog, the daemon and a closing daemon. A context that is
 * being released is left to its job_abort, so that its release never races
 * with a finisher still inside the m2m core.
 */
bool daedalus_claim_locked(struct daedalus_bridge *br,
			   struct daedalus_kjob *job, bool notify)
{
	if (job->state == DAEDALUS_JOB_DONE || job->ctx->dying)
		return false;
	__daedalus_claim(br, job, notify);
	atomic_inc(&job->ctx->finishing);
	return true;
}

/**
 * daedalus_bridge_timeout() - the watchdog of a job expired
 * @br:		the bridge
 * @job:	the job
 * @ctx_id:	set to the job's context id unless DAEDALUS_TIMEOUT_NONE (the
 *		context may be gone once another path finished the job)
 *
 * A job the daemon has fetched may have its buffers mapped there, and the
 * kernel cannot stop a process from writing through its mapping, as a driver
 * stops its hardware before it returns a hung job's buffers (hantro and
 * rkvdec reset the block first). So the first expiry only tells the daemon to
 * let go (JOB_CANCEL with DAEDALUS_CANCEL_FLAG_WAIT) and keeps the buffers
 * until its COMPLETE (the job fails whatever it says) or its close, re-arming
 * the watchdog once: a daemon that does not answer by then (stopped, or stuck
 * in a decoder) loses the job anyway, so an application never waits forever.
 *
 * Return: DAEDALUS_TIMEOUT_CLAIMED if the caller owns the job now and must
 * finish it, then call daedalus_bridge_finished() and drop the table's
 * reference; DAEDALUS_TIMEOUT_WAIT if the daemon was asked to let go (the
 * caller must not touch the context); DAEDALUS_TIMEOUT_NONE if another path
 * finishes the job.
 */
enum daedalus_timeout daedalus_bridge_timeout(struct daedalus_bridge *br,
					      struct daedalus_kjob *job, u32 *ctx_id)
{
	enum daedalus_timeout ret = DAEDALUS_TIMEOUT_NONE;

	spin_lock(&br->lock);
	if (job->state != DAEDALUS_JOB_DONE)
		*ctx_id = job->ctx->id;
	if (job->state == DAEDALUS_JOB_SENT && !job->timed_out && !job->ctx->dying &&
	    br->ready && job->session == br->session) {
		job->timed_out = true;
		daedalus_queue_cancel(br, job, DAEDALUS_CANCEL_FLAG_WAIT);
		/* queued again from its own work: the running instance ends */
		daedalus_arm_watchdog(job);
		ret = DAEDALUS_TIMEOUT_WAIT;
	} else if (daedalus_claim_locked(br, job, true)) {
		ret = DAEDALUS_TIMEOUT_CLAIMED;
	}
	spin_unlock(&br->lock);
	if (ret != DAEDALUS_TIMEOUT_NONE)
		wake_up_interruptible(&br->wq);
	return ret;
}

/**
 * daedalus_bridge_finished() - a claimed job of @ctx has been finished
 * @ctx: the context, which may be freed as soon as this returns
 */
void daedalus_bridge_finished(struct daedalus_ctx *ctx)
{
	if (atomic_dec_and_test(&ctx->finishing))
		wake_up_var(&ctx->finishing);
}

/**
 * daedalus_bridge_abort() - claim the running job of a context (job_abort)
 * @br:		the bridge
 * @ctx:	the context
 *
 * Return: the job, with the table's reference, or NULL if there is none,
 * another path finishes it (then this waits until it has), or the running
 * m2m job is a pipelined dispatch (finish_pending; the caller finishes it).
 * With NULL and no pipelined dispatch, a device_run() that has not
 * submitted yet fails its job (&daedalus_ctx.abort_requested).
 */
struct daedalus_kjob *daedalus_bridge_abort(struct daedalus_bridge *br,
					    struct daedalus_ctx *ctx)
{
	struct daedalus_kjob *job;
	bool pending;

	spin_lock(&br->lock);
	job = ctx->job;
	/* a pipelined dispatch: job_abort finishes its m2m job */
	pending = atomic_read(&ctx->finish_pending);
	if (job) {
		__daedalus_claim(br, job, true);
	} else if (!pending) {
		/*
		 * Either device_run() has not submitted yet, or a finisher
		 * (a claim of ctx->job, or device_run() failing the job
		 * itself) is finishing the running m2m job. ctx->finishing
		 * cannot tell these apart once jobs are in flight (their
		 * finishers count too), and a device_run() that went on to
		 * publish a pipelined job would leave its m2m job to
		 * finish_work, which waits for the q_lock our caller holds
		 * while v4l2_m2m_cancel_job() waits for that m2m job. So
		 * make device_run() fail its job in any case; a flag nobody
		 * consumed is cleared at the next STREAMON (no job runs
		 * before both queues stream again).
		 */
		ctx->abort_requested = true;
	}
	spin_unlock(&br->lock);
	if (job) {
		wake_up_interruptible(&br->wq);
		daedalus_disarm_watchdog(job);
	} else if (!pending) {
		wait_var_event(&ctx->finishing, !atomic_read(&ctx->finishing));
	}
	return job;
}

/**
 * daedalus_bridge_ctx_dying() - a context is being released
 * @br:		the bridge
 * @ctx:	the context
 *
 * After this, only job_abort finishes the context's job, and no finisher
 * from another path is still running.
 */
void daedalus_bridge_ctx_dying(struct daedalus_bridge *br, struct daedalus_ctx *ctx)
{
	spin_lock(&br->lock);
	ctx->dying = true;
	spin_unlock(&br->lock);
	/* release cancels resched_work: nobody may queue it from now on */
	spin_lock_irq(&br->wait_lock);
	list_del_init(&ctx->table_wait);
	spin_unlock_irq(&br->wait_lock);
	wait_var_event(&ctx->finishing, !atomic_read(&ctx->finishing));
}

/**
 * daedalus_bridge_mark_done() - a claimed pipelined job has its result
 * @br:		the bridge
 * @job:	the job
 * @state:	how its buffers go back
 *
 * The buffers go back in daedalus_return_done(), once every older job of the
 * context is done too.
 */
void daedalus_bridge_mark_done(struct daedalus_bridge *br, struct daedalus_kjob *job,
			       enum vb2_buffer_state state)
{
	spin_lock(&br->lock);
	job->result = state;
	/*
	 * Before done: once the lock is dropped, another finisher may return
	 * the buffers (daedalus_return_done()) and the client may free them
	 * (REQBUFS 0 after STREAMOFF, which has no job left to wait for) or
	 * queue the buffer for a new picture, which the mark would then fail.
	 */
	if (state != VB2_BUF_STATE_DONE)
		daedalus_cap_failed(&job->dst->vb2_buf);
	job->done = true;
	spin_unlock(&br->lock);
}

/**
 * daedalus_bridge_pop_done() - take the oldest in-flight job if it is done
 * @br:		the bridge
 * @ctx:	the context
 *
 * Return: the job, unlinked from @ctx->inflight, with the list's reference;
 * NULL if the oldest job is not done or there is none.
 */
struct daedalus_kjob *daedalus_bridge_pop_done(struct daedalus_bridge *br,
					       struct daedalus_ctx *ctx)
{
	struct daedalus_kjob *job;

	spin_lock(&br->lock);
	job = list_first_entry_or_null(&ctx->inflight, struct daedalus_kjob,
				       ctx_node);
	if (job && job->done)
		list_del_init(&job->ctx_node);
	else
		job = NULL;
	spin_unlock(&br->lock);
	return job;
}

/**
 * daedalus_bridge_cancel_inflight() - fail every in-flight job of a context
 * @br:		the bridge
 * @ctx:	the context (STREAMOFF or close)
 *
 * Claims the jobs no other path has claimed, marks them failed and queues
 * their JOB_CANCEL, then waits for the jobs other paths are finishing (they
 * take no V4L2 lock and never wait for the daemon). Afterwards every job of
 * @ctx->inflight is done, and daedalus_return_done() returns all of them.
 *
 * Return: the number of jobs claimed here.
 */
unsigned int daedalus_bridge_cancel_inflight(struct daedalus_bridge *br,
					     struct daedalus_ctx *ctx)
{
	struct daedalus_kjob *job, *tmp;
	unsigned int n = 0;
	LIST_HEAD(claimed);

	spin_lock(&br->lock);
	list_for_each_entry(job, &ctx->inflight, ctx_node) {
		if (job->state == DAEDALUS_JOB_DONE)
			continue;
		__daedalus_claim(br, job, true);
		job->result = VB2_BUF_STATE_ERROR;
		job->done = true;
		/* The table link is free once claimed. */
		list_add_tail(&job->table, &claimed);
		n++;
	}
	spin_unlock(&br->lock);
	if (n)
		wake_up_interruptible(&br->wq);
	list_for_each_entry_safe(job, tmp, &claimed, table) {
		list_del_init(&job->table);
		daedalus_disarm_watchdog(job);
		daedalus_job_put(job);	/* the table's reference */
	}
	wait_var_event(&ctx->finishing, !atomic_read(&ctx->finishing));
	return n;
}

/* finishing */

/*
 * A pipelined job's failure is known before its buffers go back (behind
 * older jobs): jobs built meanwhile that name its CAPTURE buffer as a
 * reference see it at once, which matters for a job that failed in the
 * kernel, of which the daemon knows nothing. Only a job that starts a new
 * picture in the buffer (daedalus_job_fill()) or completes one
 * (daedalus_cap_in_flight()) clears it; the failed job was the picture's
 * last, and the buffer is out of the client's hands until it is returned, so
 * nothing clears it before that.
 */
void daedalus_cap_failed(struct vb2_buffer *vb)
{
	WRITE_ONCE(daedalus_vb_to_buf(vb)->error, true);
}

/**
 * daedalus_cap_done() - record what a job left in its CAPTURE buffer
 * @vb:		the CAPTURE buffer, about to be returned or held
 * @failed:	the job failed
 * @hold:	a HOLD job: it gave the daemon a piece of the picture to keep
 *		and wrote nothing
 *
 * A picture made of several jobs (H.264 slices, a field pair: all but the
 * last ask for HOLD_CAPTURE_BUF) is correct only if each of them succeeded.
 * A failed piece is therefore remembered (&daedalus_buf.lost) until the
 * buffer is queued again: the piece after it may succeed, but the picture
 * still misses it (the next job's DAEDALUS_JOB_FLAG_LOST_PIECE tells the
 * daemon). Only the finisher of the buffer's current job writes these (and
 * the submit of its next job, before publishing it: daedalus_note_session()),
 * and the buffer's next job is built after that finish: a HOLD job runs alone
 * until it is finished, and the m2m core dispatches the next one after it.
 *
 * Cleared in buf_queue rather than at the first job of the next picture:
 * every picture starts in a freshly queued buffer (the m2m core hands a held
 * buffer back as soon as the next OUTPUT buffer has another timestamp), and
 * device_run()'s timestamp test cannot tell, since a client that names its
 * pictures by CAPTURE buffer (Chromium) queues a buffer again with the same
 * timestamp.
 */
void daedalus_cap_done(struct vb2_buffer *vb, bool failed, bool hold)
{
	struct daedalus_buf *buf = daedalus_vb_to_buf(vb);

	if (failed)
		buf->lost = true;
	WRITE_ONCE(buf->error, buf->lost || hold);
}

/*
 * Finish a job that the caller has claimed (see daedalus_bridge_timeout()):
 * return its buffers. Takes no V4L2 lock: only the m2m job spinlock and the
 * vb2 done lock.
 */
void daedalus_job_finish(struct daedalus_kjob *job, enum vb2_buffer_state state,
			 const u32 *bytesused, unsigned int num_planes)
{
	struct daedalus_ctx *ctx = job->ctx;
	struct vb2_buffer *dst = &job->dst->vb2_buf;
	unsigned int i;

	if (state == VB2_BUF_STATE_DONE)
		for (i = 0; i < num_planes && i < dst->num_planes; i++)
			if (bytesused[i])
				vb2_set_plane_payload(dst, i, bytesused[i]);
	/*
	 * A HOLD job gave the daemon pieces of a picture to keep, and wrote
	 * nothing: the CAPTURE buffer holds no picture until a later job of
	 * its timestamp decodes them. The m2m core may hand it out before
	 * that, as DONE (daedalus_dqbuf() says when), so it stays marked.
	 */
	daedalus_cap_done(dst, state != VB2_BUF_STATE_DONE,
			  job->msg.flags & DAEDALUS_JOB_FLAG_HOLD);
	job->ctx = NULL;
	v4l2_m2m_buf_done_and_job_finish(ctx->m2m->m2m_dev, ctx->fh.m2m_ctx, state);
}

/*
 * Every OUTPUT queue advertises HOLD_CAPTURE_BUF (see daedalus-h264.c), and
 * v4l2_m2m_job_finish() warns for such queues on 6.12, expecting
 * v4l2_m2m_buf_done_and_job_finish(), which returns the buffers now. So the
 * flag is cleared around the call, under q_lock: every queue ioctl, and vb2's
 * queueing of a request's buffer, holds it, and vb2 reads the flag only
 * there. The m2m core reads it too, for new_frame, when it schedules the
 * context, which the module's own finishers and v4l2_m2m_request_queue()
 * do without q_lock, so the driver never uses new_frame
 * (daedalus_device_run()). device_run()
 * may or may not hold q_lock, so it leaves the call to daedalus_finish_work(),
 * or to job_abort when STREAMOFF or close (holding q_lock) gets there first
 * (daedalus_bridge_submit() queues the work and sets finish_pending under the
 * bridge lock, which daedalus_bridge_abort() takes too). Caller holds q_lock.
 */
static void __daedalus_finish_m2m_job(struct daedalus_ctx *ctx, bool stretch)
{
	struct vb2_queue *out_q = v4l2_m2m_get_src_vq(ctx->fh.m2m_ctx);
	u32 flags;

	lockdep_assert_held(&ctx->q_lock);
	if (!atomic_xchg(&ctx->finish_pending, 0))
		return;
	flags = out_q->subsystem_flags;
	out_q->subsystem_flags &= ~VB2_V4L2_FL_SUPPORTS_M2M_HOLD_CAPTURE_BUF;
	v4l2_m2m_job_finish(ctx->m2m->m2m_dev, ctx->fh.m2m_ctx);
	if (stretch)
		msleep(300);
	out_q->subsystem_flags = flags;
}

void daedalus_finish_m2m_job(struct daedalus_ctx *ctx)
{
	__daedalus_finish_m2m_job(ctx, false);
}

void daedalus_finish_work(struct work_struct *work)
{
	struct daedalus_ctx *ctx = container_of(work, struct daedalus_ctx,
						finish_work);
	/*
	 * A test's fault point (debugfs delay-m2m-finish): a worker that runs
	 * late, after the client queued the next requests, and is preempted
	 * with the flag off, 300 ms each (GStreamer waits a second at most).
	 */
	bool stretch = atomic_read(&ctx->finish_pending) &&
		       daedalus_delay_m2m_finish();

	if (stretch)
		msleep(300);
	mutex_lock(&ctx->q_lock);
	__daedalus_finish_m2m_job(ctx, stretch);
	mutex_unlock(&ctx->q_lock);
}

/* Return the buffers of a done pipelined job; under ctx->done_lock. */
static void daedalus_job_return(struct daedalus_kjob *job)
{
	struct vb2_buffer *dst = &job->dst->vb2_buf;
	unsigned int i;

	if (job->result == VB2_BUF_STATE_DONE)
		for (i = 0; i < DAEDALUS_MAX_MEM_PLANES && i < dst->num_planes; i++)
			if (job->bytesused[i])
				vb2_set_plane_payload(dst, i, job->bytesused[i]);
	/* never a HOLD job; it may complete a picture whose piece failed */
	daedalus_cap_done(dst, job->result != VB2_BUF_STATE_DONE, false);
	/* CAPTURE first: returning OUTPUT completes the request. */
	v4l2_m2m_buf_done(job->dst, job->result);
	v4l2_m2m_buf_done(job->src, job->result);
}

/**
 * daedalus_return_done() - return the buffers of a context's done jobs
 * @ctx: the context
 *
 * Returns those at the head of its in-flight list, oldest first, up to the
 * first job not done yet. Takes ctx->done_lock, so that two finishers cannot
 * return out of order, and no V4L2 lock. Asks m2m for the next job when a
 * slot was freed.
 */
void daedalus_return_done(struct daedalus_ctx *ctx)
{
	struct daedalus_bridge *br = &ctx->dev->bridge;
	struct daedalus_kjob *job;
	bool returned = false;

	mutex_lock(&ctx->done_lock);
	while ((job = daedalus_bridge_pop_done(br, ctx))) {
		daedalus_job_return(job);
		job->ctx = NULL;
		atomic_dec(&ctx->nr_inflight);
		daedalus_job_put(job);	/* the list's reference */
		returned = true;
	}
	mutex_unlock(&ctx->done_lock);
	/* A dying context is never scheduled again; release cancels the work. */
	if (returned && !READ_ONCE(ctx->dying))
		schedule_work(&ctx->resched_work);
}

/*
 * try_schedule() may run device_run() itself, so not from the finishers:
 * they may be the daemon's COMPLETE call or hold locks of their own.
 */
void daedalus_resched_work(struct work_struct *work)
{
	struct daedalus_ctx *ctx = container_of(work, struct daedalus_ctx,
						resched_work);

	v4l2_m2m_try_schedule(ctx->fh.m2m_ctx);
}

/**
 * daedalus_job_complete() - finish a claimed job, whichever path it took
 * @job:	the job, claimed by the caller
 * @state:	DONE or ERROR
 * @bytesused:	CAPTURE payloads (DONE only)
 * @num_planes:	entries of @bytesused
 */
void daedalus_job_complete(struct daedalus_kjob *job, enum vb2_buffer_state state,
			   const u32 *bytesused, unsigned int num_planes)
{
	struct daedalus_ctx *ctx = job->ctx;
	unsigned int i;

	if (!job->src) {
		daedalus_job_finish(job, state, bytesused, num_planes);
		return;
	}
	for (i = 0; i < num_planes && i < DAEDALUS_MAX_MEM_PLANES; i++)
		job->bytesused[i] = bytesused[i];
	daedalus_bridge_mark_done(job->bridge, job, state);
	daedalus_return_done(ctx);
}

/**
 * daedalus_fail_inflight() - fail every pipelined job of a context, in order
 * @ctx: the context (stop_streaming of either queue, under q_lock)
 *
 * Their m2m jobs are finished, so v4l2_m2m_cancel_job() does not see them,
 * and vb2 wants every buffer back before stop_streaming returns.
 */
void daedalus_fail_inflight(struct daedalus_ctx *ctx)
{
	if (!atomic_read(&ctx->nr_inflight))
		return;
	daedalus_bridge_cancel_inflight(&ctx->dev->bridge, ctx);
	daedalus_return_done(ctx);
}

void daedalus_watchdog_work(struct work_struct *work)
{
	struct daedalus_kjob *job = container_of(to_delayed_work(work),
						 struct daedalus_kjob, watchdog);
	struct daedalus_bridge *br = job->bridge;
	struct device *dev = container_of(br, struct daedalus_dev, bridge)->v4l2_dev.dev;
	struct daedalus_ctx *ctx;
	u32 ctx_id = 0;

	switch (daedalus_bridge_timeout(br, job, &ctx_id)) {
	case DAEDALUS_TIMEOUT_WAIT:
		dev_warn_ratelimited(dev, "ctx %u: job %llu timed out after %u ms, waiting for the daemon to let go of its buffers\n",
				     ctx_id, job->msg.job_id, daedalus_job_timeout_ms);
		break;
	case DAEDALUS_TIMEOUT_CLAIMED:
		ctx = job->ctx;
		if (job->timed_out)
			dev_warn_ratelimited(dev, "ctx %u: job %llu: the daemon did not let go of it in another %u ms, failing it while the daemon may still write its CAPTURE buffer\n",
					     ctx_id, job->msg.job_id, daedalus_job_timeout_ms);
		else
			dev_warn_ratelimited(dev, "ctx %u: job %llu timed out after %u ms\n",
					     ctx_id, job->msg.job_id, daedalus_job_timeout_ms);
		daedalus_job_complete(job, VB2_BUF_STATE_ERROR, NULL, 0);
		daedalus_bridge_finished(ctx);
		daedalus_job_put(job);	/* the table's reference */
		break;
	case DAEDALUS_TIMEOUT_NONE:
		break;
	}
	daedalus_job_put(job);		/* the watchdog's reference */
}
