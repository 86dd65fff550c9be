/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A context's jobs between the main loop, which adds them in the kernel's order, and its
 * worker, which takes them oldest first. A job can leave before its turn (a JOB_CANCEL for
 * which the kernel waits for no COMPLETE), and some never enter (the main loop refused
 * them): when such a job restarted the stream (DAEDALUS_JOB_FLAG_STREAM_START, a seek),
 * the job after it restarts it in its place, so that the decoder still drops what came
 * before. No locking: the owner's lock guards the queue.
 */
#ifndef DAEDALUS_DAEMON_JOB_QUEUE_H
#define DAEDALUS_DAEMON_JOB_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"

struct dm_job_queue {
	struct dm_job *head, **tail; /* oldest first */
	/* a job that never reached the queue restarted the stream: the next pushed does */
	bool restart_next;
};

void dm_job_queue_init(struct dm_job_queue *q);
static inline bool dm_job_queue_empty(const struct dm_job_queue *q)
{
	return !q->head;
}
/* Appends a job: the queue holds it until taken or removed. */
void dm_job_queue_push(struct dm_job_queue *q, struct dm_job *job);
/* The oldest job, taken off the queue (the caller owns it), or NULL if there is none. */
struct dm_job *dm_job_queue_take(struct dm_job_queue *q);
/* The queued job of that id, left in the queue, or NULL. */
struct dm_job *dm_job_queue_find(const struct dm_job_queue *q, uint64_t job_id);
/* Takes the queued job of that id off the queue (the caller owns it), or NULL. */
struct dm_job *dm_job_queue_remove(struct dm_job_queue *q, uint64_t job_id);
/* A job that never entered the queue, with its DAEDALUS_JOB_FLAG_*: as if removed. */
void dm_job_queue_unseen(struct dm_job_queue *q, uint32_t flags);

#endif
