// SPDX-License-Identifier: BSD-2-Clause
/* FFmpeg's v4l2-request way of driving a stateless decoder: see dv_request_pipe.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/media.h>

#include "dv_request_pipe.h"
#include "dv_v4l2.h"
#include "test_picture.h"

#define OUT_TYPE V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
#define CAP_TYPE V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
/* FFmpeg's AV_INPUT_BUFFER_PADDING_SIZE, four times: zeroed after the bitstream */
#define PADDING (4 * 64)

#define FAIL(what) \
	do { \
		fprintf(stderr, "dv-request-pipe: %s: %s\n", what, strerror(errno)); \
		return -1; \
	} while (0)

static bool is_ours(const char *driver)
{
	return !strcmp(driver, "daedalus-v4l2") || !strcmp(driver, "daedalus_v4l2");
}

/* The node of character device @major:@minor, as udev named it (its uevent's DEVNAME). */
static int devnode_path(uint32_t major, uint32_t minor, char *path, size_t size)
{
	char uevent[96], line[256];
	FILE *f;
	int r = -1;

	snprintf(uevent, sizeof(uevent), "/sys/dev/char/%u:%u/uevent", major, minor);
	f = fopen(uevent, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "DEVNAME=", 8)) {
			line[strcspn(line, "\n")] = 0;
			if (strlen(line + 8) + 5 < size) {
				memcpy(path, "/dev/", 5);
				memcpy(path + 5, line + 8, strlen(line + 8) + 1);
				r = 0;
			}
		}
	fclose(f);
	return r;
}

/* The video interface of media device @mfd (MEDIA_IOC_G_TOPOLOGY, as FFmpeg finds it). */
static int topology_video(int mfd, char *path, size_t size)
{
	struct media_v2_topology t = { 0 };
	struct media_v2_interface *ifs;
	int r = -1;

	if (dv_xioctl(mfd, MEDIA_IOC_G_TOPOLOGY, &t) || !t.num_interfaces)
		return -1;
	ifs = calloc(t.num_interfaces, sizeof(*ifs));
	if (!ifs)
		return -1;
	t.ptr_interfaces = (uintptr_t)ifs;
	if (!dv_xioctl(mfd, MEDIA_IOC_G_TOPOLOGY, &t))
		for (uint32_t i = 0; i < t.num_interfaces && r; i++)
			if (ifs[i].intf_type == MEDIA_INTF_T_V4L_VIDEO)
				r = devnode_path(ifs[i].devnode.major, ifs[i].devnode.minor, path,
						 size);
	free(ifs);
	return r;
}

static bool lists_format(int vfd, uint32_t type, uint32_t fourcc)
{
	struct v4l2_fmtdesc f = { .type = type };

	for (f.index = 0; !dv_xioctl(vfd, VIDIOC_ENUM_FMT, &f); f.index++)
		if (f.pixelformat == fourcc)
			return true;
	return false;
}

/* The checks of FFmpeg's probe on one video node. */
static int probe_video(struct dv_rp *p, uint32_t coded, unsigned int w, unsigned int h)
{
	struct v4l2_capability cap;
	struct v4l2_create_buffers cb = { .memory = V4L2_MEMORY_MMAP, .format.type = OUT_TYPE };
	struct v4l2_frmsizeenum fs = { .pixel_format = coded };
	uint32_t caps;
	int r;

	if (dv_xioctl(p->vfd, VIDIOC_QUERYCAP, &cap))
		FAIL("QUERYCAP");
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	if (!(caps & V4L2_CAP_STREAMING) || !(caps & V4L2_CAP_VIDEO_M2M_MPLANE)) {
		fprintf(stderr, "%s: not a streaming M2M_MPLANE device\n", p->video);
		return -1;
	}
	if (dv_xioctl(p->vfd, VIDIOC_CREATE_BUFS, &cb))
		FAIL("CREATE_BUFS count 0");
	if (!(cb.capabilities & V4L2_BUF_CAP_SUPPORTS_REQUESTS)) {
		fprintf(stderr, "%s: OUTPUT queue without SUPPORTS_REQUESTS\n", p->video);
		return -1;
	}
	p->can_hold = cb.capabilities & V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF;
	if (!lists_format(p->vfd, OUT_TYPE, coded)) {
		fprintf(stderr, "%s: coded format not listed\n", p->video);
		return -1;
	}
	/* any entry that holds the size; a driver without the ioctl is taken at its word */
	for (fs.index = 0; !(r = dv_xioctl(p->vfd, VIDIOC_ENUM_FRAMESIZES, &fs)); fs.index++)
		if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE ?
		    fs.discrete.width == w && fs.discrete.height == h :
		    w <= fs.stepwise.max_width && h <= fs.stepwise.max_height &&
		    fs.stepwise.step_width && fs.stepwise.step_height &&
		    !(w % fs.stepwise.step_width) && !(h % fs.stepwise.step_height))
			return 0;
	if (r == -ENOTTY && !fs.index)
		return 0;
	fprintf(stderr, "%s: %ux%u in no ENUM_FRAMESIZES entry\n", p->video, w, h);
	return -1;
}

