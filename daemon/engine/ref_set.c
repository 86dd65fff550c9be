/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>

#include "ref_set.h"

void dd_ref_set_init(struct dd_ref_set *set)
{
	*set = (struct dd_ref_set){ 0 };
	set->ts = malloc(DD_REF_SET_CAPACITY * sizeof(*set->ts));
	set->alloc_failed = !set->ts;
}

void dd_ref_set_free(struct dd_ref_set *set)
{
	free(set->ts);
	set->ts = NULL;
}

void dd_ref_set_clear(struct dd_ref_set *set)
{
	set->count = 0;
	set->next = 0;
	set->overflowed = false;
}

static int find(const struct dd_ref_set *set, uint64_t ts)
{
	for (unsigned int i = 0; i < set->count; i++)
		if (set->ts[i] == ts)
			return (int)i;
	return -1;
}

void dd_ref_set_add(struct dd_ref_set *set, uint64_t ts)
{
	if (set->alloc_failed || find(set, ts) >= 0)
		return;
	if (set->count < DD_REF_SET_CAPACITY) {
		set->ts[set->count++] = ts;
		return;
	}
	set->overflowed = true;
	set->ts[set->next] = ts;
	set->next = (set->next + 1) % DD_REF_SET_CAPACITY;
}

void dd_ref_set_remove(struct dd_ref_set *set, uint64_t ts)
{
	int i;

	if (set->alloc_failed)
		return;
	i = find(set, ts);
	if (i < 0)
		return;
	/* order does not matter, except for the ring position once full */
	set->ts[i] = set->ts[--set->count];
	if (set->next > set->count)
		set->next = 0;
}

bool dd_ref_set_contains(const struct dd_ref_set *set, uint64_t ts)
{
	return set->alloc_failed || set->overflowed || find(set, ts) >= 0;
}

bool dd_ref_set_holds(const struct dd_ref_set *set, uint64_t ts)
{
	return !set->alloc_failed && find(set, ts) >= 0;
}

bool dd_ref_set_empty(const struct dd_ref_set *set)
{
	return !set->count && !set->overflowed;
}

void dd_ref_set_move_all(struct dd_ref_set *from, struct dd_ref_set *to)
{
	for (unsigned int i = 0; i < from->count; i++)
		dd_ref_set_add(to, from->ts[i]);
	if (from->overflowed)
		to->overflowed = true;
	dd_ref_set_clear(from);
}
