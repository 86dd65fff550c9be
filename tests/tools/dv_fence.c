// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/types.h>

#include "dv_fence.h"

/* sw_sync's ioctls (drivers/dma-buf/sw_sync.c): an ABI, but in no uapi header */
struct dv_sw_sync_create_fence {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define DV_SW_SYNC_CREATE_FENCE _IOWR('W', 0, struct dv_sw_sync_create_fence)
#define DV_SW_SYNC_INC _IOW('W', 1, __u32)

#define DV_SW_SYNC_PATH "/sys/kernel/debug/sync/sw_sync"

void dv_fence_init(struct dv_fence *f)
{
	f->timeline = -1;
	f->value = 0;
	f->signaler = 0;
}

int dv_fence_attach(struct dv_fence *f, const int *dmabufs, unsigned int n, int signal_ms)
{
	struct dv_sw_sync_create_fence cf = { 0 };
	int err = 0;

	if (f->signaler) {
		fprintf(stderr, "dv_fence: one fence at a time\n");
		return -EBUSY;
	}
	if (f->timeline < 0) {
		f->timeline = open(DV_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
		if (f->timeline < 0) {
			err = -errno;
			fprintf(stderr, "dv_fence: %s: %s (a kernel with CONFIG_SW_SYNC?)\n",
				DV_SW_SYNC_PATH, strerror(errno));
			return err;
		}
	}
	cf.value = ++f->value;
	snprintf(cf.name, sizeof(cf.name), "dv-fence-%u", cf.value);
	if (ioctl(f->timeline, DV_SW_SYNC_CREATE_FENCE, &cf)) {
		err = -errno;
		fprintf(stderr, "dv_fence: SW_SYNC_IOC_CREATE_FENCE: %s\n", strerror(errno));
		return err;
	}
	for (unsigned int i = 0; i < n && !err; i++) {
		struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE, .fd = cf.fence };

		if (ioctl(dmabufs[i], DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp)) {
			err = -errno;
			fprintf(stderr, "dv_fence: DMA_BUF_IOCTL_IMPORT_SYNC_FILE: %s\n",
				strerror(errno));
		}
	}
	close(cf.fence);
	if (err || signal_ms < 0)
		return err;
	f->signaler = fork();
	if (f->signaler < 0) {
		err = -errno;
		f->signaler = 0;
		fprintf(stderr, "dv_fence: fork: %s\n", strerror(errno));
		return err;
	}
	if (!f->signaler) {
		struct timespec now;
		__u32 one = 1;

		nanosleep(&(struct timespec){ signal_ms / 1000, (long)(signal_ms % 1000) * 1000000 },
			  NULL);
		if (ioctl(f->timeline, DV_SW_SYNC_INC, &one))
			_exit(1);
		/* after the signal, unbuffered (the parent's stdio buffer is not ours to flush) */
		clock_gettime(CLOCK_REALTIME, &now);
		dprintf(1, "fence-signalled %.1f\n", now.tv_sec * 1e3 + now.tv_nsec / 1e6);
		_exit(0);
	}
	return 0;
}

void dv_fence_end(struct dv_fence *f)
{
	int status;

	if (f->signaler) {
		if (waitpid(f->signaler, &status, 0) == f->signaler &&
		    (!WIFEXITED(status) || WEXITSTATUS(status)))
			fprintf(stderr, "dv_fence: the signaler failed\n");
		f->signaler = 0;
	}
	if (f->timeline >= 0)
		close(f->timeline);
	f->timeline = -1;
}
