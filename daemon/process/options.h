/* SPDX-License-Identifier: BSD-2-Clause */
/* Command line of daedalus-v4l2d. */
#ifndef DAEDALUS_DAEMON_OPTIONS_H
#define DAEDALUS_DAEMON_OPTIONS_H

#include <stdbool.h>

/*
 * What the daemon asks for; the module grants at most its max_inflight parameter (default
 * 2). Two is what GStreamer keeps queued.
 */
#define DM_DEFAULT_MAX_INFLIGHT 2

/*
 * How long one decoder call may take before the decoder is taken for hung (main.c): a
 * hundred times a 2160p frame on a slow core. Unless the option is given, at least
 * DM_HANG_JOB_TIMEOUTS times the module's job timeout, which a decode may take.
 */
#define DM_DEFAULT_HANG_TIMEOUT_MS 30000
#define DM_HANG_JOB_TIMEOUTS 4
/* The exit status when a decoder hangs (EX_SOFTWARE): the unit's Restart=on-failure */
#define DM_EXIT_HUNG 70

struct dm_options {
	bool foreground;
	bool verbose;
	bool version;
	unsigned int threads; /* 0 = automatic */
	unsigned int max_inflight; /* jobs of one context in flight to ask the module for */
	unsigned int cpus; /* CPUs the busy streams share (cpu_share.h); 0 = the affinity mask */
	unsigned int hang_timeout_ms; /* a decoder call longer than this ends the daemon; 0: never */
	bool hang_timeout_set; /* else: the default, raised to the module's job timeout */
	unsigned int test_stall_ms; /* tests: every decoder call sleeps this long first */
	const char *device;
	const char *user;  /* the user to drop to when started as root */
	bool sandbox_probe; /* tests: try forbidden calls once confined (sandbox.h) */
	bool no_warm_up; /* skip decoding each codec's sample before READY (main.c) */
	/* MiB the streams' decoders may claim together (mem_budget.h); 0 = no limit */
	unsigned int memory_budget_mib;
	bool memory_budget_set; /* else: the default, from the cgroup's or machine's memory */
	/* MiB of the budget one user's streams may claim together; 0 = no share */
	unsigned int memory_per_user_mib;
	bool memory_per_user_set; /* else: the default, two thirds of the budget */
};

/* 0: run; 1: exit 0 now (--help printed); -1: exit 2 (usage error printed). */
int dm_options_parse(struct dm_options *o, int argc, char **argv);

#endif
