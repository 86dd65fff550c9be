/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daedalus-v4l2d: the userspace half of the daedalus-v4l2 decoder. Attaches to the kernel
 * module's bridge, then loops: fetch a message, hand jobs to the worker of their context,
 * keep the dmabuf cache in step with the kernel's events. The decoding is the engine's.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "bufcache.h"
#include "clock.h"
#include "context.h"
#include "deadline_signal.h"
#include "engine.h"
#include "log.h"
#include "mem_budget.h"
#include "notify.h"
#include "options.h"
#include "sandbox.h"
#include "sigbus_guard.h"

#ifndef DAEDALUS_VERSION
#define DAEDALUS_VERSION "unknown"
#endif

struct daemon {
	struct dm_services svc;
	struct dm_cpu_share share;
	struct dm_mem_budget memory;
	struct dm_bridge bridge;
	struct dm_bufcache cache;
	struct dm_context *contexts;
	/* closed by the kernel (CTX_GONE): their workers wind down on their own threads */
	struct dm_context *closing;
	unsigned int hang_timeout_ms; /* --hang-timeout: check_hangs() */
	long long hang_checked_ms; /* when check_hangs() last ran */
	/*
	 * The jobs refused of the last stream without a worker (none of its jobs reached
	 * one): counted here, not by starting a worker thread for a stream that may never
	 * decode (pthread_create needs mappings, which may be what ran out).
	 */
	struct {
		uint32_t ctx, reason;
		uint64_t count;
	} refused;
	int64_t short_since_ms; /* no reserve for a message's fds since then; 0: none */
	int64_t short_warned_ms; /* when that was last said */
};

static void describe_codecs(struct dd_engine *engine, FILE *to)
{
	char line[256];

	for (int c = 0; c < DD_CODEC_COUNT; c++) {
		dd_engine_describe(engine, (enum dd_codec)c, line, sizeof(line));
		if (to)
			fprintf(to, "  %s\n", line);
		else
			dm_info("%s", line);
	}
}

/* Every fd in a message is new and ours: keep it in the cache, whatever the job's fate. */
static void take_fds(struct daemon *d, const struct daedalus_buffer *buf)
{
	for (uint32_t i = 0; i < DAEDALUS_MAX_MEM_PLANES; i++) {
		const struct daedalus_mem_plane *p = &buf->mem[i];

		if (p->fd < 0)
			continue;
		if (i >= buf->num_mem_planes || p->handle == 0) {
			dm_warn("the kernel sent an fd for an unused memory plane");
			close(p->fd);
			continue;
		}
		dm_bufcache_add(&d->cache, p->handle, p->fd, p->length);
	}
}

static struct dm_context *find_context(struct daemon *d, uint32_t id, bool create)
{
	struct dm_context *ctx;

	for (ctx = d->contexts; ctx; ctx = ctx->next)
		if (ctx->id == id)
			return ctx;
	if (!create)
		return NULL;
	ctx = dm_context_new(id, &d->svc);
	if (ctx) {
		ctx->next = d->contexts;
		d->contexts = ctx;
	}
	return ctx;
}

/*
 * A job the main loop cannot hand to a worker (a buffer that cannot be mapped fails every
 * job using it): one line per stream and reason, the rest counted for the stream's close.
 */
static void refuse(struct daemon *d, const struct daedalus_job *msg, const struct dm_failure *fail)
{
	struct dm_job shell = { .msg = *msg };
	struct dm_context *ctx = find_context(d, msg->ctx_id, false);
	uint32_t reason = dm_reason_index(fail->reason);
	bool quiet;

	if (ctx) {
		quiet = ctx->refusals[reason]++ > 0;
		/* a refused seek must still reset the decoder: the next job does it */
		dm_context_unseen(ctx, msg->flags);
	} else {
		if (d->refused.ctx != msg->ctx_id || d->refused.reason != reason)
			d->refused.count = 0;
		quiet = d->refused.count++ > 0;
		d->refused.ctx = msg->ctx_id;
		d->refused.reason = reason;
	}
	dm_fail_job(&d->svc, &shell, fail, quiet);
}

