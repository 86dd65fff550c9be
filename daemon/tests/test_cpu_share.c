/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The CPUs shared out among the streams that decode (process/cpu_share.c), driven with the
 * timelines the workers produce: one stream alone, a second one starting and pausing, four
 * streams on two and on four CPUs (a Raspberry Pi 5), clients that wait for each request
 * beside one that keeps requests out, a long decode, and a stream that closes while busy.
 */
#include <stdio.h>

#include "cpu_share.h"
#include "test_check.h"

#define MS 1000000LL

static int failures;

/* Jobs of a stream every 33 ms from t0 to t1 (a 30 fps video), its client `depth` deep. */
static void play(struct dm_cpu_share *s, struct dm_share_member *m, unsigned int depth,
		 int64_t t0, int64_t t1)
{
	for (int64_t t = t0; t <= t1; t += 33 * MS)
		dm_cpu_share_job(s, m, depth, t);
}

static void alone_and_a_second_stream(void)
{
	struct dm_cpu_share s;
	struct dm_share_member a = { 0 }, b = { 0 };

	dm_cpu_share_init(&s, 2);
	CHECK(dm_cpu_share_idle_in_ns(&a, 0) == 0, "a stream with no job yet has nothing to time");
	play(&s, &a, 2, 0, 1000 * MS);
	CHECK(atomic_load(&s.busy) == 1 && atomic_load(&s.frames) == 2, "busy %u frames %u",
	      atomic_load(&s.busy), atomic_load(&s.frames));
	CHECK(dm_cpu_share_frames_fit(&s, &a, 2), "one stream with 2 granted on 2 CPUs held back");
	/* a second stream starts: 2 + 2 frames on 2 CPUs do not fit */
	play(&s, &b, 2, 1000 * MS, 2000 * MS);
	play(&s, &a, 2, 1000 * MS, 2000 * MS);
	CHECK(atomic_load(&s.busy) == 2 && atomic_load(&s.frames) == 4, "busy %u frames %u",
	      atomic_load(&s.busy), atomic_load(&s.frames));
	CHECK(!dm_cpu_share_frames_fit(&s, &a, 2), "two streams of 2 frames each fit 2 CPUs");
	/* b pauses: still counted until DM_SHARE_IDLE_NS after its last job */
	int64_t last_b = b.last_ns;
	int64_t left = dm_cpu_share_idle_in_ns(&b, last_b + 400 * MS);

	CHECK(left == DM_SHARE_IDLE_NS - 400 * MS, "idle in %lld ns, 400 ms after the last job",
	      (long long)left);
	dm_cpu_share_idle(&s, &b, last_b + 400 * MS); /* a spurious wake-up: too early */
	CHECK(atomic_load(&s.busy) == 2, "a paused stream left after 400 ms");
	CHECK(dm_cpu_share_idle_in_ns(&b, last_b + DM_SHARE_IDLE_NS + 5 * MS) == 1,
	      "an overdue member must be timed at once");
	dm_cpu_share_idle(&s, &b, last_b + DM_SHARE_IDLE_NS);
	CHECK(atomic_load(&s.busy) == 1 && atomic_load(&s.frames) == 2 && !b.busy,
	      "a stream paused for 1 s still counted (busy %u frames %u)", atomic_load(&s.busy),
	      atomic_load(&s.frames));
	CHECK(dm_cpu_share_idle_in_ns(&b, last_b + DM_SHARE_IDLE_NS) == 0, "idle member timed");
	CHECK(dm_cpu_share_frames_fit(&s, &a, 2), "a alone again, yet held back");
	/* b plays again: counted at its first job */
	play(&s, &b, 2, 4000 * MS, 4100 * MS);
	CHECK(atomic_load(&s.busy) == 2, "a stream that resumed not counted");
	/* and closes while busy */
	dm_cpu_share_leave(&s, &b);
	dm_cpu_share_leave(&s, &b);
	CHECK(atomic_load(&s.busy) == 1 && atomic_load(&s.frames) == 2,
	      "busy %u frames %u after a close (twice)", atomic_load(&s.busy),
	      atomic_load(&s.frames));
	dm_cpu_share_leave(&s, &a);
	CHECK(atomic_load(&s.busy) == 0 && atomic_load(&s.frames) == 0,
	      "busy %u frames %u after every close", atomic_load(&s.busy), atomic_load(&s.frames));
}

