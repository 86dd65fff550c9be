/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A context's job queue (process/job_queue.c): jobs come out in the order they went in, a
 * job taken out before its turn (a JOB_CANCEL the kernel waits for no answer to) leaves the
 * others in order, and a stream start (a seek) that never reaches the worker, dropped or
 * refused, passes to the job after it, or to the next job pushed when it was the last: the
 * decoder must still be reset there.
 */
#include <stdlib.h>

#include "job_queue.h"
#include "test_check.h"

static int failures;
static struct dm_job jobs[8];

static struct dm_job *job(unsigned int id, uint32_t flags)
{
	struct dm_job *j = &jobs[id];

	*j = (struct dm_job){ .msg = { .job_id = id, .flags = flags } };
	return j;
}

static bool starts(const struct dm_job *j)
{
	return j->msg.flags & DAEDALUS_JOB_FLAG_STREAM_START;
}

/* The ids taken until the queue is empty, as digits (at most 7). */
static unsigned int drain_ids(struct dm_job_queue *q)
{
	unsigned int ids = 0;
	struct dm_job *j;

	while ((j = dm_job_queue_take(q)))
		ids = ids * 10 + (unsigned int)j->msg.job_id;
	CHECK(dm_job_queue_empty(q), "the queue is empty once drained");
	return ids;
}

static void order(void)
{
	struct dm_job_queue q;

	dm_job_queue_init(&q);
	CHECK(!dm_job_queue_take(&q), "an empty queue gives no job");
	dm_job_queue_push(&q, job(1, 0));
	dm_job_queue_push(&q, job(2, 0));
	dm_job_queue_push(&q, job(3, 0));
	CHECK(dm_job_queue_find(&q, 2) == &jobs[2], "a queued job is found");
	CHECK(!dm_job_queue_find(&q, 7), "an unknown job is not");
	CHECK(!dm_job_queue_remove(&q, 7), "an unknown job is not removed");
	CHECK(dm_job_queue_take(&q) == &jobs[1], "the oldest first");
	dm_job_queue_push(&q, job(4, 0));
	CHECK(drain_ids(&q) == 234, "then in order, a later push last");
	for (unsigned int i = 1; i <= 4; i++)
		CHECK(!starts(&jobs[i]), "job %u starts no stream", i);
}

static void removed(void)
{
	struct dm_job_queue q;

	/* from the middle, the head and the tail: the tail pointer follows */
	dm_job_queue_init(&q);
	for (unsigned int i = 1; i <= 5; i++)
		dm_job_queue_push(&q, job(i, 0));
	CHECK(dm_job_queue_remove(&q, 3) == &jobs[3], "the middle job removed");
	CHECK(dm_job_queue_remove(&q, 1) == &jobs[1], "the head removed");
	CHECK(dm_job_queue_remove(&q, 5) == &jobs[5], "the tail removed");
	CHECK(!dm_job_queue_find(&q, 3), "a removed job is not found");
	dm_job_queue_push(&q, job(6, 0));
	CHECK(drain_ids(&q) == 246, "the others in order, a push after the removed tail last");
	CHECK(!starts(&jobs[6]), "no stream start passed on");

	/* the only job */
	dm_job_queue_push(&q, job(1, 0));
	CHECK(dm_job_queue_remove(&q, 1) == &jobs[1], "the only job removed");
	CHECK(dm_job_queue_empty(&q), "the queue is empty then");
	dm_job_queue_push(&q, job(2, 0));
	CHECK(drain_ids(&q) == 2, "and a push after it is taken");
}

static void restarts(void)
{
	struct dm_job_queue q;

	/* a removed stream start passes to the job after it */
	dm_job_queue_init(&q);
	dm_job_queue_push(&q, job(1, 0));
	dm_job_queue_push(&q, job(2, DAEDALUS_JOB_FLAG_STREAM_START));
	dm_job_queue_push(&q, job(3, 0));
	dm_job_queue_remove(&q, 2);
	CHECK(!starts(&jobs[1]), "not to the job before it");
	CHECK(starts(&jobs[3]), "a removed stream start passes to the next job");
	CHECK(drain_ids(&q) == 13, "1 and 3 left");

	/* removed last: to the next job pushed, once */
	dm_job_queue_push(&q, job(4, DAEDALUS_JOB_FLAG_STREAM_START));
	dm_job_queue_remove(&q, 4);
	dm_job_queue_push(&q, job(5, 0));
	dm_job_queue_push(&q, job(6, 0));
	CHECK(starts(&jobs[5]), "a stream start removed last passes to the next push");
	CHECK(!starts(&jobs[6]), "and only to it");
	CHECK(drain_ids(&q) == 56, "5 and 6 left");

	/* refused by the main loop: never queued */
	dm_job_queue_push(&q, job(1, 0));
	dm_job_queue_unseen(&q, DAEDALUS_JOB_FLAG_STREAM_START);
	dm_job_queue_push(&q, job(2, 0));
	CHECK(!starts(&jobs[1]), "a refused stream start does not go to a job before it");
	CHECK(starts(&jobs[2]), "it goes to the next job pushed");
	dm_job_queue_unseen(&q, DAEDALUS_JOB_FLAG_HOLD);
	dm_job_queue_push(&q, job(3, 0));
	CHECK(!starts(&jobs[3]), "a refused job that started no stream passes nothing");
	CHECK(drain_ids(&q) == 123, "1, 2 and 3 in order");

	/* a removed job that started nothing: the next keeps its flags */
	dm_job_queue_push(&q, job(1, 0));
	dm_job_queue_push(&q, job(2, 0));
	dm_job_queue_remove(&q, 1);
	CHECK(!starts(&jobs[2]), "no stream start from a job that had none");
	CHECK(drain_ids(&q) == 2, "2 left");
}

int main(void)
{
	order();
	removed();
	restarts();
	return check_summary("job-queue", failures);
}