static void on_job(struct daemon *d, const struct daedalus_job *msg)
{
	struct dm_failure fail = { DAEDALUS_REASON_INTERNAL, { "", DD_ERR_DATA } };
	struct dm_context *ctx;
	struct dm_job *job;

	take_fds(d, &msg->output);
	take_fds(d, &msg->capture);
	for (uint32_t i = 0; i < msg->num_refs && i < DAEDALUS_MAX_REFS; i++)
		if (msg->refs[i].flags & DAEDALUS_REF_FLAG_FOUND)
			take_fds(d, &msg->refs[i].buf);

	job = dm_job_new(msg, d->bridge.ctrl_area, d->bridge.ctrl_area_size, &d->cache, &fail);
	if (!job) {
		refuse(d, msg, &fail);
		return;
	}
	ctx = find_context(d, msg->ctx_id, true);
	if (!ctx) {
		fail.reason = DAEDALUS_REASON_NO_MEMORY;
		strcpy(fail.why.msg, "cannot start a worker for the context");
		dm_fail_job(&d->svc, job, &fail, false);
		dm_job_free(job, &d->cache);
		return;
	}
	dm_dbg("ctx %u: job %llu, sequence %u, ts %llu, in flight %u, queued %u", msg->ctx_id,
	       (unsigned long long)msg->job_id, msg->sequence,
	       (unsigned long long)msg->capture.timestamp, msg->inflight, msg->queued);
	dm_context_push(ctx, job);
}

static void log_refusals(uint32_t id, uint64_t n)
{
	if (n)
		dm_info("ctx %u: %" PRIu64 " jobs refused before reaching its decoder (no usable "
			"buffer)", id, n);
}

static void on_ctx_gone(struct daemon *d, uint32_t id)
{
	if (d->refused.ctx == id) {
		log_refusals(id, d->refused.count);
		d->refused.count = 0;
	}
	for (struct dm_context **p = &d->contexts; *p; p = &(*p)->next) {
		struct dm_context *ctx = *p;
		uint64_t refused = 0;

		if (ctx->id != id)
			continue;
		for (uint32_t r = 0; r < DM_REASONS; r++)
			refused += ctx->refusals[r];
		log_refusals(id, refused);
		/*
		 * Never wait for the worker here: it may be inside a slow or hung decode, and
		 * this thread hands out every other stream's jobs. It ends on its own and
		 * signals reap_fd; reap_closing() joins it then.
		 */
		*p = ctx->next;
		dm_context_detach(ctx);
		ctx->next = d->closing;
		d->closing = ctx;
		return;
	}
	dm_dbg("CTX_GONE for ctx %u, which had no worker", id);
}

