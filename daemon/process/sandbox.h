/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's own confinement, entered once the bridge is open and the decoding libraries
 * are loaded: from then on it parses attacker-chosen bitstreams (docs/security.md).
 */
#ifndef DAEDALUS_DAEMON_SANDBOX_H
#define DAEDALUS_DAEMON_SANDBOX_H

#include <stdbool.h>

/* The system user the daemon drops to when started as root (packaging/sysusers.d). */
#define DM_SANDBOX_DEFAULT_USER "daedalus-v4l2d"

struct dm_sandbox_config {
	const char *user; /* used only when started as root */
	bool probe;       /* tests: try forbidden calls once confined and log the outcome */
};

/*
 * Confine the calling process, whatever started it: root drops to cfg->user (supplementary
 * groups, gid, uid), no capability is kept in any set, no_new_privs is set and the seccomp
 * filter installed for every thread. Call before the first worker thread starts.
 * 0, or -1 after logging why (the daemon must then not serve).
 */
int dm_sandbox_enter(const struct dm_sandbox_config *cfg);

#endif
