// SPDX-License-Identifier: BSD-2-Clause
#include "dv_v4l2.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/media.h>
#include <linux/udmabuf.h>

int dv_xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r && errno == EINTR);
	return r ? -errno : 0;
}

#define FAIL(ret, ...) do { \
	fprintf(stderr, "dv-reqclient: " __VA_ARGS__); \
	fprintf(stderr, ": %s\n", strerror(-(ret))); \
	return ret; \
} while (0)

static bool is_ours(const char *driver)
{
	return !strcmp(driver, "daedalus-v4l2") || !strcmp(driver, "daedalus_v4l2");
}

int dv_open(struct dv_dev *d, const char *video)
{
	struct v4l2_capability cap;
	char path[64];
	int ret;

	memset(d, 0, sizeof(*d));
	d->vfd = d->mfd = -1;
	d->held = -1;
	for (int i = 0; i < 64 && d->vfd < 0; i++) {
		if (video)
			snprintf(path, sizeof(path), "%s", video);
		else
			snprintf(path, sizeof(path), "/dev/video%d", i);
		d->vfd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (d->vfd >= 0 && (dv_xioctl(d->vfd, VIDIOC_QUERYCAP, &cap) ||
				    !is_ours((const char *)cap.driver))) {
			close(d->vfd);
			d->vfd = -1;
		}
		if (video)
			break;
	}
	if (d->vfd < 0) {
		fprintf(stderr, "dv-reqclient: no daedalus-v4l2 video node\n");
		return -ENODEV;
	}
	snprintf(d->video, sizeof(d->video), "%s", path);
	if (!(cap.device_caps & V4L2_CAP_VIDEO_M2M_MPLANE) ||
	    !(cap.device_caps & V4L2_CAP_STREAMING)) {
		fprintf(stderr, "dv-reqclient: %s is not an MPLANE m2m device\n", path);
		return -EINVAL;
	}
	for (int i = 0; i < 64; i++) {
		struct media_device_info info;

		snprintf(path, sizeof(path), "/dev/media%d", i);
		d->mfd = open(path, O_RDWR | O_CLOEXEC);
		if (d->mfd < 0)
			continue;
		ret = dv_xioctl(d->mfd, MEDIA_IOC_DEVICE_INFO, &info);
		if (!ret && !strcmp(info.driver, (const char *)cap.driver) &&
		    !strcmp(info.bus_info, (const char *)cap.bus_info)) {
			snprintf(d->media, sizeof(d->media), "%s", path);
			return 0;
		}
		close(d->mfd);
		d->mfd = -1;
	}
	fprintf(stderr, "dv-reqclient: no media node for %s\n", d->video);
	return -ENODEV;
}

static void free_bufs(struct dv_buf *bufs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int p = 0; p < bufs[i].nplanes; p++) {
			struct dv_plane *pl = &bufs[i].p[p];

			if (pl->map)
				munmap(pl->map, pl->len);
			if (pl->dmabuf >= 0)
				close(pl->dmabuf);
			if (pl->memfd >= 0)
				close(pl->memfd);
			pl->map = NULL;
			pl->dmabuf = pl->memfd = -1;
		}
}

void dv_close(struct dv_dev *d)
{
	free_bufs(d->out, d->nout);
	free_bufs(d->cap, d->ncap);
	if (d->vfd >= 0)
		close(d->vfd);
	if (d->mfd >= 0)
		close(d->mfd);
	d->vfd = d->mfd = -1;
}

