/* SPDX-License-Identifier: BSD-2-Clause */
/* Command line of daedalus-v4l2d. */
#ifndef DAEDALUS_DAEMON_OPTIONS_H
#define DAEDALUS_DAEMON_OPTIONS_H

#include <stdbool.h>

struct dm_options {
	bool foreground;
	bool verbose;
	bool version;
	unsigned int threads; /* 0 = automatic */
	const char *device;
	const char *user;  /* the user to drop to when started as root */
	bool sandbox_probe; /* tests: try forbidden calls once confined (sandbox.h) */
};

/* 0: run; 1: exit 0 now (--help printed); -1: exit 2 (usage error printed). */
int dm_options_parse(struct dm_options *o, int argc, char **argv);

#endif
