// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-ioctl-fuzz: a hostile V4L2 client for the kernel module. Several threads drive several
 * decoder instances (one video fd and one media fd each) of the daedalus-v4l2 node with
 * seeded random, mostly valid, sequences of what a client may send: formats (codecs, sizes,
 * plane counts, unknown fourccs), REQBUFS and CREATE_BUFS (MMAP and DMABUF, from the system
 * dma-heap or EXPBUF of another instance), stateless codec controls with random bytes in the
 * H.264/VP8/VP9/AV1 compound payloads (directly, in requests, TRY; wrong sizes, unknown
 * ids), media requests allocated, queued, re-initialised and closed, OUTPUT buffers of random
 * bitstream bytes, CAPTURE buffers, STREAMON/OFF, DQBUF, decoder commands (stop, start,
 * flush), and closing an instance in the middle of all that. A "decode" step does what a
 * real client does (controls that pass validation, a buffer, a queued request), so jobs do
 * reach the daemon (or the test peer, or nobody) and come back.
 *
 *   dv-ioctl-fuzz [--seed N] [--ops N | --seconds S] [--threads T] [--instances I]
 *                 [--video /dev/videoN] [-v]
 *
 * Every call may fail; the kernel must answer all of them and report nothing (KASAN, UBSAN,
 * lockdep, WARN: the testbed fails the run on those). Each thread's operations come from its
 * own generator seeded from (seed, thread), so `--seed S --threads 1 --ops N` replays
 * exactly the same operations (the kernel's answers may still differ with the timing of the
 * daemon). The seed is printed first, the operation counts every 10 s and at the end, and
 * every 500 operations of a thread a line goes to the kernel log (/dev/kmsg), so a kernel
 * report can be placed in the sequence. Exit status 0 unless the device went away.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-heap.h>
#include <linux/media.h>
#include <linux/v4l2-controls.h>
#include <linux/videodev2.h>

#include "dv_v4l2.h"

#define MAX_INSTANCES 8
#define MAX_THREADS 8
#define REQS 8
#define POOL 24
#define OUT_T V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
#define CAP_T V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Memory one queue may ask for in one call: bounds the VM's memory (2-3 GiB) */
#define QUEUE_BUDGET (96u << 20)

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? rnd(r) % n : 0;
}

/* true with probability 1/n */
static bool one_in(struct rng *r, uint32_t n)
{
	return below(r, n) == 0;
}

struct inst {
	pthread_rwlock_t lock;	/* write: open and close; read: every call on the fds */
	int vfd, mfd;
	_Atomic int req[REQS];
	_Atomic uint32_t ts;	/* next OUTPUT timestamp (ms) */
};

struct thr {
	pthread_t tid;
	unsigned int index;
	struct rng r;
	unsigned long ops;
	atomic_bool done;
	/* what it is doing, for the dump of a thread that does not come back */
	atomic_int os_tid;
	const char *_Atomic op;		/* the operation (op_*), or "close", "open" */
	_Atomic int inst;		/* its instance */
	_Atomic unsigned long ioctl;	/* the call in progress (0: none) */
	_Atomic int fd;			/* its fd */
};

static struct inst inst[MAX_INSTANCES];
static struct thr thr[MAX_THREADS];
static unsigned int n_instances = 4, n_threads = 3;
static unsigned long max_ops, seed = 1;
static unsigned int run_seconds;
static int verbose, kmsg = -1;
static char video_path[64];
static atomic_bool stop, device_gone;
static atomic_ulong n_calls, n_errors, n_queued_reqs, n_done_cap, n_done_err, n_decode_steps;
static atomic_ulong n_ctrls_ok, n_unstuck;

/* dma-bufs of our own (system heap, EXPBUF) to queue as DMABUF */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static int pool[POOL];
static unsigned int pool_next;

static const uint32_t coded_fmts[] = { V4L2_PIX_FMT_H264_SLICE, V4L2_PIX_FMT_VP8_FRAME,
				       V4L2_PIX_FMT_VP9_FRAME, V4L2_PIX_FMT_AV1_FRAME };
static const uint32_t cap_fmts[] = { V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_P010,
				     V4L2_PIX_FMT_YUV420M, V4L2_PIX_FMT_NV12M };
static const uint32_t ctrl_ids[] = {
	V4L2_CID_STATELESS_H264_SPS, V4L2_CID_STATELESS_H264_PPS,
	V4L2_CID_STATELESS_H264_SCALING_MATRIX, V4L2_CID_STATELESS_H264_DECODE_PARAMS,
	V4L2_CID_STATELESS_H264_SLICE_PARAMS, V4L2_CID_STATELESS_H264_PRED_WEIGHTS,
	V4L2_CID_STATELESS_H264_DECODE_MODE, V4L2_CID_STATELESS_H264_START_CODE,
	V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_CID_MPEG_VIDEO_H264_LEVEL,
	V4L2_CID_STATELESS_VP8_FRAME, V4L2_CID_MPEG_VIDEO_VP8_PROFILE,
	V4L2_CID_STATELESS_VP9_FRAME, V4L2_CID_STATELESS_VP9_COMPRESSED_HDR,
	V4L2_CID_MPEG_VIDEO_VP9_PROFILE, V4L2_CID_MPEG_VIDEO_VP9_LEVEL,
	V4L2_CID_STATELESS_AV1_SEQUENCE, V4L2_CID_STATELESS_AV1_FRAME,
	V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY, V4L2_CID_STATELESS_AV1_FILM_GRAIN,
	V4L2_CID_MPEG_VIDEO_AV1_PROFILE, V4L2_CID_MPEG_VIDEO_AV1_LEVEL,
};

/* the fuzzing thread running here (NULL in main and the regression sequences) */
static _Thread_local struct thr *self;

static int call(int fd, unsigned long op, void *arg)
{
	int r;

	atomic_fetch_add(&n_calls, 1);
	if (self) {
		atomic_store(&self->fd, fd);
		atomic_store(&self->ioctl, op);
	}
	do
		r = ioctl(fd, op, arg);
	while (r < 0 && errno == EINTR);
	if (self)
		atomic_store(&self->ioctl, 0);
	if (r < 0)
		atomic_fetch_add(&n_errors, 1);
	return r;
}

/* A size: usually one a client would use, sometimes an edge or anything. */
static uint32_t any_size(struct rng *r)
{
	static const uint32_t sizes[] = { 0, 1, 2, 15, 16, 17, 64, 176, 350, 352, 640, 1080,
					  1088, 1920, 2304, 4096, 4097, 8192, 65535, 65536 };

	if (one_in(r, 8))
		return rnd(r);
	if (one_in(r, 2))
		return sizes[below(r, ARRAY_LEN(sizes))];
	return 16 + below(r, 640);
}

/* A frame size for a plausible stream: small, the machine is emulated */
static void stream_size(struct rng *r, uint32_t *w, uint32_t *h)
{
	if (one_in(r, 16)) {
		*w = 16 + below(r, 4096);
		*h = 16 + below(r, 2304);
	} else {
		*w = 16 + below(r, 336);
		*h = 16 + below(r, 272);
	}
}

/* ---- the dma-buf pool ---- */

static int heap_alloc(size_t len)
{
	struct dma_heap_allocation_data a = { .len = (len + 4095) & ~(size_t)4095,
					      .fd_flags = O_RDWR | O_CLOEXEC };
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int ret;

	if (heap < 0)
		return -1;
	ret = call(heap, DMA_HEAP_IOCTL_ALLOC, &a);
	close(heap);
	return ret ? -1 : (int)a.fd;
}

/* Keep @fd in the pool (closing the oldest if full): later QBUFs import it. */
static void pool_put(int fd)
{
	pthread_mutex_lock(&pool_lock);
	if (pool[pool_next] >= 0)
		close(pool[pool_next]);
	pool[pool_next] = fd;
	pool_next = (pool_next + 1) % POOL;
	pthread_mutex_unlock(&pool_lock);
}

/*
 * An fd to queue as DMABUF: one of the pool's (whatever its size), or a fresh one of @len.
 * The pool may close it meanwhile: then the import fails, as it should.
 */
