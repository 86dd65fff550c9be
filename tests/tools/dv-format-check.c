/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-format-check VIDEO MEDIA: format negotiation and request validation that
 * v4l2-compliance cannot reach (run by tests/vm/kernel-formats.sh, which says what and why).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/media.h>
#include <linux/videodev2.h>
#include <linux/v4l2-controls.h>

#include "dv_check.h"

int dv_check_fails;

#define OUT V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE
#define CAP V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE

static int vfd;

static int set_out(unsigned fourcc, unsigned w, unsigned h)
{
	struct v4l2_format f = { .type = OUT };

	f.fmt.pix_mp.pixelformat = fourcc;
	f.fmt.pix_mp.width = w;
	f.fmt.pix_mp.height = h;
	return ioctl(vfd, VIDIOC_S_FMT, &f);
}

static struct v4l2_pix_format_mplane get_cap(void)
{
	struct v4l2_format f = { .type = CAP };

	ioctl(vfd, VIDIOC_G_FMT, &f);
	return f.fmt.pix_mp;
}

static unsigned enum_cap(unsigned *list)
{
	struct v4l2_fmtdesc d = { .type = CAP };

	while (!ioctl(vfd, VIDIOC_ENUM_FMT, &d))
		list[d.index++] = d.pixelformat;
	return d.index;
}

static int set_ctrl(unsigned id, void *p, unsigned size, unsigned which, int req)
{
	struct v4l2_ext_control c = { .id = id, .size = size, .ptr = p };
	struct v4l2_ext_controls cs = { .which = which, .count = 1, .controls = &c, .request_fd = req };

	return ioctl(vfd, VIDIOC_S_EXT_CTRLS, &cs) ? -errno : 0;
}

static int get_ctrl(unsigned id, void *p, unsigned size)
{
	struct v4l2_ext_control c = { .id = id, .size = size, .ptr = p };
	struct v4l2_ext_controls cs = { .which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1, .controls = &c };

	return ioctl(vfd, VIDIOC_G_EXT_CTRLS, &cs) ? -errno : 0;
}

static int cap_bufs(unsigned count)
{
	struct v4l2_requestbuffers rb = { .count = count, .type = CAP, .memory = V4L2_MEMORY_MMAP };

	return ioctl(vfd, VIDIOC_REQBUFS, &rb) ? -errno : (int)rb.count;
}

static int try_ctrl(unsigned id, void *p, unsigned size)
{
	struct v4l2_ext_control c = { .id = id, .size = size, .ptr = p };
	struct v4l2_ext_controls cs = { .which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1, .controls = &c };

	return ioctl(vfd, VIDIOC_TRY_EXT_CTRLS, &cs) ? -errno : 0;
}

