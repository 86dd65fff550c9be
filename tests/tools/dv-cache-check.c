/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-cache-check VIDEO MEDIA VIMC_VIDEO TRACE_MARKER: the points where the module does cache
 * maintenance for a dmabuf importer (run by tests/vm/kernel-cache-sync.sh, which traces the
 * kernel functions and says what must hold). A CAPTURE buffer is exported, imported by vimc
 * (vb2-dma-contig: dma_buf_attach and a DMA_FROM_DEVICE mapping for its device), decoded
 * (no daemon: the job fails and the buffer comes back with ERROR), dequeued, then bracketed
 * with DMA_BUF_IOCTL_SYNC for writing and for reading. Each step is announced in the trace
 * through TRACE_MARKER ("dv-cache: STEP").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/media.h>
#include <linux/videodev2.h>
#include <linux/v4l2-controls.h>

#include "dv_check.h"

int dv_check_fails;

#define OUT V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
#define CAP V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE

static int marker_fd = -1;

static void mark(const char *step)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "dv-cache: %s\n", step);

	if (write(marker_fd, line, (size_t)n) != n)
		CHECK(0, "trace marker %s", step);
}

static int sync_dbuf(int fd, unsigned long flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

static int reqbufs(int fd, unsigned type, unsigned memory, unsigned count)
{
	struct v4l2_requestbuffers rb = { .count = count, .type = type, .memory = memory };

	return ioctl(fd, VIDIOC_REQBUFS, &rb) ? -errno : (int)rb.count;
}

/* vimc's capture takes the dmabuf: attach, and map at QBUF (prepare). */
static int vimc_import(int fd, int dfd, unsigned len)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_buffer b = { .index = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF, .field = V4L2_FIELD_NONE };

	if (ioctl(fd, VIDIOC_G_FMT, &f))
		return -errno;
	f.fmt.pix.width = 16;
	f.fmt.pix.height = 16;
	if (ioctl(fd, VIDIOC_S_FMT, &f))
		return -errno;
	if (f.fmt.pix.sizeimage > len)
		return -ENOSPC;
	/* vimc rounds the count up to its minimum; buffer 0 is all we use. */
	if (reqbufs(fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_DMABUF, 1) < 1)
		return -ENOMEM;
	b.m.fd = dfd;
	b.length = len;
	return ioctl(fd, VIDIOC_QBUF, &b) ? -errno : 0;
}

static int decode_one(int vfd, int mfd)
{
	struct v4l2_ctrl_vp8_frame vp8 = { .num_dct_parts = 1, .width = 64, .height = 64 };
	struct v4l2_ext_control c = { .id = V4L2_CID_STATELESS_VP8_FRAME, .size = sizeof(vp8),
				      .ptr = &vp8 };
	struct v4l2_ext_controls cs = { .which = V4L2_CTRL_WHICH_REQUEST_VAL, .count = 1,
					.controls = &c };
	struct v4l2_plane opl = { .bytesused = 100 }, cpl[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer ob = { .index = 0, .type = OUT, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = &opl, .length = 1, .flags = V4L2_BUF_FLAG_REQUEST_FD };
	struct v4l2_buffer cb = { .index = 0, .type = CAP, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = cpl, .length = VIDEO_MAX_PLANES };
	struct pollfd p = { .fd = vfd, .events = POLLIN };
	int type, req = -1;

	CHECK(!ioctl(vfd, VIDIOC_QBUF, &cb), "QBUF(CAPTURE 0)");
	type = OUT;
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "STREAMON(OUTPUT)");
	type = CAP;
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "STREAMON(CAPTURE)");
	CHECK(!ioctl(mfd, MEDIA_IOC_REQUEST_ALLOC, &req), "MEDIA_IOC_REQUEST_ALLOC");
	cs.request_fd = req;
	CHECK(!ioctl(vfd, VIDIOC_S_EXT_CTRLS, &cs), "VP8_FRAME in the request");
	ob.request_fd = req;
	CHECK(!ioctl(vfd, VIDIOC_QBUF, &ob), "QBUF(OUTPUT 0) in the request");
	CHECK(!ioctl(req, MEDIA_REQUEST_IOC_QUEUE), "request queued");
	CHECK(poll(&p, 1, 5000) == 1, "CAPTURE ready within 5 s");
	memset(cpl, 0, sizeof(cpl));
	CHECK(!ioctl(vfd, VIDIOC_DQBUF, &cb), "DQBUF(CAPTURE)");
	CHECK(cb.flags & V4L2_BUF_FLAG_ERROR, "the job failed (no daemon): ERROR flag");
	if (req >= 0)
		close(req);
	return 0;
}

int main(int argc, char **argv)
{
	struct v4l2_format f = { .type = OUT };
	struct v4l2_plane pl[VIDEO_MAX_PLANES];
	struct v4l2_buffer qb = { .index = 0, .type = CAP, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = pl, .length = VIDEO_MAX_PLANES };
	struct v4l2_exportbuffer eb = { .type = CAP, .index = 0, .flags = O_RDWR | O_CLOEXEC };
	int vfd, mfd, xfd, ret;

	if (argc != 5) {
		fprintf(stderr, "usage: dv-cache-check VIDEO MEDIA VIMC_VIDEO TRACE_MARKER\n");
		return 2;
	}
	vfd = open(argv[1], O_RDWR);
	mfd = open(argv[2], O_RDWR);
	xfd = open(argv[3], O_RDWR);
	marker_fd = open(argv[4], O_WRONLY);
	if (vfd < 0 || mfd < 0 || xfd < 0 || marker_fd < 0) {
		perror("open");
		return 1;
	}
	/* 64x64 NV12: 6 KiB, two pages allocated as one block, so contiguous for vimc. */
	f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_VP8_FRAME;
	f.fmt.pix_mp.width = 64;
	f.fmt.pix_mp.height = 64;
	CHECK(!ioctl(vfd, VIDIOC_S_FMT, &f), "S_FMT(OUTPUT VP8 64x64)");
	CHECK(reqbufs(vfd, OUT, V4L2_MEMORY_MMAP, 1) == 1, "REQBUFS(OUTPUT 1)");
	CHECK(reqbufs(vfd, CAP, V4L2_MEMORY_MMAP, 1) == 1, "REQBUFS(CAPTURE 1)");
	CHECK(!ioctl(vfd, VIDIOC_QUERYBUF, &qb), "QUERYBUF(CAPTURE 0): %u bytes", pl[0].length);
	CHECK(!ioctl(vfd, VIDIOC_EXPBUF, &eb), "EXPBUF(CAPTURE 0)");
	ret = vimc_import(xfd, eb.fd, pl[0].length);
	CHECK(ret == 0, "vimc attaches and maps the CAPTURE dmabuf (DMA_FROM_DEVICE): %d", ret);
	if (dv_check_fails)
		return 1;

	mark("decode");
	decode_one(vfd, mfd);
	mark("sync-write");
	CHECK(!sync_dbuf(eb.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), "SYNC START WRITE");
	CHECK(!sync_dbuf(eb.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), "SYNC END WRITE");
	mark("sync-read");
	CHECK(!sync_dbuf(eb.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), "SYNC START READ");
	CHECK(!sync_dbuf(eb.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), "SYNC END READ");
	mark("end");

	reqbufs(xfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_DMABUF, 0);
	close(xfd);
	close(eb.fd);
	close(mfd);
	close(vfd);
	return dv_check_fails ? 1 : 0;
}
