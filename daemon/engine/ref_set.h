/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The timestamps of the pictures a stream decoded successfully since its last keyframe or
 * flush. A reference the client names must be one of them, or the decoder's idea of the
 * references (which libavcodec keeps from the bitstream) and the client's have diverged:
 * after a seek to an inter frame, a dropped or failed frame, or client bugs. Such jobs
 * fail instead of showing pictures predicted from the wrong references.
 *
 * A keyframe refreshes every reference slot in VP8 and VP9, so this set is a superset of
 * the live references. It is bounded; once full it forgets the oldest entries and stops
 * failing unknown references (a missing entry then proves nothing).
 */
#ifndef DAEDALUS_REF_SET_H
#define DAEDALUS_REF_SET_H

#include <stdbool.h>
#include <stdint.h>

#define DD_REF_SET_CAPACITY 4096

struct dd_ref_set {
	uint64_t *ts;
	unsigned int count;
	unsigned int next; /* ring position once full */
	bool overflowed;
	bool alloc_failed; /* then nothing can be checked: every lookup succeeds */
};

void dd_ref_set_init(struct dd_ref_set *set);
void dd_ref_set_free(struct dd_ref_set *set);
void dd_ref_set_clear(struct dd_ref_set *set);
void dd_ref_set_add(struct dd_ref_set *set, uint64_t ts);
void dd_ref_set_remove(struct dd_ref_set *set, uint64_t ts);
bool dd_ref_set_contains(const struct dd_ref_set *set, uint64_t ts);
/* Exact membership: false for what a full set forgot (only a positive answer means anything). */
bool dd_ref_set_holds(const struct dd_ref_set *set, uint64_t ts);
bool dd_ref_set_empty(const struct dd_ref_set *set);
/* Adds every entry of from to to, and empties from. */
void dd_ref_set_move_all(struct dd_ref_set *from, struct dd_ref_set *to);

#endif