static void depth_case(const char *name, unsigned fourcc, unsigned id, void *p8, void *p10, unsigned size)
{
	struct v4l2_pix_format_mplane pix;
	unsigned list[8], n;
	char cur[2048];	/* the H.264 SPS is 1048 bytes */
	int ret;

	if (size > sizeof(cur)) {
		CHECK(0, "%s: control of %u bytes fits the read-back buffer", name, size);
		return;
	}

	CHECK(!set_out(fourcc, 1920, 1080), "%s: S_FMT(OUTPUT 1920x1080)", name);
	CHECK(!set_ctrl(id, p8, size, V4L2_CTRL_WHICH_CUR_VAL, 0), "%s: 8-bit control accepted", name);
	n = enum_cap(list);
	CHECK(n == 2 && list[0] == V4L2_PIX_FMT_NV12 && list[1] == V4L2_PIX_FMT_YUV420M,
	      "%s 8 bit: CAPTURE formats NV12, YUV420M (%u listed)", name, n);
	pix = get_cap();
	CHECK(pix.pixelformat == V4L2_PIX_FMT_NV12 && pix.width == 1920 && pix.height == 1088 &&
	      pix.plane_fmt[0].bytesperline == 1920 && pix.plane_fmt[0].sizeimage == 1920 * 1088 * 3 / 2,
	      "%s 8 bit: G_FMT(CAPTURE) NV12 %ux%u stride %u size %u", name, pix.width, pix.height,
	      pix.plane_fmt[0].bytesperline, pix.plane_fmt[0].sizeimage);
	CHECK(!set_ctrl(id, p10, size, V4L2_CTRL_WHICH_CUR_VAL, 0), "%s: 10-bit control accepted", name);
	n = enum_cap(list);
	CHECK(n == 1 && list[0] == V4L2_PIX_FMT_P010, "%s 10 bit: CAPTURE formats P010 only (%u listed)", name, n);
	pix = get_cap();
	CHECK(pix.pixelformat == V4L2_PIX_FMT_P010 && pix.plane_fmt[0].bytesperline == 3840 &&
	      pix.plane_fmt[0].sizeimage == 3840 * 1088 * 3 / 2,
	      "%s 10 bit: G_FMT(CAPTURE) P010 stride %u size %u", name,
	      pix.plane_fmt[0].bytesperline, pix.plane_fmt[0].sizeimage);

	/*
	 * Allocated CAPTURE buffers have the layout of their depth: a change
	 * of depth is refused (EBUSY, as rkvdec does) until they are freed,
	 * and nothing changes meanwhile (issue 14, item 4).
	 */
	CHECK(!set_ctrl(id, p8, size, V4L2_CTRL_WHICH_CUR_VAL, 0), "%s: back to 8 bit", name);
	CHECK(cap_bufs(2) == 2, "%s 8 bit: REQBUFS(CAPTURE 2)", name);
	ret = set_ctrl(id, p10, size, V4L2_CTRL_WHICH_CUR_VAL, 0);
	CHECK(ret == -EBUSY, "%s: 10-bit control with 8-bit CAPTURE buffers refused with EBUSY (got %d)",
	      name, ret);
	pix = get_cap();
	n = enum_cap(list);
	CHECK(pix.pixelformat == V4L2_PIX_FMT_NV12 && n == 2,
	      "%s: CAPTURE still NV12 (%u formats listed)", name, n);
	memset(cur, 0xa5, size);
	CHECK(!get_ctrl(id, cur, size) && !memcmp(cur, p8, size),
	      "%s: the control still holds the 8-bit value", name);
	CHECK(!set_ctrl(id, p8, size, V4L2_CTRL_WHICH_CUR_VAL, 0),
	      "%s: the same depth again is accepted with buffers", name);
	CHECK(cap_bufs(0) == 0, "%s: REQBUFS(CAPTURE 0)", name);
	CHECK(!set_ctrl(id, p10, size, V4L2_CTRL_WHICH_CUR_VAL, 0),
	      "%s: 10-bit control accepted once the buffers are freed", name);
	pix = get_cap();
	CHECK(pix.pixelformat == V4L2_PIX_FMT_P010, "%s: CAPTURE P010 then", name);
	set_ctrl(id, p8, size, V4L2_CTRL_WHICH_CUR_VAL, 0);
}

/*
 * The same change carried by a request, with the CAPTURE buffers streaming: the request's
 * controls cannot be applied, so its job fails (ERROR) and the current value stays 8 bit.
 */