/* The CAPTURE formats FFmpeg's hwaccel knows (those this kernel's headers name). */
static bool known_capture(uint32_t f)
{
	return f == V4L2_PIX_FMT_NV12 || f == V4L2_PIX_FMT_NV12_32L32 || f == V4L2_PIX_FMT_NV16 ||
	       f == V4L2_PIX_FMT_P010;
}

/*
 * The driver's CAPTURE format if FFmpeg knows it, else the first known one ENUM_FMT lists;
 * set with a fresh format of the coded size.
 */
static int select_capture(struct dv_rp *p, unsigned int w, unsigned int h)
{
	struct v4l2_format f = { .type = CAP_TYPE };
	struct v4l2_fmtdesc d = { .type = CAP_TYPE };
	uint32_t pick = 0;

	if (dv_xioctl(p->vfd, VIDIOC_G_FMT, &f))
		FAIL("G_FMT CAPTURE");
	if (known_capture(f.fmt.pix_mp.pixelformat))
		pick = f.fmt.pix_mp.pixelformat;
	for (d.index = 0; !pick && !dv_xioctl(p->vfd, VIDIOC_ENUM_FMT, &d); d.index++)
		if (known_capture(d.pixelformat))
			pick = d.pixelformat;
	if (!pick) {
		fprintf(stderr, "%s: no CAPTURE format FFmpeg knows\n", p->video);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.type = CAP_TYPE;
	f.fmt.pix_mp.width = w;
	f.fmt.pix_mp.height = h;
	f.fmt.pix_mp.pixelformat = pick;
	if (dv_xioctl(p->vfd, VIDIOC_S_FMT, &f))
		FAIL("S_FMT CAPTURE");
	p->cap_fmt.type = CAP_TYPE;
	if (dv_xioctl(p->vfd, VIDIOC_G_FMT, &p->cap_fmt))
		FAIL("G_FMT CAPTURE");
	if (p->cap_fmt.fmt.pix_mp.num_planes != 1) {
		fprintf(stderr, "%s: CAPTURE format in %u memory planes\n", p->video,
			p->cap_fmt.fmt.pix_mp.num_planes);
		return -1;
	}
	return 0;
}

int dv_rp_set(struct dv_rp *p, struct v4l2_ext_control *c, unsigned int n)
{
	struct v4l2_ext_controls cs = { .count = n, .controls = c };

	if (n && dv_xioctl(p->vfd, VIDIOC_S_EXT_CTRLS, &cs))
		FAIL("S_EXT_CTRLS");
	return 0;
}

int dv_rp_open(struct dv_rp *p, uint32_t coded, unsigned int w, unsigned int h,
	       size_t out_size, struct v4l2_ext_control *init, unsigned int ninit)
{
	memset(p, 0, sizeof(*p));
	p->vfd = p->mfd = -1;
	for (unsigned int i = 0; i < RP_MAX_CAPTURE; i++)
		p->needed_until[i] = -1;
	for (unsigned int i = 0; i < RP_OUTPUTS; i++)
		p->out[i].req = -1;
	for (int i = 0; i < 64 && p->vfd < 0; i++) {
		struct media_device_info info;

		snprintf(p->media, sizeof(p->media), "/dev/media%d", i);
		p->mfd = open(p->media, O_RDWR | O_CLOEXEC);
		if (p->mfd < 0)
			continue;
		if (!dv_xioctl(p->mfd, MEDIA_IOC_DEVICE_INFO, &info) && is_ours(info.driver) &&
		    !topology_video(p->mfd, p->video, sizeof(p->video))) {
			p->vfd = open(p->video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (p->vfd >= 0 && !probe_video(p, coded, w, h))
				break;
			if (p->vfd >= 0)
				close(p->vfd);
			p->vfd = -1;
		}
		close(p->mfd);
		p->mfd = -1;
	}
	if (p->vfd < 0) {
		fprintf(stderr, "dv-request-pipe: no media device with a decoder for this stream\n");
		return -1;
	}
	p->out_fmt.type = OUT_TYPE;
	p->out_fmt.fmt.pix_mp.width = w;
	p->out_fmt.fmt.pix_mp.height = h;
	p->out_fmt.fmt.pix_mp.pixelformat = coded;
	p->out_fmt.fmt.pix_mp.num_planes = 1;
	p->out_fmt.fmt.pix_mp.plane_fmt[0].sizeimage = (uint32_t)out_size;
	if (dv_xioctl(p->vfd, VIDIOC_S_FMT, &p->out_fmt))
		FAIL("S_FMT OUTPUT");
	if (dv_rp_set(p, init, ninit))
		return -1;
	return select_capture(p, w, h);
}

int64_t dv_rp_default(struct dv_rp *p, uint32_t id)
{
	struct v4l2_query_ext_ctrl q = { .id = id };

	if (dv_xioctl(p->vfd, VIDIOC_QUERY_EXT_CTRL, &q))
		return -1;
	return q.default_value;
}

/* CREATE_BUFS of one buffer in the current format, and its QUERYBUF: the index or -1. */
static int create_one(struct dv_rp *p, uint32_t type, struct v4l2_buffer *b,
		      struct v4l2_plane *planes)
{
	struct v4l2_create_buffers cb = { .count = 1, .memory = V4L2_MEMORY_MMAP };

	cb.format.type = type;
	if (dv_xioctl(p->vfd, VIDIOC_G_FMT, &cb.format))
		FAIL("G_FMT");
	if (dv_xioctl(p->vfd, VIDIOC_CREATE_BUFS, &cb))
		FAIL("CREATE_BUFS");
	if (cb.count != 1) {
		fprintf(stderr, "dv-request-pipe: CREATE_BUFS made %u buffers\n", cb.count);
		return -1;
	}
	memset(b, 0, sizeof(*b));
	memset(planes, 0, sizeof(*planes) * VIDEO_MAX_PLANES);
	b->type = type;
	b->memory = V4L2_MEMORY_MMAP;
	b->index = cb.index;
	b->m.planes = planes;
	b->length = VIDEO_MAX_PLANES;
	if (dv_xioctl(p->vfd, VIDIOC_QUERYBUF, b))
		FAIL("QUERYBUF");
	return (int)cb.index;
}

static int add_output(struct dv_rp *p, unsigned int i)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	void *m;

	if (create_one(p, OUT_TYPE, &b, planes) != (int)i) {
		fprintf(stderr, "dv-request-pipe: OUTPUT buffer %u not made\n", i);
		return -1;
	}
	m = mmap(NULL, planes[0].length, PROT_READ | PROT_WRITE, MAP_SHARED, p->vfd,
		 planes[0].m.mem_offset);
	if (m == MAP_FAILED)
		FAIL("mmap OUTPUT");
	p->out[i].map = m;
	p->out[i].len = planes[0].length;
	return 0;
}

/* One more CAPTURE buffer, exported: its index, or -1. */
static int add_capture(struct dv_rp *p)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_exportbuffer e = { .type = CAP_TYPE, .flags = O_RDONLY };
	struct v4l2_buffer b;
	struct rp_capture *c;
	int i;

	if (p->ncap == RP_MAX_CAPTURE)
		return -1;
	i = create_one(p, CAP_TYPE, &b, planes);
	if (i < 0)
		return -1;
	if ((unsigned int)i != p->ncap) {
		fprintf(stderr, "dv-request-pipe: CAPTURE buffer %d, expected %u\n", i, p->ncap);
		return -1;
	}
	e.index = (uint32_t)i;
	if (dv_xioctl(p->vfd, VIDIOC_EXPBUF, &e))
		FAIL("EXPBUF");
	c = &p->cap[p->ncap++];
	c->dmabuf = e.fd;
	c->len = planes[0].length;
	c->frame = -1;
	return i;
}

