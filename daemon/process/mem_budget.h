/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The memory the daemon's decoders may take, shared out among the streams. The daemon is one
 * process for every client, with one memory limit (its unit's MemoryMax=): a decoder that
 * takes more than is left gets the daemon killed, and with it every other client's stream.
 * So each stream claims, before its decoder sees a picture of a new size, what a decoder of
 * that codec and size may hold; a claim that does not fit beside the others fails that
 * stream's frames (REASON_NO_MEMORY), and the streams already decoding keep their memory.
 * The claim goes back when the stream closes.
 *
 * A decoder's memory is mostly pictures: the references its codec may keep, one per frame it
 * decodes at once, and the one it outputs, each with its side data. The libraries allocate
 * inside themselves, so the claim is an estimate from the codec's limits, not a measurement:
 * at 1080p it is above what each codec's decoder was measured to take (docs/security.md),
 * but a library can take more than it says.
 */
#ifndef DAEDALUS_DAEMON_MEM_BUDGET_H
#define DAEDALUS_DAEMON_MEM_BUDGET_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"

/* The unit of the budget's option and of its log lines. */
#define DM_MIB ((uint64_t)1024 * 1024)

struct dm_mem_budget {
	pthread_mutex_t lock;
	uint64_t limit; /* bytes; 0 = no limit */
	uint64_t used; /* the sum of the claims */
};

/* One stream's claim (its worker's only). */
struct dm_mem_claim {
	uint64_t bytes;
};

void dm_mem_budget_init(struct dm_mem_budget *b, uint64_t limit);
void dm_mem_budget_fini(struct dm_mem_budget *b);

/*
 * The default budget: three quarters of the smallest memory.max on the way from the daemon's
 * cgroup to the root (cgroup v2 under cgroup_root, the path read from proc_cgroup, i.e.
 * /proc/self/cgroup), or of the machine's memory (phys_bytes) when none is set or it cannot
 * be read. Reads files: before the sandbox.
 */
uint64_t dm_mem_budget_default(const char *cgroup_root, const char *proc_cgroup,
			       uint64_t phys_bytes);

/*
 * What a stream of codec at width x height and bit_depth may hold, with frames decoded at
 * once (the engine's frame_delay, at least 1). 0 for a size of 0.
 */
uint64_t dm_mem_estimate(enum dd_codec codec, uint32_t width, uint32_t height,
			 unsigned int bit_depth, unsigned int frames);

/*
 * Makes the stream's claim `bytes` (larger or smaller than before). 0; -1 when a larger claim
 * does not fit beside the others: the old claim stays, *free_bytes says what was left.
 */
int dm_mem_claim(struct dm_mem_budget *b, struct dm_mem_claim *c, uint64_t bytes,
		 uint64_t *free_bytes);
/* The stream closes: its claim goes back. */
void dm_mem_release(struct dm_mem_budget *b, struct dm_mem_claim *c);

#endif
