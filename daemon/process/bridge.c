/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

/*
 * HELLO_FLAG_REF_FDS is not asked for: the FFmpeg and dav1d backends keep their own reference
 * pictures and never read a reference buffer, so its fd would only sit in the fd table. A
 * backend that reads references from their dmabufs (daedalus-fourier) would ask for it. Jobs
 * from a module that sends reference fds anyway are taken as before (main.c, take_fds).
 */
static int hello(struct dm_bridge *b, unsigned int max_inflight, uint32_t flags)
{
	memset(&b->hello, 0, sizeof(b->hello));
	b->hello.version = DAEDALUS_PROTOCOL_VERSION;
	b->hello.flags = flags;
	if (max_inflight > 1) {
		b->hello.flags |= DAEDALUS_HELLO_FLAG_PIPELINE;
		b->hello.max_inflight = max_inflight;
	}
	return ioctl(b->fd, DAEDALUS_IOC_HELLO, &b->hello);
}

int dm_bridge_open(struct dm_bridge *b, const char *path, unsigned int max_inflight)
{
	int r;

	memset(b, 0, sizeof(*b));
	/* O_CLOEXEC: a forked child must not keep the session (and every job) alive */
	b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENXIO || e == ENODEV)
			dm_err("%s is absent: is the daedalus_v4l2 kernel module loaded?", path);
		else if (e == EBUSY)
			dm_err("%s is busy: another daedalus-v4l2d is already attached", path);
		else if (e == EACCES)
			dm_err("%s: %s (the node is for root and the daedalus-v4l2d group once "
			       "udev applied 60-daedalus-v4l2.rules)", path, strerror(e));
		else if (e == EPERM)
			dm_err("%s: %s (a device policy refused it, e.g. a systemd unit's "
			       "DeviceAllow= resolved before the node existed)", path, strerror(e));
		else
			dm_err("cannot open %s: %s", path, strerror(e));
		return -1;
	}
	r = hello(b, max_inflight, DAEDALUS_HELLO_FLAG_OWNER);
	if (r < 0 && errno == EINVAL) {
		/* an older module: the memory budget cannot tell the users apart */
		dm_info("%s does not know HELLO_FLAG_OWNER (older module): no share of the "
			"memory budget per user", path);
		r = hello(b, max_inflight, 0);
	}
	if (r < 0 && errno == EINVAL && max_inflight > 1) {
		/* a module that knows no jobs in flight: one job per context at a time */
		dm_info("%s does not know HELLO_FLAG_PIPELINE (older module): one job per "
			"context at a time", path);
		max_inflight = 1;
		r = hello(b, max_inflight, 0);
	}
	if (r < 0) {
		if (errno == EPROTONOSUPPORT)
			dm_err("%s speaks protocol version %u, this daemon version %u: "
			       "module and daemon do not match", path, b->hello.version,
			       DAEDALUS_PROTOCOL_VERSION);
		else
			dm_err("handshake on %s failed: %s", path, strerror(errno));
		goto fail;
	}
	/* never trust the limits blindly: a huge area would only waste memory */
	b->ctrl_area_size = b->hello.max_ctrl_bytes;
	if (b->ctrl_area_size < 4096)
		b->ctrl_area_size = 4096;
	if (b->ctrl_area_size > (1u << 20))
		b->ctrl_area_size = 1u << 20;
	b->ctrl_area = aligned_alloc(64, b->ctrl_area_size);
	if (!b->ctrl_area) {
		dm_err("out of memory");
		goto fail;
	}
	b->owners = b->hello.flags & DAEDALUS_HELLO_FLAG_OWNER;
	b->max_inflight = (b->hello.flags & DAEDALUS_HELLO_FLAG_PIPELINE) &&
			  b->hello.max_inflight > 1 ? b->hello.max_inflight : 1;
	dm_info("attached to %s: protocol %u, session %u, max %ux%u, %u jobs in flight, "
		"%u per context (asked %u), watchdog %u ms", path, b->hello.version,
		b->hello.session, b->hello.max_width, b->hello.max_height, b->hello.max_jobs,
		b->max_inflight, max_inflight ? max_inflight : 1, b->hello.job_timeout_ms);
	return 0;
fail:
	close(b->fd);
	b->fd = -1;
	return -1;
}

void dm_bridge_close(struct dm_bridge *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	free(b->ctrl_area);
	b->ctrl_area = NULL;
}

int dm_bridge_get(struct dm_bridge *b, struct daedalus_msg *msg)
{
	for (;;) {
		memset(msg, 0, sizeof(*msg));
		msg->ctrl_data = (uintptr_t)b->ctrl_area;
		msg->ctrl_data_size = (uint32_t)b->ctrl_area_size;
		msg->flags = DAEDALUS_GET_FLAG_NONBLOCK;
		if (ioctl(b->fd, DAEDALUS_IOC_GET_MSG, msg) == 0)
			return 1;
		if (errno == EAGAIN)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == ENOSPC && b->ctrl_area_size < (16u << 20)) {
			/* the job stays queued: grow the area and fetch it again */
			size_t size = b->ctrl_area_size * 2;
			uint8_t *area = aligned_alloc(64, size);

			if (!area) {
				dm_err("out of memory for control payloads");
				return -1;
			}
			free(b->ctrl_area);
			b->ctrl_area = area;
			b->ctrl_area_size = size;
			continue;
		}
		if (errno == ENOMEM || errno == EMFILE || errno == ENFILE) {
			/*
			 * Short of memory or fds (a module before the kernel failed such a job
			 * itself kept it queued): not a reason to stop serving every stream.
			 * Back off a little and let the main loop poll again.
			 */
			if (b->transient_errors++ % 1000 == 0)
				dm_warn("GET_MSG: %s, retrying (%llu times so far)", strerror(errno),
					(unsigned long long)b->transient_errors);
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000L }, NULL);
			return 0;
		}
		dm_err("GET_MSG failed: %s", strerror(errno));
		return -1;
	}
}

int dm_bridge_complete(struct dm_bridge *b, uint64_t job_id, uint32_t ctx_id, uint32_t status,
		       uint32_t reason)
{
	struct daedalus_complete c;

	memset(&c, 0, sizeof(c));
	c.job_id = job_id;
	c.ctx_id = ctx_id;
	c.status = status;
	c.reason = status == DAEDALUS_STATUS_OK ? DAEDALUS_REASON_NONE : reason;
	while (ioctl(b->fd, DAEDALUS_IOC_COMPLETE, &c) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}