int dv_set_formats(struct dv_dev *d, uint32_t coded, unsigned int w,
		   unsigned int h, uint32_t cap_fourcc)
{
	struct v4l2_format *o = &d->out_fmt, *c = &d->cap_fmt;
	int ret;

	memset(o, 0, sizeof(*o));
	o->type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	o->fmt.pix_mp.pixelformat = coded;
	o->fmt.pix_mp.width = w;
	o->fmt.pix_mp.height = h;
	o->fmt.pix_mp.num_planes = 1;
	ret = dv_xioctl(d->vfd, VIDIOC_S_FMT, o);
	if (ret)
		FAIL(ret, "S_FMT OUTPUT %.4s %ux%u", (char *)&coded, w, h);
	if (o->fmt.pix_mp.pixelformat != coded)
		FAIL(-EINVAL, "OUTPUT format %.4s not accepted", (char *)&coded);
	memset(c, 0, sizeof(*c));
	c->type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	ret = dv_xioctl(d->vfd, VIDIOC_G_FMT, c);
	if (ret)
		FAIL(ret, "G_FMT CAPTURE");
	if (cap_fourcc && c->fmt.pix_mp.pixelformat != cap_fourcc) {
		c->fmt.pix_mp.pixelformat = cap_fourcc;
		ret = dv_xioctl(d->vfd, VIDIOC_S_FMT, c);
		if (ret)
			FAIL(ret, "S_FMT CAPTURE");
		if (c->fmt.pix_mp.pixelformat != cap_fourcc)
			FAIL(-EINVAL, "CAPTURE format %.4s not accepted", (char *)&cap_fourcc);
	}
	return 0;
}

