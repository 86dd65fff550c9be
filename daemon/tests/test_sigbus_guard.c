/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The bufcache's mappings against memory that goes away under them (sigbus_guard.h). A
 * memfd cut short with ftruncate() faults every access past its new end with SIGBUS, as a
 * dmabuf whose exporter took its memory back does: the real guard, the real bufcache.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufcache.h"
#include "sigbus_guard.h"
#include "test_check.h"

#define LEN (64 * 1024 + 100) /* not a whole number of pages, as a plane's length may be */
#define MANY 600	      /* more mappings than one chunk of the guard's slots */
#define THREADS 4

static int failures;

static int memfd(size_t len)
{
	int fd = memfd_create("sigbus-guard-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		perror("memfd");
		exit(1);
	}
	return fd;
}

/* A buffer the cache maps (it takes a dup of fd); the test keeps fd to cut it short. */
static struct dm_mapping *add(struct dm_bufcache *c, uint64_t handle, int fd)
{
	struct dm_mapping *m;

	if (dm_bufcache_add(c, handle, dup(fd), LEN))
		return NULL;
	m = dm_bufcache_get(c, handle);
	dm_bufcache_put(c, m); /* the cache's own reference keeps it */
	return m;
}

static void writable_buffer(struct dm_bufcache *c)
{
	int fd = memfd(LEN);
	struct dm_mapping *m = add(c, 1, fd);
	unsigned char byte = 0;

	CHECK(m && m->writable, "a writable mapping");
	if (!m)
		return;
	memset(m->addr, 7, LEN);
	CHECK(!dm_mapping_lost(m), "intact memory counts as lost");
	CHECK(pread(fd, &byte, 1, LEN - 1) == 1 && byte == 7, "the mapping is not the memfd's");
	CHECK(ftruncate(fd, 0) == 0, "ftruncate");
	/* the copy into a CAPTURE buffer whose exporter took it back */
	memset(m->addr, 9, LEN);
	CHECK(dm_mapping_lost(m), "the write faulted, the mapping is not marked lost");
	CHECK(m->addr[0] == 9 && m->addr[LEN - 1] == 9, "the retried write did not land");
	dm_bufcache_gone(c, 1);
	close(fd);
}

static void read_only_buffer(struct dm_bufcache *c)
{
	int fd = memfd(LEN);
	struct dm_mapping *m;
	unsigned int sum = 0;

	CHECK(pwrite(fd, "\x5a", 1, 10) == 1, "pwrite");
	/* sealed against writes: the cache maps it read-only, as it does OUTPUT buffers */
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0, "seal");
	m = add(c, 2, fd);
	CHECK(m && !m->writable, "a read-only mapping");
	if (!m)
		return;
	CHECK(m->addr[10] == 0x5a, "the mapping does not show the memfd");
	CHECK(ftruncate(fd, 0) == 0, "ftruncate");
	for (size_t i = 0; i < LEN; i++)
		sum += m->addr[i];
	CHECK(dm_mapping_lost(m), "the read faulted, the mapping is not marked lost");
	CHECK(sum == 0, "the memory read after the fault is not the anonymous zeros");

	/* the anonymous memory keeps the mapping's protection: a write is still refused */
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* not ASan's report, which ends in abort() */
		((volatile uint8_t *)m->addr)[0] = 1;
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	      WTERMSIG(status) == SIGSEGV, "a write into the read-only replacement: status %#x",
	      status);
	dm_bufcache_gone(c, 2);
	close(fd);
}

static void only_the_faulting_mapping(struct dm_bufcache *c)
{
	int fd[MANY];
	struct dm_mapping *m[MANY];
	const unsigned int victim = MANY - 3;
	unsigned int lost = 0, ok = 0, kept = 0;

	/* the cache holds a dup of each: the test keeps only a few, within a limit of 1024 */
	for (unsigned int i = 0; i < MANY; i++) {
		fd[i] = memfd(LEN);
		m[i] = add(c, 100 + i, fd[i]);
		if (!m[i]) {
			CHECK(0, "mapping %u of %u", i, MANY);
			return;
		}
		if (i % 50 && i != victim) {
			close(fd[i]);
			fd[i] = -1;
		}
	}
	CHECK(ftruncate(fd[victim], 0) == 0, "ftruncate");
	m[victim]->addr[LEN / 2] = 1;
	for (unsigned int i = 0; i < MANY; i++) {
		unsigned char byte = 0;

		m[i]->addr[1] = 3;
		lost += dm_mapping_lost(m[i]);
		if (fd[i] < 0 || i == victim)
			continue;
		/* the others still share the memfd's memory */
		kept++;
		ok += pread(fd[i], &byte, 1, 1) == 1 && byte == 3;
	}
	CHECK(lost == 1 && dm_mapping_lost(m[victim]), "%u mappings lost, want only the one "
	      "that faulted", lost);
	CHECK(kept > 10 && ok == kept, "%u of %u intact mappings still show their memory", ok,
	      kept);
	for (unsigned int i = 0; i < MANY; i++) {
		dm_bufcache_gone(c, 100 + i);
		if (fd[i] >= 0)
			close(fd[i]);
	}
}

