/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>

#include "ref_set.h"

void dd_ref_set_init(struct dd_ref_set *set)
{
	*set = (struct dd_ref_set){ 0 };
	set->ts = malloc(DD_REF_SET_CAPACITY * sizeof(*set->ts));
	set->used = malloc(DD_REF_SET_CAPACITY * sizeof(*set->used));
	set->alloc_failed = !set->ts || !set->used;
}

void dd_ref_set_free(struct dd_ref_set *set)
{
	free(set->ts);
	free(set->used);
	set->ts = NULL;
	set->used = NULL;
}

void dd_ref_set_clear(struct dd_ref_set *set)
{
	set->count = 0;
}

static int find(const struct dd_ref_set *set, uint64_t ts)
{
	for (unsigned int i = 0; i < set->count; i++)
		if (set->ts[i] == ts)
			return (int)i;
	return -1;
}

/* The entry least recently added or named: the one a full set forgets. */
static unsigned int least_used(const struct dd_ref_set *set)
{
	unsigned int oldest = 0;

	for (unsigned int i = 1; i < set->count; i++)
		if (set->used[i] < set->used[oldest])
			oldest = i;
	return oldest;
}

void dd_ref_set_add(struct dd_ref_set *set, uint64_t ts)
{
	int i;

	if (set->alloc_failed)
		return;
	i = find(set, ts);
	if (i < 0) {
		i = set->count < DD_REF_SET_CAPACITY ? (int)set->count++ : (int)least_used(set);
		set->ts[i] = ts;
	}
	set->used[i] = ++set->clock;
}

/*
 * Only once full: until then nothing is forgotten, and the live references a picture names
 * are stamped before the addition that first forgets (record_success() touches them first),
 * so the add order is recency enough. Saves a search of the set per reference per picture.
 */
void dd_ref_set_touch(struct dd_ref_set *set, uint64_t ts)
{
	int i;

	if (set->alloc_failed || set->count < DD_REF_SET_CAPACITY)
		return;
	i = find(set, ts);
	if (i >= 0)
		set->used[i] = ++set->clock;
}

void dd_ref_set_remove(struct dd_ref_set *set, uint64_t ts)
{
	int i;

	if (set->alloc_failed)
		return;
	i = find(set, ts);
	if (i < 0)
		return;
	/* order does not matter: the last entry takes its place */
	set->count--;
	set->ts[i] = set->ts[set->count];
	set->used[i] = set->used[set->count];
}

bool dd_ref_set_contains(const struct dd_ref_set *set, uint64_t ts)
{
	return set->alloc_failed || find(set, ts) >= 0;
}

bool dd_ref_set_holds(const struct dd_ref_set *set, uint64_t ts)
{
	return !set->alloc_failed && find(set, ts) >= 0;
}

bool dd_ref_set_empty(const struct dd_ref_set *set)
{
	return !set->count;
}

void dd_ref_set_move_all(struct dd_ref_set *from, struct dd_ref_set *to)
{
	for (unsigned int i = 0; i < from->count; i++)
		dd_ref_set_add(to, from->ts[i]);
	dd_ref_set_clear(from);
}