static int stream(struct dv_rp *p, uint32_t type, bool on)
{
	int t = (int)type;

	if (dv_xioctl(p->vfd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &t))
		FAIL(on ? "STREAMON" : "STREAMOFF");
	return 0;
}

int dv_rp_start(struct dv_rp *p, unsigned int ncap, rp_done_fn done, void *opaque)
{
	p->done = done;
	p->opaque = opaque;
	/* the frame pool first (FFmpeg makes it with the frames context), free in this order */
	for (unsigned int i = 0; i < ncap; i++) {
		if (add_capture(p) < 0)
			return -1;
		p->cap[i].freed_at = ++p->clock;
	}
	for (unsigned int i = 0; i < RP_OUTPUTS; i++)
		if (add_output(p, i))
			return -1;
	for (unsigned int i = 0; i < RP_OUTPUTS; i++)
		if (dv_xioctl(p->mfd, MEDIA_IOC_REQUEST_ALLOC, &p->out[i].req))
			FAIL("MEDIA_IOC_REQUEST_ALLOC");
	if (stream(p, OUT_TYPE, true) || stream(p, CAP_TYPE, true))
		return -1;
	p->streaming = true;
	return 0;
}

static uint64_t ts_of(const struct v4l2_buffer *b)
{
	return (uint64_t)b->timestamp.tv_sec * 1000000000 + (uint64_t)b->timestamp.tv_usec * 1000;
}

