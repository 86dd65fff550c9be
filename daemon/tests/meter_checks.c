/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>

#include "meter_checks.h"
#include "picture_meter.h"

int starve_parse(struct starve *s, const char *arg)
{
	if (sscanf(arg, "%ld:%ld", &s->from, &s->to) != 2) {
		s->from = 0;
		s->to = atol(arg);
	}
	if (s->from < 0 || s->to <= s->from) {
		fprintf(stderr, "bad --starve %s\n", arg);
		return -1;
	}
	return 0;
}

bool starve_in(const struct starve *s, long job)
{
	return job >= s->from && job < s->to;
}

int starve_failed(struct starve *s, long job, const struct dd_error *err)
{
	if (job == s->from)
		s->kind = (int)err->kind;
	if (err->kind != DD_ERR_NO_MEMORY || starve_in(s, job))
		return 0;
	fprintf(stderr, "job %ld failed for the memory limit outside --starve\n", job);
	return 1;
}

int starve_done(const struct starve *s)
{
	if (s->from < 0 || s->kind == DD_ERR_NO_MEMORY)
		return 0;
	fprintf(stderr, "--starve: job %ld did not fail for the memory limit\n", s->from);
	return 1;
}

int stream_close_counted(struct dd_stream *stream)
{
	struct dd_meter *m = dd_stream_meter(stream);
	uint64_t held, peak;

	if (!m) {
		fprintf(stderr, "the stream's backend counts no pictures\n");
		dd_stream_close(stream);
		return 1;
	}
	dd_meter_ref(m);
	dd_stream_close(stream);
	held = dd_meter_held(m);
	peak = dd_meter_peak(m);
	dd_meter_unref(m);
	fprintf(stderr, "pictures: %llu bytes at most, %llu still counted after the close\n",
		(unsigned long long)peak, (unsigned long long)held);
	return held != 0 || peak == 0;
}
