/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker's per-context choice to wait for a next job before draining (process/grace.c),
 * driven with the event sequences the worker produces for real clients: a client that waits
 * for each request (every wait times out, no job ever overlaps), GStreamer keeping two
 * requests out (every job overlaps, some waits still time out on a slow turnaround), and a
 * client that changes from one to the other; and the decoder's mode that follows from it.
 */
#include <stdio.h>

#include "grace.h"
#include "test_check.h"

static int failures;

/* n frames of a client that waits for each request: returns how many waits were asked. */
static unsigned int synchronous_frames(struct dm_grace *g, unsigned int n)
{
	unsigned int waits = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (dm_grace_should_wait(g)) {
			waits++;
			dm_grace_timed_out(g); /* nothing comes: the client waits for us */
		}
	}
	return waits;
}

static void synchronous_client(void)
{
	struct dm_grace g;
	unsigned int waits;

	dm_grace_init(&g);
	/* the first DM_GRACE_MISSES frames wait, then the worker drains at once */
	CHECK(synchronous_frames(&g, DM_GRACE_MISSES) == DM_GRACE_MISSES, "first waits");
	CHECK(dm_grace_synchronous(&g), "not synchronous after %u timeouts", DM_GRACE_MISSES);
	CHECK(!dm_grace_should_wait(&g), "waits right after learning");
	/* then probes only, ever rarer: 32, 64, ... 1024 drains apart */
	waits = synchronous_frames(&g, 100000);
	CHECK(waits >= 5 && waits <= 100000 / DM_GRACE_PROBE_MAX + 6,
	      "%u probes in 100000 frames", waits);
	CHECK(g.probe_every == DM_GRACE_PROBE_MAX, "probe interval %u", g.probe_every);
	/* what it costs: about 0.002 grace periods per frame */
	CHECK(g.waits * 1000 < 100000 * 3ull, "%llu waits", g.waits);
}

/*
 * GStreamer: each job but the first is pushed while the one before it is in flight; after
 * it the worker waits, and on a slow turnaround (one in three here, and bursts of three)
 * the wait times out. It never stops waiting.
 */
static void pipelining_client(void)
{
	struct dm_grace g;

	dm_grace_init(&g);
	for (unsigned int i = 0; i < 10000; i++) {
		if (i)
			dm_grace_overlap(&g);
		CHECK(dm_grace_should_wait(&g), "frame %u: no wait for a pipelining client", i);
		if (i % 3 == 0 || (i % 100 >= 50 && i % 100 < 53))
			dm_grace_timed_out(&g);
	}
	CHECK(!dm_grace_synchronous(&g), "taken for synchronous");
	CHECK(g.skipped == 0, "%llu drains without a wait", g.skipped);
}

/*
 * Taken for synchronous after a stall (DM_GRACE_MISSES timeouts in a row), then the client
 * pipelines again: its next overlapping job restores the wait at once, no probe needed.
 */
static void recovers_at_the_first_overlap(void)
{
	struct dm_grace g;

	dm_grace_init(&g);
	synchronous_frames(&g, 200);
	CHECK(dm_grace_synchronous(&g), "not synchronous");
	dm_grace_overlap(&g);
	CHECK(!dm_grace_synchronous(&g), "still synchronous after an overlap");
	CHECK(dm_grace_should_wait(&g), "no wait after an overlap");
	CHECK(g.probe_every == DM_GRACE_PROBE_FIRST, "probe interval not reset: %u",
	      g.probe_every);
	/* and back to synchronous as fast as the first time */
	dm_grace_timed_out(&g);
	CHECK(synchronous_frames(&g, DM_GRACE_MISSES - 1) == DM_GRACE_MISSES - 1, "waits");
	CHECK(dm_grace_synchronous(&g), "not synchronous again");
}

/* A client whose next request comes just after each completion: a probe finds it. */
static void probe_finds_a_near_miss(void)
{
	struct dm_grace g;
	unsigned int n;

	dm_grace_init(&g);
	synchronous_frames(&g, DM_GRACE_MISSES);
	for (n = 0; n < DM_GRACE_PROBE_FIRST && !dm_grace_should_wait(&g); n++)
		;
	CHECK(n == DM_GRACE_PROBE_FIRST - 1, "first probe after %u drains", n + 1);
	dm_grace_overlap(&g); /* the job came during the probe's wait */
	CHECK(dm_grace_should_wait(&g), "no wait after a successful probe");
}

/*
 * The decoder's mode (dm_grace_pipelining()): frame threads for a client not known to wait,
 * one job at a time from its first request on for a client whose first request came alone
 * (the start probe), and after DM_GRACE_MISSES timeouts in a row for one that turned
 * synchronous later; an overlap brings frame threads back.
 */
static void mode_follows_the_client(void)
{
	struct dm_grace g;

	dm_grace_init(&g);
	CHECK(dm_grace_pipelining(&g), "a new context's client taken for synchronous");
	/* GStreamer: its second request comes while the first is held */
	CHECK(dm_grace_should_probe_start(&g), "no start probe");
	CHECK(!dm_grace_should_probe_start(&g), "a second start probe");
	dm_grace_overlap(&g);
	CHECK(dm_grace_pipelining(&g), "pipelining client not decoded for jobs in flight");
	CHECK(!g.start_alone, "start probe timed out");
	/* a stall: taken for synchronous, then an overlap again */
	synchronous_frames(&g, DM_GRACE_MISSES - 1);
	CHECK(dm_grace_pipelining(&g), "one job at a time after %u timeouts",
	      DM_GRACE_MISSES - 1);
	synchronous_frames(&g, 1);
	CHECK(!dm_grace_pipelining(&g), "frame threads after %u timeouts", DM_GRACE_MISSES);
	dm_grace_overlap(&g);
	CHECK(dm_grace_pipelining(&g), "one job at a time after an overlap");

	/* FFmpeg's hwaccel: its first request alone, then never an overlap */
	dm_grace_init(&g);
	CHECK(dm_grace_should_probe_start(&g), "no start probe");
	dm_grace_start_alone(&g);
	CHECK(!dm_grace_pipelining(&g), "frame threads for a client whose first request "
	      "came alone");
	CHECK(!dm_grace_synchronous(&g), "the drain decision changed by the start probe");
	dm_grace_overlap(&g);
	CHECK(dm_grace_pipelining(&g), "an overlap did not bring frame threads back");
	CHECK(!dm_grace_should_probe_start(&g), "a start probe after the start");

	/* a context whose first job came before anything was learnt, no probe: as before */
	dm_grace_init(&g);
	dm_grace_overlap(&g);
	CHECK(!dm_grace_should_probe_start(&g), "a start probe for a known client");
	CHECK(dm_grace_pipelining(&g), "not pipelining");
}

int main(void)
{
	synchronous_client();
	pipelining_client();
	recovers_at_the_first_overlap();
	probe_finds_a_near_miss();
	mode_follows_the_client();
	if (failures)
		fprintf(stderr, "test_grace: %d failures\n", failures);
	else
		printf("test_grace: all passed\n");
	return failures ? 1 : 0;
}
