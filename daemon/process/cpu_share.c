/* SPDX-License-Identifier: BSD-2-Clause */
/* The CPUs shared out among the streams that decode (cpu_share.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CPU_COUNT */
#endif
#include <sched.h>
#include <unistd.h>

#include "cpu_share.h"

void dm_cpu_share_init(struct dm_cpu_share *s, unsigned int cpus)
{
	atomic_init(&s->busy, 0);
	atomic_init(&s->frames, 0);
	s->cpus = cpus ? cpus : 1;
}

unsigned int dm_cpu_share_count_cpus(void)
{
	cpu_set_t set;
	long n;

	/* a mask wider than cpu_set_t (over 1024 CPUs) fails: then all that are online */
	if (!sched_getaffinity(0, sizeof(set), &set))
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

void dm_cpu_share_job(struct dm_cpu_share *s, struct dm_share_member *m, unsigned int frames,
		      int64_t now_ns)
{
	if (!m->busy) {
		m->busy = true;
		m->frames = 0;
		atomic_fetch_add(&s->busy, 1);
	}
	if (frames != m->frames) {
		/* one step: the difference, modulo 2^32 when the count goes down */
		atomic_fetch_add(&s->frames, frames - m->frames);
		m->frames = frames;
	}
	m->last_ns = now_ns;
}

void dm_cpu_share_touch(struct dm_share_member *m, int64_t now_ns)
{
	if (m->busy)
		m->last_ns = now_ns;
}

int64_t dm_cpu_share_idle_in_ns(const struct dm_share_member *m, int64_t now_ns)
{
	int64_t left;

	if (!m->busy)
		return 0;
	left = m->last_ns + DM_SHARE_IDLE_NS - now_ns;
	/* due already: the smallest wait, after which _idle() takes it out */
	return left > 0 ? left : 1;
}

void dm_cpu_share_idle(struct dm_cpu_share *s, struct dm_share_member *m, int64_t now_ns)
{
	if (m->busy && now_ns - m->last_ns >= DM_SHARE_IDLE_NS)
		dm_cpu_share_leave(s, m);
}

void dm_cpu_share_leave(struct dm_cpu_share *s, struct dm_share_member *m)
{
	if (m->busy) {
		m->busy = false;
		atomic_fetch_sub(&s->frames, m->frames);
		m->frames = 0;
		atomic_fetch_sub(&s->busy, 1);
	}
}

bool dm_cpu_share_frames_fit(struct dm_cpu_share *s, const struct dm_share_member *m,
			     unsigned int inflight)
{
	unsigned int busy = atomic_load(&s->busy), frames = atomic_load(&s->frames);
	uint64_t need;

	if (busy <= 1)
		return true;
	/* the others' frames (read apart from busy: a moment's mismatch decides nothing lasting) */
	need = frames > m->frames ? frames - m->frames : 0;
	return need + inflight <= s->cpus;
}