static int pool_get(struct rng *r, size_t len)
{
	int fd;

	if (len && len <= (32u << 20) && !one_in(r, 3)) {
		fd = heap_alloc(one_in(r, 8) ? len / 2 : len);
		if (fd >= 0)
			pool_put(fd);
		return fd;
	}
	pthread_mutex_lock(&pool_lock);
	fd = pool[below(r, POOL)];
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/* ---- instances ---- */

static void inst_close_locked(struct inst *in)
{
	for (int i = 0; i < REQS; i++) {
		int fd = atomic_exchange(&in->req[i], -1);

		if (fd >= 0)
			close(fd);
	}
	if (in->vfd >= 0)
		close(in->vfd);
	if (in->mfd >= 0)
		close(in->mfd);
	in->vfd = in->mfd = -1;
}

static void inst_open_locked(struct inst *in, struct rng *r)
{
	struct dv_dev d;

	if (dv_open(&d, video_path[0] ? video_path : NULL)) {
		atomic_store(&device_gone, true);
		return;
	}
	/* mostly non-blocking, as the stateless clients open it; sometimes blocking */
	if (one_in(r, 4))
		fcntl(d.vfd, F_SETFL, 0);
	in->vfd = d.vfd;
	in->mfd = d.mfd;
}

/* A request fd of @in: a slot's (allocated if empty), or sometimes no request at all. */
static int any_req(struct inst *in, struct rng *r)
{
	int i = (int)below(r, REQS), fd;

	if (one_in(r, 24))
		return one_in(r, 2) ? in->vfd : (int)rnd(r); /* not a request */
	fd = atomic_load(&in->req[i]);
	if (fd >= 0)
		return fd;
	if (call(in->mfd, MEDIA_IOC_REQUEST_ALLOC, &fd) < 0)
		return -1;
	if (atomic_compare_exchange_strong(&in->req[i], &(int){ -1 }, fd))
		return fd;
	close(fd);
	return atomic_load(&in->req[i]);
}

static void get_fmt(struct inst *in, uint32_t type, struct v4l2_format *f)
{
	memset(f, 0, sizeof(*f));
	f->type = type;
	if (call(in->vfd, VIDIOC_G_FMT, f))
		memset(&f->fmt, 0, sizeof(f->fmt));
}

static uint32_t fmt_bytes(const struct v4l2_format *f)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < f->fmt.pix_mp.num_planes && i < VIDEO_MAX_PLANES; i++)
		n += f->fmt.pix_mp.plane_fmt[i].sizeimage;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* A buffer count that keeps the queue within QUEUE_BUDGET */
static uint32_t budget_count(struct rng *r, uint32_t bytes_per_buf)
{
	uint32_t max = bytes_per_buf ? QUEUE_BUDGET / bytes_per_buf : 64;
	uint32_t n = one_in(r, 10) ? below(r, 70) : below(r, 10);

	if (max > 64)
		max = 64;
	return n > max ? max : n;
}

/* ---- operations ---- */

static void op_fmt(struct inst *in, struct rng *r)
{
	struct v4l2_format f = { .type = one_in(r, 2) ? OUT_T : CAP_T };
	struct v4l2_pix_format_mplane *p = &f.fmt.pix_mp;
	static const unsigned long ops[] = { VIDIOC_S_FMT, VIDIOC_TRY_FMT, VIDIOC_G_FMT };

	if (one_in(r, 20))
		f.type = below(r, 16);
	if (f.type == OUT_T)
		p->pixelformat = one_in(r, 8) ? rnd(r) : coded_fmts[below(r, 4)];
	else
		p->pixelformat = one_in(r, 8) ? rnd(r) : cap_fmts[below(r, 4)];
	p->width = any_size(r);
	p->height = any_size(r);
	p->num_planes = (uint8_t)(one_in(r, 4) ? rnd(r) : below(r, 4));
	p->field = one_in(r, 4) ? below(r, 10) : V4L2_FIELD_NONE;
	p->flags = one_in(r, 8) ? rnd(r) : 0;
	for (int i = 0; i < VIDEO_MAX_PLANES; i++) {
		p->plane_fmt[i].sizeimage = one_in(r, 2) ? 0 : any_size(r);
		p->plane_fmt[i].bytesperline = one_in(r, 2) ? 0 : any_size(r);
	}
	call(in->vfd, ops[below(r, 3)], &f);
}

static void op_reqbufs(struct inst *in, struct rng *r)
{
	uint32_t type = one_in(r, 2) ? OUT_T : CAP_T;
	struct v4l2_format f;
	struct v4l2_requestbuffers rb = { .type = type };

	get_fmt(in, type, &f);
	rb.count = one_in(r, 5) ? 0 : budget_count(r, fmt_bytes(&f));
	rb.memory = one_in(r, 3) ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
	if (one_in(r, 30))
		rb.memory = rnd(r) % 8;
	if (one_in(r, 30))
		rb.type = below(r, 16);
	if (one_in(r, 20))
		rb.flags = rnd(r);
	call(in->vfd, VIDIOC_REQBUFS, &rb);
}

static void op_create_bufs(struct inst *in, struct rng *r)
{
	uint32_t type = one_in(r, 2) ? OUT_T : CAP_T;
	struct v4l2_create_buffers cb = { .memory = V4L2_MEMORY_MMAP };
	struct v4l2_pix_format_mplane *p = &cb.format.fmt.pix_mp;

	get_fmt(in, type, &cb.format);
	cb.memory = one_in(r, 3) ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
	/* count 0 tells how many buffers the queue has: stay within the budget with them */
	if (call(in->vfd, VIDIOC_CREATE_BUFS, &cb))
		cb.index = 0;
	cb.count = budget_count(r, fmt_bytes(&cb.format)) / 2;
	if ((uint64_t)(cb.index + cb.count) * fmt_bytes(&cb.format) > QUEUE_BUDGET)
		cb.count = 0;
	switch (below(r, 8)) {
	case 0: /* larger planes than the format needs, as GStreamer may ask */
		for (unsigned int i = 0; i < p->num_planes && i < VIDEO_MAX_PLANES; i++)
			p->plane_fmt[i].sizeimage += below(r, 1u << 20);
		break;
	case 1: /* smaller: refused */
		p->plane_fmt[0].sizeimage /= 2;
		break;
	case 2: /* another plane count */
		p->num_planes = (uint8_t)below(r, 5);
		break;
	case 3: /* one buffer of an absurd size: must be refused, not allocated */
		p->plane_fmt[0].sizeimage = one_in(r, 2) ? UINT32_MAX - below(r, 4096) :
							   (256u << 20) + rnd(r) % (1u << 30);
		cb.count = 1;
		break;
	case 4: /* count 0: only reports the queue's state */
		cb.count = 0;
		break;
	default:
		break;
	}
	if (one_in(r, 30))
		cb.format.type = below(r, 16);
	call(in->vfd, VIDIOC_CREATE_BUFS, &cb);
}

/* QUERYBUF; on success fills @b and @planes (VIDEO_MAX_PLANES) */
static int query(struct inst *in, uint32_t type, uint32_t index, struct v4l2_buffer *b,
		 struct v4l2_plane *planes)
{
	memset(b, 0, sizeof(*b));
	memset(planes, 0, sizeof(*planes) * VIDEO_MAX_PLANES);
	b->type = type;
	b->index = index;
	b->m.planes = planes;
	b->length = VIDEO_MAX_PLANES;
	return call(in->vfd, VIDIOC_QUERYBUF, b);
}

/* Random bytes into an MMAP OUTPUT buffer (a bitstream the daemon will parse). */
static uint32_t fill_output(struct inst *in, struct rng *r, const struct v4l2_plane *pl)
{
	uint32_t n = one_in(r, 8) ? below(r, pl->length + 1) : 1 + below(r, 2048);
	uint8_t *m;

	if (!pl->length)
		return 0;
	if (n > pl->length)
		n = pl->length;
	m = mmap(NULL, pl->length, PROT_READ | PROT_WRITE, MAP_SHARED, in->vfd,
		 pl->m.mem_offset);
	if (m == MAP_FAILED)
		return n;
	for (uint32_t k = 0; k < n && k < 4096; k++)
		m[k] = (uint8_t)rnd(r);
	munmap(m, pl->length);
	return n;
}

