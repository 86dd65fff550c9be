/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine test drivers' checks of a stream's picture meter (engine/picture_meter.h):
 * --starve's window of jobs decoded with a limit of one byte, and the count at the close.
 * Not for the device clients, which have no engine.
 */
#ifndef DAEDALUS_TEST_METER_CHECKS_H
#define DAEDALUS_TEST_METER_CHECKS_H

#include <stdbool.h>

#include "engine.h"

/* --starve [A:]B: jobs from..to - 1 starve; kind: how job `from` failed (-1: it did not). */
struct starve {
	long from, to;
	int kind;
};

#define STARVE_NONE { .from = -1, .to = -1, .kind = -1 }

/* Parses ARG into *s (A = 0 when not given): 0, or -1 with the reason on stderr. */
int starve_parse(struct starve *s, const char *arg);

bool starve_in(const struct starve *s, long job);

/*
 * A job failed with err: keeps how job `from` failed; 1 (and why on stderr) when a job
 * outside the window failed for the memory limit (a refusal reported by the wrong job).
 */
int starve_failed(struct starve *s, long job, const struct dd_error *err);

/* After the last job: 1 (and why on stderr) when job `from` did not fail for the limit. */
int starve_done(const struct starve *s);

/*
 * Closes the stream. Every picture is released then, so the meter of its pictures must be
 * back at 0 (a byte not given back, or given back twice, shows) and must have counted
 * something: 1 (and why on stderr) when not.
 */
int stream_close_counted(struct dd_stream *stream);

#endif