static void request_depth_case(int mfd, const struct v4l2_ctrl_vp9_frame *p8,
			       const struct v4l2_ctrl_vp9_frame *p10)
{
	struct v4l2_ctrl_vp9_frame cur;
	struct v4l2_plane opl = { .bytesused = 100 }, cpl[VIDEO_MAX_PLANES];
	struct v4l2_buffer ob = { .index = 0, .type = OUT, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = &opl, .length = 1, .flags = V4L2_BUF_FLAG_REQUEST_FD };
	struct v4l2_buffer cb = { .index = 0, .type = CAP, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = cpl, .length = VIDEO_MAX_PLANES };
	struct v4l2_requestbuffers rb = { .count = 1, .type = OUT, .memory = V4L2_MEMORY_MMAP };
	struct pollfd pfd = { .fd = vfd, .events = POLLIN };
	int req = -1, type;

	CHECK(!set_out(V4L2_PIX_FMT_VP9_FRAME, 1920, 1080), "VP9 request: S_FMT(OUTPUT)");
	CHECK(!set_ctrl(V4L2_CID_STATELESS_VP9_FRAME, (void *)p8, sizeof(*p8), V4L2_CTRL_WHICH_CUR_VAL, 0),
	      "VP9 request: 8 bit");
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) && rb.count == 1, "VP9 request: REQBUFS(OUTPUT 1)");
	CHECK(cap_bufs(1) == 1, "VP9 request: REQBUFS(CAPTURE 1), NV12");
	memset(cpl, 0, sizeof(cpl));
	CHECK(!ioctl(vfd, VIDIOC_QBUF, &cb), "VP9 request: QBUF(CAPTURE 0)");
	type = OUT;
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "VP9 request: STREAMON(OUTPUT)");
	type = CAP;
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "VP9 request: STREAMON(CAPTURE)");
	CHECK(!ioctl(mfd, MEDIA_IOC_REQUEST_ALLOC, &req), "VP9 request: MEDIA_IOC_REQUEST_ALLOC");
	CHECK(!set_ctrl(V4L2_CID_STATELESS_VP9_FRAME, (void *)p10, sizeof(*p10),
			V4L2_CTRL_WHICH_REQUEST_VAL, req), "VP9 request: 10-bit frame set in the request");
	ob.request_fd = req;
	CHECK(!ioctl(vfd, VIDIOC_QBUF, &ob), "VP9 request: QBUF(OUTPUT 0) in the request");
	CHECK(!ioctl(req, MEDIA_REQUEST_IOC_QUEUE), "VP9 request: queued");
	CHECK(poll(&pfd, 1, 5000) == 1, "VP9 request: CAPTURE back within 5 s");
	memset(cpl, 0, sizeof(cpl));
	CHECK(!ioctl(vfd, VIDIOC_DQBUF, &cb) && (cb.flags & V4L2_BUF_FLAG_ERROR),
	      "VP9 request: the job failed (ERROR)");
	memset(&cur, 0xa5, sizeof(cur));
	CHECK(!get_ctrl(V4L2_CID_STATELESS_VP9_FRAME, &cur, sizeof(cur)) && cur.bit_depth == 8 &&
	      cur.profile == 0, "VP9 request: the refused request left the control at 8 bit (%u)",
	      cur.bit_depth);
	CHECK(get_cap().pixelformat == V4L2_PIX_FMT_NV12, "VP9 request: CAPTURE still NV12");
	type = OUT;
	ioctl(vfd, VIDIOC_STREAMOFF, &type);
	type = CAP;
	ioctl(vfd, VIDIOC_STREAMOFF, &type);
	if (req >= 0)
		close(req);
	CHECK(cap_bufs(0) == 0, "VP9 request: REQBUFS(CAPTURE 0)");
	rb.count = 0;
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb), "VP9 request: REQBUFS(OUTPUT 0)");
}

/* Queue OUTPUT buffer @index in a new request with @sps (NULL: none) and DECODE_PARAMS. */
static int queue_h264(int mfd, unsigned index, uint64_t ts, bool hold,
		      const struct v4l2_ctrl_h264_sps *sps)
{
	struct v4l2_ctrl_h264_decode_params dp = { 0 };
	struct v4l2_plane pl = { .bytesused = 100 };
	struct v4l2_buffer b = { .index = index, .type = OUT, .memory = V4L2_MEMORY_MMAP,
				 .m.planes = &pl, .length = 1, .flags = V4L2_BUF_FLAG_REQUEST_FD };
	int req = -1, ret = -1;

	if (ioctl(mfd, MEDIA_IOC_REQUEST_ALLOC, &req))
		return -1;
	if (sps && set_ctrl(V4L2_CID_STATELESS_H264_SPS, (void *)sps, sizeof(*sps),
			    V4L2_CTRL_WHICH_REQUEST_VAL, req))
		goto out;
	if (set_ctrl(V4L2_CID_STATELESS_H264_DECODE_PARAMS, &dp, sizeof(dp),
		     V4L2_CTRL_WHICH_REQUEST_VAL, req))
		goto out;
	if (hold)
		b.flags |= V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;
	b.timestamp.tv_sec = ts;
	b.request_fd = req;
	if (ioctl(vfd, VIDIOC_QBUF, &b) || ioctl(req, MEDIA_REQUEST_IOC_QUEUE))
		goto out;
	ret = 0;
out:
	close(req);
	return ret;
}

/*
 * The next CAPTURE buffer back within @ms, -1 if none. Only on POLLIN: the m2m core's poll
 * also returns POLLERR (a queue with nothing queued), and a blocking DQBUF would then wait
 * for a buffer that never comes.
 */
