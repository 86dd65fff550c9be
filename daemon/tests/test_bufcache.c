/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A buffer whose first mapping fails is tried again at its next job, not lost for the
 * session: the kernel sends a handle's fd only once. The fd the cache keeps is first one
 * that cannot be mapped (a pipe's), then, under the same number, a memfd (dup2()), as
 * vm.max_map_count or a refused allocation passing would make the same dmabuf mappable.
 *
 * And SYNC_START gives up on fences that do not signal: a pipe stands in for a dmabuf whose
 * fences are pending (poll() says not ready, as dma_buf_poll() does then).
 *
 * And the fds of a message the main loop fetched go into structures it reserved before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bufcache.h"
#include "clock.h"
#include "sigbus_guard.h"
#include "test_check.h"

#define LEN 8192

static int failures;

/* The cache's allocations (linked with --wrap=calloc) fail while this is set. */
static bool calloc_fails;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fails) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

static int memfd(bool sealed)
{
	int fd = memfd_create("bufcache-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, LEN) || pwrite(fd, "\x42", 1, 5) != 1 ||
	    (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE))) {
		perror("memfd");
		exit(1);
	}
	return fd;
}

/* An fd mmap() refuses (ENODEV), handed to the cache; its number is returned. */
static int add_unmappable(struct dm_bufcache *c, uint64_t handle)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC)) {
		perror("pipe");
		exit(1);
	}
	close(p[1]);
	CHECK(dm_bufcache_add(c, handle, p[0], LEN) == -1, "a pipe was mapped");
	return p[0];
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

static void mapped_at_a_later_job(struct dm_bufcache *c, bool sealed)
{
	uint64_t handle = sealed ? 2 : 1;
	int mem = memfd(sealed); /* first: a number the cache closed must not come back as it */
	int fd = add_unmappable(c, handle);
	struct dm_mapping *m;

	CHECK(c->count == 1, "the unmapped buffer was dropped (%u in the cache)", c->count);
	CHECK(is_open(fd), "the unmapped buffer's fd was closed");
	CHECK(!dm_bufcache_get(c, handle), "a job got a buffer that cannot be mapped");
	CHECK(!dm_bufcache_get(c, handle), "a job got a buffer that cannot be mapped (again)");

	/* the same fd number, now mappable */
	CHECK(dup2(mem, fd) == fd, "dup2");
	m = dm_bufcache_get(c, handle);
	CHECK(m && m->addr, "the next job after the mapping became possible got nothing");
	if (m) {
		CHECK(m->writable == !sealed, "mapped %s", m->writable ? "writable" : "read-only");
		CHECK(m->len == LEN && m->addr[5] == 0x42, "not the memfd's memory");
		CHECK(dm_bufcache_get(c, handle) == m, "a second job got another mapping");
		dm_bufcache_put(c, m);
		dm_bufcache_put(c, m);
	}
	dm_bufcache_gone(c, handle);
	CHECK(!is_open(fd), "BUF_GONE left the fd open");
	close(mem);
}

static void gone_while_unmapped(struct dm_bufcache *c)
{
	int fd = add_unmappable(c, 3);

	CHECK(!dm_bufcache_get(c, 3), "a job got a buffer that cannot be mapped");
	dm_bufcache_gone(c, 3);
	CHECK(c->count == 0, "%u buffers left after BUF_GONE", c->count);
	CHECK(!is_open(fd), "BUF_GONE of an unmapped buffer left its fd open");
}

/* A new session's fd for the handle replaces the unmapped one, and the cache's end closes it. */
static void replaced_then_finished(struct dm_bufcache *c)
{
	int fd = add_unmappable(c, 4);
	int mem = memfd(false);
	int held = dup(mem);

	CHECK(dm_bufcache_add(c, 4, held, LEN) == 0, "a mappable fd was refused");
	CHECK(!is_open(fd), "the unmapped fd was not closed when replaced");
	CHECK(c->count == 1, "%u buffers after the replacement", c->count);
	fd = add_unmappable(c, 5);
	dm_bufcache_fini(c);
	CHECK(!is_open(fd), "the cache's end left an unmapped buffer's fd open");
	CHECK(!is_open(held), "the cache's end left a mapped buffer's fd open");
	close(mem);
	dm_bufcache_init(c);
}

/*
 * What the main loop reserves before it fetches a message is what the message's fds are
 * kept in: an add takes a reserved structure (so no allocation can fail it and close its
 * fd), and a reserve tops the spares up to what is asked. Then the same with every
 * allocation of the cache failing: the reserved adds keep their fds, the next one does not.
 */