/* Queue buffer @index of @type as a client would (MMAP, or DMABUF of fitting size). */
static int queue_one(struct inst *in, struct rng *r, uint32_t type, uint32_t index, int req,
		     uint32_t bytes)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	if (query(in, type, index, &b, planes) || (b.flags & V4L2_BUF_FLAG_QUEUED))
		return -1;
	b.length = b.length > VIDEO_MAX_PLANES ? VIDEO_MAX_PLANES : b.length;
	if (b.memory == V4L2_MEMORY_DMABUF) {
		for (unsigned int i = 0; i < b.length; i++) {
			struct v4l2_format f;

			get_fmt(in, type, &f);
			planes[i].m.fd = pool_get(r, f.fmt.pix_mp.plane_fmt[i].sizeimage);
			planes[i].length = 0;
		}
	}
	if (type == OUT_T) {
		planes[0].bytesused = bytes;
		b.timestamp.tv_sec = 0;
		b.timestamp.tv_usec = (long)(atomic_fetch_add(&in->ts, 1) % 64) * 1000;
		if (req >= 0) {
			b.flags = V4L2_BUF_FLAG_REQUEST_FD;
			b.request_fd = req;
		}
		if (one_in(r, 6))
			b.flags |= V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;
	} else {
		b.flags = 0;
	}
	b.field = V4L2_FIELD_NONE;
	return call(in->vfd, VIDIOC_QBUF, &b);
}

static void op_qbuf(struct inst *in, struct rng *r)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = {
		.index = one_in(r, 8) ? rnd(r) : below(r, 8), .type = one_in(r, 2) ? OUT_T : CAP_T,
		.memory = one_in(r, 3) ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP,
		.m.planes = planes, .field = V4L2_FIELD_NONE,
		.length = one_in(r, 8) ? rnd(r) % 16 : 1 + below(r, 3),
	};

	if (!one_in(r, 4)) {
		/* a real buffer, mostly right */
		struct v4l2_buffer q;
		struct v4l2_plane qp[VIDEO_MAX_PLANES];

		if (!query(in, b.type, b.index, &q, qp)) {
			b.memory = q.memory;
			b.length = q.length;
			if (b.type == OUT_T && q.memory == V4L2_MEMORY_MMAP)
				planes[0].bytesused = fill_output(in, r, &qp[0]);
		}
	}
	for (unsigned int i = 0; i < VIDEO_MAX_PLANES; i++) {
		if (b.memory == V4L2_MEMORY_DMABUF)
			planes[i].m.fd = pool_get(r, one_in(r, 2) ? 0 : below(r, 4u << 20));
		if (one_in(r, 8))
			planes[i].bytesused = one_in(r, 2) ? rnd(r) : any_size(r);
		if (one_in(r, 8))
			planes[i].data_offset = one_in(r, 2) ? rnd(r) : any_size(r);
		if (one_in(r, 16))
			planes[i].length = rnd(r);
	}
	b.timestamp.tv_usec = (long)below(r, 64) * 1000;
	if (one_in(r, 16))
		b.timestamp.tv_sec = (long)rnd(r);
	if (!one_in(r, 4)) {
		b.flags = V4L2_BUF_FLAG_REQUEST_FD;
		b.request_fd = any_req(in, r);
	}
	if (one_in(r, 4))
		b.flags |= V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;
	if (one_in(r, 16))
		b.flags |= rnd(r);
	call(in->vfd, one_in(r, 8) ? VIDIOC_PREPARE_BUF : VIDIOC_QBUF, &b);
}

/* ---- controls ---- */

/*
 * A payload that passes the core's and the driver's checks for the common case (so the
 * request reaches the daemon), for a @w x @h stream; the caller may then damage it.
 */
static void ctrl_template(uint32_t id, void *p, uint32_t size, uint32_t w, uint32_t h,
			  uint32_t bytes)
{
	memset(p, 0, size);
	switch (id) {
	case V4L2_CID_STATELESS_H264_SPS:
		if (size >= sizeof(struct v4l2_ctrl_h264_sps)) {
			struct v4l2_ctrl_h264_sps *s = p;

			s->profile_idc = 100;
			s->level_idc = 40;
			s->chroma_format_idc = 1;
			s->max_num_ref_frames = 4;
			s->pic_width_in_mbs_minus1 = (uint16_t)((w + 15) / 16 - 1);
			s->pic_height_in_map_units_minus1 = (uint16_t)((h + 15) / 16 - 1);
			s->flags = V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY;
		}
		break;
	case V4L2_CID_STATELESS_H264_DECODE_PARAMS:
		if (size >= sizeof(struct v4l2_ctrl_h264_decode_params)) {
			struct v4l2_ctrl_h264_decode_params *d = p;

			d->nal_ref_idc = 1;
			d->flags = V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC;
			for (int i = 0; i < 2; i++) {
				d->dpb[i].reference_ts = (uint64_t)i * 1000000;
				d->dpb[i].flags = V4L2_H264_DPB_ENTRY_FLAG_VALID |
						  V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;
				d->dpb[i].fields = V4L2_H264_FRAME_REF;
			}
		}
		break;
	case V4L2_CID_STATELESS_VP8_FRAME:
		if (size >= sizeof(struct v4l2_ctrl_vp8_frame)) {
			struct v4l2_ctrl_vp8_frame *f = p;

			f->width = (uint16_t)w;
			f->height = (uint16_t)h;
			f->num_dct_parts = 1;
			f->dct_part_sizes[0] = bytes;
			f->flags = V4L2_VP8_FRAME_FLAG_KEY_FRAME | V4L2_VP8_FRAME_FLAG_SHOW_FRAME;
			f->last_frame_ts = 1000000;
		}
		break;
	case V4L2_CID_STATELESS_VP9_FRAME:
		if (size >= sizeof(struct v4l2_ctrl_vp9_frame)) {
			struct v4l2_ctrl_vp9_frame *f = p;

			f->frame_width_minus_1 = (uint16_t)(w - 1);
			f->frame_height_minus_1 = (uint16_t)(h - 1);
			f->render_width_minus_1 = (uint16_t)(w - 1);
			f->render_height_minus_1 = (uint16_t)(h - 1);
			f->bit_depth = 8;
			f->compressed_header_size = bytes / 2;
			f->uncompressed_header_size = bytes / 4;
			f->flags = V4L2_VP9_FRAME_FLAG_SHOW_FRAME;
			f->last_frame_ts = 1000000;
		}
		break;
	case V4L2_CID_STATELESS_AV1_SEQUENCE:
		if (size >= sizeof(struct v4l2_ctrl_av1_sequence)) {
			struct v4l2_ctrl_av1_sequence *s = p;

			s->bit_depth = 8;
			s->max_frame_width_minus_1 = (uint16_t)(w - 1);
			s->max_frame_height_minus_1 = (uint16_t)(h - 1);
			s->order_hint_bits = 7;
		}
		break;
	case V4L2_CID_STATELESS_AV1_FRAME:
		if (size >= sizeof(struct v4l2_ctrl_av1_frame)) {
			struct v4l2_ctrl_av1_frame *f = p;

			f->frame_width_minus_1 = w - 1;
			f->frame_height_minus_1 = h - 1;
			f->upscaled_width = w;
			f->render_width_minus_1 = (uint16_t)(w - 1);
			f->render_height_minus_1 = (uint16_t)(h - 1);
			f->tile_info.tile_cols = 1;
			f->tile_info.tile_rows = 1;
			f->flags = V4L2_AV1_FRAME_FLAG_SHOW_FRAME;
			for (int i = 0; i < V4L2_AV1_TOTAL_REFS_PER_FRAME; i++)
				f->reference_frame_ts[i] = (uint64_t)i * 1000000;
		}
		break;
	case V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY:
		for (uint32_t o = 0; o + sizeof(struct v4l2_ctrl_av1_tile_group_entry) <= size;
		     o += sizeof(struct v4l2_ctrl_av1_tile_group_entry)) {
			struct v4l2_ctrl_av1_tile_group_entry *t = (void *)((uint8_t *)p + o);

			t->tile_size = bytes;
		}
		break;
	default:
		break;
	}
}

