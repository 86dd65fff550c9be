/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's warm-up (main.c, engine.h dd_engine_warm_up()): with the real libraries, each
 * codec's built-in sample decodes, every picture of it, through the backend that serves the
 * codec; and twice in a row (the daemon does it once, a restarted one again).
 */
#include <stdio.h>

#include "engine.h"
#include "test_check.h"
#include "warm_samples.h"

static int failures;

int main(void)
{
	struct dd_engine_config cfg = { .threads = 2, .frame_delay = 1 };
	struct dd_engine *engine = dd_engine_new(&cfg);

	CHECK(engine, "no engine");
	if (!engine)
		return 1;
	for (int c = 0; c < DD_CODEC_COUNT; c++) {
		const struct dd_warm_sample *sample = dd_warm_sample((enum dd_codec)c);
		const char *name = dd_codec_name((enum dd_codec)c);

		CHECK(sample && sample->count >= 2, "%s: no sample of two pictures or more", name);
		if (!sample)
			continue;
		for (int round = 0; round < 2; round++) {
			struct dd_error err = { "", DD_ERR_DATA };
			int r = dd_engine_warm_up(engine, (enum dd_codec)c, &err);

			CHECK(r == (int)sample->count, "%s: round %d decoded %d of %u pictures: %s",
			      name, round, r, sample->count, err.msg);
		}
	}
	CHECK(dd_engine_warm_up(engine, DD_CODEC_COUNT, NULL) == 0, "unknown codec warmed up");
	dd_engine_free(engine);
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("every codec's warm-up sample decoded, every picture\n");
	return 0;
}
