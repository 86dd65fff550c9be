/* SPDX-License-Identifier: BSD-2-Clause */
#include <stddef.h>

#include "job_queue.h"

void dm_job_queue_init(struct dm_job_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->restart_next = false;
}

void dm_job_queue_push(struct dm_job_queue *q, struct dm_job *job)
{
	job->next = NULL;
	if (q->restart_next)
		job->msg.flags |= DAEDALUS_JOB_FLAG_STREAM_START;
	q->restart_next = false;
	*q->tail = job;
	q->tail = &job->next;
}

struct dm_job *dm_job_queue_take(struct dm_job_queue *q)
{
	struct dm_job *job = q->head;

	if (job) {
		q->head = job->next;
		if (!q->head)
			q->tail = &q->head;
		job->next = NULL;
	}
	return job;
}

struct dm_job *dm_job_queue_find(const struct dm_job_queue *q, uint64_t job_id)
{
	for (struct dm_job *j = q->head; j; j = j->next)
		if (j->msg.job_id == job_id)
			return j;
	return NULL;
}

/*
 * A stream start that the worker will not see passes to @next, the job after it, or to the
 * next job pushed. That job then needs nothing from before the lost one (a key frame at
 * the seek's target, as a client sends after a seek) or fails for its references: a
 * decoder left with the state from before the seek would decode it against the wrong ones.
 */
static void pass_restart(struct dm_job_queue *q, struct dm_job *next, uint32_t flags)
{
	if (!(flags & DAEDALUS_JOB_FLAG_STREAM_START))
		return;
	if (next)
		next->msg.flags |= DAEDALUS_JOB_FLAG_STREAM_START;
	else
		q->restart_next = true;
}

struct dm_job *dm_job_queue_remove(struct dm_job_queue *q, uint64_t job_id)
{
	for (struct dm_job **p = &q->head; *p; p = &(*p)->next) {
		struct dm_job *job = *p;

		if (job->msg.job_id != job_id)
			continue;
		pass_restart(q, job->next, job->msg.flags);
		*p = job->next;
		if (q->tail == &job->next)
			q->tail = p;
		job->next = NULL;
		return job;
	}
	return NULL;
}

void dm_job_queue_unseen(struct dm_job_queue *q, uint32_t flags)
{
	pass_restart(q, NULL, flags);
}