/* Damage a payload: a few random bytes, a random field run, or everything. */
static void ctrl_mutate(struct rng *r, uint8_t *p, uint32_t size)
{
	if (!size)
		return;
	switch (below(r, 6)) {
	case 0:
		for (uint32_t k = 0; k < size; k++)
			p[k] = (uint8_t)rnd(r);
		break;
	case 1: {
		uint32_t at = below(r, size), n = 1 + below(r, 16);

		for (uint32_t k = at; k < size && k < at + n; k++)
			p[k] = one_in(r, 2) ? 0xff : (uint8_t)rnd(r);
		break;
	}
	default:
		for (uint32_t k = 1 + below(r, 3); k; k--)
			p[below(r, size)] ^= (uint8_t)(1u << below(r, 8));
		break;
	}
}

/* Fill @c for control @id: a template of the right size, damaged with probability 1/@damage. */
static void *ctrl_fill(struct inst *in, struct rng *r, uint32_t id, struct v4l2_ext_control *c,
		       uint32_t w, uint32_t h, uint32_t bytes, uint32_t damage)
{
	struct v4l2_query_ext_ctrl q = { .id = id };
	uint32_t size = 0, elems = 1;
	void *payload = NULL;

	memset(c, 0, sizeof(*c));
	c->id = id;
	if (call(in->vfd, VIDIOC_QUERY_EXT_CTRL, &q) == 0 && q.type >= V4L2_CTRL_COMPOUND_TYPES) {
		elems = q.elems;
		if (q.flags & V4L2_CTRL_FLAG_DYNAMIC_ARRAY)
			elems = 1 + below(r, q.elems ? (q.elems < 16 ? q.elems : 16) : 1);
		size = q.elem_size * elems;
	}
	if (damage && one_in(r, damage * 4))
		size = one_in(r, 2) ? size / 2 + below(r, 8) : any_size(r) % 65536;
	if (size || one_in(r, 16)) {
		payload = calloc(1, size ? size : 1);
		if (!payload)
			return NULL;
		ctrl_template(id, payload, size, w, h, bytes);
		if (damage && one_in(r, damage))
			ctrl_mutate(r, payload, size);
		c->size = size;
		c->ptr = payload;
	} else {
		c->value = one_in(r, 4) ? (int32_t)rnd(r) : (int32_t)below(r, 8);
	}
	return payload;
}

static void op_ctrl(struct inst *in, struct rng *r)
{
	struct v4l2_ext_control c[6];
	void *payload[6] = { 0 };
	struct v4l2_ext_controls cs = { .controls = c };
	static const unsigned long ops[] = { VIDIOC_S_EXT_CTRLS, VIDIOC_S_EXT_CTRLS,
					     VIDIOC_TRY_EXT_CTRLS, VIDIOC_G_EXT_CTRLS };
	uint32_t w, h, filled;

	stream_size(r, &w, &h);
	cs.count = filled = 1 + below(r, 6);
	for (unsigned int i = 0; i < filled; i++) {
		uint32_t id = one_in(r, 16) ? (one_in(r, 2) ? rnd(r) : V4L2_CID_CODEC_STATELESS_BASE +
					       below(r, 1000)) : ctrl_ids[below(r, ARRAY_LEN(ctrl_ids))];

		payload[i] = ctrl_fill(in, r, id, &c[i], w, h, 1 + below(r, 4096), 2);
	}
	switch (below(r, 8)) {
	case 0: case 1: case 2:
		cs.which = V4L2_CTRL_WHICH_REQUEST_VAL;
		cs.request_fd = any_req(in, r);
		break;
	case 3:
		cs.which = V4L2_CTRL_WHICH_DEF_VAL;
		break;
	case 4:
		cs.which = one_in(r, 2) ? rnd(r) : V4L2_CTRL_ID2WHICH(V4L2_CID_CODEC_STATELESS_BASE);
		break;
	default:
		cs.which = V4L2_CTRL_WHICH_CUR_VAL;
		break;
	}
	/*
	 * A count past the entries filled: either cut back to them or no array at all
	 * (EFAULT). Never c[filled..5]: they hold what an earlier op_ctrl or op_decode left on
	 * the stack (valid ids, sizes and pointers to payloads it freed), so the kernel
	 * accepted them and wrote the controls' values into freed heap memory: glibc aborted
	 * with "double free or corruption (!prev)" in a later free() (kernel-ioctl-fuzz,
	 * daemon phase, seed 4).
	 */
	if (one_in(r, 40))
		cs.count = one_in(r, 2) ? 0 : 1 + rnd(r) % 1024;
	if (cs.count > filled && !one_in(r, 2))
		cs.count = filled;
	if (cs.count > filled)
		cs.controls = NULL;
	call(in->vfd, ops[below(r, ARRAY_LEN(ops))], &cs);
	for (unsigned int i = 0; i < 6; i++)
		free(payload[i]);
}

/* The controls a request of @fourcc must (or may) carry. */
static unsigned int codec_ctrls(struct rng *r, uint32_t fourcc, uint32_t *ids)
{
	unsigned int n = 0;

	switch (fourcc) {
	case V4L2_PIX_FMT_H264_SLICE:
		ids[n++] = V4L2_CID_STATELESS_H264_SPS;
		ids[n++] = V4L2_CID_STATELESS_H264_PPS;
		ids[n++] = one_in(r, 6) ? V4L2_CID_STATELESS_H264_SLICE_PARAMS :
					  V4L2_CID_STATELESS_H264_DECODE_PARAMS;
		if (one_in(r, 3))
			ids[n++] = V4L2_CID_STATELESS_H264_SCALING_MATRIX;
		if (one_in(r, 4))
			ids[n++] = V4L2_CID_STATELESS_H264_PRED_WEIGHTS;
		break;
	case V4L2_PIX_FMT_VP8_FRAME:
		ids[n++] = V4L2_CID_STATELESS_VP8_FRAME;
		break;
	case V4L2_PIX_FMT_VP9_FRAME:
		ids[n++] = V4L2_CID_STATELESS_VP9_FRAME;
		if (!one_in(r, 4))
			ids[n++] = V4L2_CID_STATELESS_VP9_COMPRESSED_HDR;
		break;
	case V4L2_PIX_FMT_AV1_FRAME:
		ids[n++] = V4L2_CID_STATELESS_AV1_SEQUENCE;
		ids[n++] = V4L2_CID_STATELESS_AV1_FRAME;
		ids[n++] = V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY;
		if (one_in(r, 4))
			ids[n++] = V4L2_CID_STATELESS_AV1_FILM_GRAIN;
		break;
	}
	/* sometimes one missing: the request must be refused */
	if (n && one_in(r, 12))
		n--;
	return n;
}

/*
 * What a client does for one frame: bitstream into a free OUTPUT buffer, the codec's
 * controls (mostly valid) in a request, the buffer in the request, the request queued; a
 * free CAPTURE buffer queued; finished buffers dequeued.
 */
static void op_decode(struct inst *in, struct rng *r)
{
	struct v4l2_format f;
	struct v4l2_ext_control c[6];
	void *payload[6] = { 0 };
	struct v4l2_ext_controls cs = { .controls = c, .which = V4L2_CTRL_WHICH_REQUEST_VAL };
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	uint32_t ids[6], index = below(r, 8), bytes;
	bool own = true;
	int req = -1;

	atomic_fetch_add(&n_decode_steps, 1);
	get_fmt(in, OUT_T, &f);
	if (query(in, OUT_T, index, &b, planes) || (b.flags & V4L2_BUF_FLAG_QUEUED) ||
	    b.memory != V4L2_MEMORY_MMAP)
		return;
	bytes = fill_output(in, r, &planes[0]);
	if (one_in(r, 10)) {
		req = any_req(in, r);
		own = false;
	} else if (call(in->mfd, MEDIA_IOC_REQUEST_ALLOC, &req))
		return;
	cs.request_fd = req;
	cs.count = codec_ctrls(r, f.fmt.pix_mp.pixelformat, ids);
	for (unsigned int i = 0; i < cs.count; i++)
		payload[i] = ctrl_fill(in, r, ids[i], &c[i], f.fmt.pix_mp.width,
				       f.fmt.pix_mp.height, bytes, 12);
	if (cs.count && !call(in->vfd, VIDIOC_S_EXT_CTRLS, &cs))
		atomic_fetch_add(&n_ctrls_ok, 1);
	for (unsigned int i = 0; i < 6; i++)
		free(payload[i]);
	if (!queue_one(in, r, OUT_T, index, req, bytes) &&
	    !call(req, MEDIA_REQUEST_IOC_QUEUE, NULL))
		atomic_fetch_add(&n_queued_reqs, 1);
	/* a request of its own is closed (queued or not); a slot's stays for later */
	if (own) {
		if (one_in(r, 3))
			call(req, MEDIA_REQUEST_IOC_REINIT, NULL);
		close(req);
	}
	queue_one(in, r, CAP_T, below(r, 8), -1, 0);
}