static int alloc_dmabuf(struct dv_plane *pl, size_t len, enum dv_mem mem)
{
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	len = (len + page - 1) / page * page;
	pl->len = len;
	if (mem == DV_MEM_HEAP) {
		struct dma_heap_allocation_data a = {
			.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
		};
		int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

		if (heap < 0)
			FAIL(-errno, "open /dev/dma_heap/system");
		ret = dv_xioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a);
		close(heap);
		if (ret)
			FAIL(ret, "DMA_HEAP_IOCTL_ALLOC %zu", len);
		pl->dmabuf = a.fd;
	} else {
		struct udmabuf_create u = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
		int dev;

		pl->memfd = memfd_create("dv-capture", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (pl->memfd < 0)
			FAIL(-errno, "memfd_create");
		if (ftruncate(pl->memfd, len) ||
		    fcntl(pl->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
			FAIL(-errno, "memfd size/seal");
		dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		if (dev < 0)
			FAIL(-errno, "open /dev/udmabuf");
		u.memfd = pl->memfd;
		ret = ioctl(dev, UDMABUF_CREATE, &u);
		ret = ret < 0 ? -errno : ret;
		close(dev);
		if (ret < 0)
			FAIL(ret, "UDMABUF_CREATE %zu", len);
		pl->dmabuf = ret;
	}
	pl->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, pl->dmabuf, 0);
	if (pl->map == MAP_FAILED) {
		pl->map = NULL;
		FAIL(-errno, "mmap dmabuf");
	}
	return 0;
}

static int alloc_queue(struct dv_dev *d, enum v4l2_buf_type type, unsigned int n,
		       enum dv_mem mem, struct dv_buf *bufs, unsigned int *got)
{
	const struct v4l2_format *f = type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE ?
				      &d->out_fmt : &d->cap_fmt;
	struct v4l2_requestbuffers rb = {
		.count = n, .type = type,
		.memory = mem == DV_MEM_MMAP ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF,
	};
	int ret = dv_xioctl(d->vfd, VIDIOC_REQBUFS, &rb);

	if (ret)
		FAIL(ret, "REQBUFS %u type %u", n, type);
	if (rb.count < n)
		FAIL(-ENOMEM, "REQBUFS gave %u of %u buffers", rb.count, n);
	if (type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE &&
	    !(rb.capabilities & V4L2_BUF_CAP_SUPPORTS_REQUESTS))
		FAIL(-EINVAL, "OUTPUT queue without V4L2_BUF_CAP_SUPPORTS_REQUESTS");
	*got = n;
	if (type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) {
		/* MMAP and a fixed pool: each slot its own memory; rotating: all start free */
		d->pool_head = 0;
		d->pool_count = mem != DV_MEM_MMAP && d->pool_rotate ? n : 0;
		d->pool_changes = 0;
		for (unsigned int i = 0; i < n; i++) {
			d->pool_free[i] = i;
			d->slot_mem[i] = d->pool_count ? DV_MAX_BUFS : i;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
		struct v4l2_buffer b = {
			.index = i, .type = type, .memory = rb.memory,
			.m.planes = planes, .length = VIDEO_MAX_PLANES,
		};

		bufs[i].nplanes = f->fmt.pix_mp.num_planes;
		for (unsigned int p = 0; p < DV_MAX_PLANES; p++)
			bufs[i].p[p] = (struct dv_plane){ .dmabuf = -1, .memfd = -1 };
		ret = dv_xioctl(d->vfd, VIDIOC_QUERYBUF, &b);
		if (ret)
			FAIL(ret, "QUERYBUF %u", i);
		if (b.length != bufs[i].nplanes)
			FAIL(-EINVAL, "QUERYBUF %u: %u planes, format has %u", i, b.length,
			     bufs[i].nplanes);
		for (unsigned int p = 0; p < bufs[i].nplanes; p++) {
			struct dv_plane *pl = &bufs[i].p[p];

			if (mem != DV_MEM_MMAP) {
				ret = alloc_dmabuf(pl, f->fmt.pix_mp.plane_fmt[p].sizeimage, mem);
				if (ret)
					return ret;
				continue;
			}
			pl->len = planes[p].length;
			pl->map = mmap(NULL, pl->len, PROT_READ | PROT_WRITE, MAP_SHARED,
				       d->vfd, planes[p].m.mem_offset);
			if (pl->map == MAP_FAILED) {
				pl->map = NULL;
				FAIL(-errno, "mmap buffer %u plane %u", i, p);
			}
		}
	}
	return 0;
}

int dv_alloc(struct dv_dev *d, unsigned int nout, unsigned int ncap, enum dv_mem cap_mem)
{
	int ret;

	if (nout > DV_MAX_BUFS || ncap > DV_MAX_BUFS)
		return -EINVAL;
	d->cap_mem = cap_mem;
	ret = alloc_queue(d, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, nout, DV_MEM_MMAP,
			  d->out, &d->nout);
	if (ret)
		return ret;
	return alloc_queue(d, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, ncap, cap_mem,
			   d->cap, &d->ncap);
}

int dv_free(struct dv_dev *d)
{
	static const enum v4l2_buf_type types[2] = {
		V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
	};
	int ret = dv_stream(d, false);

	if (ret)
		return ret;
	free_bufs(d->out, d->nout);
	free_bufs(d->cap, d->ncap);
	d->nout = d->ncap = 0;
	for (int i = 0; i < 2; i++) {
		struct v4l2_requestbuffers rb = {
			.count = 0, .type = types[i],
			.memory = i && d->cap_mem != DV_MEM_MMAP ? V4L2_MEMORY_DMABUF :
				  V4L2_MEMORY_MMAP,
		};

		ret = dv_xioctl(d->vfd, VIDIOC_REQBUFS, &rb);
		if (ret)
			FAIL(ret, "REQBUFS 0 type %u", types[i]);
	}
	return 0;
}

int dv_parse_capture(const char *s, enum dv_mem *mem, bool *rotate)
{
	*rotate = false;
	if (!strcmp(s, "mmap")) {
		*mem = DV_MEM_MMAP;
	} else if (!strcmp(s, "dmabuf-import")) {
		*mem = DV_MEM_HEAP;
	} else if (!strcmp(s, "dmabuf-import-rotate")) {
		*mem = DV_MEM_HEAP;
		*rotate = true;
	} else {
		return -1;
	}
	return 0;
}

void dv_pool_take(struct dv_dev *d, unsigned int slot)
{
	unsigned int had = d->slot_mem[slot];

	if (d->cap_mem == DV_MEM_MMAP || !d->pool_rotate)
		return;
	/* the slot's old buffer to the end of the free list, the oldest free one to the slot */
	if (had < DV_MAX_BUFS) {
		d->pool_free[(d->pool_head + d->pool_count) % d->ncap] = had;
		d->pool_count++;
	}
	d->slot_mem[slot] = d->pool_free[d->pool_head];
	d->pool_head = (d->pool_head + 1) % d->ncap;
	d->pool_count--;
	if (had < DV_MAX_BUFS && d->slot_mem[slot] != had)
		d->pool_changes++;
}

const struct dv_buf *dv_cap_mem(const struct dv_dev *d, unsigned int slot)
{
	return &d->cap[d->slot_mem[slot]];
}

int dv_cap_sync(const struct dv_dev *d, unsigned int slot, bool start)
{
	const struct dv_buf *b = dv_cap_mem(d, slot);
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_READ | (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END),
	};

	for (unsigned int p = 0; p < b->nplanes; p++) {
		int ret;

		if (b->p[p].dmabuf < 0)
			continue;
		ret = dv_xioctl(b->p[p].dmabuf, DMA_BUF_IOCTL_SYNC, &sync);
		if (ret)
			FAIL(ret, "DMA_BUF_IOCTL_SYNC %s slot %u plane %u",
			     start ? "START" : "END", slot, p);
	}
	return 0;
}

int dv_stream(struct dv_dev *d, bool on)
{
	int types[2] = { V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE };

	for (int i = 0; i < 2; i++) {
		int ret = dv_xioctl(d->vfd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &types[i]);

		if (ret)
			FAIL(ret, "%s type %d", on ? "STREAMON" : "STREAMOFF", types[i]);
	}
	/* the kernel numbers CAPTURE buffers from 0 again */
	d->cap_seq_any = false;
	return 0;
}

int dv_queue_capture(struct dv_dev *d, unsigned int index)
{
	const struct dv_buf *mem = dv_cap_mem(d, index);
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
		.memory = d->cap_mem == DV_MEM_MMAP ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF,
		.m.planes = planes, .length = mem->nplanes,
	};
	int ret;

	for (unsigned int p = 0; p < mem->nplanes; p++) {
		if (d->cap_mem == DV_MEM_MMAP)
			continue;
		planes[p].m.fd = mem->p[p].dmabuf;
		planes[p].length = (uint32_t)mem->p[p].len;
	}
	ret = dv_xioctl(d->vfd, VIDIOC_QBUF, &b);
	if (ret)
		FAIL(ret, "QBUF CAPTURE %u", index);
	return 0;
}

