/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which streams may decode several frames at once: the daemon's CPUs shared out among the
 * streams that are decoding. A stream whose client keeps requests out decodes with frame
 * threads, as many as the module grants it jobs in flight; several such streams on too few
 * CPUs oversubscribe them, and then each of their requests waits behind the other streams'
 * frames, in order: under load a request then outlasts the second GStreamer's v4l2codecs
 * gives it, and the streams together decode less than one frame each would
 * (docs/frame-parallel.md, "The CPUs shared among busy streams"). So a stream decodes frames
 * in parallel only while the frames every busy stream may run at once fit the CPUs: a
 * pipelining client's stream counts the jobs granted, one that waits for each request 1.
 * A stream alone gets what was granted whatever the count, as before this rule.
 *
 * A stream is busy from a job until it has had no job for DM_SHARE_IDLE_NS (a paused video,
 * a tab in the background), counted from when its last job came or finished: it gives its
 * CPUs back then. The counters are shared by every worker (atomics); each worker keeps its
 * own member and calls these on its own thread. No clock is read here: the caller passes
 * the time, so that daemon/tests/test_cpu_share.c drives it with the timelines of clients.
 */
#ifndef DAEDALUS_DAEMON_CPU_SHARE_H
#define DAEDALUS_DAEMON_CPU_SHARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A stream with no job for this long no longer counts as decoding. */
#define DM_SHARE_IDLE_NS (1000 * 1000000LL)

struct dm_cpu_share {
	atomic_uint busy; /* streams counted busy now */
	atomic_uint frames; /* the frames they may decode at once, together */
	unsigned int cpus; /* CPUs the daemon may run on (at least 1) */
};

/* One stream's part (its worker's only). */
struct dm_share_member {
	bool busy;
	unsigned int frames; /* counted in the share's frames while busy */
	int64_t last_ns; /* its last job's arrival or finish, while busy */
};

void dm_cpu_share_init(struct dm_cpu_share *s, unsigned int cpus);
/* The CPUs this process may run on (its affinity mask), at least 1. */
unsigned int dm_cpu_share_count_cpus(void);

/*
 * A job of the member's stream came at now_ns, its client's depth being `frames` (the jobs
 * granted for a client that keeps requests out, 1 for one that waits for each): the stream
 * counts as busy with that many frames.
 */
void dm_cpu_share_job(struct dm_cpu_share *s, struct dm_share_member *m, unsigned int frames,
		      int64_t now_ns);
/* A job of the member's stream finished at now_ns: its idle time counts from then. */
void dm_cpu_share_touch(struct dm_share_member *m, int64_t now_ns);
/*
 * How long from now_ns until the member counts as idle (> 0), or 0 when it is not busy
 * (nothing to time). The worker waits at most this long for a job before calling _idle().
 */
int64_t dm_cpu_share_idle_in_ns(const struct dm_share_member *m, int64_t now_ns);
/* No job since the member's last for DM_SHARE_IDLE_NS at now_ns: it stops counting. */
void dm_cpu_share_idle(struct dm_cpu_share *s, struct dm_share_member *m, int64_t now_ns);
/* The stream closes: it stops counting, if it did. */
void dm_cpu_share_leave(struct dm_cpu_share *s, struct dm_share_member *m);
/*
 * Whether the member's stream, counted busy, may decode `inflight` frames at once: it is
 * the only busy stream, or the busy streams' frames, its own at `inflight`, fit the CPUs.
 */
bool dm_cpu_share_frames_fit(struct dm_cpu_share *s, const struct dm_share_member *m,
			     unsigned int inflight);

#endif