/* A stream set up from scratch (as a client starts one), with a few odd choices. */
static void op_setup(struct inst *in, struct rng *r)
{
	struct v4l2_format f = { .type = OUT_T };
	struct v4l2_requestbuffers rb;
	uint32_t w, h, n;
	int type;

	for (type = OUT_T; type; type = type == OUT_T ? CAP_T : 0) {
		if (!one_in(r, 8))
			call(in->vfd, VIDIOC_STREAMOFF, &type);
		rb = (struct v4l2_requestbuffers){ .type = (uint32_t)type,
						   .memory = V4L2_MEMORY_MMAP };
		if (!one_in(r, 8))
			call(in->vfd, VIDIOC_REQBUFS, &rb);
	}
	stream_size(r, &w, &h);
	f.fmt.pix_mp.pixelformat = coded_fmts[below(r, 4)];
	f.fmt.pix_mp.width = w;
	f.fmt.pix_mp.height = h;
	f.fmt.pix_mp.num_planes = 1;
	call(in->vfd, VIDIOC_S_FMT, &f);
	memset(&f, 0, sizeof(f));
	f.type = CAP_T;
	f.fmt.pix_mp.pixelformat = cap_fmts[below(r, 3)];
	f.fmt.pix_mp.width = w;
	f.fmt.pix_mp.height = h;
	call(in->vfd, VIDIOC_S_FMT, &f);

	for (type = OUT_T; type; type = type == OUT_T ? CAP_T : 0) {
		get_fmt(in, (uint32_t)type, &f);
		n = 2 + below(r, 6);
		if ((uint64_t)n * fmt_bytes(&f) > QUEUE_BUDGET)
			n = 2;
		if (one_in(r, 4)) {
			struct v4l2_create_buffers cb = { .count = n, .format = f,
							  .memory = V4L2_MEMORY_MMAP };

			if (type == CAP_T && one_in(r, 2))
				cb.memory = V4L2_MEMORY_DMABUF;
			call(in->vfd, VIDIOC_CREATE_BUFS, &cb);
		} else {
			rb = (struct v4l2_requestbuffers){ .type = (uint32_t)type, .count = n,
							   .memory = V4L2_MEMORY_MMAP };
			if (type == CAP_T && one_in(r, 2))
				rb.memory = V4L2_MEMORY_DMABUF;
			call(in->vfd, VIDIOC_REQBUFS, &rb);
		}
		if (!one_in(r, 10))
			call(in->vfd, VIDIOC_STREAMON, &type);
	}
	for (uint32_t i = 0; i < 8; i++)
		queue_one(in, r, CAP_T, i, -1, 0);
}

static void op_request(struct inst *in, struct rng *r)
{
	int i = (int)below(r, REQS), fd = atomic_load(&in->req[i]);

	if (fd < 0) {
		any_req(in, r);
		return;
	}
	switch (below(r, 5)) {
	case 0:
	case 1:
		if (!call(fd, MEDIA_REQUEST_IOC_QUEUE, NULL))
			atomic_fetch_add(&n_queued_reqs, 1);
		break;
	case 2:
		call(fd, MEDIA_REQUEST_IOC_REINIT, NULL);
		break;
	case 3: {
		struct pollfd p = { .fd = fd, .events = POLLPRI };

		poll(&p, 1, (int)below(r, 5));
		break;
	}
	default:
		fd = atomic_exchange(&in->req[i], -1);
		if (fd >= 0)
			close(fd);
		break;
	}
}

static void op_stream(struct inst *in, struct rng *r)
{
	int type = one_in(r, 2) ? OUT_T : CAP_T;

	if (one_in(r, 30))
		type = (int)below(r, 16);
	call(in->vfd, one_in(r, 3) ? VIDIOC_STREAMOFF : VIDIOC_STREAMON, &type);
}

static void op_dqbuf(struct inst *in, struct rng *r)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer b = { .type = one_in(r, 2) ? OUT_T : CAP_T,
				 .memory = one_in(r, 3) ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP,
				 .m.planes = planes, .length = VIDEO_MAX_PLANES };
	struct pollfd p = { .fd = in->vfd, .events = POLLIN | POLLOUT | POLLPRI };

	if (one_in(r, 10))
		b.length = below(r, 3);
	/* a blocking fd: only after poll said something is ready */
	if (poll(&p, 1, (int)below(r, 10)) <= 0 && !(fcntl(in->vfd, F_GETFL) & O_NONBLOCK))
		return;
	/*
	 * Not on a blocking fd: another thread may take the event between the poll and the
	 * DQEVENT, which then waits for the next event, and nothing may send one (STREAMOFF
	 * ends a blocked DQBUF, not this wait): the thread never came back at the end of a
	 * run (docs/security.md).
	 */
	if ((p.revents & POLLPRI) && (fcntl(in->vfd, F_GETFL) & O_NONBLOCK)) {
		struct v4l2_event ev;

		call(in->vfd, VIDIOC_DQEVENT, &ev);
	}
	if (!(fcntl(in->vfd, F_GETFL) & O_NONBLOCK) &&
	    !(p.revents & (b.type == OUT_T ? POLLOUT : POLLIN)))
		return;
	if (!call(in->vfd, VIDIOC_DQBUF, &b) && b.type == CAP_T)
		atomic_fetch_add(b.flags & V4L2_BUF_FLAG_ERROR ? &n_done_err : &n_done_cap, 1);
}

static void op_cmd(struct inst *in, struct rng *r)
{
	static const uint32_t cmds[] = { V4L2_DEC_CMD_FLUSH, V4L2_DEC_CMD_STOP,
					 V4L2_DEC_CMD_START, V4L2_DEC_CMD_PAUSE };
	struct v4l2_decoder_cmd c = { .cmd = one_in(r, 8) ? rnd(r) % 8 : cmds[below(r, 4)],
				      .flags = one_in(r, 4) ? rnd(r) % 4 : 0 };

	call(in->vfd, one_in(r, 3) ? VIDIOC_TRY_DECODER_CMD : VIDIOC_DECODER_CMD, &c);
}

static void op_misc(struct inst *in, struct rng *r)
{
	switch (below(r, 8)) {
	case 0: {
		struct v4l2_exportbuffer e = { .type = one_in(r, 2) ? OUT_T : CAP_T,
					       .index = below(r, 8), .plane = below(r, 3),
					       .flags = O_RDWR | O_CLOEXEC };

		/* exported buffers go to the pool: other instances import them */
		if (!call(in->vfd, VIDIOC_EXPBUF, &e))
			pool_put(e.fd);
		break;
	}
	case 1: {
		struct v4l2_fmtdesc d = { .type = one_in(r, 2) ? OUT_T : CAP_T,
					  .index = below(r, 6) };

		call(in->vfd, VIDIOC_ENUM_FMT, &d);
		break;
	}
	case 2: {
		struct v4l2_frmsizeenum s = { .index = below(r, 2),
					      .pixel_format = coded_fmts[below(r, 4)] };

		call(in->vfd, VIDIOC_ENUM_FRAMESIZES, &s);
		break;
	}
	case 3: {
		struct v4l2_query_ext_ctrl q = { .id = below(r, 2) ? V4L2_CTRL_FLAG_NEXT_CTRL |
							 V4L2_CTRL_FLAG_NEXT_COMPOUND :
							 ctrl_ids[below(r, ARRAY_LEN(ctrl_ids))] };

		call(in->vfd, VIDIOC_QUERY_EXT_CTRL, &q);
		break;
	}
	case 4: {
		struct v4l2_querymenu m = { .id = ctrl_ids[below(r, ARRAY_LEN(ctrl_ids))],
					    .index = below(r, 20) };

		call(in->vfd, VIDIOC_QUERYMENU, &m);
		break;
	}
	case 5: {
		struct v4l2_event_subscription s = { .type = V4L2_EVENT_CTRL,
						     .id = ctrl_ids[below(r, ARRAY_LEN(ctrl_ids))],
						     .flags = below(r, 4) };

		if (one_in(r, 3))
			s.type = below(r, 8);
		call(in->vfd, one_in(r, 4) ? VIDIOC_UNSUBSCRIBE_EVENT : VIDIOC_SUBSCRIBE_EVENT, &s);
		break;
	}
	case 6: {
		struct v4l2_capability c;

		call(in->vfd, VIDIOC_QUERYCAP, &c);
		break;
	}
	default: {
		/* map and unmap a buffer: the mapping outlives REQBUFS(0) of another thread */
		struct v4l2_plane planes[VIDEO_MAX_PLANES];
		struct v4l2_buffer b;

		if (!query(in, one_in(r, 2) ? OUT_T : CAP_T, below(r, 8), &b, planes) &&
		    b.memory == V4L2_MEMORY_MMAP && planes[0].length) {
			uint8_t *m = mmap(NULL, planes[0].length, PROT_READ, MAP_SHARED, in->vfd,
					  planes[0].m.mem_offset);

			if (m != MAP_FAILED) {
				volatile uint8_t x = m[below(r, planes[0].length)];

				(void)x;
				munmap(m, planes[0].length);
			}
		}
		break;
	}
	}
}

