/* SPDX-License-Identifier: BSD-2-Clause */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "picture_meter.h"

struct dd_meter {
	atomic_uint refs;
	_Atomic uint64_t limit;
	_Atomic uint64_t held;
	_Atomic uint64_t peak;
	_Atomic uint64_t refusals;
	_Atomic uint64_t wanted;
};

struct dd_meter *dd_meter_new(void)
{
	struct dd_meter *m = calloc(1, sizeof(*m));

	if (m)
		atomic_init(&m->refs, 1);
	return m;
}

struct dd_meter *dd_meter_ref(struct dd_meter *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

void dd_meter_unref(struct dd_meter *m)
{
	/* acq_rel: whatever the releasing thread did happens before the free */
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

void dd_meter_set_limit(struct dd_meter *m, uint64_t bytes)
{
	atomic_store_explicit(&m->limit, bytes, memory_order_relaxed);
}

uint64_t dd_meter_limit(const struct dd_meter *m)
{
	return atomic_load_explicit(&m->limit, memory_order_relaxed);
}

bool dd_meter_take(struct dd_meter *m, uint64_t bytes)
{
	uint64_t limit = atomic_load_explicit(&m->limit, memory_order_relaxed);
	uint64_t held = atomic_load_explicit(&m->held, memory_order_relaxed);
	uint64_t now, peak;

	/* a compare-exchange loop: two threads allocating at once cannot both pass the limit */
	do {
		now = held + bytes;
		if (now < held || (limit && now > limit)) {
			atomic_store_explicit(&m->wanted, now < held ? UINT64_MAX : now,
					      memory_order_relaxed);
			atomic_fetch_add_explicit(&m->refusals, 1, memory_order_relaxed);
			return false;
		}
	} while (!atomic_compare_exchange_weak_explicit(&m->held, &held, now,
							memory_order_relaxed,
							memory_order_relaxed));
	peak = atomic_load_explicit(&m->peak, memory_order_relaxed);
	while (now > peak && !atomic_compare_exchange_weak_explicit(&m->peak, &peak, now,
								    memory_order_relaxed,
								    memory_order_relaxed))
		;
	return true;
}

bool dd_meter_fits(const struct dd_meter *m, uint64_t bytes)
{
	uint64_t limit = atomic_load_explicit(&m->limit, memory_order_relaxed);
	uint64_t held = atomic_load_explicit(&m->held, memory_order_relaxed);

	return !limit || (held + bytes >= held && held + bytes <= limit);
}

void dd_meter_give(struct dd_meter *m, uint64_t bytes)
{
	atomic_fetch_sub_explicit(&m->held, bytes, memory_order_relaxed);
}

uint64_t dd_meter_held(const struct dd_meter *m)
{
	return atomic_load_explicit(&m->held, memory_order_relaxed);
}

uint64_t dd_meter_peak(const struct dd_meter *m)
{
	return atomic_load_explicit(&m->peak, memory_order_relaxed);
}

uint64_t dd_meter_refusals(const struct dd_meter *m, uint64_t *wanted)
{
	if (wanted)
		*wanted = atomic_load_explicit(&m->wanted, memory_order_relaxed);
	return atomic_load_explicit(&m->refusals, memory_order_relaxed);
}

int dd_meter_fail(const struct dd_meter *m, struct dd_error *err)
{
	uint64_t wanted;

	dd_meter_refusals(m, &wanted);
	return dd_fail_kind(err, DD_ERR_NO_MEMORY, "the decoder's pictures would hold %" PRIu64
			    " KiB, past the %" PRIu64 " KiB its stream may take (the stream's claim "
			    "on the memory budget)", (wanted + 1023) / 1024,
			    (dd_meter_limit(m) + 1023) / 1024);
}