static void adds_take_the_reserve(struct dm_bufcache *c)
{
	struct dm_mapping *reserved[2], *m;
	int mem = memfd(false);

	CHECK(dm_bufcache_reserve(c, 2) == 0 && c->nspares == 2, "reserved %u of 2", c->nspares);
	reserved[0] = c->spares;
	reserved[1] = c->spares ? c->spares->next : NULL;
	CHECK(dm_bufcache_add(c, 6, dup(mem), LEN) == 0, "a mappable fd was refused");
	CHECK(dm_bufcache_add(c, 7, dup(mem), LEN) == 0, "a mappable fd was refused");
	CHECK(c->nspares == 0, "%u spares left after two adds", c->nspares);
	for (uint64_t h = 6; h <= 7; h++) {
		m = dm_bufcache_get(c, h);
		CHECK(m && (m == reserved[0] || m == reserved[1]),
		      "buffer %llu was not kept in a reserved structure", (unsigned long long)h);
		if (m)
			dm_bufcache_put(c, m);
	}
	CHECK(dm_bufcache_reserve(c, 3) == 0 && c->nspares == 3, "topped up to %u of 3",
	      c->nspares);
	CHECK(dm_bufcache_reserve(c, 1) == 0 && c->nspares == 3, "a smaller reserve changed %u",
	      c->nspares);
	dm_bufcache_gone(c, 6);
	dm_bufcache_gone(c, 7);

	/* allocations failing: the reserved structures keep the fds, and only those */
	calloc_fails = true;
	int fds[4];

	for (int i = 0; i < 4; i++)
		fds[i] = dup(mem);
	/* (their mappings may fail too: the SIGBUS guard allocates; then a job maps them) */
	for (int i = 0; i < 3; i++)
		dm_bufcache_add(c, 10 + (uint64_t)i, fds[i], LEN);
	CHECK(is_open(fds[0]) && is_open(fds[1]) && is_open(fds[2]),
	      "an fd with a reserved structure was closed");
	CHECK(c->count == 3, "%u buffers kept, not 3", c->count);
	CHECK(dm_bufcache_add(c, 13, fds[3], LEN) == -1, "an add past the reserve succeeded");
	CHECK(!is_open(fds[3]), "the fd past the reserve was not closed");
	CHECK(dm_bufcache_reserve(c, 2) == -ENOMEM && c->nspares == 0,
	      "a reserve while allocations fail: %u spares", c->nspares);
	calloc_fails = false;
	CHECK(dm_bufcache_reserve(c, 2) == 0 && c->nspares == 2, "%u spares once allocations "
	      "work again", c->nspares);
	for (int i = 0; i < 3; i++) {
		m = dm_bufcache_get(c, 10 + (uint64_t)i);
		CHECK(m && m->addr, "buffer %d kept while allocations failed is not mapped", i);
		if (m)
			dm_bufcache_put(c, m);
		dm_bufcache_gone(c, 10 + (uint64_t)i);
	}
	close(mem);
	/* the spares are the cache's: its end frees them (ASan's leak check) */
}

static void fences_that_do_not_signal(void)
{
	struct dm_mapping m = { .len = LEN };
	char fill[4096] = { 0 };
	int64_t t0;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		perror("pipe");
		exit(1);
	}
	/* reading waits for the writers' fences: an empty pipe is never readable */
	m.fd = p[0];
	t0 = dm_now_ms();
	r = dm_mapping_sync_start(&m, false, t0 + 100);
	CHECK(r == -ETIMEDOUT, "a read start on pending fences returned %d", r);
	CHECK(dm_now_ms() - t0 >= 90, "gave up after %lld ms, not 100",
	      (long long)(dm_now_ms() - t0));
	/* writing waits for every fence: a full pipe is never writable */
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	m.fd = p[1];
	r = dm_mapping_sync_start(&m, true, dm_now_ms() + 20);
	CHECK(r == -ETIMEDOUT, "a write start on pending fences returned %d", r);
	/* signalled: the wait ends at once and the ioctl runs (a pipe has none: ENOTTY) */
	m.fd = p[0];
	t0 = dm_now_ms();
	r = dm_mapping_sync_start(&m, false, t0 + 5000);
	CHECK(r == -ENOTTY, "a read start on signalled fences returned %d", r);
	CHECK(dm_now_ms() - t0 < 1000, "waited %lld ms for signalled fences",
	      (long long)(dm_now_ms() - t0));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	struct dm_bufcache cache;

	if (dm_sigbus_install()) {
		fprintf(stderr, "cannot install the SIGBUS handler\n");
		return 1;
	}
	dm_bufcache_init(&cache);
	mapped_at_a_later_job(&cache, false);
	mapped_at_a_later_job(&cache, true);
	gone_while_unmapped(&cache);
	replaced_then_finished(&cache);
	adds_take_the_reserve(&cache);
	fences_that_do_not_signal();
	CHECK(cache.count == 0, "%u mappings left in the cache", cache.count);
	dm_bufcache_fini(&cache);
	return check_summary("bufcache", failures);
}