static void kmsg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kmsg_note(const char *fmt, ...)
{
	char line[200];
	va_list ap;
	int n;

	if (kmsg < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(kmsg, line, (size_t)n) < 0)
		return;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void run_op(struct thr *t, struct inst *in, const char *name,
		   void (*fn)(struct inst *in, struct rng *r))
{
	atomic_store(&t->op, name);
	fn(in, &t->r);
}

static void one_op(struct thr *t)
{
	struct rng *r = &t->r;
	struct inst *in = &inst[below(r, n_instances)];
	unsigned int what = below(r, 100);

	atomic_store(&t->inst, (int)(in - inst));
	if (what < 2 || in->vfd < 0) {
		/* close (and open again later), or open */
		atomic_store(&t->op, "close/open (waiting for the instance's write lock)");
		pthread_rwlock_wrlock(&in->lock);
		atomic_store(&t->fd, in->vfd);
		atomic_store(&t->op, in->vfd >= 0 ? "close" : "open");
		if (in->vfd >= 0)
			inst_close_locked(in);
		else
			inst_open_locked(in, r);
		pthread_rwlock_unlock(&in->lock);
		atomic_store(&t->op, "between operations");
		return;
	}
	atomic_store(&t->op, "waiting for the instance's read lock");
	pthread_rwlock_rdlock(&in->lock);
	if (in->vfd < 0) {
		pthread_rwlock_unlock(&in->lock);
		return;
	}
	if (what < 8)
		run_op(t, in, "setup", op_setup);
	else if (what < 30)
		run_op(t, in, "decode", op_decode);
	else if (what < 36)
		run_op(t, in, "fmt", op_fmt);
	else if (what < 40)
		run_op(t, in, "reqbufs", op_reqbufs);
	else if (what < 44)
		run_op(t, in, "create_bufs", op_create_bufs);
	else if (what < 54)
		run_op(t, in, "qbuf", op_qbuf);
	else if (what < 64)
		run_op(t, in, "ctrl", op_ctrl);
	else if (what < 72)
		run_op(t, in, "request (queue, reinit, poll, close)", op_request);
	else if (what < 77)
		run_op(t, in, "stream", op_stream);
	else if (what < 90)
		run_op(t, in, "dqbuf (poll, DQBUF)", op_dqbuf);
	else if (what < 94)
		run_op(t, in, "cmd", op_cmd);
	else
		run_op(t, in, "misc (mmap, expbuf, ...)", op_misc);
	pthread_rwlock_unlock(&in->lock);
	atomic_store(&t->op, "between operations");
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	self = t;
	atomic_store(&t->os_tid, (int)syscall(SYS_gettid));
	atomic_store(&t->op, "starting");
	while (!atomic_load(&stop) && !atomic_load(&device_gone)) {
		if (max_ops && t->ops >= max_ops)
			break;
		one_op(t);
		t->ops++;
		if (t->ops % 500 == 0)
			kmsg_note("dv-ioctl-fuzz: seed %lu thread %u op %lu\n", seed, t->index,
				  t->ops);
	}
	atomic_store(&t->done, true);
	return NULL;
}

static unsigned long max_thread_ops(void)
{
	unsigned long m = 0;

	for (unsigned int i = 0; i < n_threads; i++)
		if (thr[i].ops > m)
			m = thr[i].ops;
	return m;
}

static void streamoff_all(void)
{
	for (unsigned int i = 0; i < n_instances; i++) {
		pthread_rwlock_rdlock(&inst[i].lock);
		if (inst[i].vfd >= 0)
			for (int type = OUT_T; type; type = type == OUT_T ? CAP_T : 0)
				call(inst[i].vfd, VIDIOC_STREAMOFF, &type);
		pthread_rwlock_unlock(&inst[i].lock);
	}
}

static const char *ioctl_name(unsigned long op)
{
	static const struct { unsigned long op; const char *name; } names[] = {
		{ VIDIOC_DQBUF, "VIDIOC_DQBUF" }, { VIDIOC_QBUF, "VIDIOC_QBUF" },
		{ VIDIOC_STREAMON, "VIDIOC_STREAMON" }, { VIDIOC_STREAMOFF, "VIDIOC_STREAMOFF" },
		{ VIDIOC_REQBUFS, "VIDIOC_REQBUFS" }, { VIDIOC_CREATE_BUFS, "VIDIOC_CREATE_BUFS" },
		{ VIDIOC_PREPARE_BUF, "VIDIOC_PREPARE_BUF" }, { VIDIOC_EXPBUF, "VIDIOC_EXPBUF" },
		{ VIDIOC_S_EXT_CTRLS, "VIDIOC_S_EXT_CTRLS" },
		{ VIDIOC_G_EXT_CTRLS, "VIDIOC_G_EXT_CTRLS" },
		{ VIDIOC_TRY_EXT_CTRLS, "VIDIOC_TRY_EXT_CTRLS" }, { VIDIOC_S_FMT, "VIDIOC_S_FMT" },
		{ VIDIOC_DECODER_CMD, "VIDIOC_DECODER_CMD" }, { VIDIOC_DQEVENT, "VIDIOC_DQEVENT" },
		{ MEDIA_IOC_REQUEST_ALLOC, "MEDIA_IOC_REQUEST_ALLOC" },
		{ MEDIA_REQUEST_IOC_QUEUE, "MEDIA_REQUEST_IOC_QUEUE" },
		{ MEDIA_REQUEST_IOC_REINIT, "MEDIA_REQUEST_IOC_REINIT" },
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].op == op)
			return names[i].name;
	return op ? "another ioctl" : "none";
}

/* Print a file of /proc, each line prefixed. */
static void print_file(const char *prefix, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("%s(%s: %s)\n", prefix, path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		printf("%s%s%s", prefix, line, strchr(line, '\n') ? "" : "\n");
	fclose(f);
}

/*
 * A thread did not come back: say what each thread was doing, and what every task of the
 * process is waiting for in the kernel (its stack, wchan and state), then ask the kernel to
 * log every blocked task (sysrq w), so that a hang is diagnosable from a CI log.
 */
static void dump_stuck(void)
{
	char path[300], prefix[300];
	struct dirent *e;
	DIR *d;
	int fd;

	for (unsigned int i = 0; i < n_threads; i++) {
		unsigned long op = atomic_load(&thr[i].ioctl);

		printf("dv-ioctl-fuzz: thread %u (tid %d) %s: %s, instance %d, ioctl %s (0x%lx) "
		       "on fd %d, after %lu operations\n", i, atomic_load(&thr[i].os_tid),
		       atomic_load(&thr[i].done) ? "done" : "NOT BACK",
		       atomic_load(&thr[i].op) ? atomic_load(&thr[i].op) : "?",
		       atomic_load(&thr[i].inst), ioctl_name(op), op, atomic_load(&thr[i].fd),
		       thr[i].ops);
	}
	d = opendir("/proc/self/task");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(prefix, sizeof(prefix), "dv-ioctl-fuzz: task %s ", e->d_name);
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		print_file(prefix, path);
		snprintf(path, sizeof(path), "/proc/self/task/%s/wchan", e->d_name);
		print_file(prefix, path);
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack", e->d_name);
		print_file(prefix, path);
	}
	if (d)
		closedir(d);
	kmsg_note("dv-ioctl-fuzz: a thread did not come back: sysrq w follows\n");
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "w", 1) != 1)
		printf("dv-ioctl-fuzz: sysrq w: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	fflush(stdout);
}

