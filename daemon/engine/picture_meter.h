/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The bytes of picture memory one stream's decoder holds, against a limit.
 *
 * The daemon gives each stream a claim on its memory budget before the decoder sees a
 * picture (daemon/process/mem_budget.h): an estimate of what a conformant stream of that
 * codec and size makes a decoder hold. The libraries allocate their pictures through hooks
 * the backends own (libavcodec's get_buffer2, dav1d's picture allocator), and those hooks
 * take the bytes from this meter first: a decoder that would hold more picture memory than
 * its stream's claim (a library bug a hostile stream finds, a reference leaked on an error
 * path, a stream past its codec's limits that the library accepts anyway) gets that
 * allocation refused, so its frame fails with DD_ERR_NO_MEMORY, instead of taking memory
 * the other streams' claims hold until the daemon's cgroup kills every stream at once.
 * Pictures are most of a decoder's memory; what a library allocates otherwise is not seen.
 *
 * Reference-counted: the libraries release pictures from their own threads, and pictures
 * may outlive the stream that made them (a library's worker finishing after the close).
 * Every count is atomic; no lock is taken.
 */
#ifndef DAEDALUS_PICTURE_METER_H
#define DAEDALUS_PICTURE_METER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct dd_meter;

/* A meter with no limit holding nothing, one reference; NULL when out of memory. */
struct dd_meter *dd_meter_new(void);
struct dd_meter *dd_meter_ref(struct dd_meter *m);
/* Drops a reference; the last one frees the meter. NULL is ignored. */
void dd_meter_unref(struct dd_meter *m);

/* The most the pictures may hold from now on; 0: no limit. Held bytes are not taken back. */
void dd_meter_set_limit(struct dd_meter *m, uint64_t bytes);
uint64_t dd_meter_limit(const struct dd_meter *m);

/*
 * Takes bytes for a new picture: true when the pictures then hold no more than the limit.
 * Else nothing is taken, the refusal is counted and the bytes the pictures would have held
 * are kept for dd_meter_refusal().
 */
bool dd_meter_take(struct dd_meter *m, uint64_t bytes);
/*
 * Whether bytes more would fit now; counts nothing (another thread may take them first):
 * for a caller that can give some back before it takes.
 */
bool dd_meter_fits(const struct dd_meter *m, uint64_t bytes);
/* A picture's bytes come back. */
void dd_meter_give(struct dd_meter *m, uint64_t bytes);

uint64_t dd_meter_held(const struct dd_meter *m);
/* The most the pictures held at once since the meter was made. */
uint64_t dd_meter_peak(const struct dd_meter *m);

/*
 * Refusals since the meter was made; *wanted (if not NULL): what the pictures would have
 * held at the last one. A backend compares the count before and after it sends a frame
 * (or marks the packet whose allocation was refused) to tell which frame failed for it.
 */
uint64_t dd_meter_refusals(const struct dd_meter *m, uint64_t *wanted);

/* -1 with err: DD_ERR_NO_MEMORY, the bytes the pictures would have held, the limit. */
int dd_meter_fail(const struct dd_meter *m, struct dd_error *err);

#endif