static int dq_cap_within(struct v4l2_buffer *cb, struct v4l2_plane *cpl, int ms)
{
	struct pollfd pfd = { .fd = vfd, .events = POLLIN };

	memset(cb, 0, sizeof(*cb));
	memset(cpl, 0, sizeof(*cpl) * VIDEO_MAX_PLANES);
	cb->type = CAP;
	cb->memory = V4L2_MEMORY_MMAP;
	cb->m.planes = cpl;
	cb->length = VIDEO_MAX_PLANES;
	if (poll(&pfd, 1, ms) != 1 || !(pfd.revents & POLLIN))
		return -1;
	return ioctl(vfd, VIDIOC_DQBUF, cb);
}

static int dq_cap(struct v4l2_buffer *cb, struct v4l2_plane *cpl)
{
	return dq_cap_within(cb, cpl, 5000);
}

/* CAPTURE buffer @index queued again (MMAP). */
static int queue_cap(unsigned int index)
{
	struct v4l2_plane cpl[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer cb = { .index = index, .type = CAP, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = cpl, .length = VIDEO_MAX_PLANES };

	return ioctl(vfd, VIDIOC_QBUF, &cb);
}

/* H.264 1920x1080 at 8 bit, two buffers queued on each side, both queues streaming. */
static void h264_streaming(const char *what, const struct v4l2_ctrl_h264_sps *p8)
{
	struct v4l2_requestbuffers rb = { .count = 2, .type = OUT, .memory = V4L2_MEMORY_MMAP };
	int type;

	CHECK(!set_out(V4L2_PIX_FMT_H264_SLICE, 1920, 1080), "%s: S_FMT(OUTPUT)", what);
	CHECK(!set_ctrl(V4L2_CID_STATELESS_H264_SPS, (void *)p8, sizeof(*p8),
			V4L2_CTRL_WHICH_CUR_VAL, 0), "%s: 8 bit", what);
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) && rb.count == 2, "%s: REQBUFS(OUTPUT 2)", what);
	CHECK(cap_bufs(2) == 2, "%s: REQBUFS(CAPTURE 2)", what);
	for (unsigned int i = 0; i < 2; i++)
		CHECK(!queue_cap(i), "%s: QBUF(CAPTURE %u)", what, i);
	type = OUT;
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "%s: STREAMON(OUTPUT)", what);
	type = CAP;
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "%s: STREAMON(CAPTURE)", what);
}

/* Both queues stopped and their buffers freed. */
static void h264_stopped(const char *what)
{
	struct v4l2_requestbuffers rb = { .count = 0, .type = OUT, .memory = V4L2_MEMORY_MMAP };
	int type = OUT;

	ioctl(vfd, VIDIOC_STREAMOFF, &type);
	type = CAP;
	ioctl(vfd, VIDIOC_STREAMOFF, &type);
	CHECK(cap_bufs(0) == 0, "%s: REQBUFS(CAPTURE 0)", what);
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb), "%s: REQBUFS(OUTPUT 0)", what);
}

/*
 * The same refused change in the first, held, piece of an H.264 picture (HOLD_CAPTURE_BUF):
 * its job fails before it is built, and its CAPTURE buffer stays held for the second piece
 * (same timestamp). That piece continues the picture: the buffer comes back with ERROR and
 * the picture's number, and the next picture has the following number. The first piece used
 * to leave the buffer marked as newly queued, so that the second numbered the picture again
 * (and would have told the daemon it started one): numbers 1 and 2 instead of 0 and 1.
 * Run with no daemon attached, which fails every job after it is built.
 */
static void held_depth_case(int mfd, const struct v4l2_ctrl_h264_sps *p8,
			    const struct v4l2_ctrl_h264_sps *p10)
{
	struct v4l2_plane cpl[VIDEO_MAX_PLANES];
	struct v4l2_buffer cb = { .type = CAP, .memory = V4L2_MEMORY_MMAP,
				  .m.planes = cpl, .length = VIDEO_MAX_PLANES };
	struct v4l2_plane opl;
	struct v4l2_buffer ob;

	h264_streaming("H.264 held", p8);

	CHECK(!queue_h264(mfd, 0, 1, true, p10), "H.264 held: first piece (10-bit SPS, HOLD) queued");
	CHECK(!queue_h264(mfd, 1, 1, false, NULL), "H.264 held: second piece queued");
	CHECK(!dq_cap(&cb, cpl) && cb.index == 0 && (cb.flags & V4L2_BUF_FLAG_ERROR) &&
	      cb.sequence == 0, "H.264 held: the picture back with ERROR as number 0 "
	      "(index %u, flags %#x, sequence %u)", cb.index, cb.flags, cb.sequence);
	for (unsigned i = 0; i < 2; i++) {
		memset(&ob, 0, sizeof(ob));
		memset(&opl, 0, sizeof(opl));
		ob.type = OUT;
		ob.memory = V4L2_MEMORY_MMAP;
		ob.m.planes = &opl;
		ob.length = 1;
		CHECK(!ioctl(vfd, VIDIOC_DQBUF, &ob), "H.264 held: DQBUF(OUTPUT) %u", i);
	}
	CHECK(!queue_h264(mfd, 0, 2, false, NULL), "H.264 held: the next picture queued");
	CHECK(!dq_cap(&cb, cpl) && cb.index == 1 && cb.sequence == 1,
	      "H.264 held: the next picture is number 1 (index %u, sequence %u)",
	      cb.index, cb.sequence);
	h264_stopped("H.264 held");
}