static void four_streams(void)
{
	struct dm_cpu_share two, four;
	struct dm_share_member m2[4] = { 0 }, m4[4] = { 0 };

	dm_cpu_share_init(&two, 2);
	dm_cpu_share_init(&four, 4);
	for (int i = 0; i < 4; i++) {
		play(&two, &m2[i], 2, 0, 500 * MS);
		play(&four, &m4[i], 2, 0, 500 * MS);
		/* on a Pi 5: two streams of 2 frames fit its four cores, a third does not */
		CHECK(dm_cpu_share_frames_fit(&four, &m4[i], 2) == (i < 2),
		      "%d streams on 4 CPUs: fit %d", i + 1,
		      dm_cpu_share_frames_fit(&four, &m4[i], 2));
		CHECK(dm_cpu_share_frames_fit(&two, &m2[i], 2) == (i < 1),
		      "%d streams on 2 CPUs: fit %d", i + 1,
		      dm_cpu_share_frames_fit(&two, &m2[i], 2));
	}
	/* a count of 0 CPUs is taken as 1; a stream alone keeps its frames even there */
	struct dm_cpu_share one;
	struct dm_share_member lone = { 0 }, other = { 0 };

	dm_cpu_share_init(&one, 0);
	CHECK(one.cpus == 1, "cpus %u for 0", one.cpus);
	play(&one, &lone, 2, 0, 100 * MS);
	CHECK(dm_cpu_share_frames_fit(&one, &lone, 2), "a stream alone on 1 CPU held back");
	play(&one, &other, 1, 0, 100 * MS);
	CHECK(!dm_cpu_share_frames_fit(&one, &lone, 2), "2 + 1 frames fit 1 CPU");
}

/* Clients that wait for each request count one frame: a pipelining one still fits beside. */
static void synchronous_clients(void)
{
	struct dm_cpu_share s;
	struct dm_share_member chromium = { 0 }, hwaccel = { 0 }, gst = { 0 };

	dm_cpu_share_init(&s, 4);
	play(&s, &chromium, 1, 0, 500 * MS);
	play(&s, &hwaccel, 1, 0, 500 * MS);
	play(&s, &gst, 2, 0, 500 * MS);
	CHECK(atomic_load(&s.frames) == 4, "frames %u for 1 + 1 + 2", atomic_load(&s.frames));
	CHECK(dm_cpu_share_frames_fit(&s, &gst, 2), "1 + 1 + 2 frames do not fit 4 CPUs");
	/* a fourth, pipelining: 6 frames on 4 CPUs */
	struct dm_share_member gst2 = { 0 };

	play(&s, &gst2, 2, 0, 500 * MS);
	CHECK(!dm_cpu_share_frames_fit(&s, &gst, 2), "1 + 1 + 2 + 2 frames fit 4 CPUs");
	/* the client of gst2 turns out to wait for each request: its count drops to one */
	dm_cpu_share_job(&s, &gst2, 1, 600 * MS);
	CHECK(atomic_load(&s.frames) == 5, "frames %u after a depth change", atomic_load(&s.frames));
	CHECK(dm_cpu_share_frames_fit(&s, &gst2, 1) == false, "5 frames fit 4 CPUs");
}

/* Idle time runs from a job's finish too: a decode longer than it does not end the stream. */
static void long_decode(void)
{
	struct dm_cpu_share s;
	struct dm_share_member a = { 0 }, b = { 0 };

	dm_cpu_share_init(&s, 2);
	dm_cpu_share_job(&s, &a, 2, 0);
	dm_cpu_share_job(&s, &b, 2, 0);
	/* a's job takes 1.5 s; it finishes and its worker waits for the next */
	dm_cpu_share_touch(&a, 1500 * MS);
	CHECK(dm_cpu_share_idle_in_ns(&a, 1500 * MS) == DM_SHARE_IDLE_NS,
	      "idle in %lld ns right after a finish", (long long)dm_cpu_share_idle_in_ns(&a, 1500 * MS));
	dm_cpu_share_idle(&s, &a, 1600 * MS);
	CHECK(a.busy && atomic_load(&s.busy) == 2, "a stream left 100 ms after its long decode");
	dm_cpu_share_touch(&b, 3000 * MS); /* untouched: b was counted busy, stays */
	dm_cpu_share_leave(&s, &b);
	dm_cpu_share_touch(&b, 3100 * MS);
	CHECK(!b.busy && dm_cpu_share_idle_in_ns(&b, 3100 * MS) == 0,
	      "a touch brought a closed stream back");
	dm_cpu_share_leave(&s, &a);
	CHECK(atomic_load(&s.busy) == 0 && atomic_load(&s.frames) == 0, "busy %u frames %u",
	      atomic_load(&s.busy), atomic_load(&s.frames));
}

int main(void)
{
	alone_and_a_second_stream();
	four_streams();
	synchronous_clients();
	long_decode();
	if (failures)
		fprintf(stderr, "test_cpu_share: %d failures\n", failures);
	else
		printf("test_cpu_share: all passed\n");
	return failures ? 1 : 0;
}
