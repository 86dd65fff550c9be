/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A stateless decoder driven the way FFmpeg's v4l2-request hwaccel drives one (Jonas Karlman's
 * series, libavcodec/v4l2_request*.c and libavutil/hwcontext_v4l2request.c, its pipelined
 * form, as read in its sources; mpv and Kodi decode through it):
 *  - discovery through the media controller: every /dev/media*, MEDIA_IOC_G_TOPOLOGY, the
 *    video interface's device number turned into its node, opened O_NONBLOCK; the node must
 *    be a streaming M2M_MPLANE device whose OUTPUT queue reports SUPPORTS_REQUESTS to a
 *    CREATE_BUFS of count 0, list the coded format and a frame size that holds the stream's
 *    (any ENUM_FRAMESIZES entry; none at all is accepted);
 *  - S_FMT OUTPUT with its own sizeimage, the codec's first controls set outside any request
 *    (H.264: the SPS), then the CAPTURE format the driver proposes (G_FMT) if it is one FFmpeg
 *    knows, else the first such one ENUM_FMT lists, set with a fresh format of the coded size;
 *  - no REQBUFS ever: every buffer is one CREATE_BUFS of count 1 (and QUERYBUF). First the
 *    frame pool's CAPTURE buffers (exported with EXPBUF, plane 0), then 4 OUTPUT buffers, then
 *    4 requests; OUTPUT buffer i goes with request i, round robin, so up to 4 requests may be
 *    in flight. The pool grows (CREATE_BUFS while both queues stream) when no buffer is free,
 *    and hands out the buffer freed last first (FFmpeg's buffer pools are LIFO);
 *  - per frame: MEDIA_REQUEST_IOC_REINIT of the request (after POLLPRI on it once used), the
 *    controls into it, the bitstream plus zeroed padding (not counted in bytesused), QBUF
 *    OUTPUT with the request, QBUF CAPTURE under the same timestamp ((index + 1) µs),
 *    MEDIA_REQUEST_IOC_QUEUE; an OUTPUT buffer is reused once dequeued (POLLOUT); a picture is
 *    waited for (POLLIN) only when the decoder hands it to the application;
 *  - every wait gives up after 2 s, as FFmpeg's;
 *  - a picture is read by mapping its dma-buf for that read alone (FFmpeg's transfer);
 *  - at the end: STREAMOFF OUTPUT and CAPTURE, the OUTPUT mappings and the requests released,
 *    the video node and the media node closed; the frame pool's dma-bufs later still (FFmpeg
 *    frees its frame pool after the hwaccel's context).
 * What the hwaccel does not do, this does: check V4L2_BUF_FLAG_ERROR (the hwaccel ignores it),
 * the timestamp of every CAPTURE buffer that comes back, and that requests complete in order.
 */
#ifndef DV_REQUEST_PIPE_H
#define DV_REQUEST_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/videodev2.h>

#define RP_OUTPUTS	4	/* OUTPUT buffers and requests, round robin */
#define RP_MAX_CAPTURE	32
#define RP_WAIT_MS	2000	/* FFmpeg's limit on every wait */

struct rp_output {
	uint8_t *map;
	size_t len;
	int req;
	bool busy;	/* queued, not yet dequeued */
	bool used;	/* its request was queued once: POLLPRI before the next REINIT */
};

struct rp_capture {
	int dmabuf;	/* EXPBUF of plane 0 */
	size_t len;
	bool queued;
	long frame;	/* the frame queued into it */
	bool taken;	/* handed out by the pool since it was last free */
	uint64_t freed_at; /* when it was last seen free: the pool hands out the latest first */
};

/* Called for each CAPTURE buffer that comes back, in the order they come. */
typedef int (*rp_done_fn)(void *opaque, unsigned int index, uint32_t flags);

struct dv_rp {
	char video[64], media[64];
	int vfd, mfd;
	struct v4l2_format out_fmt, cap_fmt;
	bool can_hold;	/* V4L2_BUF_CAP_SUPPORTS_M2M_HOLD_CAPTURE_BUF on OUTPUT */
	struct rp_output out[RP_OUTPUTS];
	unsigned int next_out, in_flight, max_in_flight;
	struct rp_capture cap[RP_MAX_CAPTURE];
	unsigned int ncap;
	uint64_t clock;
	/* frames queued and frames whose CAPTURE buffer came back (in order: the frame number) */
	long submitted, completed;
	/* the last frame that names each CAPTURE buffer as a reference (-1: none) */
	long needed_until[RP_MAX_CAPTURE];
	bool streaming;
	rp_done_fn done;
	void *opaque;
};

/*
 * Find the device that decodes @coded at @w x @h, set the OUTPUT format (@out_size bytes a
 * buffer), the controls @init outside a request, and pick the CAPTURE format. 0 or -1
 * (printed).
 */
int dv_rp_open(struct dv_rp *p, uint32_t coded, unsigned int w, unsigned int h,
	       size_t out_size, struct v4l2_ext_control *init, unsigned int ninit);
/* The default value of control @id (VIDIOC_QUERY_EXT_CTRL), -1 if it has none. */
int64_t dv_rp_default(struct dv_rp *p, uint32_t id);
/* Set @n controls outside a request. 0 or -1 (printed). */
int dv_rp_set(struct dv_rp *p, struct v4l2_ext_control *c, unsigned int n);
/* A frame pool of @ncap CAPTURE buffers, the OUTPUT buffers, the requests, STREAMON. 0 or -1. */
int dv_rp_start(struct dv_rp *p, unsigned int ncap, rp_done_fn done, void *opaque);
/* The next frame (number p->submitted) uses CAPTURE @cap's picture as a reference. */
void dv_rp_needs(struct dv_rp *p, unsigned int cap);
/*
 * A CAPTURE buffer for the next frame: one not in flight that no frame not yet complete (nor
 * the next) names as a reference, the one freed last first; made anew (CREATE_BUFS while
 * streaming) when none is free and the pool may grow, else waited for. Its index, or -1.
 */
int dv_rp_pick_capture(struct dv_rp *p);
/* The timestamp a frame decoded into CAPTURE @cap goes under: (@cap + 1) µs, as FFmpeg. */
static inline uint64_t dv_rp_ts(unsigned int cap)
{
	return ((uint64_t)cap + 1) * 1000;
}
/* Which CAPTURE buffer timestamp @ts names, -1 if none. */
int dv_rp_named(const struct dv_rp *p, uint64_t ts);
/*
 * Queue one frame into CAPTURE @cap under @ts_ns: waits for the next OUTPUT buffer and its
 * request to be free first (handing back what completes meanwhile). 0 or -1.
 */
int dv_rp_submit(struct dv_rp *p, unsigned int cap, uint64_t ts_ns,
		 struct v4l2_ext_control *c, unsigned int n, const void *bits, size_t size);
/* Dequeue what has completed; with @wait, wait (RP_WAIT_MS) for at least one buffer. */
int dv_rp_reap(struct dv_rp *p, bool wait);
/* Wait until CAPTURE @cap is back: the picture handed to the application. 0 or -1. */
int dv_rp_wait_capture(struct dv_rp *p, unsigned int cap);
/* Wait until nothing is in flight. 0 or -1. */
int dv_rp_drain(struct dv_rp *p);
/*
 * The MD5 of the @w x @h picture at (@x, @y) in CAPTURE @cap (one plane, NV12 or P010),
 * hashed like framemd5, read through its dma-buf mapped for this read, inside
 * DMA_BUF_IOCTL_SYNC. 0 or -1.
 */
int dv_rp_md5(const struct dv_rp *p, unsigned int cap, uint32_t x, uint32_t y, uint32_t w,
	      uint32_t h, char out[33]);
/* STREAMOFF, the OUTPUT buffers and requests released, both nodes closed. */
void dv_rp_close_node(struct dv_rp *p);
/* The frame pool's dma-bufs, after dv_rp_close_node(). */
void dv_rp_release_pool(struct dv_rp *p);

#endif