/* The next OUTPUT buffer back within 5 s, -1 if none. */
static int dq_out(void)
{
	struct pollfd pfd = { .fd = vfd, .events = POLLOUT };
	struct v4l2_plane opl = { 0 };
	struct v4l2_buffer ob = { .type = OUT, .memory = V4L2_MEMORY_MMAP, .m.planes = &opl,
				  .length = 1 };

	if (poll(&pfd, 1, 5000) != 1 || !(pfd.revents & POLLOUT))
		return -1;
	return ioctl(vfd, VIDIOC_DQBUF, &ob) ? -1 : (int)ob.index;
}

/*
 * 0 once @pid is stopped (state T in /proc/PID/stat), -1 after 10 s: kill() only queues
 * SIGSTOP, and a peer still running could fetch the next job before it stops.
 */
static int wait_stopped(pid_t pid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = 0;
		/* "PID (COMM) STATE ...": COMM may hold spaces and parentheses */
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't'))
			return 0;
		usleep(10000);
	}
	return -1;
}

/* A seek: OUTPUT streams off and on again, CAPTURE buffer @cap is queued again. */
static void seek(unsigned int cap)
{
	int type = OUT;

	CHECK(!ioctl(vfd, VIDIOC_STREAMOFF, &type), "start: STREAMOFF(OUTPUT)");
	CHECK(!ioctl(vfd, VIDIOC_STREAMON, &type), "start: STREAMON(OUTPUT) again");
	CHECK(!queue_cap(cap), "start: QBUF(CAPTURE %u)", cap);
}

/*
 * With a daemon (tests/vm/proto-stream-start.sh runs the test peer): the first request
 * after STREAMON fails in the kernel before it reaches the daemon (its 10-bit SPS refused
 * while 8-bit CAPTURE buffers exist), so the next job, sequence 1, must start the stream
 * for the daemon (STREAM_START), which then drops what it held from before, and the one
 * after it must not; then a seek (STREAMOFF and STREAMON of OUTPUT) whose first job starts
 * it again. With the peer's pid, a third stream start whose first job is queued to the
 * stopped peer (SIGSTOP) and withdrawn by the kernel's watchdog unfetched: the start passes
 * on to the next job. The peer counts the starts; here, the pictures come back as they
 * must.
 */
