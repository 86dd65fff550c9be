/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "bufcache.h"
#include "clock.h"
#include "log.h"

#define NUM_BUCKETS (sizeof(((struct dm_bufcache *)0)->buckets) / sizeof(struct dm_mapping *))

static struct dm_mapping **bucket(struct dm_bufcache *c, uint64_t handle)
{
	return &c->buckets[(handle ^ (handle >> 6)) % NUM_BUCKETS];
}

static void release(struct dm_mapping *m)
{
	if (m->addr) {
		dm_sigbus_forget(m->guard);
		munmap(m->addr, m->len);
	}
	close(m->fd);
	free(m);
}

/*
 * Maps m->fd, writable if the fd allows it; 0, or an errno. OUTPUT buffers come read-only:
 * their fds refuse a writable shared mapping.
 */
static int map(struct dm_mapping *m)
{
	bool writable = true;
	void *addr;

	addr = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (addr == MAP_FAILED && (errno == EACCES || errno == EPERM)) {
		writable = false;
		addr = mmap(NULL, m->len, PROT_READ, MAP_SHARED, m->fd, 0);
	}
	if (addr == MAP_FAILED)
		return errno;
	m->guard = dm_sigbus_watch(addr, m->len, writable);
	if (!m->guard) {
		munmap(addr, m->len);
		return ENOMEM;
	}
	m->addr = addr;
	m->writable = writable;
	return 0;
}