/* Frees the closed contexts whose workers have ended (their join does not block). */
static void reap_closing(struct daemon *d)
{
	uint64_t n;

	if (d->svc.reap_fd >= 0 && read(d->svc.reap_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		dm_warn("reading the workers' end notices: %s", strerror(errno));
	for (struct dm_context **p = &d->closing; *p;) {
		struct dm_context *ctx = *p, *next = ctx->next;

		/* a reaped context is freed: its successor was read before */
		if (dm_context_reap(ctx, false))
			*p = next;
		else
			p = &ctx->next;
	}
}

static void on_cancel(struct daemon *d, uint64_t job_id, uint32_t flags)
{
	for (struct dm_context *ctx = d->contexts; ctx; ctx = ctx->next)
		if (dm_context_cancel(ctx, job_id, flags & DAEDALUS_CANCEL_FLAG_WAIT)) {
			dm_dbg("ctx %u: job %llu cancelled by the kernel", ctx->id,
			       (unsigned long long)job_id);
			return;
		}
}

/*
 * Messages handled per wake-up of the main loop. Jobs that fail at once let the kernel send
 * the next at once, and enough of them would keep the loop here for ever: no watchdog ping,
 * no hang check, no signal, no reaping. The rest wait for the next poll(), which returns
 * at once.
 */
#define MESSAGES_PER_WAKE 64

/*
 * The most fds one message of this session can carry: its OUTPUT and CAPTURE buffers'
 * planes, and its references' if the daemon asked for them (it does not: bridge.c).
 */
static unsigned int fds_per_message(const struct daedalus_hello *h)
{
	unsigned int planes = h->max_mem_planes, refs = h->max_refs;

	if (planes > DAEDALUS_MAX_MEM_PLANES)
		planes = DAEDALUS_MAX_MEM_PLANES;
	if (!(h->flags & DAEDALUS_HELLO_FLAG_REF_FDS))
		refs = 0;
	else if (refs > DAEDALUS_MAX_REFS)
		refs = DAEDALUS_MAX_REFS;
	return (2 + refs) * planes;
}

/*
 * Whether the cache can keep every fd of the next message (dm_bufcache_reserve() says why
 * that must be known before fetching it). Without memory for that the message waits in
 * the kernel and the main loop polls the bridge again 20 ms later (event_loop()); but not
 * for longer than the kernel's job timeout: the messages that give memory back (BUF_GONE,
 * CTX_GONE) wait too, and past that the message is fetched as before the reserve, at the
 * risk of one buffer's fd. Said at most every 10 s.
 */
static bool can_take_message(struct daemon *d)
{
	int64_t now;

	if (dm_bufcache_reserve(&d->cache, fds_per_message(&d->bridge.hello)) == 0) {
		if (d->short_since_ms && d->short_warned_ms >= d->short_since_ms)
			dm_info("memory for the buffers' fds again after %lld ms",
				(long long)(dm_now_ms() - d->short_since_ms));
		d->short_since_ms = 0;
		return true;
	}
	now = dm_now_ms();
	if (!d->short_since_ms)
		d->short_since_ms = now;
	if (!d->short_warned_ms || now - d->short_warned_ms >= 10000) {
		d->short_warned_ms = now;
		dm_warn("no memory to keep the fds of a message: messages wait in the kernel");
	}
	return now - d->short_since_ms > (int64_t)d->bridge.hello.job_timeout_ms;
}

/* 0: the pending messages handled, or as many as one wake-up takes; -1: the bridge failed. */
static int drain_messages(struct daemon *d)
{
	struct daedalus_msg msg;
	unsigned int n = 0;
	int r = 0;

	while (n++ < MESSAGES_PER_WAKE && can_take_message(d) &&
	       (r = dm_bridge_get(&d->bridge, &msg)) > 0) {
		switch (msg.type) {
		case DAEDALUS_MSG_JOB:
			on_job(d, &msg.u.job);
			break;
		case DAEDALUS_MSG_BUF_GONE:
			dm_bufcache_gone(&d->cache, msg.u.event.id);
			break;
		case DAEDALUS_MSG_CTX_GONE:
			on_ctx_gone(d, (uint32_t)msg.u.event.id);
			break;
		case DAEDALUS_MSG_JOB_CANCEL:
			on_cancel(d, msg.u.event.id, msg.u.event.flags);
			break;
		default:
			dm_warn("ignoring message of unknown type %u", msg.type);
		}
	}
	return r < 0 ? r : 0;
}

#define READY_NOTICE "READY=1\nSTATUS=attached to the bridge, decoding"
#define STOPPING_NOTICE "STOPPING=1\nSTATUS=stopping"

/* A notice that cannot be sent is logged; the daemon serves on either way. */
static void notify(const char *state)
{
	int r = dm_notify(state);

	if (r < 0)
		dm_warn("cannot notify the service manager through $NOTIFY_SOCKET: %s",
			strerror(-r));
}

/*
 * A call into a decoder that has not returned for --hang-timeout: a decoder hung on what a
 * stream sent (a library bug, maybe spinning on a CPU). One thread of a process cannot be
 * stopped, and it would keep its stream's memory claim and its CPU after the client closed,
 * for as many such streams as clients open. So the daemon exits (DM_EXIT_HUNG; no core:
 * one would hold every user's pictures, and an attacker could repeat it); its service
 * manager starts it again (Restart=on-failure), the kernel fails the jobs it held, and
 * every stream resumes at its next key frame, as after any restart. Contexts still
 * decoding are watched, open or closed: a closed one's worker is the case the kernel's
 * watchdog no longer sees.
 */
static void check_hangs(struct daemon *d, int interval_ms)
{
	struct dm_context *lists[2] = { d->contexts, d->closing }, *worst = NULL;
	long long now_in_ms = dm_now_ms(), late = now_in_ms - d->hang_checked_ms - interval_ms;
	int64_t now = now_in_ms * 1000000, worst_ns = 0;
	bool worst_closed = false;

	/*
	 * This loop wakes every interval: what it was late is time the process did not run
	 * (SIGSTOP, a debugger) or this thread did not, not the decoders'
	 */
	if (!d->hang_checked_ms || late < 0)
		late = 0;
	d->hang_checked_ms = now_in_ms;
	for (int l = 0; l < 2; l++) {
		for (struct dm_context *ctx = lists[l]; ctx; ctx = ctx->next) {
			int64_t ns;

			dm_context_excuse_ns(ctx, late * 1000000, now);
			ns = dm_context_stuck_ns(ctx, now);
			if (ns > worst_ns) {
				worst_ns = ns;
				worst = ctx;
				worst_closed = l == 1;
			}
		}
	}
	if (worst_ns <= (int64_t)d->hang_timeout_ms * 1000000)
		return;
	dm_err("ctx %u%s: a decoder call has not returned for %lld ms (hang timeout %u ms): "
	       "the decoder hangs on its stream; exiting, to be started again", worst->id,
	       worst_closed ? " (closed)" : "",
	       (long long)(worst_ns / 1000000), d->hang_timeout_ms);
	_exit(DM_EXIT_HUNG);
}

/*
 * The loop that hands out every job is what must stay alive: it pings systemd's watchdog
 * (WatchdogSec= in the unit) between messages, so a main thread stuck in a decoder's or a
 * worker's hang gets the daemon restarted instead of every stream waiting forever.
 */
static int event_loop(struct daemon *d, int sigfd)
{
	struct pollfd pfd[3] = {
		{ .fd = d->bridge.fd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = d->svc.reap_fd, .events = POLLIN },
	};
	unsigned int watchdog_ms = dm_notify_watchdog_ms();
	/* a hang is seen at most a quarter of the timeout late */
	int hang_check_ms = d->hang_timeout_ms ? (int)(d->hang_timeout_ms / 4) + 1 : -1;
	long long next_ping = dm_now_ms();

	for (;;) {
		int timeout = hang_check_ms;

		if (watchdog_ms) {
			long long now = dm_now_ms();

			if (now >= next_ping) {
				notify("WATCHDOG=1");
				next_ping = now + watchdog_ms;
			}
			if (timeout < 0 || next_ping - now < timeout)
				timeout = (int)(next_ping - now);
		}
		/* short of memory for a message's fds: the bridge is tried again in 20 ms */
		pfd[0].events = d->short_since_ms ? 0 : POLLIN;
		if (d->short_since_ms && (timeout < 0 || timeout > 20))
			timeout = 20;
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			dm_err("poll: %s", strerror(errno));
			return -1;
		}
		if (hang_check_ms > 0)
			check_hangs(d, hang_check_ms);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				dm_info("%s: stopping", strsignal((int)si.ssi_signo));
			/* before the workers wind down: systemd then knows the exit is wanted */
			notify(STOPPING_NOTICE);
			return 0;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			dm_err("the bridge device reported an error");
			return -1;
		}
		if ((d->short_since_ms || (pfd[0].revents & POLLIN)) && drain_messages(d))
			return -1;
		if (pfd[2].revents & POLLIN)
			reap_closing(d);
	}
}