static void stream_start_case(int mfd, const struct v4l2_ctrl_h264_sps *p8,
			      const struct v4l2_ctrl_h264_sps *p10, pid_t peer)
{
	struct v4l2_plane cpl[VIDEO_MAX_PLANES];
	struct v4l2_buffer cb;
	int out;

	h264_streaming("start", p8);

	CHECK(!queue_h264(mfd, 0, 1, false, p10), "start: first request (10-bit SPS) queued");
	CHECK(!dq_cap(&cb, cpl) && cb.index == 0 && (cb.flags & V4L2_BUF_FLAG_ERROR),
	      "start: its picture back with ERROR (index %u, flags %#x)", cb.index, cb.flags);
	out = dq_out();
	CHECK(out == 0, "start: its OUTPUT buffer back (%d)", out);
	CHECK(!queue_h264(mfd, 0, 2, false, NULL), "start: second request queued");
	CHECK(!dq_cap(&cb, cpl) && cb.index == 1 && !(cb.flags & V4L2_BUF_FLAG_ERROR),
	      "start: its picture decoded by the daemon (index %u, flags %#x)", cb.index,
	      cb.flags);
	out = dq_out();
	CHECK(out == 0, "start: its OUTPUT buffer back (%d)", out);
	CHECK(!queue_cap(0), "start: QBUF(CAPTURE 0)");
	CHECK(!queue_h264(mfd, 0, 3, false, NULL), "start: third request queued (no start)");
	CHECK(!dq_cap(&cb, cpl) && cb.index == 0 && !(cb.flags & V4L2_BUF_FLAG_ERROR),
	      "start: its picture decoded by the daemon (index %u, flags %#x)", cb.index,
	      cb.flags);
	out = dq_out();
	CHECK(out == 0, "start: its OUTPUT buffer back (%d)", out);

	seek(1);
	CHECK(!queue_h264(mfd, 1, 4, false, NULL), "start: request after the seek queued");
	CHECK(!dq_cap(&cb, cpl) && cb.index == 1 && !(cb.flags & V4L2_BUF_FLAG_ERROR),
	      "start: its picture decoded by the daemon (index %u, flags %#x)", cb.index,
	      cb.flags);
	out = dq_out();
	CHECK(out == 1, "start: its OUTPUT buffer back (%d)", out);

	if (peer > 0) {
		seek(0);
		CHECK(!kill(peer, SIGSTOP) && !wait_stopped(peer), "start: the daemon stopped");
		CHECK(!queue_h264(mfd, 0, 5, false, NULL), "start: request to the stopped daemon");
		/* the watchdog's period and a loaded machine's delay */
		CHECK(!dq_cap_within(&cb, cpl, 30000) && cb.index == 0 &&
		      (cb.flags & V4L2_BUF_FLAG_ERROR),
		      "start: its picture back with ERROR, withdrawn by the watchdog (index %u, "
		      "flags %#x)", cb.index, cb.flags);
		out = dq_out();
		CHECK(out == 0, "start: its OUTPUT buffer back (%d)", out);
		CHECK(!kill(peer, SIGCONT), "start: the daemon goes on");
		CHECK(!queue_cap(0), "start: QBUF(CAPTURE 0)");
		CHECK(!queue_h264(mfd, 1, 6, false, NULL), "start: next request queued");
		CHECK(!dq_cap(&cb, cpl) && cb.index == 0 && !(cb.flags & V4L2_BUF_FLAG_ERROR),
		      "start: its picture decoded by the daemon (index %u, flags %#x)", cb.index,
		      cb.flags);
	}
	h264_stopped("start");
}

/*
 * CREATE_BUFS takes the plane sizes from the application: larger than the format needs is
 * fine (GStreamer may ask for that), larger than any format of the queue can need is refused
 * before anything is allocated (found by dv-ioctl-fuzz: 4 GiB - 1 per buffer had the module
 * allocate page after page until the OOM killer ran).
 */
static void create_bufs_case(void)
{
	static const struct { unsigned type, extra, size; int want; const char *what; } c[] = {
		{ OUT, 1u << 20, 0, 0, "OUTPUT: sizeimage + 1 MiB accepted" },
		{ OUT, 0, (32u << 20) + 4096, -EINVAL, "OUTPUT: 32 MiB + 4 KiB (above any bitstream buffer) refused" },
		{ OUT, 0, 0xffffffffu, -EINVAL, "OUTPUT: 4 GiB - 1 refused" },
		{ CAP, 1u << 20, 0, 0, "CAPTURE: sizeimage + 1 MiB accepted" },
		{ CAP, 0, 4096u * 2304 * 3 + 4096, -EINVAL, "CAPTURE: above a 4096x2304 P010 picture refused" },
		{ CAP, 0, 0xffffffffu, -EINVAL, "CAPTURE: 4 GiB - 1 refused" },
	};

	CHECK(!set_out(V4L2_PIX_FMT_VP8_FRAME, 320, 240), "CREATE_BUFS: S_FMT(OUTPUT VP8 320x240)");
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct v4l2_create_buffers cb = { .count = 1, .memory = V4L2_MEMORY_MMAP };
		struct v4l2_requestbuffers rb = { .type = c[i].type, .memory = V4L2_MEMORY_MMAP };
		int ret;

		cb.format.type = c[i].type;
		ioctl(vfd, VIDIOC_G_FMT, &cb.format);
		if (c[i].size)
			cb.format.fmt.pix_mp.plane_fmt[0].sizeimage = c[i].size;
		else
			cb.format.fmt.pix_mp.plane_fmt[0].sizeimage += c[i].extra;
		ret = ioctl(vfd, VIDIOC_CREATE_BUFS, &cb) ? -errno : 0;
		CHECK(ret == c[i].want, "CREATE_BUFS %s (got %d)", c[i].what, ret);
		ioctl(vfd, VIDIOC_REQBUFS, &rb);
	}
}