void dm_bufcache_init(struct dm_bufcache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void dm_bufcache_fini(struct dm_bufcache *c)
{
	for (size_t i = 0; i < NUM_BUCKETS; i++) {
		while (c->buckets[i]) {
			struct dm_mapping *m = c->buckets[i];

			c->buckets[i] = m->next;
			if (--m->refs == 0)
				release(m);
		}
	}
	c->count = 0;
	while (c->spares) {
		struct dm_mapping *m = c->spares;

		c->spares = m->next;
		free(m);
	}
	c->nspares = 0;
	pthread_mutex_destroy(&c->lock);
}

/*
 * The spares are the main thread's alone (reserve and add run there, fini after the workers
 * are gone): no lock, which the workers take at each job's start and end.
 */
int dm_bufcache_reserve(struct dm_bufcache *c, unsigned int n)
{
	while (c->nspares < n) {
		struct dm_mapping *m = calloc(1, sizeof(*m));

		if (!m)
			return -ENOMEM;
		m->next = c->spares;
		c->spares = m;
		c->nspares++;
	}
	return 0;
}

/* A zeroed mapping structure: a spare if there is one, else a new one (NULL if none). */
static struct dm_mapping *new_mapping(struct dm_bufcache *c)
{
	struct dm_mapping *m = c->spares;

	if (!m)
		return calloc(1, sizeof(*m));
	c->spares = m->next;
	c->nspares--;
	m->next = NULL;
	return m;
}

/* with c->lock held */
static struct dm_mapping **find(struct dm_bufcache *c, uint64_t handle)
{
	struct dm_mapping **p = bucket(c, handle);

	while (*p && (*p)->handle != handle)
		p = &(*p)->next;
	return p;
}

int dm_bufcache_add(struct dm_bufcache *c, uint64_t handle, int fd, uint32_t length)
{
	struct dm_mapping *m;
	int err;

	if (length == 0) {
		dm_err("buffer %llu: the kernel sent a zero-length dmabuf", (unsigned long long)handle);
		close(fd);
		return -1;
	}
	m = new_mapping(c);
	if (!m) {
		dm_err("buffer %llu: out of memory", (unsigned long long)handle);
		close(fd);
		return -1;
	}
	m->handle = handle;
	m->fd = fd;
	m->len = length;
	m->refs = 1;
	/*
	 * The kernel hands a handle's fd over once per session, so a buffer whose mapping
	 * fails keeps its fd here, unmapped, and each job that uses it tries again
	 * (dm_bufcache_get()): vm.max_map_count reached or an allocation refused may pass,
	 * and the buffer need not stay useless until the client frees its buffers.
	 */
	err = map(m);
	if (err)
		dm_err("buffer %llu: cannot map %u bytes: %s (tried again at each job using it)",
		       (unsigned long long)handle, length, strerror(err));

	pthread_mutex_lock(&c->lock);
	struct dm_mapping **p = find(c, handle);
	if (*p) {
		/* a handle is never reused, so this is a new session's fd for the same memory */
		struct dm_mapping *old = *p;

		*p = old->next;
		c->count--;
		if (--old->refs == 0)
			release(old);
	}
	m->next = *bucket(c, handle);
	*bucket(c, handle) = m;
	c->count++;
	pthread_mutex_unlock(&c->lock);
	if (!err)
		dm_dbg("buffer %llu: mapped %u bytes%s", (unsigned long long)handle, length,
		       m->writable ? "" : " read-only");
	return err ? -1 : 0;
}

struct dm_mapping *dm_bufcache_get(struct dm_bufcache *c, uint64_t handle)
{
	struct dm_mapping *m;
	int err = 0;

	pthread_mutex_lock(&c->lock);
	m = *find(c, handle);
	/* only mapped entries are handed out, so nobody but the cache sees one change here */
	if (m && !m->addr) {
		err = map(m);
		if (err)
			m = NULL;
	}
	if (m)
		m->refs++;
	pthread_mutex_unlock(&c->lock);
	if (err)
		dm_dbg("buffer %llu: still cannot map it: %s", (unsigned long long)handle,
		       strerror(err));
	return m;
}

void dm_bufcache_put(struct dm_bufcache *c, struct dm_mapping *m)
{
	bool last;

	if (!m)
		return;
	pthread_mutex_lock(&c->lock);
	last = --m->refs == 0;
	/*
	 * A lost mapping's pages are anonymous memory of the daemon's now, which a picture
	 * written after the loss filled: nothing reads them, every later job using it fails
	 */
	if (!last && dm_sigbus_lost(m->guard))
		madvise(m->addr, m->len, MADV_DONTNEED);
	pthread_mutex_unlock(&c->lock);
	if (last)
		release(m);
}

void dm_bufcache_gone(struct dm_bufcache *c, uint64_t handle)
{
	struct dm_mapping *m;
	bool last = false;

	pthread_mutex_lock(&c->lock);
	struct dm_mapping **p = find(c, handle);
	m = *p;
	if (m) {
		*p = m->next;
		c->count--;
		last = --m->refs == 0;
	}
	pthread_mutex_unlock(&c->lock);
	if (!m) {
		dm_warn("BUF_GONE for unknown buffer %llu", (unsigned long long)handle);
		return;
	}
	dm_dbg("buffer %llu: gone%s", (unsigned long long)handle,
	       last ? "" : " (unmapped when its job finishes)");
	if (last)
		release(m);
}

bool dm_mapping_lost(const struct dm_mapping *m)
{
	return dm_sigbus_lost(m->guard);
}

const atomic_bool *dm_mapping_lost_flag(const struct dm_mapping *m)
{
	return dm_sigbus_lost_flag(m->guard);
}

/*
 * Waits for the fences other devices left on the buffer, as SYNC_START would, but not for
 * ever: a client's dmabuf may carry a fence that signals late or never (GPU work still
 * pending, a fence imported with DMA_BUF_IOCTL_IMPORT_SYNC_FILE), which would hold the
 * worker, the stream's decoder and its memory claim past the client's close, where no
 * hang watch sees it (it is not a decoder call). A dmabuf is readable once its writers'
 * fences signalled and writable once all of them did (dma_buf_poll()).
 */
static int wait_fences(int fd, bool write, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = write ? POLLOUT : POLLIN };

	for (;;) {
		int64_t left = deadline_ms - dm_now_ms();
		int r = poll(&p, 1, left > 0 ? (int)left : 0);

		if (r > 0)
			return p.revents & POLLNVAL ? -EBADF : 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * DMA_BUF_IOCTL_SYNC, again when interrupted (by the caller's deadline signal, or another)
 * until deadline_ms has passed: -ETIMEDOUT then. The end waits for no fence (the dma-buf
 * core calls only the exporter's cache maintenance), so it has no deadline (INT64_MAX).
 */
static int sync_ioctl(const struct dm_mapping *m, uint64_t start_or_end, bool write,
		      int64_t deadline_ms)
{
	struct dma_buf_sync sync = {
		.flags = start_or_end | (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ),
	};

	while (ioctl(m->fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		if (dm_now_ms() >= deadline_ms)
			return -ETIMEDOUT;
	}
	return 0;
}

int dm_mapping_sync_start(const struct dm_mapping *m, bool write, int64_t deadline_ms)
{
	int r = wait_fences(m->fd, write, deadline_ms);

	return r ? r : sync_ioctl(m, DMA_BUF_SYNC_START, write, deadline_ms);
}

int dm_mapping_sync_end(const struct dm_mapping *m, bool write)
{
	return sync_ioctl(m, DMA_BUF_SYNC_END, write, INT64_MAX);
}
