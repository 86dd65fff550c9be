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

/*
 * One lone job in the worker, as it happens (no next job comes): it waits from the submit as
 * dm_grace_wait_ns() says, then drains, which ends decode_ns after the submit or, when the
 * decode had ended, cost_ns after the timeout. Returns the wait.
 */
static int64_t lone_job(struct dm_grace *g, int64_t decode_ns, int64_t cost_ns)
{
	int64_t waited = dm_grace_wait_ns(g, 0, 0, DM_GRACE_DECODE_MAX_NS);
	int64_t drain = waited >= decode_ns ? cost_ns : decode_ns - waited + cost_ns;

	dm_grace_drained(g, waited, drain);
	return waited;
}

/*
 * How long a wait lasts: 2 ms until a drain has shown a lone job's decode, then until the
 * youngest job's decode is expected to end (what a drain would wait for anyway), never past
 * DM_GRACE_DECODE_MAX_NS after the oldest one's submit; the estimate follows decodes that get
 * longer and shorter, a drain's own cost does not ratchet it up, one hung job moves it 2x.
 */
static void waits_as_long_as_a_decode(void)
{
	const int64_t ms = 1000000;
	struct dm_grace g;
	int64_t w;

	dm_grace_init(&g);
	CHECK(dm_grace_wait_ns(&g, 0, 0, DM_GRACE_DECODE_MAX_NS) == DM_GRACE_NS, "first wait %lld",
	      (long long)dm_grace_wait_ns(&g, 0, 0, DM_GRACE_DECODE_MAX_NS));
	/* 1080p under emulation: the first drain waited for an 80 ms decode */
	lone_job(&g, 80 * ms, 0);
	CHECK(g.decode_ns == 80 * ms, "estimate %lld", (long long)g.decode_ns);
	/* the wait ends when the youngest job's decode is expected to, at least 2 ms after now */
	CHECK(dm_grace_wait_ns(&g, 15 * ms, 15 * ms, DM_GRACE_DECODE_MAX_NS) == 65 * ms, "wait %lld",
	      (long long)dm_grace_wait_ns(&g, 15 * ms, 15 * ms, DM_GRACE_DECODE_MAX_NS));
	CHECK(dm_grace_wait_ns(&g, 79 * ms, 79 * ms, DM_GRACE_DECODE_MAX_NS) == DM_GRACE_NS, "late wait");
	/* and never past DM_GRACE_DECODE_MAX_NS after the oldest job's submit */
	w = dm_grace_wait_ns(&g, 15 * ms, DM_GRACE_DECODE_MAX_NS - 10 * ms,
			     DM_GRACE_DECODE_MAX_NS);
	CHECK(w == 10 * ms, "wait %lld with the oldest job near the limit", (long long)w);
	/*
	 * 200 lone 80 ms decodes whose drains cost 6 ms: the estimate stays near the decode, a
	 * little below (it has to outlast a client's turnaround, not to be exact), and the
	 * drain's cost does not ratchet it up
	 */
	for (int i = 0; i < 200; i++)
		lone_job(&g, 80 * ms, 6 * ms);
	CHECK(g.decode_ns >= 55 * ms && g.decode_ns <= 86 * ms, "estimate %lld after 200 drains",
	      (long long)g.decode_ns);
	/* decodes get shorter (a smaller stream): it follows, to about 4 drains' cost */
	for (int i = 0; i < 100; i++)
		lone_job(&g, 5 * ms, 6 * ms);
	CHECK(g.decode_ns <= 26 * ms, "estimate still %lld after 5 ms decodes",
	      (long long)g.decode_ns);
	/* and longer again */
	for (int i = 0; i < 40; i++)
		lone_job(&g, 40 * ms, 6 * ms);
	CHECK(g.decode_ns >= 28 * ms && g.decode_ns <= 46 * ms, "estimate %lld after 40 ms decodes",
	      (long long)g.decode_ns);
	/* one job hung for 2 s: at most twice the estimate, which comes back */
	w = g.decode_ns;
	lone_job(&g, 2000 * ms, 6 * ms);
	CHECK(g.decode_ns <= 2 * w, "estimate %lld after a hung job (was %lld)",
	      (long long)g.decode_ns, (long long)w);
	for (int i = 0; i < 40; i++)
		lone_job(&g, 40 * ms, 6 * ms);
	CHECK(g.decode_ns <= 46 * ms, "estimate %lld 40 jobs after the hang", (long long)g.decode_ns);
	/* small native pictures: the wait stays 2 ms */
	for (int i = 0; i < 100; i++)
		w = lone_job(&g, ms / 2, ms / 4);
	CHECK(w == DM_GRACE_NS, "wait %lld for 0.5 ms decodes", (long long)w);
}

int main(void)
{
	synchronous_client();
	pipelining_client();
	recovers_at_the_first_overlap();
	probe_finds_a_near_miss();
	mode_follows_the_client();
	waits_as_long_as_a_decode();
	if (failures)
		fprintf(stderr, "test_grace: %d failures\n", failures);
	else
		printf("test_grace: all passed\n");
	return failures ? 1 : 0;
}
