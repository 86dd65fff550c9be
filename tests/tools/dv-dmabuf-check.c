/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-dmabuf-check VIDEO [VISL_VIDEO [VIMC_VIDEO]]: the module's own buffer memory seen from
 * userspace (run by tests/vm/kernel-dmabuf.sh, which says what and why).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "dv_check.h"

int dv_check_fails;


static int sync_dbuf(int fd, unsigned long flags)
{
	struct dma_buf_sync s = { .flags = flags };
	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

static int export(int vfd, unsigned type, unsigned index, int flags)
{
	struct v4l2_exportbuffer eb = { .type = type, .index = index, .plane = 0, .flags = flags };
	return ioctl(vfd, VIDIOC_EXPBUF, &eb) ? -1 : eb.fd;
}

static int import_single(const char *dev, unsigned type, int dfd, unsigned len)
{
	struct v4l2_requestbuffers rb = { .count = 1, .type = type, .memory = V4L2_MEMORY_DMABUF };
	struct v4l2_plane pl = { .m.fd = dfd, .length = len, .bytesused = 4096 };
	struct v4l2_buffer b = { .index = 0, .type = type, .memory = V4L2_MEMORY_DMABUF };
	int fd = open(dev, O_RDWR), ret;

	if (fd < 0)
		return -ENODEV;
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) || rb.count < 1) {
		close(fd);
		return -ENOTSUP;
	}
	if (V4L2_TYPE_IS_MULTIPLANAR(type)) {
		b.m.planes = &pl;
		b.length = 1;
	} else {
		b.m.fd = dfd;
		b.length = len;
		b.bytesused = len;
	}
	b.field = V4L2_FIELD_NONE;
	ret = ioctl(fd, VIDIOC_QBUF, &b) ? -errno : 0;
	rb.count = 0;
	ioctl(fd, VIDIOC_REQBUFS, &rb);
	close(fd);
	return ret;
}

/*
 * QBUF of an imported buffer, then, after STREAMOFF gave it back, QBUF of the same buffer
 * with an fd that is no dmabuf. vb2 (__prepare_dmabuf, 6.12) then drops the planes it held
 * without calling buf_cleanup; the handle buf_init made for the daemon, and its dmabuf
 * reference, must not outlive them (the dmabuf count and the module's refcnt at the end of
 * kernel-dmabuf.sh and kernel-ioctl-fuzz.sh catch one that does). Returns the second QBUF's
 * error (-EINVAL expected), or a positive step number for a step that failed.
 */
