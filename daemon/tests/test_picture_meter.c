/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The picture meter (engine/picture_meter.c): takes within the limit, a refusal that takes
 * nothing and is counted with what it wanted, a lowered limit that refuses only growth, the
 * error a backend reports for a refusal, and threads taking and giving at once never
 * holding more than the limit together (the compare-exchange), ending at zero.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picture_meter.h"
#include "test_check.h"

static int failures;

static void single(void)
{
	struct dd_meter *m = dd_meter_new();
	struct dd_error err = { .msg = "" };
	uint64_t wanted = 0;

	CHECK(m, "a meter");
	CHECK(dd_meter_take(m, 1000) && dd_meter_held(m) == 1000, "no limit: anything goes");
	dd_meter_set_limit(m, 3000);
	CHECK(dd_meter_take(m, 2000) && dd_meter_held(m) == 3000, "the limit met exactly");
	CHECK(!dd_meter_take(m, 1), "one byte past it");
	CHECK(dd_meter_held(m) == 3000, "a refusal takes nothing");
	CHECK(dd_meter_refusals(m, &wanted) == 1 && wanted == 3001, "counted, with %" PRIu64,
	      wanted);
	CHECK(dd_meter_fail(m, &err) == -1 && err.kind == DD_ERR_NO_MEMORY &&
	      strstr(err.msg, "would hold 3 KiB") && strstr(err.msg, "past the 3 KiB"),
	      "the refusal as an error: %s", err.msg);
	dd_meter_give(m, 2000);
	dd_meter_set_limit(m, 500);
	CHECK(dd_meter_held(m) == 1000, "a lower limit takes nothing back");
	CHECK(!dd_meter_take(m, 1), "and refuses growth");
	dd_meter_give(m, 1000);
	CHECK(dd_meter_take(m, 500) && dd_meter_held(m) == 500, "room again under it");
	CHECK(!dd_meter_take(m, UINT64_MAX), "a size that wraps is refused");
	dd_meter_give(m, 500);
	CHECK(dd_meter_peak(m) == 3000 && !dd_meter_held(m), "peak %" PRIu64,
	      dd_meter_peak(m));
	dd_meter_ref(m);
	dd_meter_unref(m);
	CHECK(dd_meter_held(m) == 0, "alive after one of two references went");
	dd_meter_unref(m);
}

#define THREADS 4
#define ROUNDS 200000
#define LIMIT 10000

struct worker {
	struct dd_meter *m;
	unsigned int seed;
	long taken, refused, over;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t mine[8] = { 0 };

	for (long i = 0; i < ROUNDS; i++) {
		unsigned int slot = (unsigned int)i % 8;
		uint64_t bytes = (uint64_t)(rand_r(&w->seed) % 2000) + 1;

		if (mine[slot]) {
			dd_meter_give(w->m, mine[slot]);
			mine[slot] = 0;
		}
		if (dd_meter_take(w->m, bytes)) {
			mine[slot] = bytes;
			w->taken++;
		} else {
			w->refused++;
		}
		w->over += dd_meter_held(w->m) > LIMIT;
	}
	for (unsigned int k = 0; k < 8; k++)
		dd_meter_give(w->m, mine[k]);
	return NULL;
}

static void threads(void)
{
	struct dd_meter *m = dd_meter_new();
	struct worker w[THREADS];
	pthread_t t[THREADS];
	long refused = 0, taken = 0, over = 0;

	dd_meter_set_limit(m, LIMIT);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .m = m, .seed = 17u * (unsigned int)i + 1 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		refused += w[i].refused;
		taken += w[i].taken;
		over += w[i].over;
	}
	CHECK(!over, "held past the limit %ld times", over);
	CHECK(dd_meter_peak(m) <= LIMIT, "peak %" PRIu64 " past the limit", dd_meter_peak(m));
	CHECK(refused > 0 && taken > 0, "both happened: %ld taken, %ld refused", taken, refused);
	CHECK(dd_meter_refusals(m, NULL) == (uint64_t)refused, "every refusal counted");
	CHECK(dd_meter_held(m) == 0, "everything given back: %" PRIu64, dd_meter_held(m));
	dd_meter_unref(m);
}

int main(void)
{
	single();
	threads();
	return check_summary("test_picture_meter", failures);
}
