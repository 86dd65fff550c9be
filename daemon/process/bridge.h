/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel side: /dev/daedalus-v4l2, its handshake and its two calls (docs/protocol.md). */
#ifndef DAEDALUS_DAEMON_BRIDGE_H
#define DAEDALUS_DAEMON_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/daedalus-v4l2.h>

struct dm_bridge {
	int fd;
	struct daedalus_hello hello;
	uint8_t *ctrl_area; /* where GET_MSG writes control payloads */
	size_t ctrl_area_size;
	unsigned int max_inflight; /* jobs of one context in flight, as granted (>= 1) */
	bool owners; /* jobs name their instance's user (HELLO_FLAG_OWNER granted) */
	unsigned long long transient_errors; /* GET_MSG short of memory or fds (logged sparsely) */
};

/*
 * Opens and handshakes; on failure prints why (absent, busy, no permission, version).
 * max_inflight > 1 asks for that many jobs of one context in flight (HELLO_FLAG_PIPELINE);
 * a module without the flag gives one, as does the module's own limit (b->max_inflight).
 * HELLO_FLAG_OWNER is asked for too (the memory budget's share per user, mem_budget.h).
 */
int dm_bridge_open(struct dm_bridge *b, const char *path, unsigned int max_inflight);
void dm_bridge_close(struct dm_bridge *b);

/*
 * 1: a message in *msg (payloads in b->ctrl_area); 0: none pending, or the kernel was short of
 * memory or fds for it (retry later); -1: the bridge failed (logged).
 */
int dm_bridge_get(struct dm_bridge *b, struct daedalus_msg *msg);

/* 0, or -errno (-ENOENT: the kernel already finished the job: cancelled or timed out). */
int dm_bridge_complete(struct dm_bridge *b, uint64_t job_id, uint32_t ctx_id, uint32_t status,
		       uint32_t reason);

#endif
