/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigbus_guard.h"

enum slot_state {
	SLOT_FREE = 0,	/* calloc()'s zero */
	SLOT_FILLING,	/* claimed by dm_sigbus_watch(), range not written yet */
	SLOT_ARMED,	/* a registered mapping */
	SLOT_SWAPPING,	/* a handler is replacing its memory */
};

struct dm_sigbus_slot {
	atomic_int state;
	atomic_bool lost;
	/*
	 * Written while FILLING, trusted by a handler only once it owns the slot (SWAPPING);
	 * atomic because a handler may look at a slot that is being refilled.
	 */
	atomic_uintptr_t start;
	atomic_size_t len; /* whole pages: what the mapping covers */
	int prot;
};

#define SLOTS_PER_CHUNK 256

struct chunk {
	struct dm_sigbus_slot slot[SLOTS_PER_CHUNK];
	struct chunk *_Atomic next;
};

/* chunks are appended, never freed: a handler may be walking them at any time */
static struct chunk first_chunk;
/* what SIGBUS did before: for a fault that is not a watched mapping's */
static struct sigaction previous;

static bool claim(struct dm_sigbus_slot *s)
{
	int want = SLOT_FREE;

	return atomic_compare_exchange_strong(&s->state, &want, SLOT_FILLING);
}

static struct dm_sigbus_slot *claim_any(void)
{
	struct chunk *c = &first_chunk, *last = NULL;

	for (; c; c = atomic_load(&c->next)) {
		for (unsigned int i = 0; i < SLOTS_PER_CHUNK; i++)
			if (claim(&c->slot[i]))
				return &c->slot[i];
		last = c;
	}
	/* every slot taken: a new chunk, its first slot ours before anyone can see it */
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	atomic_store(&c->slot[0].state, SLOT_FILLING);
	for (;;) {
		struct chunk *none = NULL;

		if (atomic_compare_exchange_strong(&last->next, &none, c))
			return &c->slot[0];
		last = none;	/* another thread appended first: append after its chunk */
	}
}

struct dm_sigbus_slot *dm_sigbus_watch(void *addr, size_t len, bool writable)
{
	struct dm_sigbus_slot *s = claim_any();
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!s)
		return NULL;
	atomic_store_explicit(&s->start, (uintptr_t)addr, memory_order_relaxed);
	atomic_store_explicit(&s->len, (len + page - 1) / page * page, memory_order_relaxed);
	s->prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
	atomic_store(&s->lost, false);
	atomic_store_explicit(&s->state, SLOT_ARMED, memory_order_release);
	return s;
}

void dm_sigbus_forget(struct dm_sigbus_slot *s)
{
	if (!s)
		return;
	for (;;) {
		int want = SLOT_ARMED;

		if (atomic_compare_exchange_strong(&s->state, &want, SLOT_FREE))
			return;
		/* SWAPPING: a handler is mapping over it; munmap() must come after that */
	}
}

const atomic_bool *dm_sigbus_lost_flag(const struct dm_sigbus_slot *s)
{
	return s ? &s->lost : NULL;
}

bool dm_sigbus_lost(const struct dm_sigbus_slot *s)
{
	return s && atomic_load(dm_sigbus_lost_flag(s));
}

static bool inside(struct dm_sigbus_slot *s, uintptr_t addr)
{
	return addr - atomic_load_explicit(&s->start, memory_order_relaxed) <
	       atomic_load_explicit(&s->len, memory_order_relaxed);
}

/*
 * The slot holding addr: NULL if none; else *own says whether it is now SWAPPING by this
 * handler, or being swapped by another thread's.
 */
static struct dm_sigbus_slot *find(uintptr_t addr, bool *own)
{
	for (struct chunk *c = &first_chunk; c; c = atomic_load(&c->next)) {
		for (unsigned int i = 0; i < SLOTS_PER_CHUNK; i++) {
			struct dm_sigbus_slot *s = &c->slot[i];
			int st = atomic_load_explicit(&s->state, memory_order_acquire);
			int want = SLOT_ARMED;

			if ((st != SLOT_ARMED && st != SLOT_SWAPPING) || !inside(s, addr))
				continue;
			*own = atomic_compare_exchange_strong(&s->state, &want, SLOT_SWAPPING);
			if (!*own) {
				if (want == SLOT_SWAPPING)
					return s;
				continue; /* freed or refilled meanwhile: not this one */
			}
			/* the slot may have been freed and reused between the look and the claim */
			if (inside(s, addr))
				return s;
			atomic_store(&s->state, SLOT_ARMED);
		}
	}
	return NULL;
}

/*
 * Swaps anonymous memory in for the mapping (once: a thread that faulted before the swap
 * finds it done); false if that failed. The pages are the daemon's own from now on, so
 * the bufcache gives them back when a job lets go of a lost mapping (dm_bufcache_put()).
 */
static bool swap(struct dm_sigbus_slot *s)
{
	void *p = MAP_FAILED;

	if (!atomic_load(&s->lost))
		p = mmap((void *)atomic_load_explicit(&s->start, memory_order_relaxed),
			 atomic_load_explicit(&s->len, memory_order_relaxed), s->prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p != MAP_FAILED)
		atomic_store(&s->lost, true);
	atomic_store_explicit(&s->state, SLOT_ARMED, memory_order_release);
	return atomic_load(&s->lost);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	struct dm_sigbus_slot *s = NULL;
	bool own = false;

	(void)uc;
	/*
	 * Only a fault of this thread's own access is retried: not a signal sent with kill()
	 * (si_code <= 0), nor a memory error reported ahead of any access (BUS_MCEERR_AO).
	 */
	if (si->si_code > 0 && si->si_code != BUS_MCEERR_AO)
		s = find((uintptr_t)si->si_addr, &own);
	if (s && own && swap(s)) {
		errno = saved_errno;
		return;	/* the access is retried, on the anonymous memory */
	}
	if (s && !own) {
		/*
		 * Another thread is replacing the same mapping: retry once it has. Had its
		 * swap failed, the retried access comes back here and swaps or gives up itself.
		 */
		while (atomic_load_explicit(&s->state, memory_order_acquire) == SLOT_SWAPPING)
			;
		errno = saved_errno;
		return;
	}
	/* not a buffer's fault, or no memory to swap in: what was there before (ASan's, or the
	 * default action), at the retried access, or now for a signal that nothing retries */
	sigaction(sig, &previous, NULL);
	if (si->si_code <= 0 || si->si_code == BUS_MCEERR_AO)
		raise(sig);
	errno = saved_errno;
}

int dm_sigbus_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_RESTART };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, &previous) ? -errno : 0;
}