int dv_queue_output(struct dv_dev *d, unsigned int index, int req,
		    const struct timeval *ts, unsigned int offset, unsigned int bytes,
		    uint32_t flags)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
		.memory = V4L2_MEMORY_MMAP, .m.planes = planes, .length = 1,
		.timestamp = *ts, .field = V4L2_FIELD_NONE, .flags = flags,
	};
	int ret;

	planes[0].bytesused = offset + bytes;
	planes[0].data_offset = offset;
	if (req >= 0) {
		b.flags |= V4L2_BUF_FLAG_REQUEST_FD;
		b.request_fd = req;
	}
	ret = dv_xioctl(d->vfd, VIDIOC_QBUF, &b);
	if (ret)
		FAIL(ret, "QBUF OUTPUT %u", index);
	return 0;
}

int dv_dequeue(struct dv_dev *d, enum v4l2_buf_type type, struct v4l2_buffer *b,
	       struct v4l2_plane *planes)
{
	int ret;

	memset(b, 0, sizeof(*b));
	memset(planes, 0, VIDEO_MAX_PLANES * sizeof(*planes));
	b->type = type;
	b->memory = type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE && d->cap_mem != DV_MEM_MMAP ?
		    V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
	b->m.planes = planes;
	b->length = VIDEO_MAX_PLANES;
	ret = dv_xioctl(d->vfd, VIDIOC_DQBUF, b);
	if (ret || type != V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
		return ret;
	if (d->cap_seq_any && b->sequence < d->cap_seq_next) {
		fprintf(stderr, "CAPTURE buffer %u has sequence %u, after %u\n", b->index,
			b->sequence, d->cap_seq_next - 1);
		d->cap_seq_repeats++;
	}
	d->cap_seq_any = true;
	d->cap_seq_next = b->sequence + 1;
	return 0;
}

int dv_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r > 0 && (p.revents & events) ? 1 : 0;
}

