/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The timestamps of the pictures a stream decoded successfully since its last keyframe or
 * flush. A reference the client names must be one of them, or the decoder's idea of the
 * references (which libavcodec keeps from the bitstream) and the client's have diverged:
 * after a seek to an inter frame, a dropped or failed frame, or client bugs. Such jobs
 * fail instead of showing pictures predicted from the wrong references.
 *
 * A keyframe refreshes every reference slot in VP8 and VP9, so this set is a superset of
 * the live references. It is bounded: once full, an addition forgets the entry least
 * recently added or named (dd_ref_set_touch(), for every reference of each decoded
 * picture). H.264's DPB and VP8's three slots name every live reference with each picture,
 * so none is forgotten; a VP9 frame names the three of its eight slots it uses, so a slot
 * left unnamed for 4096 pictures and then named fails (until the next key frame: a key
 * frame request, never a wrong picture). It fails closed: a stream thousands of pictures
 * past its last key frame (WebRTC sends them on demand) still has its dropped references
 * caught.
 */
#ifndef DAEDALUS_REF_SET_H
#define DAEDALUS_REF_SET_H

#include <stdbool.h>
#include <stdint.h>

#define DD_REF_SET_CAPACITY 4096

struct dd_ref_set {
	uint64_t *ts;
	uint64_t *used; /* the clock when each entry was last added or named */
	uint64_t clock;
	unsigned int count;
	bool alloc_failed; /* then nothing can be checked: every lookup succeeds */
};

void dd_ref_set_init(struct dd_ref_set *set);
void dd_ref_set_free(struct dd_ref_set *set);
void dd_ref_set_clear(struct dd_ref_set *set);
void dd_ref_set_add(struct dd_ref_set *set, uint64_t ts);
void dd_ref_set_remove(struct dd_ref_set *set, uint64_t ts);
/* A decoded picture named ts as a reference: it is the last the set would forget. */
void dd_ref_set_touch(struct dd_ref_set *set, uint64_t ts);
bool dd_ref_set_contains(const struct dd_ref_set *set, uint64_t ts);
/* Membership without the allocation failure's yes to everything. */
bool dd_ref_set_holds(const struct dd_ref_set *set, uint64_t ts);
bool dd_ref_set_empty(const struct dd_ref_set *set);
/* Adds every entry of from to to, and empties from. */
void dd_ref_set_move_all(struct dd_ref_set *from, struct dd_ref_set *to);

#endif