static void print_counts(const char *what)
{
	printf("dv-ioctl-fuzz: %s seed %lu threads %u instances %u ops", what, seed, n_threads,
	       n_instances);
	for (unsigned int i = 0; i < n_threads; i++)
		printf("%c%lu", i ? ',' : ' ', thr[i].ops);
	printf(" calls %lu errors %lu decode_steps %lu ctrls_ok %lu requests_queued %lu "
	       "capture_done %lu capture_error %lu unstuck %lu\n", atomic_load(&n_calls),
	       atomic_load(&n_errors), atomic_load(&n_decode_steps), atomic_load(&n_ctrls_ok),
	       atomic_load(&n_queued_reqs), atomic_load(&n_done_cap), atomic_load(&n_done_err),
	       atomic_load(&n_unstuck));
	fflush(stdout);
}

/*
 * --mmap-race N, a regression sequence: one thread allocates and frees 4 CAPTURE buffers
 * N times (REQBUFS 4, REQBUFS 0) while another mmap()s their offsets (known from a first
 * allocation) without pause. vb2 lists each buffer before its memory exists and mmap() does
 * not wait for the allocation: the module's mmap used to dereference the missing memory
 * (found by this fuzzer, seed 1, in its first seconds).
 */
static atomic_bool race_done;
static int race_fd;
static unsigned long race_rounds;

static void *race_alloc(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < race_rounds; i++) {
		struct v4l2_requestbuffers rb = { .count = 4, .type = CAP_T,
						  .memory = V4L2_MEMORY_MMAP };

		call(race_fd, VIDIOC_REQBUFS, &rb);
		rb.count = 0;
		call(race_fd, VIDIOC_REQBUFS, &rb);
	}
	atomic_store(&race_done, true);
	return NULL;
}

static int mmap_race(void)
{
	struct v4l2_format f = { .type = OUT_T };
	struct v4l2_requestbuffers rb = { .count = 4, .type = CAP_T, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	struct inst in;
	uint32_t off[4], len = 0;
	unsigned long maps = 0, refused = 0;
	struct dv_dev d;
	pthread_t t;

	if (dv_open(&d, video_path[0] ? video_path : NULL))
		return 1;
	in.vfd = race_fd = d.vfd;
	f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_VP8_FRAME;
	f.fmt.pix_mp.width = 1920;
	f.fmt.pix_mp.height = 1080;
	if (call(race_fd, VIDIOC_S_FMT, &f) || call(race_fd, VIDIOC_REQBUFS, &rb) || rb.count != 4)
		return 1;
	for (uint32_t i = 0; i < 4; i++) {
		if (query(&in, CAP_T, i, &b, planes))
			return 1;
		off[i] = planes[0].m.mem_offset;
		len = planes[0].length;
	}
	rb.count = 0;
	call(race_fd, VIDIOC_REQBUFS, &rb);
	if (pthread_create(&t, NULL, race_alloc, NULL))
		return 1;
	while (!atomic_load(&race_done)) {
		for (unsigned int i = 0; i < 4; i++) {
			void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, race_fd, off[i]);

			if (m == MAP_FAILED) {
				refused++;
				continue;
			}
			maps++;
			munmap(m, len);
		}
	}
	pthread_join(t, NULL);
	close(d.vfd);
	close(d.mfd);
	printf("dv-ioctl-fuzz: PASS mmap race: %lu allocations of 4 buffers, %lu mmap()s "
	       "mapped, %lu refused\n", race_rounds, maps, refused);
	return 0;
}

/*
 * --request-cancel, a regression sequence: an OUTPUT buffer (mapped first) in a request
 * with its controls, the request queued while OUTPUT does not stream, then REQBUFS 0. vb2
 * cancels that buffer holding q->mmap_lock, and the module completed the request's
 * controls right there, under the control handler's lock: with the control ioctls copying
 * from user memory under that lock and mmap() taking q->mmap_lock under mm->mmap_lock, a
 * possible deadlock that lockdep reported (debug kernel; docs/security.md). The request
 * must still complete (its poll says so and it may be re-initialised).
 */
