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
 *
 * One user's streams together may hold at most a share of the budget (the kernel names each
 * stream's user, HELLO_FLAG_OWNER): a user who opens stream after stream, in however many
 * processes, meets that share and the rest stays for the other users. Without the share the
 * first user to come could hold it all.
 */
#ifndef DAEDALUS_DAEMON_MEM_BUDGET_H
#define DAEDALUS_DAEMON_MEM_BUDGET_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"

/* The unit of the budget's option and of its log lines. */
#define DM_MIB ((uint64_t)1024 * 1024)

/* A claim whose user the kernel does not name (a module without HELLO_FLAG_OWNER). */
#define DM_OWNER_UNKNOWN UINT32_MAX

/* One stream's claim (its worker's; the links and bytes change under the budget's lock). */
struct dm_mem_claim {
	uint64_t bytes;
	uint32_t owner; /* the stream's user: a uid, or DM_OWNER_UNKNOWN (no share applies) */
	struct dm_mem_claim *next, **prev; /* on the budget's list while bytes > 0 */
};

struct dm_mem_budget {
	pthread_mutex_t lock;
	uint64_t limit; /* bytes; 0 = no limit */
	uint64_t per_user; /* bytes one user's claims may hold together; 0 = no share */
	uint64_t used; /* the sum of the claims */
	struct dm_mem_claim *claims; /* every claim holding bytes, to sum one user's */
};

void dm_mem_budget_init(struct dm_mem_budget *b, uint64_t limit, uint64_t per_user);
void dm_mem_budget_fini(struct dm_mem_budget *b);

/* The default share of one user: two thirds of the budget (0 for no budget). */
uint64_t dm_mem_per_user_default(uint64_t limit);

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

enum dm_mem_verdict {
	DM_MEM_FITS = 0,
	DM_MEM_OVER_BUDGET = -1, /* beyond what the budget has left */
	DM_MEM_OVER_SHARE = -2, /* beyond what the claim's user has left of its share */
};

/*
 * Makes the stream's claim `bytes` (larger or smaller than before) for its user c->owner
 * (set before the first claim). DM_MEM_FITS, or why a larger claim does not fit beside the
 * others: the old claim stays, and *free_bytes says what was left for it.
 */
enum dm_mem_verdict dm_mem_claim(struct dm_mem_budget *b, struct dm_mem_claim *c,
				 uint64_t bytes, uint64_t *free_bytes);
/* The stream closes: its claim goes back. */
void dm_mem_release(struct dm_mem_budget *b, struct dm_mem_claim *c);

#endif
