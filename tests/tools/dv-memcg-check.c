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
 * - once the limit is lifted the same REQBUFS succeeds;
 * - a buffer whose allocation fails part way (YUV420M: the 8 MiB luma plane fits under the
 *   limit, the chroma planes do not) cannot be mapped by another thread in between: vb2
 *   (6.12) publishes the buffer and its first plane before the allocation is complete and
 *   frees them without its mmap lock, so an mmap() of its offset racing CREATE_BUFS mapped
 *   pages being freed (a read-only review; the module now holds a lock of its own around
 *   both). The thread's mmap() must never succeed; under the debug kernel KASAN would also
 *   report the use after free.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

struct racer {
	int vfd;
	size_t length;
	off_t offset;
	atomic_bool stop;
	atomic_uint tries, mapped;
};

/* Maps the offset of CAPTURE buffer 0's first plane until told to stop. */
static void *map_racer(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->stop)) {
		void *p = mmap(NULL, r->length, PROT_READ, MAP_SHARED, r->vfd, r->offset);

		atomic_fetch_add(&r->tries, 1);
		if (p != MAP_FAILED) {
			atomic_fetch_add(&r->mapped, 1);
			munmap(p, r->length);
		}
	}
	return NULL;
}

/* CREATE_BUFS of one CAPTURE buffer in the current format: 0, or -errno. */
static int create_one(int vfd)
{
	struct v4l2_create_buffers cb = { .count = 1, .memory = V4L2_MEMORY_MMAP };

	cb.format.type = CAP;
	if (ioctl(vfd, VIDIOC_G_FMT, &cb.format))
		return -errno;
	if (ioctl(vfd, VIDIOC_CREATE_BUFS, &cb))
		return -errno;
	return cb.count == 1 ? 0 : -ENOMEM;
}

static void alloc_race(int vfd)
{
	struct v4l2_format f = { .type = CAP };
	struct v4l2_plane pl[VIDEO_MAX_PLANES];
	struct v4l2_buffer b = { .index = 0, .type = CAP, .memory = V4L2_MEMORY_MMAP,
				 .m.planes = pl, .length = VIDEO_MAX_PLANES };
	struct racer r = { .vfd = vfd };
	unsigned int failed = 0, rounds = 150;
	pthread_t t;
	int64_t base;
	char lim[32];

	f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_YUV420M;
	f.fmt.pix_mp.width = 3840;
	f.fmt.pix_mp.height = 2160;
	CHECK(!ioctl(vfd, VIDIOC_S_FMT, &f) && f.fmt.pix_mp.num_planes == 3,
	      "race: S_FMT CAPTURE YUV420M (%u planes)", f.fmt.pix_mp.num_planes);
	if (f.fmt.pix_mp.num_planes != 3)
		return;
	/* where buffer 0's first plane maps, and how long it is */
	memset(pl, 0, sizeof(pl));
	CHECK(create_one(vfd) == 0 && !ioctl(vfd, VIDIOC_QUERYBUF, &b),
	      "race: one YUV420M buffer made and queried");
	r.offset = pl[0].m.mem_offset;
	r.length = pl[0].length;
	CHECK(reqbufs(vfd, 0) == 0, "race: REQBUFS 0");
	/* room for the luma plane, not for the chroma planes after it */
	base = cg_read("memory.current", NULL);
	snprintf(lim, sizeof(lim), "%" PRId64, base + (int64_t)r.length + MIB);
	CHECK(!cg_write("memory.max", lim), "race: memory.max = %s (one luma plane)", lim);
	if (pthread_create(&t, NULL, map_racer, &r)) {
		CHECK(0, "race: pthread_create");
		return;
	}
	for (unsigned int i = 0; i < rounds; i++) {
		int ret = create_one(vfd);

		failed += ret == -ENOMEM;
		if (!ret)
			reqbufs(vfd, 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	CHECK(!cg_write("memory.max", "max"), "race: memory.max = max");
	CHECK(failed == rounds, "race: CREATE_BUFS failed at the limit %u times of %u", failed,
	      rounds);
	CHECK(atomic_load(&r.tries) > 0 && atomic_load(&r.mapped) == 0,
	      "race: no mmap() of the half-allocated buffer succeeded (%u of %u tries did)",
	      atomic_load(&r.mapped), atomic_load(&r.tries));
	reqbufs(vfd, 0);
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
	alloc_race(vfd);
	close(vfd);
	printf("dv-memcg-check: %s\n", dv_check_fails ? "FAIL" : "PASS");
	return dv_check_fails ? 1 : 0;
}