/*
 * Every buffer of every stream is an fd here (three per YUV420M picture, up to 128 buffers
 * per stream), and a GET_MSG that finds no free fd fails that stream's frame: take all the
 * fds the hard limit allows (systemd's default soft limit is 1024, its hard one 512K).
 * Before the sandbox, whose filter (and the unit's) forbid changing limits.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			dm_warn("cannot raise the fd limit from %llu to %llu: %s",
				(unsigned long long)was, (unsigned long long)rl.rlim_max,
				strerror(errno));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		dm_info("fd limit %llu", (unsigned long long)rl.rlim_cur);
}

/*
 * The decoders' memory (mem_budget.h): --memory-budget, or three quarters of the limit that
 * binds the daemon (its unit's MemoryMax=, or the machine's memory); of it, one user's share:
 * --memory-per-user, or two thirds.
 */
static void init_memory_budget(struct dm_mem_budget *b, const struct dm_options *opt,
			       bool owners)
{
	uint64_t budget, per_user;

	if (opt->memory_budget_set) {
		budget = opt->memory_budget_mib * DM_MIB;
	} else {
		long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

		budget = dm_mem_budget_default("/sys/fs/cgroup", "/proc/self/cgroup",
					       pages > 0 && size > 0 ?
					       (uint64_t)pages * (uint64_t)size : 0);
	}
	per_user = opt->memory_per_user_set ? opt->memory_per_user_mib * DM_MIB :
					      dm_mem_per_user_default(budget);
	dm_mem_budget_init(b, budget, per_user);
	if (budget)
		dm_info("memory budget of the streams' decoders: %" PRIu64 " MiB", budget / DM_MIB);
	else
		dm_info("memory budget of the streams' decoders: no limit");
	if (!per_user)
		dm_info("one user's streams may take all of it (no share per user)");
	else if (!owners)
		dm_info("the module names no job's user: no share per user applies");
	else if (budget)
		dm_info("one user's streams may take %" PRIu64 " MiB of it", per_user / DM_MIB);
	else
		dm_info("one user's streams may take %" PRIu64 " MiB", per_user / DM_MIB);
}