int main(int argc, char **argv)
{
	struct v4l2_ctrl_h264_sps sps8 = { .profile_idc = 100, .chroma_format_idc = 1,
		.pic_width_in_mbs_minus1 = 119, .pic_height_in_map_units_minus1 = 67,
		.flags = V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY }, sps10 = sps8, sps422 = sps8, big = sps8;
	struct v4l2_ctrl_vp9_frame vp8b = { .profile = 0, .bit_depth = 8,
		.flags = V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING | V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING,
		.frame_width_minus_1 = 1919, .frame_height_minus_1 = 1079 }, vp10b = vp8b, vp444 = vp8b;
	struct v4l2_ctrl_av1_sequence seq8 = { .seq_profile = 0, .bit_depth = 8,
		.flags = V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X | V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y,
		.max_frame_width_minus_1 = 1919, .max_frame_height_minus_1 = 1079 }, seq10 = seq8, seqhigh = seq8;
	struct v4l2_frmsizeenum fs = { .index = 0, .pixel_format = V4L2_PIX_FMT_AV1_FRAME };
	struct v4l2_requestbuffers rb = { .count = 2, .type = OUT, .memory = V4L2_MEMORY_MMAP };
	struct v4l2_plane pl = { .bytesused = 100 };
	struct v4l2_buffer b = { .index = 0, .type = OUT, .memory = V4L2_MEMORY_MMAP,
				 .m.planes = &pl, .length = 1, .flags = V4L2_BUF_FLAG_REQUEST_FD };
	struct v4l2_ctrl_vp8_frame vp8f = { .num_dct_parts = 1, .width = 320, .height = 240 };
	int mfd, req, req2;

	if (argc != 3 && !(argc >= 4 && argc <= 5 && !strcmp(argv[3], "stream-start"))) {
		fprintf(stderr, "usage: dv-format-check VIDEO MEDIA [stream-start [PEER_PID]]\n");
		return 2;
	}
	vfd = open(argv[1], O_RDWR);
	mfd = open(argv[2], O_RDWR);
	if (vfd < 0 || mfd < 0) { perror("open"); return 1; }

	sps10.bit_depth_luma_minus8 = sps10.bit_depth_chroma_minus8 = 2;
	sps10.profile_idc = 110;
	sps422.chroma_format_idc = 2;
	sps422.profile_idc = 122;
	big.pic_width_in_mbs_minus1 = 4096 / 16;	/* 4112 pixels */
	vp10b.profile = 2;
	vp10b.bit_depth = 10;
	vp444.profile = 1;
	vp444.flags = 0;
	seq10.bit_depth = 10;
	seqhigh.seq_profile = 1;
	seqhigh.flags = 0;

	if (argc >= 4) {
		/* with the test peer as the daemon: nothing else here needs one */
		stream_start_case(mfd, &sps8, &sps10, argc == 5 ? (pid_t)atoi(argv[4]) : 0);
		close(mfd);
		close(vfd);
		return dv_check_fails ? 1 : 0;
	}

	depth_case("H.264", V4L2_PIX_FMT_H264_SLICE, V4L2_CID_STATELESS_H264_SPS, &sps8, &sps10, sizeof(sps8));
	CHECK(try_ctrl(V4L2_CID_STATELESS_H264_SPS, &sps422, sizeof(sps422)) == -EINVAL, "H.264: 4:2:2 SPS refused");
	CHECK(try_ctrl(V4L2_CID_STATELESS_H264_SPS, &big, sizeof(big)) == -EINVAL, "H.264: 4112-pixel-wide SPS refused");
	depth_case("VP9", V4L2_PIX_FMT_VP9_FRAME, V4L2_CID_STATELESS_VP9_FRAME, &vp8b, &vp10b, sizeof(vp8b));
	request_depth_case(mfd, &vp8b, &vp10b);
	held_depth_case(mfd, &sps8, &sps10);
	CHECK(try_ctrl(V4L2_CID_STATELESS_VP9_FRAME, &vp444, sizeof(vp444)) == -EINVAL, "VP9: profile 1 refused");
	depth_case("AV1", V4L2_PIX_FMT_AV1_FRAME, V4L2_CID_STATELESS_AV1_SEQUENCE, &seq8, &seq10, sizeof(seq8));
	CHECK(try_ctrl(V4L2_CID_STATELESS_AV1_SEQUENCE, &seqhigh, sizeof(seqhigh)) == -EINVAL, "AV1: high profile refused");

	CHECK(!ioctl(vfd, VIDIOC_ENUM_FRAMESIZES, &fs) && fs.type == V4L2_FRMSIZE_TYPE_STEPWISE &&
	      fs.stepwise.max_width == 4096 && fs.stepwise.max_height == 2304,
	      "ENUM_FRAMESIZES(AV1): up to %ux%u", fs.stepwise.max_width, fs.stepwise.max_height);

	create_bufs_case();

	/* Requests: VP8 needs V4L2_CID_STATELESS_VP8_FRAME in every request. */
	CHECK(!set_out(V4L2_PIX_FMT_VP8_FRAME, 320, 240), "VP8: S_FMT(OUTPUT 320x240)");
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) && rb.count == 2, "VP8: REQBUFS(OUTPUT 2)");
	/*
	 * A bitstream buffer without a request would be decoded with stale
	 * controls: the OUTPUT queue requires requests (vb2 answers EBADR).
	 */
	b.flags = 0;
	CHECK(ioctl(vfd, VIDIOC_QBUF, &b) && errno == EBADR, "QBUF(OUTPUT) without a request: EBADR");
	b.flags = V4L2_BUF_FLAG_REQUEST_FD;
	CHECK(!ioctl(mfd, MEDIA_IOC_REQUEST_ALLOC, &req), "MEDIA_IOC_REQUEST_ALLOC");
	CHECK(ioctl(req, MEDIA_REQUEST_IOC_QUEUE) && errno == ENOENT, "request without a buffer: ENOENT");
	CHECK(!ioctl(req, MEDIA_REQUEST_IOC_REINIT), "REINIT");
	b.request_fd = req;
	CHECK(!ioctl(vfd, VIDIOC_QBUF, &b), "QBUF(OUTPUT) into the request, no control");
	CHECK(ioctl(req, MEDIA_REQUEST_IOC_QUEUE) && errno == ENOENT, "request without VP8_FRAME: ENOENT");
	close(req);
	CHECK(!ioctl(mfd, MEDIA_IOC_REQUEST_ALLOC, &req2), "MEDIA_IOC_REQUEST_ALLOC");
	CHECK(!set_ctrl(V4L2_CID_STATELESS_VP8_FRAME, &vp8f, sizeof(vp8f), V4L2_CTRL_WHICH_REQUEST_VAL, req2),
	      "VP8_FRAME set in the request");
	memset(&b, 0, sizeof(b));
	memset(&pl, 0, sizeof(pl));
	pl.bytesused = 100;
	b.index = 1;
	b.type = OUT;
	b.memory = V4L2_MEMORY_MMAP;
	b.m.planes = &pl;
	b.length = 1;
	b.flags = V4L2_BUF_FLAG_REQUEST_FD;
	b.request_fd = req2;
	CHECK(!ioctl(vfd, VIDIOC_QBUF, &b), "QBUF(OUTPUT 1) into the request");
	CHECK(!ioctl(req2, MEDIA_REQUEST_IOC_QUEUE), "complete request queued");
	close(req2);
	close(mfd);
	close(vfd);

	/*
	 * Closed with a control event subscribed: the unsubscription at close used to look the
	 * control up in a handler already freed (found by dv-ioctl-fuzz under the debug kernel,
	 * whose lockdep reported the destroyed mutex; the testbed fails the run on that).
	 */
	vfd = open(argv[1], O_RDWR);
	{
		struct v4l2_event_subscription sub = { .type = V4L2_EVENT_CTRL,
						       .id = V4L2_CID_MPEG_VIDEO_VP9_PROFILE };

		CHECK(!ioctl(vfd, VIDIOC_SUBSCRIBE_EVENT, &sub), "SUBSCRIBE_EVENT(CTRL), then close");
	}
	close(vfd);
	return dv_check_fails ? 1 : 0;
}