/* DQBUF on @type: 1 got one, 0 nothing ready, -1 error. */
static int dequeue(struct dv_rp *p, uint32_t type, struct v4l2_buffer *b)
{
	static struct v4l2_plane planes[VIDEO_MAX_PLANES];
	int r;

	memset(b, 0, sizeof(*b));
	b->type = type;
	b->memory = V4L2_MEMORY_MMAP;
	b->m.planes = planes;
	b->length = VIDEO_MAX_PLANES;
	r = dv_xioctl(p->vfd, VIDIOC_DQBUF, b);
	if (r == -EAGAIN)
		return 0;
	if (r) {
		errno = -r;
		FAIL("DQBUF");
	}
	return 1;
}

/* A CAPTURE buffer is back: checked, counted, handed to the caller's callback. */
static int capture_back(struct dv_rp *p, const struct v4l2_buffer *b)
{
	struct rp_capture *c = &p->cap[b->index];

	if (b->index >= p->ncap || !c->queued) {
		fprintf(stderr, "dv-request-pipe: CAPTURE %u back unqueued\n", b->index);
		return -1;
	}
	if (ts_of(b) != dv_rp_ts(b->index)) {
		fprintf(stderr, "dv-request-pipe: CAPTURE %u back with timestamp %llu\n", b->index,
			(unsigned long long)ts_of(b));
		return -1;
	}
	/* requests complete in the order they were queued */
	if (c->frame != p->completed) {
		fprintf(stderr, "dv-request-pipe: frame %ld back before frame %ld\n", c->frame,
			p->completed);
		return -1;
	}
	c->queued = false;
	p->in_flight--;
	p->completed++;
	return p->done(p->opaque, b->index, b->flags);
}

int dv_rp_reap(struct dv_rp *p, bool wait)
{
	struct v4l2_buffer b;
	struct pollfd pf = { .fd = p->vfd, .events = POLLIN | POLLOUT };
	bool got = false;
	int r;

	for (;;) {
		while ((r = dequeue(p, OUT_TYPE, &b)) == 1) {
			if (b.index >= RP_OUTPUTS || !p->out[b.index].busy) {
				fprintf(stderr, "dv-request-pipe: OUTPUT %u back unqueued\n", b.index);
				return -1;
			}
			p->out[b.index].busy = false;
			got = true;
		}
		if (r < 0)
			return -1;
		while ((r = dequeue(p, CAP_TYPE, &b)) == 1) {
			if (capture_back(p, &b))
				return -1;
			got = true;
		}
		if (r < 0)
			return -1;
		if (got || !wait)
			return 0;
		/* the m2m poll says POLLERR at once when neither queue holds a buffer */
		r = poll(&pf, 1, RP_WAIT_MS);
		if (r < 0 && errno != EINTR)
			FAIL("poll");
		if (!r) {
			fprintf(stderr, "dv-request-pipe: nothing back within %d ms (%u in flight)\n",
				RP_WAIT_MS, p->in_flight);
			return -1;
		}
		if (r > 0 && (pf.revents & POLLERR)) {
			fprintf(stderr, "dv-request-pipe: waiting with nothing queued\n");
			return -1;
		}
	}
}