int dv_req_alloc(struct dv_dev *d)
{
	int fd = -1;
	int ret = dv_xioctl(d->mfd, MEDIA_IOC_REQUEST_ALLOC, &fd);

	if (ret)
		FAIL(ret, "MEDIA_IOC_REQUEST_ALLOC");
	return fd;
}

int dv_req_set_ctrls(struct dv_dev *d, int req, struct v4l2_ext_control *c,
		     unsigned int n)
{
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_REQUEST_VAL, .request_fd = req,
		.count = n, .controls = c,
	};
	int ret = dv_xioctl(d->vfd, VIDIOC_S_EXT_CTRLS, &cs);

	if (ret)
		FAIL(ret, "S_EXT_CTRLS (request, %u controls, error_idx %u, id %#x)", n,
		     cs.error_idx, cs.error_idx < n ? c[cs.error_idx].id : 0);
	return 0;
}

int dv_set_ctrls(struct dv_dev *d, struct v4l2_ext_control *c, unsigned int n)
{
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_CUR_VAL, .count = n, .controls = c,
	};
	int ret = dv_xioctl(d->vfd, VIDIOC_S_EXT_CTRLS, &cs);

	if (ret)
		FAIL(ret, "S_EXT_CTRLS (%u controls)", n);
	return 0;
}

static uint64_t ts_of(const struct v4l2_buffer *b)
{
	return (uint64_t)b->timestamp.tv_sec * 1000000000 + (uint64_t)b->timestamp.tv_usec * 1000;
}

/* The held CAPTURE buffer came back: 1 (taken), else 0. */
static int take_held(struct dv_dev *d, const struct v4l2_buffer *b)
{
	if ((int)b->index != d->held || d->held_back)
		return 0;
	d->held_back = true;
	d->held_flags = b->flags;
	return 1;
}

/*
 * Fill OUTPUT buffer 0, queue CAPTURE @cap (unless @cap_queued: a held one) and OUTPUT with
 * @flags in @req, queue @req.
 */
static int submit(struct dv_dev *d, int req, unsigned int cap, uint64_t ts_ns,
		  struct v4l2_ext_control *c, unsigned int n, const void *bitstream,
		  size_t bytes, uint32_t flags, bool cap_queued)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ts_ns / 1000000000),
		.tv_usec = (suseconds_t)((ts_ns / 1000) % 1000000),
	};

	if (bytes > d->out[0].p[0].len) {
		fprintf(stderr, "OUTPUT buffer of %zu bytes too small for %zu\n",
			d->out[0].p[0].len, bytes);
		return -1;
	}
	memcpy(d->out[0].p[0].map, bitstream, bytes);
	if (!cap_queued) {
		dv_pool_take(d, cap);
		if (dv_queue_capture(d, cap))
			return -1;
	}
	if (dv_req_set_ctrls(d, req, c, n) ||
	    dv_queue_output(d, 0, req, &tv, 0, (unsigned int)bytes, flags))
		return -1;
	if (ioctl(req, MEDIA_REQUEST_IOC_QUEUE, NULL)) {
		perror("MEDIA_REQUEST_IOC_QUEUE");
		return -1;
	}
	return 0;
}

