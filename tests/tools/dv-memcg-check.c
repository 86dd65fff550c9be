/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-memcg-check VIDEO CGROUP: the module's buffer memory is charged to the memory cgroup of
 * the task that allocates it, and a cgroup at its limit gets ENOMEM from REQBUFS rather than
 * the machine's memory or its own life (run by tests/vm/kernel-memcg.sh, which makes CGROUP
 * and moves this program into it first). What is checked, with 2160p NV12 CAPTURE buffers
 * (about 12 MiB each):
 * - REQBUFS of 8 raises the cgroup's memory.current by at least their size, REQBUFS 0 gives
 *   it back;
 * - with memory.max a little above what the cgroup uses, REQBUFS of 16 fails with ENOMEM (or
 *   grants only what fits), the limit's "max" event is counted, and this process is still
 *   alive to say so (the OOM killer was not called for it);
 * - once the limit is lifted the same REQBUFS succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include "dv_check.h"

int dv_check_fails;

#define OUT V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
#define CAP V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
#define MIB (1024 * 1024)

static char cg[256];

static int64_t cg_read(const char *file, const char *key)
{
	char path[320], line[128];
	int64_t v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t n = key ? strlen(key) : 0;

		if (!key) {
			v = strtoll(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, n) && line[n] == ' ') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static int cg_write(const char *file, const char *val)
{
	char path[320];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

static int reqbufs(int vfd, unsigned int count)
{
	struct v4l2_requestbuffers rb = {
		.count = count, .type = CAP, .memory = V4L2_MEMORY_MMAP,
	};

	if (ioctl(vfd, VIDIOC_REQBUFS, &rb))
		return -errno;
	return rb.count;
}

int main(int argc, char **argv)
{
	struct v4l2_format f = { .type = OUT };
	int64_t base, cur, events;
	size_t size;
	char lim[32];
	int vfd, n;

	if (argc != 3) {
		fprintf(stderr, "usage: dv-memcg-check VIDEO CGROUP-DIR\n");
		return 2;
	}
	snprintf(cg, sizeof(cg), "%s", argv[2]);
	vfd = open(argv[1], O_RDWR);
	if (vfd < 0) {
		perror(argv[1]);
		return 1;
	}
	f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_VP9_FRAME;
	f.fmt.pix_mp.width = 3840;
	f.fmt.pix_mp.height = 2160;
	CHECK(!ioctl(vfd, VIDIOC_S_FMT, &f), "S_FMT OUTPUT VP9 3840x2160");
	memset(&f, 0, sizeof(f));
	f.type = CAP;
	CHECK(!ioctl(vfd, VIDIOC_G_FMT, &f) && f.fmt.pix_mp.num_planes == 1,
	      "G_FMT CAPTURE: one plane of %u bytes", f.fmt.pix_mp.plane_fmt[0].sizeimage);
	size = f.fmt.pix_mp.plane_fmt[0].sizeimage;
	if (dv_check_fails || size < 8 * MIB)
		return 1;

	/* the charge: the pages are allocated at REQBUFS */
	base = cg_read("memory.current", NULL);
	CHECK(base > 0, "%s/memory.current reads %" PRId64 " bytes", cg, base);
	if (base <= 0)
		return 1;
	n = reqbufs(vfd, 8);
	cur = cg_read("memory.current", NULL);
	CHECK(n == 8 && cur - base >= (int64_t)(8 * size),
	      "REQBUFS 8 x %zu bytes (granted %d) charged %" PRId64 " MiB to the cgroup (want >= %zu)",
	      size, n, (cur - base) / MIB, 8 * size / MIB);
	CHECK(reqbufs(vfd, 0) == 0, "REQBUFS 0");
	cur = cg_read("memory.current", NULL);
	CHECK(cur - base < 4 * MIB, "REQBUFS 0 gave it back: %" PRId64 " MiB above the start",
	      (cur - base) / MIB);

	/* the limit: room for 4 buffers, 16 asked */
	base = cg_read("memory.current", NULL);
	snprintf(lim, sizeof(lim), "%" PRId64, base + (int64_t)(4 * size));
	CHECK(!cg_write("memory.max", lim), "memory.max = %s (4 buffers above the current use)", lim);
	events = cg_read("memory.events", "max");
	n = reqbufs(vfd, 16);
	if (n < 0)
		CHECK(n == -ENOMEM, "REQBUFS 16 at the limit: %s", strerror(-n));
	else
		CHECK(n <= 4, "REQBUFS 16 at the limit granted %d (what fits: 4 or fewer)", n);
	CHECK(cg_read("memory.events", "max") > events,
	      "the cgroup counted hitting its limit (memory.events max %" PRId64 " -> %" PRId64 ")",
	      events, cg_read("memory.events", "max"));
	CHECK(cg_read("memory.events", "oom_kill") == 0, "no OOM kill in the cgroup");
	reqbufs(vfd, 0);
	CHECK(!cg_write("memory.max", "max"), "memory.max = max");
	n = reqbufs(vfd, 16);
	CHECK(n == 16, "REQBUFS 16 without the limit (granted %d)", n);
	reqbufs(vfd, 0);
	close(vfd);
	printf("dv-memcg-check: %s\n", dv_check_fails ? "FAIL" : "PASS");
	return dv_check_fails ? 1 : 0;
}