int dv_rp_wait_capture(struct dv_rp *p, unsigned int cap)
{
	while (cap < p->ncap && p->cap[cap].queued)
		if (dv_rp_reap(p, true))
			return -1;
	return 0;
}

/* Before request @o is used again: POLLPRI once it was queued, then REINIT, as FFmpeg. */
static int reinit_request(struct rp_output *o)
{
	struct pollfd pf = { .fd = o->req, .events = POLLPRI };
	int r;

	if (o->used) {
		do {
			r = poll(&pf, 1, RP_WAIT_MS);
		} while (r < 0 && errno == EINTR);
		if (r <= 0) {
			fprintf(stderr, "dv-request-pipe: request not complete within %d ms\n",
				RP_WAIT_MS);
			return -1;
		}
	}
	if (dv_xioctl(o->req, MEDIA_REQUEST_IOC_REINIT, NULL))
		FAIL("MEDIA_REQUEST_IOC_REINIT");
	o->used = false;
	return 0;
}

int dv_rp_submit(struct dv_rp *p, unsigned int cap, uint64_t ts_ns,
		 struct v4l2_ext_control *c, unsigned int n, const void *bits, size_t size)
{
	unsigned int i = p->next_out;
	struct rp_output *o = &p->out[i];
	struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)(ts_ns / 1000) };
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_REQUEST_VAL, .count = n, .controls = c,
	};
	struct v4l2_plane op = { .bytesused = (uint32_t)size };
	struct v4l2_buffer ob = {
		.type = OUT_TYPE, .memory = V4L2_MEMORY_MMAP, .index = i, .m.planes = &op,
		.length = 1, .flags = V4L2_BUF_FLAG_REQUEST_FD, .timestamp = tv,
	};
	struct v4l2_plane cp = { 0 };
	struct v4l2_buffer cb = {
		.type = CAP_TYPE, .memory = V4L2_MEMORY_MMAP, .index = cap, .m.planes = &cp,
		.length = 1, .timestamp = tv,
	};

	if (ts_ns != dv_rp_ts(cap) || cap >= p->ncap || p->cap[cap].queued) {
		fprintf(stderr, "dv-request-pipe: CAPTURE %u cannot take this frame\n", cap);
		return -1;
	}
	if (size + PADDING > o->len) {
		fprintf(stderr, "dv-request-pipe: %zu bytes do not fit OUTPUT\n", size);
		return -1;
	}
	while (o->busy)
		if (dv_rp_reap(p, true))
			return -1;
	if (reinit_request(o))
		return -1;
	cs.request_fd = o->req;
	if (dv_xioctl(p->vfd, VIDIOC_S_EXT_CTRLS, &cs))
		FAIL("S_EXT_CTRLS into the request");
	memcpy(o->map, bits, size);
	memset(o->map + size, 0, PADDING);
	ob.request_fd = o->req;
	if (dv_xioctl(p->vfd, VIDIOC_QBUF, &ob))
		FAIL("QBUF OUTPUT");
	o->busy = true;
	if (dv_xioctl(p->vfd, VIDIOC_QBUF, &cb))
		FAIL("QBUF CAPTURE");
	p->cap[cap].queued = true;
	p->cap[cap].taken = true;
	p->cap[cap].frame = p->submitted;
	if (dv_xioctl(o->req, MEDIA_REQUEST_IOC_QUEUE, NULL))
		FAIL("MEDIA_REQUEST_IOC_QUEUE");
	o->used = true;
	p->submitted++;
	if (++p->in_flight > p->max_in_flight)
		p->max_in_flight = p->in_flight;
	p->next_out = (i + 1) % RP_OUTPUTS;
	return 0;
}