int dv_decode_one(struct dv_dev *d, int req, unsigned int cap, uint64_t ts_ns,
		  struct v4l2_ext_control *c, unsigned int n, const void *bitstream,
		  size_t bytes)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	int error = 0, got = 0;

	if (submit(d, req, cap, ts_ns, c, n, bitstream, bytes, 0, false))
		return -1;
	while (got < 2) {
		if (dv_wait(d->vfd, POLLIN | POLLOUT, 10000) <= 0) {
			fprintf(stderr, "no buffer back within 10 s\n");
			return -1;
		}
		if (!dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, &b, planes))
			got++;
		if (!dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, &b, planes) &&
		    !take_held(d, &b)) {
			got++;
			error = b.flags & V4L2_BUF_FLAG_ERROR;
			if (b.index != cap || ts_of(&b) != ts_ns) {
				fprintf(stderr, "CAPTURE buffer %u with another timestamp back\n",
					b.index);
				return -1;
			}
		}
	}
	if (ioctl(req, MEDIA_REQUEST_IOC_REINIT, NULL)) {
		perror("MEDIA_REQUEST_IOC_REINIT");
		return -1;
	}
	return error ? 1 : 0;
}

int dv_flush(struct dv_dev *d)
{
	struct v4l2_decoder_cmd dc = { .cmd = V4L2_DEC_CMD_FLUSH };
	int ret = dv_xioctl(d->vfd, VIDIOC_DECODER_CMD, &dc);

	if (ret)
		FAIL(ret, "DECODER_CMD FLUSH");
	return 0;
}

/*
 * After a held piece was queued: wait for its OUTPUT buffer (and, with @need_held, for the
 * held CAPTURE buffer) to come back, taking any CAPTURE buffer that does (only the held one
 * may), then reinit the request for the next piece.
 */
static int collect_held(struct dv_dev *d, int req, bool need_held, const char *timeout_msg)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	bool out_back = false;

	while (!out_back || (need_held && !d->held_back)) {
		if (dv_wait(d->vfd, POLLIN | POLLOUT, 10000) <= 0) {
			fprintf(stderr, "%s\n", timeout_msg);
			return -1;
		}
		if (!dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, &b, planes))
			out_back = true;
		if (!dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, &b, planes) &&
		    !take_held(d, &b)) {
			fprintf(stderr, "CAPTURE buffer %u back, not the held one\n", b.index);
			return -1;
		}
	}
	if (ioctl(req, MEDIA_REQUEST_IOC_REINIT, NULL)) {
		perror("MEDIA_REQUEST_IOC_REINIT");
		return -1;
	}
	return 0;
}

int dv_decode_held(struct dv_dev *d, int req, unsigned int cap, uint64_t ts_ns,
		   struct v4l2_ext_control *c, unsigned int n, const void *bitstream,
		   size_t bytes, bool flush)
{
	d->held = (int)cap;
	d->held_back = false;
	if (submit(d, req, cap, ts_ns, c, n, bitstream, bytes,
		   V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF, false) ||
	    (flush && dv_flush(d)))
		return -1;
	return collect_held(d, req, false, "held request: no OUTPUT buffer back within 10 s");
}

int dv_decode_rest(struct dv_dev *d, int req, uint64_t ts_ns, struct v4l2_ext_control *c,
		   unsigned int n, const void *bitstream, size_t bytes)
{
	if (d->held < 0 || d->held_back) {
		fprintf(stderr, "no held CAPTURE buffer to complete\n");
		return -1;
	}
	/* the held CAPTURE buffer is still queued: the m2m core keeps it for this request */
	if (submit(d, req, (unsigned int)d->held, ts_ns, c, n, bitstream, bytes, 0, true))
		return -1;
	if (collect_held(d, req, true, "last piece: no buffer back within 10 s"))
		return -1;
	return d->held_flags & V4L2_BUF_FLAG_ERROR ? 1 : 0;
}

int dv_wait_held(struct dv_dev *d, int ms)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	while (!d->held_back) {
		if (dv_wait(d->vfd, POLLIN, ms) <= 0) {
			fprintf(stderr, "held CAPTURE buffer %d not back within %d ms\n",
				d->held, ms);
			return -1;
		}
		if (!dv_dequeue(d, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, &b, planes) &&
		    !take_held(d, &b)) {
			fprintf(stderr, "CAPTURE buffer %u back, not the held one\n", b.index);
			return -1;
		}
	}
	return 0;
}
