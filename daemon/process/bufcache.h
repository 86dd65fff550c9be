/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dmabufs the kernel sent, mapped once and kept by the kernel's stable handle.
 *
 * The kernel installs a dmabuf fd the first time a handle appears in a session and says
 * BUF_GONE when no V4L2 buffer or job uses it any more. A worker may still be writing into
 * a buffer whose job the kernel has already cancelled when BUF_GONE arrives, so mappings
 * are reference counted: BUF_GONE removes the handle from the cache, and the memory is
 * unmapped and the fd closed when the last job using it lets go.
 *
 * Each mapping is watched for SIGBUS (sigbus_guard.h): an exporter that takes the memory
 * back loses that buffer its jobs (dm_mapping_lost()), not the daemon its life.
 */
#ifndef DAEDALUS_DAEMON_BUFCACHE_H
#define DAEDALUS_DAEMON_BUFCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigbus_guard.h"

struct dm_mapping {
	uint64_t handle;
	int fd;
	uint8_t *addr; /* NULL while the fd could not be mapped (only the cache holds it then) */
	size_t len;
	bool writable;
	struct dm_sigbus_slot *guard;
	unsigned int refs; /* the cache's own reference + one per job holding it */
	struct dm_mapping *next;
};

struct dm_bufcache {
	pthread_mutex_t lock;
	struct dm_mapping *buckets[64];
	unsigned int count;
	/* dm_bufcache_reserve(), linked by next; the main thread's, not under lock */
	struct dm_mapping *spares;
	unsigned int nspares;
};

void dm_bufcache_init(struct dm_bufcache *c);
/* Drops every mapping still held by the cache itself (jobs must have let go). */
void dm_bufcache_fini(struct dm_bufcache *c);

/*
 * Makes sure the next n dm_bufcache_add() calls allocate nothing: 0, or -ENOMEM (the spares
 * allocated so far are kept). Main thread only, as dm_bufcache_add(). The main loop reserves
 * what one message can carry before it fetches the message: the kernel hands a handle's fd
 * over once per session, so an fd taken without a place to keep it would leave its buffer
 * unusable until the client frees it.
 */
int dm_bufcache_reserve(struct dm_bufcache *c, unsigned int n);

/*
 * Takes ownership of fd (a fresh dmabuf for handle) and maps length bytes of it; -1 if
 * that failed. A mapping that failed is kept unmapped with its fd, tried again by
 * dm_bufcache_get() (the kernel sends a handle's fd only once). Its structure comes from
 * the reserve if there is one; without, an allocation that fails closes the fd.
 */
int dm_bufcache_add(struct dm_bufcache *c, uint64_t handle, int fd, uint32_t length);

/*
 * A reference to the mapping of handle, or NULL if the kernel never sent it or it still
 * cannot be mapped.
 */
struct dm_mapping *dm_bufcache_get(struct dm_bufcache *c, uint64_t handle);
void dm_bufcache_put(struct dm_bufcache *c, struct dm_mapping *m);

/* BUF_GONE: forget handle; unmapped now or when its last job lets go. */
void dm_bufcache_gone(struct dm_bufcache *c, uint64_t handle);

/*
 * Whether the memory behind the mapping went away under it (a SIGBUS, now anonymous memory):
 * what a job read from it or wrote into it is lost, for good.
 */
bool dm_mapping_lost(const struct dm_mapping *m);
/* Where that is said, for whoever checks it later (dd_job.bitstream_lost). */
const atomic_bool *dm_mapping_lost_flag(const struct dm_mapping *m);

/*
 * DMA_BUF_IOCTL_SYNC start/end around CPU access; callers pair them strictly. The start
 * waits for other devices' fences on the buffer until deadline_ms (dm_now_ms(), clock.h)
 * at most: -ETIMEDOUT then, and no end is due. It polls the buffer first, but a fence
 * added after the poll is waited for inside the ioctl, which has no timeout: the caller
 * keeps a dm_deadline (deadline_signal.h) armed for deadline_ms around the start, whose
 * signal ends that wait.
 */
int dm_mapping_sync_start(const struct dm_mapping *m, bool write, int64_t deadline_ms);
int dm_mapping_sync_end(const struct dm_mapping *m, bool write);

#endif