static int request_cancel(void)
{
	struct v4l2_format f = { .type = OUT_T };
	struct v4l2_requestbuffers rb = { .count = 1, .type = OUT_T, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_ext_control c;
	struct v4l2_ext_controls cs = { .controls = &c, .count = 1,
					.which = V4L2_CTRL_WHICH_REQUEST_VAL };
	struct v4l2_buffer b;
	struct rng r = { 1 };
	struct inst in = { .vfd = -1, .mfd = -1 };
	struct pollfd p;
	struct dv_dev d;
	const char *step = "open";
	void *payload;
	int req = -1, ret = 1, rc;

	if (dv_open(&d, video_path[0] ? video_path : NULL))
		goto out;
	in.vfd = d.vfd;
	in.mfd = d.mfd;
	f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_VP8_FRAME;
	f.fmt.pix_mp.width = 320;
	f.fmt.pix_mp.height = 240;
	step = "S_FMT + REQBUFS";
	if (call(d.vfd, VIDIOC_S_FMT, &f) || call(d.vfd, VIDIOC_REQBUFS, &rb) || !rb.count)
		goto out;
	step = "QUERYBUF";
	if (query(&in, OUT_T, 0, &b, planes))
		goto out;
	fill_output(&in, &r, &planes[0]);	/* mmap(): q->mmap_lock under mm->mmap_lock */
	step = "MEDIA_IOC_REQUEST_ALLOC";
	if (call(d.mfd, MEDIA_IOC_REQUEST_ALLOC, &req))
		goto out;
	payload = ctrl_fill(&in, &r, V4L2_CID_STATELESS_VP8_FRAME, &c, 320, 240, 1024, 0);
	cs.request_fd = req;
	step = "S_EXT_CTRLS in the request";
	rc = call(d.vfd, VIDIOC_S_EXT_CTRLS, &cs);
	free(payload);
	if (rc)
		goto out;
	step = "QBUF in the request";
	if (queue_one(&in, &r, OUT_T, 0, req, 1024))
		goto out;
	step = "MEDIA_REQUEST_IOC_QUEUE";
	if (call(req, MEDIA_REQUEST_IOC_QUEUE, NULL))
		goto out;
	p = (struct pollfd){ .fd = req, .events = POLLPRI };
	step = "the request completed while OUTPUT does not stream";
	if (poll(&p, 1, 0) != 0)
		goto out;
	rb.count = 0;
	step = "REQBUFS 0";
	if (call(d.vfd, VIDIOC_REQBUFS, &rb))
		goto out;
	step = "the request not complete after REQBUFS 0";
	if (poll(&p, 1, 1000) != 1 || !(p.revents & POLLPRI))
		goto out;
	step = "MEDIA_REQUEST_IOC_REINIT after REQBUFS 0";
	if (call(req, MEDIA_REQUEST_IOC_REINIT, NULL))
		goto out;
	ret = 0;
out:
	if (ret)
		printf("dv-ioctl-fuzz: FAIL request cancel: %s (%s)\n", step, strerror(errno));
	else
		printf("dv-ioctl-fuzz: PASS request cancel: the queued request completed on "
		       "REQBUFS 0\n");
	if (req >= 0)
		close(req);
	if (in.vfd >= 0) {
		close(d.vfd);
		close(d.mfd);
	}
	return ret;
}

/*
 * --fmt-race S, a regression: S_FMT(OUTPUT) runs under the device's lock and
 * REQBUFS(CAPTURE) under the context's queue lock, so on one fd they run at
 * once; a CAPTURE format rewritten in place gave queue_setup no planes and
 * vb2 WARNed (found by the fuzzer). One thread changes the OUTPUT format
 * (codec and size, EBUSY while CAPTURE has buffers), another allocates and
 * frees CAPTURE buffers; the kernel log (checked by the testbed) must stay
 * clean.
 */
static atomic_bool fmt_race_stop;

static void *fmt_race_setter(void *arg)
{
	static const uint32_t codecs[] = { V4L2_PIX_FMT_H264_SLICE, V4L2_PIX_FMT_VP8_FRAME,
					   V4L2_PIX_FMT_VP9_FRAME, V4L2_PIX_FMT_AV1_FRAME };
	int fd = *(int *)arg;
	unsigned long n = 0;

	while (!atomic_load(&fmt_race_stop)) {
		struct v4l2_format f = { .type = OUT_T };

		f.fmt.pix_mp.pixelformat = codecs[n % 4];
		f.fmt.pix_mp.width = n & 1 ? 1920 : 320;
		f.fmt.pix_mp.height = n & 1 ? 1088 : 240;
		ioctl(fd, VIDIOC_S_FMT, &f);
		n++;
	}
	return NULL;
}

static int fmt_race(unsigned int seconds)
{
	struct dv_dev d;
	pthread_t t;
	uint64_t end;
	unsigned long rounds = 0, ok = 0;

	if (dv_open(&d, video_path[0] ? video_path : NULL)) {
		printf("dv-ioctl-fuzz: FAIL fmt-race: cannot open the decoder\n");
		return 1;
	}
	if (pthread_create(&t, NULL, fmt_race_setter, &d.vfd)) {
		printf("dv-ioctl-fuzz: FAIL fmt-race: pthread_create\n");
		return 1;
	}
	end = now_ms() + seconds * 1000ull;
	while (now_ms() < end) {
		struct v4l2_requestbuffers rb = { .count = 1, .type = CAP_T,
						  .memory = V4L2_MEMORY_MMAP };

		if (!ioctl(d.vfd, VIDIOC_REQBUFS, &rb) && rb.count)
			ok++;
		rb.count = 0;
		ioctl(d.vfd, VIDIOC_REQBUFS, &rb);
		rounds++;
	}
	atomic_store(&fmt_race_stop, true);
	pthread_join(t, NULL);
	close(d.vfd);
	close(d.mfd);
	/* a run that never allocated raced nothing */
	printf("dv-ioctl-fuzz: %s fmt-race: %lu REQBUFS rounds, %lu allocated\n",
	       ok ? "PASS" : "FAIL", rounds, ok);
	return ok ? 0 : 1;
}

static void usage(void)
{
	fputs("usage: dv-ioctl-fuzz [--seed N] [--ops N | --seconds S] [--threads T]\n"
	      "                     [--instances I] [--video /dev/videoN] [-v]\n"
	      "  --ops N       operations per thread (replay: --threads 1 --ops N)\n"
	      "  --seconds S   run for S seconds (prints the operation counts reached)\n"
	      "  --mmap-race N regression: mmap() against N buffer allocations\n"
	      "  --request-cancel regression: REQBUFS 0 with a buffer in a queued request\n"
	      "  --fmt-race S  regression: S_FMT(OUTPUT) against REQBUFS(CAPTURE) for S seconds\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "instances", required_argument, NULL, 'I' },
		{ "video", required_argument, NULL, 'V' },
		{ "mmap-race", required_argument, NULL, 'M' },
		{ "request-cancel", no_argument, NULL, 'R' },
		{ "fmt-race", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t t0, last;
	bool req_cancel = false;
	unsigned int fmt_race_s = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'n': max_ops = strtoul(optarg, NULL, 0); break;
		case 't': run_seconds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'T': n_threads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'I': n_instances = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'V': snprintf(video_path, sizeof(video_path), "%s", optarg); break;
		case 'v': verbose++; break;
		case 'M': race_rounds = strtoul(optarg, NULL, 0); break;
		case 'R': req_cancel = true; break;
		case 'F': fmt_race_s = (unsigned int)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (req_cancel)
		return request_cancel();
	if (fmt_race_s)
		return fmt_race(fmt_race_s);
	if (race_rounds)
		return mmap_race();
	if (!n_threads || n_threads > MAX_THREADS || !n_instances ||
	    n_instances > MAX_INSTANCES || (!max_ops && !run_seconds))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	for (unsigned int i = 0; i < POOL; i++)
		pool[i] = -1;
	for (unsigned int i = 0; i < n_instances; i++) {
		pthread_rwlock_init(&inst[i].lock, NULL);
		inst[i].vfd = inst[i].mfd = -1;
		for (int k = 0; k < REQS; k++)
			inst[i].req[k] = -1;
	}
	printf("dv-ioctl-fuzz: start seed %lu threads %u instances %u ops %lu seconds %u\n",
	       seed, n_threads, n_instances, max_ops, run_seconds);
	kmsg_note("dv-ioctl-fuzz: start seed %lu threads %u\n", seed, n_threads);
	t0 = last = now_ms();
	for (unsigned int i = 0; i < n_threads; i++) {
		thr[i].index = i;
		thr[i].r.s = (seed + 1) * 0x9e3779b97f4a7c15ULL + (uint64_t)i * 0xbf58476d1ce4e5b9ULL;
		if (!thr[i].r.s)
			thr[i].r.s = 1;
		if (pthread_create(&thr[i].tid, NULL, thread_main, &thr[i])) {
			perror("pthread_create");
			return 2;
		}
	}
	for (unsigned long last_ops[MAX_THREADS] = { 0 }, still[MAX_THREADS] = { 0 };;) {
		bool running = false;

		usleep(100000);
		/*
		 * A thread whose DQBUF blocks on a buffer another thread took stays there until
		 * something completes; after 5 s without progress STREAMOFF wakes it (the run
		 * goes on; a thread that does not come back at the end is a failure).
		 */
		for (unsigned int i = 0; i < n_threads; i++) {
			if (thr[i].ops != last_ops[i] || atomic_load(&thr[i].done)) {
				last_ops[i] = thr[i].ops;
				still[i] = 0;
			} else if (++still[i] == 50) {
				atomic_fetch_add(&n_unstuck, 1);
				streamoff_all();
			}
		}
		for (unsigned int i = 0; i < n_threads; i++)
			running |= !max_ops || thr[i].ops < max_ops;
		if (!running || atomic_load(&device_gone))
			break;
		if (run_seconds && now_ms() - t0 >= run_seconds * 1000ull)
			break;
		if (now_ms() - last >= 10000) {
			last = now_ms();
			print_counts("progress");
		}
	}
	atomic_store(&stop, true);
	/*
	 * A thread may sit in a blocking DQBUF that nothing will complete: STREAMOFF wakes it
	 * (as a client's other thread would). One still not back after 20 s is a hang.
	 */
	for (unsigned int waited = 0;; waited += 100) {
		unsigned int busy = 0;

		for (unsigned int i = 0; i < n_threads; i++)
			busy += !atomic_load(&thr[i].done);
		if (!busy)
			break;
		if (waited >= 20000) {
			dump_stuck();
			print_counts("FAIL (a thread did not come back from the kernel in 20 s)");
			return 1;
		}
		streamoff_all();
		usleep(100000);
	}
	for (unsigned int i = 0; i < n_threads; i++)
		pthread_join(thr[i].tid, NULL);
	for (unsigned int i = 0; i < n_instances; i++)
		if (inst[i].vfd >= 0)
			inst_close_locked(&inst[i]);
	for (unsigned int i = 0; i < POOL; i++)
		if (pool[i] >= 0)
			close(pool[i]);
	if (atomic_load(&device_gone)) {
		print_counts("FAIL (the device cannot be opened any more)");
		return 1;
	}
	print_counts("PASS");
	printf("dv-ioctl-fuzz: %.1f s; replay: dv-ioctl-fuzz --seed %lu --threads %u "
	       "--instances %u --ops %lu\n", (double)(now_ms() - t0) / 1000.0, seed, n_threads,
	       n_instances, max_thread_ops());
	kmsg_note("dv-ioctl-fuzz: end seed %lu\n", seed);
	return 0;
}