void dv_rp_needs(struct dv_rp *p, unsigned int cap)
{
	if (cap < RP_MAX_CAPTURE)
		p->needed_until[cap] = p->submitted;
}

int dv_rp_named(const struct dv_rp *p, uint64_t ts)
{
	if (!ts || ts % 1000 || ts / 1000 > p->ncap)
		return -1;
	return (int)(ts / 1000) - 1;
}

int dv_rp_pick_capture(struct dv_rp *p)
{
	for (;;) {
		int best = -1;

		for (unsigned int i = 0; i < p->ncap; i++) {
			struct rp_capture *c = &p->cap[i];

			if (c->queued || p->needed_until[i] >= p->completed)
				continue;
			if (c->taken) {
				/* free since the last look: back in the pool, on top */
				c->taken = false;
				c->freed_at = ++p->clock;
			}
			if (best < 0 || c->freed_at > p->cap[best].freed_at)
				best = (int)i;
		}
		if (best >= 0)
			return best;
		if (p->ncap < RP_MAX_CAPTURE)
			return add_capture(p);
		if (dv_rp_reap(p, true))
			return -1;
	}
}

static int sync_read(int dmabuf, bool start)
{
	struct dma_buf_sync s = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) | DMA_BUF_SYNC_READ,
	};

	if (dv_xioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s))
		FAIL("DMA_BUF_IOCTL_SYNC");
	return 0;
}

int dv_rp_md5(const struct dv_rp *p, unsigned int cap, uint32_t x, uint32_t y, uint32_t w,
	      uint32_t h, char out[33])
{
	const struct v4l2_pix_format_mplane *f = &p->cap_fmt.fmt.pix_mp;
	const struct rp_capture *c = &p->cap[cap];
	size_t stride = f->plane_fmt[0].bytesperline;
	size_t bps = f->pixelformat == V4L2_PIX_FMT_P010 ? 2 : 1;
	struct pic pic = { .fourcc = f->pixelformat, .width = w, .height = h };
	uint8_t *map;
	int r;

	/* the picture, and the CbCr plane after the luma plane of the format's height */
	if ((size_t)(x + w) * bps > stride || y + h > f->height ||
	    stride * f->height + stride * ((y + h + 1) / 2) > c->len) {
		fprintf(stderr, "dv-request-pipe: %ux%u at %u,%u outside CAPTURE %u\n", w, h, x, y,
			cap);
		return -1;
	}
	map = mmap(NULL, c->len, PROT_READ, MAP_SHARED, c->dmabuf, 0);
	if (map == MAP_FAILED)
		FAIL("mmap of the exported CAPTURE dma-buf");
	pic.dst.planes[0].data = map + stride * y + x * bps;
	pic.dst.planes[0].stride = (uint32_t)stride;
	pic.dst.planes[1].data = map + stride * f->height + stride * (y / 2) + (x / 2) * 2 * bps;
	pic.dst.planes[1].stride = (uint32_t)stride;
	r = sync_read(c->dmabuf, true);
	if (!r) {
		pic_md5(&pic, out);
		r = sync_read(c->dmabuf, false);
	}
	munmap(map, c->len);
	return r;
}

int dv_rp_drain(struct dv_rp *p)
{
	while (p->in_flight)
		if (dv_rp_reap(p, true))
			return -1;
	return 0;
}

void dv_rp_close_node(struct dv_rp *p)
{
	if (p->streaming) {
		stream(p, OUT_TYPE, false);
		stream(p, CAP_TYPE, false);
		p->streaming = false;
	}
	for (unsigned int i = 0; i < RP_OUTPUTS; i++) {
		if (p->out[i].map)
			munmap(p->out[i].map, p->out[i].len);
		p->out[i].map = NULL;
		if (p->out[i].req >= 0)
			close(p->out[i].req);
		p->out[i].req = -1;
	}
	if (p->vfd >= 0)
		close(p->vfd);
	if (p->mfd >= 0)
		close(p->mfd);
	p->vfd = p->mfd = -1;
}

void dv_rp_release_pool(struct dv_rp *p)
{
	for (unsigned int i = 0; i < p->ncap; i++)
		close(p->cap[i].dmabuf);
	p->ncap = 0;
}