static int import_requeue_bad_fd(const char *dev, int dfd, unsigned len)
{
	const unsigned type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	struct v4l2_requestbuffers rb = { .count = 1, .type = type, .memory = V4L2_MEMORY_DMABUF };
	struct v4l2_plane pl = { .m.fd = dfd, .length = len };
	struct v4l2_buffer b = { .index = 0, .type = type, .memory = V4L2_MEMORY_DMABUF,
				 .m.planes = &pl, .length = 1, .field = V4L2_FIELD_NONE };
	int fd = open(dev, O_RDWR), ret;

	if (fd < 0)
		return 1;
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) || rb.count < 1)
		ret = 2;
	else if (ioctl(fd, VIDIOC_QBUF, &b))
		ret = 3;
	else if (ioctl(fd, VIDIOC_STREAMOFF, &type))
		ret = 4;
	else {
		pl.m.fd = -1;
		ret = ioctl(fd, VIDIOC_QBUF, &b) ? -errno : 0;
	}
	rb.count = 0;
	ioctl(fd, VIDIOC_REQBUFS, &rb);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	const unsigned cap = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, out = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	struct v4l2_requestbuffers rb = { .count = 2, .type = cap, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer qb = { .index = 0, .type = cap, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = planes, .length = VIDEO_MAX_PLANES };
	int vfd, dfd, ofd, ret;
	unsigned char *vmap, *dmap;
	unsigned len, i;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: dv-dmabuf-check VIDEO [VISL_VIDEO [VIMC_VIDEO]]\n");
		return 2;
	}
	vfd = open(argv[1], O_RDWR);

	if (vfd < 0) { perror(argv[1]); return 1; }
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) && rb.count == 2, "REQBUFS(CAPTURE, MMAP, 2)");
	CHECK(!ioctl(vfd, VIDIOC_QUERYBUF, &qb), "QUERYBUF(CAPTURE 0)");
	len = planes[0].length;
	vmap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, planes[0].m.mem_offset);
	CHECK(vmap != MAP_FAILED, "mmap of the video node (%u bytes)", len);
	dfd = export(vfd, cap, 0, O_RDWR | O_CLOEXEC);
	CHECK(dfd >= 0, "EXPBUF(CAPTURE 0)");
	dmap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	CHECK(dmap != MAP_FAILED, "mmap of the exported dmabuf");
	if (vmap == MAP_FAILED || dmap == MAP_FAILED)
		return 1;
	for (i = 0; i < len; i++)
		vmap[i] = (unsigned char)(i * 7 + 3);
	CHECK(!sync_dbuf(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), "DMA_BUF_IOCTL_SYNC START");
	for (i = 0; i < len && dmap[i] == (unsigned char)(i * 7 + 3); i++)
		;
	CHECK(i == len, "video-node writes read back through the dmabuf (%u of %u bytes)", i, len);
	CHECK(!sync_dbuf(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), "DMA_BUF_IOCTL_SYNC END");
	sync_dbuf(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < len; i++)
		dmap[i] = (unsigned char)(i * 13 + 1);
	sync_dbuf(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < len && vmap[i] == (unsigned char)(i * 13 + 1); i++)
		;
	CHECK(i == len, "dmabuf writes read back through the video node (%u of %u bytes)", i, len);

	/* A large bitstream buffer, so that any importer's minimum size fits. */
	struct v4l2_format f = { .type = out };
	CHECK(!ioctl(vfd, VIDIOC_G_FMT, &f), "G_FMT(OUTPUT)");
	f.fmt.pix_mp.plane_fmt[0].sizeimage = 8 << 20;
	CHECK(!ioctl(vfd, VIDIOC_S_FMT, &f) && f.fmt.pix_mp.plane_fmt[0].sizeimage == 8 << 20,
	      "S_FMT(OUTPUT, sizeimage 8 MiB)");
	rb.type = out;
	rb.count = 1;
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) && rb.count == 1, "REQBUFS(OUTPUT, MMAP, 1)");
	ofd = export(vfd, out, 0, O_RDWR | O_CLOEXEC);
	CHECK(ofd >= 0, "EXPBUF(OUTPUT 0)");

	/*
	 * Our own node imports it too, and must refuse a plane length larger than the dmabuf
	 * without keeping a reference to it (vb2 leaked one, and with it the module, when
	 * attach_dmabuf failed; the dmabuf count at the end of the test catches it).
	 */
	ret = import_single(argv[1], cap, dfd, len);
	CHECK(ret == 0, "our node imports the exported CAPTURE dmabuf, QBUF -> %d", ret);
	ret = import_single(argv[1], cap, dfd, len + 4096);
	CHECK(ret == -EINVAL,
	      "our node refuses it with a plane length beyond its size (QBUF -> %d, EINVAL expected)",
	      ret);

	ret = import_requeue_bad_fd(argv[1], dfd, len);
	CHECK(ret == -EINVAL,
	      "a buffer imported and queued, then queued again with a bad fd: QBUF -> %d "
	      "(EINVAL expected; positive: that step failed)", ret);

	if (argc > 2 && argv[2][0]) {
		ret = import_single(argv[2], V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, ofd, 8 << 20);
		CHECK(ret == 0, "visl imports the exported OUTPUT dmabuf (vmap), QBUF -> %d", ret);
	}
	if (argc > 3 && argv[3][0]) {
		ret = import_single(argv[3], V4L2_BUF_TYPE_VIDEO_CAPTURE, dfd, len);
		CHECK(ret == 0 || ret == -EFAULT,
		      "vimc attaches and maps the exported CAPTURE dmabuf, QBUF -> %d%s", ret,
		      ret == -EFAULT ? " (needs contiguous memory, as documented)" : "");
	}
	munmap(dmap, len);
	munmap(vmap, len);
	close(dfd);
	close(ofd);
	close(vfd);
	return dv_check_fails ? 1 : 0;
}