/*
 * A codec's first decode in a process is slow: the library's decoding code is paged in (from
 * an SD card on a Pi) and, under an emulator, translated. In the testbed's debug VM that made
 * the first frame of a stream take over a second, and GStreamer gives up on a request after
 * one. Pay it here, once per codec, before READY. Done confined, so it also shows that the
 * sandbox lets every codec decode; a codec whose sample fails is only logged (its streams
 * fail with their own reason).
 */
static void warm_up(struct dd_engine *engine)
{
	struct timespec t0, t1;
	struct dd_error err;
	unsigned int done = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int c = 0; c < DD_CODEC_COUNT; c++) {
		int r = dd_engine_warm_up(engine, (enum dd_codec)c, &err);

		if (r > 0)
			done++;
		else if (r < 0)
			dm_warn("%s: the warm-up sample did not decode: %s",
				dd_codec_name((enum dd_codec)c), err.msg);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dm_info("%u codecs warmed up in %ld ms", done,
		(long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
}

int main(int argc, char **argv)
{
	struct dm_options opt;
	struct daemon d;
	struct dd_engine_config cfg = { 0 };
	struct dm_sandbox_config sandbox;
	sigset_t sigs;
	int sigfd, r;

	r = dm_options_parse(&opt, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	memset(&d, 0, sizeof(d));
	d.bridge.fd = -1;
	d.svc.reap_fd = -1;
	dm_log_init(false, opt.verbose);

	cfg.threads = opt.threads;
	cfg.log = dm_log_engine;
	if (opt.version) {
		struct dd_engine *engine = dd_engine_new(&cfg);

		printf("daedalus-v4l2d %s (bridge protocol %u)\n", DAEDALUS_VERSION,
		       DAEDALUS_PROTOCOL_VERSION);
		if (engine) {
			describe_codecs(engine, stdout);
			dd_engine_free(engine);
		}
		return 0;
	}

	/* blocked in every thread (workers inherit the mask): only the signalfd sees them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sigfd < 0) {
		dm_err("signalfd: %s", strerror(errno));
		return 1;
	}

	/* before the first buffer is mapped: an exporter's SIGBUS fails jobs, not the daemon */
	r = dm_sigbus_install();
	if (r) {
		dm_err("SIGBUS handler: %s", strerror(-r));
		return 1;
	}
	/* before any worker: its signal's default action would end the daemon */
	r = dm_deadline_install();
	if (r) {
		dm_err("deadline signal handler: %s", strerror(-r));
		return 1;
	}
	raise_fd_limit();
	d.svc.reap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.svc.reap_fd < 0) {
		dm_err("eventfd: %s", strerror(errno));
		return 1;
	}
	if (dm_bridge_open(&d.bridge, opt.device, opt.max_inflight))
		return 1;
	/*
	 * frame_delay is how many jobs the engine may keep in flight; one more than the
	 * module gives a context, so that dav1d (max_frame_delay = frame_delay - 1) decodes
	 * the jobs in flight together, and the worker finishes them with a complete drain
	 * once no further job comes within its grace period, or at once when all granted jobs
	 * are in flight (docs/frame-parallel.md). The grant itself caps FFmpeg's frame threads:
	 * more of them than jobs in flight would finish none without a drain.
	 */
	cfg.frame_delay = d.bridge.max_inflight > 1 ? d.bridge.max_inflight + 1 : 1;
	cfg.inflight = d.bridge.max_inflight;
	if (!opt.foreground) {
		if (daemon(0, 0)) {
			dm_err("cannot detach: %s", strerror(errno));
			return 1;
		}
		dm_log_init(true, opt.verbose);
	}

	d.svc.engine = dd_engine_new(&cfg);
	if (!d.svc.engine) {
		dm_err("out of memory");
		dm_bridge_close(&d.bridge);
		return 1;
	}
	/*
	 * --cpus, or the affinity mask as the daemon starts (a unit's CPUAffinity=, taskset);
	 * before the sandbox, whose filter lets no file be opened for the fallback's count
	 */
	dm_cpu_share_init(&d.share, opt.cpus ? opt.cpus : dm_cpu_share_count_cpus());
	/* before the sandbox too: the default reads the cgroup's files */
	init_memory_budget(&d.memory, &opt, d.bridge.owners);
	/* the sandbox lets notices out only through a socket connected before it */
	r = dm_notify_open();
	if (r < 0)
		dm_warn("cannot connect to $NOTIFY_SOCKET: %s", strerror(-r));
	/*
	 * The bridge is open and FFmpeg and dav1d are loaded: nothing from here on needs a
	 * privilege or a new file, and everything from here on handles untrusted data.
	 */
	sandbox.user = opt.user;
	sandbox.probe = opt.sandbox_probe;
	if (dm_sandbox_enter(&sandbox)) {
		dm_mem_budget_fini(&d.memory);
		dd_engine_free(d.svc.engine);
		dm_bridge_close(&d.bridge);
		return 1;
	}
	if (!opt.no_warm_up)
		warm_up(d.svc.engine);
	dm_info("daedalus-v4l2d %s ready", DAEDALUS_VERSION);
	describe_codecs(d.svc.engine, NULL);
	dm_bufcache_init(&d.cache);
	d.svc.bridge = &d.bridge;
	d.svc.cache = &d.cache;
	d.svc.threads = opt.threads;
	d.hang_timeout_ms = opt.hang_timeout_ms;
	d.svc.test_stall_ms = opt.test_stall_ms;
	/* a decode may take the module's job timeout (raised for slow machines), and more */
	if (!opt.hang_timeout_set && d.hang_timeout_ms <
	    (uint64_t)d.bridge.hello.job_timeout_ms * DM_HANG_JOB_TIMEOUTS)
		d.hang_timeout_ms = d.bridge.hello.job_timeout_ms * DM_HANG_JOB_TIMEOUTS;
	if (d.hang_timeout_ms)
		dm_info("hang timeout %u ms", d.hang_timeout_ms);
	d.svc.share = &d.share;
	d.svc.memory = &d.memory;
	d.svc.frames = cfg.frame_delay ? cfg.frame_delay : 1;
	/*
	 * Ready only now: the handshake is done and jobs are served from here on, so units
	 * ordered after this one (a browser, a test) find a working decoder.
	 */
	notify(READY_NOTICE);

	r = event_loop(&d, sigfd);

	/* finish the jobs in hand, fail the queued ones, before the fd closes */
	while (d.contexts) {
		struct dm_context *ctx = d.contexts;

		d.contexts = ctx->next;
		dm_context_stop(ctx);
	}
	while (d.closing) {
		struct dm_context *ctx = d.closing;

		d.closing = ctx->next;
		dm_context_reap(ctx, true);
	}
	dd_engine_free(d.svc.engine);
	dm_bufcache_fini(&d.cache);
	dm_mem_budget_fini(&d.memory);
	dm_bridge_close(&d.bridge);
	close(d.svc.reap_fd);
	close(sigfd);
	dm_info("stopped");
	return r ? 1 : 0;
}
