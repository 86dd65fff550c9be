/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Whether a context's worker waits for the client's next job before it drains the jobs in
 * flight (the grace period, context.c), learnt from what the client does. Pure logic on a
 * small struct, no clock and no lock: the main loop (dm_context_push) and the worker call it,
 * always under the context's lock, and
 * daemon/tests/test_grace.c drives it with the event sequences of real clients.
 */
#ifndef DAEDALUS_DAEMON_GRACE_H
#define DAEDALUS_DAEMON_GRACE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * How long the worker waits for the client's next job before it finishes the jobs in flight
 * with a complete drain: at least about a client's DQBUF-to-QBUF turnaround (context.c), and
 * up to the expected end of the youngest job's decode (dm_grace_wait_ns()).
 */
#define DM_GRACE_NS (2 * 1000000LL)
/* The longest wait for a next job: well under the second a client gives a request. */
#define DM_GRACE_DECODE_MAX_NS (250 * 1000000LL)
/*
 * Timed-out waits in a row, with no overlapping job between them, after which the client is
 * taken for synchronous (it sends its next request only when the last one has completed).
 */
#define DM_GRACE_MISSES 4u
/* While synchronous: every this many drains, one wait all the same (a probe)... */
#define DM_GRACE_PROBE_FIRST 32u
/* ...the interval doubling after each probe that times out, up to this. */
#define DM_GRACE_PROBE_MAX 1024u
/*
 * How long the worker holds a context's first job for a second one when the kernel grants
 * more than one (the start probe): the decoder's mode for the first key frame on depends on
 * it (dm_grace_pipelining()). Once per context; a client that waits for each request pays it
 * once, one that keeps two out sends its second request sooner (its time to parse a frame).
 */
#define DM_GRACE_START_NS (10 * 1000000LL)

/* What the client has shown of its depth, for the decoder's mode. */
enum dm_client {
	DM_CLIENT_UNKNOWN, /* nothing yet: taken for pipelining */
	DM_CLIENT_QUEUES,  /* a job overlapped another: it keeps requests out */
	DM_CLIENT_WAITS,   /* its first request came alone, or learnt synchronous since */
};

struct dm_grace {
	unsigned int misses; /* waits that timed out since the last overlapping job */
	unsigned int since_probe; /* drains without a wait since the last probe */
	unsigned int probe_every;
	enum dm_client client;
	bool start_probed, start_alone; /* the start probe was made; it timed out */
	int64_t decode_ns; /* a lone job's decode, submit to done, as drains showed it; 0: unknown */
	/* counts for the context's closing log line */
	unsigned long long waits, timeouts, skipped;
};

void dm_grace_init(struct dm_grace *g);
/*
 * The client sent a job while another of its jobs was still unfinished in the daemon
 * (queued, being submitted or in flight): it keeps more than one request out, so waiting
 * for its next job pays. Resets the learning.
 */
void dm_grace_overlap(struct dm_grace *g);
/*
 * The worker has jobs in flight, none queued, and could still be sent more (not held back):
 * true if it should wait for the grace period before draining, false to drain at once.
 */
bool dm_grace_should_wait(struct dm_grace *g);
/* A wait that dm_grace_should_wait() asked for ended without a job. */
void dm_grace_timed_out(struct dm_grace *g);
/*
 * How long to wait for the next job, the youngest job in flight submitted young_ns ago and the
 * oldest old_ns ago: until the youngest one's decode is expected to end (decode_ns), at least
 * DM_GRACE_NS, and no later than limit_ns (at most DM_GRACE_DECODE_MAX_NS) after the oldest
 * one's submit. A drain before that end would block until then anyway.
 */
int64_t dm_grace_wait_ns(const struct dm_grace *g, int64_t young_ns, int64_t old_ns,
			 int64_t limit_ns);
/*
 * The drain after a timed-out wait of one job in flight: waited_ns from the job's submit to
 * the timeout, drain_ns the drain itself. A long drain waited for the decode, which took
 * about waited_ns + drain_ns; a short one after a wait until the expected end says the decode
 * may have ended sooner: the estimate comes down by an eighth.
 */
void dm_grace_drained(struct dm_grace *g, int64_t waited_ns, int64_t drain_ns);
/* True while the client is taken for synchronous (for logs and tests). */
bool dm_grace_synchronous(const struct dm_grace *g);
/*
 * Before a context's first job, with more than one granted: true (once) if the worker should
 * hold the job up to DM_GRACE_START_NS for a second one; a second job pushed meanwhile is an
 * overlap.
 */
bool dm_grace_should_probe_start(struct dm_grace *g);
/* The start probe ended without a second job: the client sent its first request alone. */
void dm_grace_start_alone(struct dm_grace *g);
/*
 * Whether the context's jobs should be decoded for several in flight (FFmpeg frame threads),
 * or one at a time: false once the client has shown it waits for each request (its first
 * request alone, or DM_GRACE_MISSES timeouts in a row), until a job overlaps again. The
 * engine applies it at the next key frame (dd_stream_set_lookahead()).
 */
bool dm_grace_pipelining(const struct dm_grace *g);

#endif