struct writer {
	pthread_barrier_t *start;
	uint8_t *addr; /* its own quarter of the buffer */
	uint8_t value;
};

static void *write_quarter(void *arg)
{
	struct writer *w = arg;

	pthread_barrier_wait(w->start);
	memset(w->addr, w->value, LEN / THREADS);
	return NULL;
}

/*
 * Four threads fault on the same mapping at once: one swaps, the others wait for it or find
 * it done, and none swaps again over what the others wrote.
 */
static void threads_at_once(struct dm_bufcache *c)
{
	pthread_barrier_t start;
	pthread_t t[THREADS];
	struct writer w[THREADS];
	unsigned int intact = 0;
	int fd = memfd(LEN);
	struct dm_mapping *m = add(c, 3, fd);

	if (!m) {
		CHECK(0, "mapping");
		return;
	}
	CHECK(ftruncate(fd, 0) == 0, "ftruncate");
	pthread_barrier_init(&start, NULL, THREADS);
	for (unsigned int i = 0; i < THREADS; i++) {
		w[i] = (struct writer){ &start, m->addr + i * (LEN / THREADS), (uint8_t)(i + 1) };
		pthread_create(&t[i], NULL, write_quarter, &w[i]);
	}
	for (unsigned int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (unsigned int i = 0; i < THREADS; i++)
		intact += w[i].addr[0] == i + 1 && w[i].addr[LEN / THREADS - 1] == i + 1;
	CHECK(dm_mapping_lost(m) && intact == THREADS, "four writers faulting at once: %u of %u "
	      "quarters kept what was written", intact, THREADS);
	dm_bufcache_gone(c, 3);
	close(fd);
}

/* The handler SIGBUS had before the guard's: its own exit status says it ran. */
#define PREVIOUS_RAN 42

static void previous_handler(int sig)
{
	(void)sig;
	_exit(PREVIOUS_RAN);
}

/* In a child: true if the handler from before the guard ended it. */
static bool previous_ended(void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == PREVIOUS_RAN;
}

static void fault_outside(void)
{
	int fd = memfd(LEN);
	volatile uint8_t *p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED || ftruncate(fd, 0))
		_exit(1);
	(void)p[0];
}

static void fault_forgotten(void)
{
	int fd = memfd(LEN);
	volatile uint8_t *p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED || ftruncate(fd, 0))
		_exit(1);
	dm_sigbus_forget(dm_sigbus_watch((void *)p, LEN, false));
	(void)p[0];
}

static void sent(void)
{
	kill(getpid(), SIGBUS);
}

int main(void)
{
	struct dm_bufcache cache;

	/* the default action or a sanitizer's before the guard: one whose run can be told */
	signal(SIGBUS, previous_handler);
	if (dm_sigbus_install()) {
		fprintf(stderr, "cannot install the SIGBUS handler\n");
		return 1;
	}
	dm_bufcache_init(&cache);
	writable_buffer(&cache);
	read_only_buffer(&cache);
	only_the_faulting_mapping(&cache);
	threads_at_once(&cache);
	CHECK(cache.count == 0, "%u mappings left in the cache", cache.count);
	dm_bufcache_fini(&cache);
	/* a SIGBUS that is not a watched buffer's goes to the handler from before */
	CHECK(previous_ended(fault_outside), "a fault in an unwatched mapping: not the handler "
	      "from before");
	CHECK(previous_ended(fault_forgotten), "a fault in a forgotten mapping: not the handler "
	      "from before");
	CHECK(previous_ended(sent), "a SIGBUS sent with kill(): not the handler from before");
	return check_summary("sigbus-guard", failures);
}
