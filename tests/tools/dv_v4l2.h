/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small V4L2 stateless decoder client: find the daedalus-v4l2 video and
 * media nodes, set formats, allocate buffers (MMAP, or CAPTURE imported from
 * a dma-heap or udmabuf), stream, queue requests and dequeue results. Just
 * enough of what GStreamer / FFmpeg / Chromium do to drive the module from
 * tests. All functions print what failed and return -errno.
 */
#ifndef DV_V4L2_H
#define DV_V4L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/videodev2.h>

#define DV_MAX_BUFS	32
#define DV_MAX_PLANES	3

enum dv_mem { DV_MEM_MMAP, DV_MEM_HEAP, DV_MEM_UDMABUF };

struct dv_plane {
	int dmabuf;		/* imported dmabuf (CAPTURE DMABUF), else -1 */
	int memfd;		/* udmabuf backing memfd, else -1 */
	uint8_t *map;
	size_t len;
};

struct dv_buf {
	unsigned int nplanes;
	struct dv_plane p[DV_MAX_PLANES];
};

/*
 * Chromium's CAPTURE pool: VIDEO_MAX_FRAME buffers of its own (dma-buf), imported into as
 * many V4L2 slots.
 */
#define DV_CHROMIUM_POOL 32

struct dv_dev {
	char video[64], media[64];
	int vfd, mfd;
	struct v4l2_format out_fmt, cap_fmt;
	enum dv_mem cap_mem;
	unsigned int nout, ncap;
	/*
	 * OUTPUT buffers; CAPTURE memory: for MMAP slot i's own, for DMABUF the pool's
	 * buffers, queued in slot i as cap[slot_mem[i]] (dv_pool_take)
	 */
	struct dv_buf out[DV_MAX_BUFS], cap[DV_MAX_BUFS];
	unsigned int slot_mem[DV_MAX_BUFS];
	/* DMABUF: hand slots the pool's free buffers in turn instead of keeping their own */
	bool pool_rotate;
	unsigned int pool_free[DV_MAX_BUFS], pool_head, pool_count;
	unsigned long pool_changes; /* queued into a slot that had other memory before */
	/*
	 * The CAPTURE slot of a request that asked V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF (-1: none)
	 * and, once it came back (held_back), its flags: it may come back with a later request.
	 */
	int held;
	bool held_back;
	uint32_t held_flags;
	/*
	 * CAPTURE sequence numbers since the last STREAMON: each picture must get a number of its
	 * own, increasing (a held picture abandoned included); repeats counts those that did not.
	 */
	bool cap_seq_any;
	uint32_t cap_seq_next;
	unsigned int cap_seq_repeats;
};

/* ioctl, again after EINTR: 0 or -errno. */
int dv_xioctl(int fd, unsigned long req, void *arg);
/* Find (or use @video) the daedalus-v4l2 node and its media node, open both. */
int dv_open(struct dv_dev *d, const char *video);
void dv_close(struct dv_dev *d);
int dv_set_formats(struct dv_dev *d, uint32_t coded, unsigned int w,
		   unsigned int h, uint32_t cap_fourcc);
int dv_alloc(struct dv_dev *d, unsigned int nout, unsigned int ncap, enum dv_mem cap_mem);
/* STREAMOFF, unmap and close everything, REQBUFS(0) on both queues: before new formats. */
int dv_free(struct dv_dev *d);
/*
 * --capture mmap | dmabuf-import | dmabuf-import-rotate: CAPTURE as MMAP, or as DMABUF
 * imported from buffers allocated in /dev/dma_heap/system with the format's sizeimage;
 * -rotate gives a slot being reused the pool's longest free buffer rather than its own, so
 * that slots are queued with other dma-bufs than before (the driver must re-import).
 * 0, or -1 for an unknown word.
 */
int dv_parse_capture(const char *s, enum dv_mem *mem, bool *rotate);
/* The CAPTURE memory for slot @slot before it is queued (see pool_rotate). */
void dv_pool_take(struct dv_dev *d, unsigned int slot);
/* CAPTURE memory queued in slot @slot (the pool buffer for DMABUF). */
const struct dv_buf *dv_cap_mem(const struct dv_dev *d, unsigned int slot);
/*
 * Bracket CPU reads of slot @slot's picture: DMA_BUF_IOCTL_SYNC START|READ (@start) or
 * END|READ on each imported plane, as a client reading a dma-buf it mapped must.
 */
int dv_cap_sync(const struct dv_dev *d, unsigned int slot, bool start);
int dv_stream(struct dv_dev *d, bool on);
int dv_queue_capture(struct dv_dev *d, unsigned int index);
/* Queue OUTPUT buffer @index with @bytes at @offset in request @req, with buffer @flags. */
int dv_queue_output(struct dv_dev *d, unsigned int index, int req,
		    const struct timeval *ts, unsigned int offset, unsigned int bytes,
		    uint32_t flags);
/* Non-blocking DQBUF; -EAGAIN if nothing is ready. */
int dv_dequeue(struct dv_dev *d, enum v4l2_buf_type type, struct v4l2_buffer *b,
	       struct v4l2_plane *planes);
/* Wait up to @ms for @events on @fd; 1 ready, 0 timeout, -errno. */
int dv_wait(int fd, short events, int ms);
int dv_req_alloc(struct dv_dev *d);
/* S_EXT_CTRLS into a request. */
int dv_req_set_ctrls(struct dv_dev *d, int req, struct v4l2_ext_control *c,
		     unsigned int n);
int dv_set_ctrls(struct dv_dev *d, struct v4l2_ext_control *c, unsigned int n);
/*
 * One decode request, start to end, as the stateless clients run it one at a time: the
 * bitstream copied into OUTPUT buffer 0, CAPTURE buffer @cap queued, the controls set in
 * @req, the request queued; waits (10 s) for both buffers back, checks that CAPTURE @cap came
 * back with timestamp @ts_ns, and re-inits @req. 0 decoded, 1 came back with ERROR, -1 on any
 * other failure (printed).
 */
int dv_decode_one(struct dv_dev *d, int req, unsigned int cap, uint64_t ts_ns,
		  struct v4l2_ext_control *c, unsigned int n, const void *bitstream,
		  size_t bytes);
/*
 * The same with V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF: the first pieces of a picture. Waits only
 * for the OUTPUT buffer; CAPTURE @cap becomes d->held. With @flush, V4L2_DEC_CMD_FLUSH right
 * after the request is queued, while its job runs. 0, or -1 on a failure (printed).
 */
int dv_decode_held(struct dv_dev *d, int req, unsigned int cap, uint64_t ts_ns,
		   struct v4l2_ext_control *c, unsigned int n, const void *bitstream,
		   size_t bytes, bool flush);
/*
 * The last piece of the held picture (d->held): a request with its timestamp @ts_ns and no
 * HOLD flag, the CAPTURE buffer not queued again (the m2m core keeps it for this request).
 * Waits for the OUTPUT buffer and the held CAPTURE buffer. 0 decoded, 1 the CAPTURE buffer
 * came back with ERROR, -1 on any other failure (printed).
 */
int dv_decode_rest(struct dv_dev *d, int req, uint64_t ts_ns, struct v4l2_ext_control *c,
		   unsigned int n, const void *bitstream, size_t bytes);
/* VIDIOC_DECODER_CMD V4L2_DEC_CMD_FLUSH: release a held CAPTURE buffer. */
int dv_flush(struct dv_dev *d);
/* Wait up to @ms for d->held to come back. 0, or -1 (printed). */
int dv_wait_held(struct dv_dev *d, int ms);

#endif
