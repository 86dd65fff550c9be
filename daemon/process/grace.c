/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Why this shape (see grace.h and docs/frame-parallel.md, "The grace period, per client"):
 *
 * A client that keeps two requests out (GStreamer: render delay 1) sends job k + 1 while job
 * k is still in the daemon, so every one of its jobs but the first arrives as an overlap, and
 * the wait before a drain is how its pairs get decoded together: it must never stop waiting
 * for long. A client that waits for each request before sending the next (FFmpeg's
 * v4l2-request hwaccel, Chromium with one request out) never overlaps: by construction its
 * next job is pushed after the COMPLETE of the last, when the daemon holds nothing of it. Every
 * wait then times out, and each costs the whole grace period on that frame.
 *
 * So: an overlap resets everything (waiting resumes at once, with no probe needed); only
 * DM_GRACE_MISSES timed-out waits in a row with no overlap in between make the client
 * synchronous, after which the worker drains at once. A pipelining client overlaps on about
 * every other job (with 2 granted, the held-back drain completes both of a pair, so the next
 * job finds nothing held) as long as a decode outlasts its turnaround; once taken for
 * synchronous, a decode that ends before its next request hides the overlap, and only a probe
 * finds it again: at worst ~DM_GRACE_PROBE_MAX frames decoded unpaired after a jittery
 * phase, never for good. A synchronous client pays DM_GRACE_MISSES grace periods once, then one probe
 * per DM_GRACE_PROBE_FIRST, 2x, 4x... drains (a client whose requests come just after a
 * completion, a near miss that waiting would pair, is found by a probe that does not time
 * out: the job it waited for overlaps).
 *
 * The same evidence picks the decoder's mode (dm_grace_pipelining(), applied by the engine at
 * the next key frame): FFmpeg's frame threads pay only when jobs overlap, and a drain after
 * every job costs a synchronous client 7-26 % per frame in them (docs/performance.md). Key
 * frames can be seconds apart, so the first one matters: the worker holds a context's first
 * job up to DM_GRACE_START_NS and sees whether a second one comes (a pipelining client sends
 * it after parsing one frame; a synchronous one never does). A client that waits is decoded
 * one job at a time from its first key frame on; there it never has a job in flight after
 * its submit, so no wait and no probe happens, and an overlap (a job pushed while the one
 * before is still being decoded, which is when frame threads would pay) is what brings frame
 * threads back. A pipelining client whose stall made it look synchronous loses them until
 * the key frame after its next overlap.
 *
 * How long a wait lasts: a fixed 2 ms assumed the client's turnaround (from a COMPLETE to
 * its next QBUF: GStreamer outputs a picture and parses the next frame in between) to be
 * shorter. Under emulation it is 12-17 ms at 1080p, so nearly every wait timed out, the
 * drain after it blocked until the lone job was decoded, the next job came during that
 * drain, and a pipelining stream was decoded one job at a time in frame-thread mode
 * (VP9 through GStreamer at 2 in flight: 0.89 of 1 in flight, docs/performance.md). Nothing
 * is gained by draining before the youngest job's decode has ended, since the drain waits
 * for it: so the wait lasts until then, as the drains after timed-out waits measured it.
 */
#include "grace.h"

void dm_grace_init(struct dm_grace *g)
{
	*g = (struct dm_grace){ .probe_every = DM_GRACE_PROBE_FIRST };
}

void dm_grace_overlap(struct dm_grace *g)
{
	g->client = DM_CLIENT_QUEUES;
	g->misses = 0;
	g->since_probe = 0;
	g->probe_every = DM_GRACE_PROBE_FIRST;
}

bool dm_grace_synchronous(const struct dm_grace *g)
{
	return g->misses >= DM_GRACE_MISSES;
}

bool dm_grace_should_wait(struct dm_grace *g)
{
	if (!dm_grace_synchronous(g)) {
		g->waits++;
		return true;
	}
	if (++g->since_probe < g->probe_every) {
		g->skipped++;
		return false;
	}
	/* a probe; if it times out too, the next one comes twice as late */
	g->since_probe = 0;
	if (g->probe_every < DM_GRACE_PROBE_MAX)
		g->probe_every *= 2;
	g->waits++;
	return true;
}

void dm_grace_timed_out(struct dm_grace *g)
{
	g->timeouts++;
	if (g->misses < DM_GRACE_MISSES)
		g->misses++;
	if (dm_grace_synchronous(g))
		g->client = DM_CLIENT_WAITS;
}

bool dm_grace_should_probe_start(struct dm_grace *g)
{
	if (g->start_probed || g->client != DM_CLIENT_UNKNOWN)
		return false;
	g->start_probed = true;
	return true;
}

void dm_grace_start_alone(struct dm_grace *g)
{
	g->start_alone = true;
	if (g->client == DM_CLIENT_UNKNOWN)
		g->client = DM_CLIENT_WAITS;
}

bool dm_grace_pipelining(const struct dm_grace *g)
{
	return g->client != DM_CLIENT_WAITS;
}

int64_t dm_grace_wait_ns(const struct dm_grace *g, int64_t young_ns, int64_t old_ns,
			 int64_t limit_ns)
{
	int64_t left = g->decode_ns - young_ns;

	if (left > limit_ns - old_ns)
		left = limit_ns - old_ns;
	return left > DM_GRACE_NS ? left : DM_GRACE_NS;
}

void dm_grace_drained(struct dm_grace *g, int64_t waited_ns, int64_t drain_ns)
{
	int64_t sample = waited_ns + drain_ns;

	if (waited_ns < 0 || drain_ns < 0)
		return;
	/*
	 * The wait lasted until the expected end and the drain was short (what a drain itself
	 * costs: fillers, the picture's conversion, the COMPLETE): the decode may have ended
	 * sooner, come down. The drain's own cost counts as decode time otherwise, so the
	 * estimate settles a little below a decode that costs more than 4 drains, and at
	 * about 4 drains' cost for shorter ones; it only has to outlast the client's turnaround.
	 */
	if (g->decode_ns && waited_ns + DM_GRACE_NS / 2 >= g->decode_ns &&
	    drain_ns <= g->decode_ns / 4 + DM_GRACE_NS / 2) {
		g->decode_ns -= g->decode_ns / 8;
		return;
	}
	/* the drain waited for the decode; one slow job (a hang, a stall) moves it at most 2x */
	if (g->decode_ns && sample > 2 * g->decode_ns)
		sample = 2 * g->decode_ns;
	if (sample > DM_GRACE_DECODE_MAX_NS)
		sample = DM_GRACE_DECODE_MAX_NS;
	g->decode_ns = g->decode_ns ? (3 * g->decode_ns + sample) / 4 : sample;
}
