// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-h264client: decodes an Annex-B H.264 stream through the daedalus-v4l2 device with the
 * Request API, one frame-based request per picture with 00 00 01 before every slice
 * (daemon/tests/h264_client.c: GStreamer's H.264 parser fills the controls):
 *   --pattern gst       SPS/PPS only when they change, the scaling matrix only when the SPS
 *                       or PPS carries lists (PPS flag set then), timestamps from a counter
 *   --pattern chromium  SPS, PPS, scaling matrix, decode parameters and DECODE_MODE in every
 *                       request, the PPS flag only for lists in the PPS, timestamps = CAPTURE
 *                       buffer index (reused, as Chromium does)
 *   --pattern ffmpeg    FFmpeg's v4l2-request hwaccel (mpv, Kodi): every control in every
 *                       request, the PPS flag always set, requests waited for only after the
 *                       reorder delay, buffers made one CREATE_BUFS at a time, CAPTURE read
 *                       through EXPBUF dma-bufs (dv_h264_ffmpeg.h, dv_request_pipe.h);
 *                       field pictures each alone, the second field into the first's
 *                       CAPTURE buffer once that is back; no other option applies
 *                       (the other patterns send frame pictures only: no field pairs)
 *   --no-matrix-flag    (with chromium) never set the PPS flag, as for lists in the SPS:
 *                       the matrix applies only because it is in the request
 *   --capture mmap|dmabuf-import|dmabuf-import-rotate
 *                       CAPTURE memory: MMAP (20 buffers), or Chromium's frame pool:
 *                       32 dma-bufs from /dev/dma_heap/system imported as DMABUF, read back
 *                       through their own mapping inside DMA_BUF_IOCTL_SYNC (-rotate: a
 *                       reused slot gets another pool buffer, see dv_v4l2.h)
 *   --hold-fault unpaired|flush|flush-running|failed-piece|restart-piece
 *                       request --fault-at (default 0) asks V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF, as
 *                       for the first of several slices or a first field, and its rest never
 *                       comes: the next request has another timestamp (unpaired), or the
 *                       client sends V4L2_DEC_CMD_FLUSH once it is done (flush) or while its
 *                       job runs (flush-running). The m2m core then hands the held CAPTURE
 *                       buffer back although nothing was decoded into it: it must carry
 *                       V4L2_BUF_FLAG_ERROR. failed-piece: the picture of request --fault-at
 *                       comes in two requests, its first slice (held) damaged so that the
 *                       daemon fails it (no start code left: every byte's top bit set), then
 *                       the other slices, which decode: the picture lacks its first slice, so
 *                       the CAPTURE buffer must carry V4L2_BUF_FLAG_ERROR all the same, and no
 *                       later picture may be shown predicted from it. Prints "fault <n>" and
 *                       "resync <m>" at the next IDR, from where every request must decode again.
 *                       restart-piece (needs --gate GATE): as failed-piece, but the first slice
 *                       is intact; once it is back the client creates GATE.held and waits
 *                       while GATE exists before it sends the rest, while the test replaces
 *                       the daemon: the new one never got the first slice, so the picture
 *                       must come back with ERROR all the same
 *   --fault KIND:N | seek:A:B, --keep-going, --pace-ms N, --gate FILE
 *                       damage, drop or seek (N, A, B: pictures in decoding order; a seek
 *                       starts the client's DPB and POC state over), go on after a failed
 *                       request, wait N ms before each request (dv_fault.h)
 * One request at a time; a CAPTURE buffer is reused only when the DPB does not hold it.
 * Every CAPTURE buffer must carry a sequence number of its own, increasing (a held picture
 * handed back unfinished included): a repeat fails the run.
 * Prints "pic <n> <w>x<h> <md5>" per request in decode order (the picture cropped as the
 * SPS says, hashed like framemd5), for tests/media/h264-client-check.py; "pic <n> FAILED" for
 * a request that came back with V4L2_BUF_FLAG_ERROR. Exit status 1 if a request fails
 * (without --keep-going or --fault).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/media.h>
#include <linux/v4l2-controls.h>

#include "dv_fault.h"
#include "dv_signal.h"
#include "dv_h264_ffmpeg.h"
#include "dv_v4l2.h"
#include "file_load.h"
#include "h264_client.h"
#include "test_picture.h"

#define NCAP 20

enum hold_fault {
	HOLD_NONE, HOLD_UNPAIRED, HOLD_FLUSH, HOLD_FLUSH_RUNNING, HOLD_FAILED_PIECE,
	HOLD_RESTART_PIECE,
};

static int md5_of(const struct dv_dev *d, unsigned int idx, const struct h264_job *job,
		  char out[33])
{
	const struct v4l2_pix_format_mplane *f = &d->cap_fmt.fmt.pix_mp;
	struct pic p = { .fourcc = f->pixelformat, .width = job->crop_w, .height = job->crop_h };
	uint32_t stride = f->plane_fmt[0].bytesperline;
	size_t bps = job->bit_depth > 8 ? 2 : 1;
	uint8_t *luma = dv_cap_mem(d, idx)->p[0].map;

	/* NV12 / P010 in one plane: CbCr follows the luma plane of the format's height */
	p.dst.planes[0].data = luma + (size_t)stride * job->crop_y + job->crop_x * bps;
	p.dst.planes[0].stride = stride;
	p.dst.planes[1].data = luma + (size_t)stride * f->height +
			       (size_t)stride * (job->crop_y / 2) + (job->crop_x / 2) * 2 * bps;
	p.dst.planes[1].stride = stride;
	if (dv_cap_sync(d, idx, true))
		return -1;
	pic_md5(&p, out);
	return dv_cap_sync(d, idx, false);
}

/* The controls of one request: SPS/PPS and matrix when they changed, the decode parameters. */
static unsigned int job_controls(struct h264_job *job, bool chromium, struct v4l2_ext_control c[5])
{
	unsigned int n = 0;

	if (job->send_sps_pps) {
		c[n++] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_H264_SPS,
			.size = sizeof(job->sps), .ptr = &job->sps };
		c[n++] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_H264_PPS,
			.size = sizeof(job->pps), .ptr = &job->pps };
	}
	if (job->send_matrix)
		c[n++] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_H264_SCALING_MATRIX,
			.size = sizeof(job->matrix), .ptr = &job->matrix };
	c[n++] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_H264_DECODE_PARAMS,
		.size = sizeof(job->dp), .ptr = &job->dp };
	if (chromium)
		c[n++] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_H264_DECODE_MODE,
			.value = V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED };
	return n;
}

static int decode_one(struct dv_dev *d, int req, struct h264_job *job, unsigned int cap,
		      uint64_t ts, bool chromium, const uint8_t *bits, size_t size)
{
	struct v4l2_ext_control c[5];
	unsigned int n = job_controls(job, chromium, c);

	return dv_decode_one(d, req, cap, ts, c, n, bits, size);
}

/*
 * The held request of --hold-fault: V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF and no rest. With a
 * FLUSH, its CAPTURE buffer comes back now; unpaired, with the next request.
 */
static int hold_one(struct dv_dev *d, int req, struct h264_job *job, unsigned int cap,
		    uint64_t ts, bool chromium, enum hold_fault how)
{
	struct v4l2_ext_control c[5];
	unsigned int n = job_controls(job, chromium, c);

	if (dv_decode_held(d, req, cap, ts, c, n, job->buf, job->size,
			   how == HOLD_FLUSH_RUNNING))
		return -1;
	if (how == HOLD_FLUSH && dv_flush(d))
		return -1;
	if (how != HOLD_UNPAIRED && dv_wait_held(d, 10000))
		return -1;
	return 0;
}

/* Where the picture's second slice starts (its 00 00 01), 0 if it has one slice. */
static size_t second_slice(const uint8_t *buf, size_t size)
{
	for (size_t i = 3; i + 3 <= size; i++)
		if (!buf[i] && !buf[i + 1] && buf[i + 2] == 1)
			return i;
	return 0;
}

/*
 * --hold-fault restart-piece: the first slice is back (the daemon answered it, keeping it):
 * say so (GATE.held) and wait while GATE exists, as the test replaces the daemon.
 */
static int wait_at_gate(const char *gate)
{
	int r = dv_signal_create(gate, ".held");

	if (r) {
		fprintf(stderr, "%s.held: %s\n", gate, strerror(-r));
		return -1;
	}
	return dv_signal_wait(gate, "", false, 10, -1, NULL);
}

/*
 * --hold-fault failed-piece: request @n's picture in two requests of one timestamp, its first
 * slice held and damaged beyond any start code (the daemon fails it), then the other slices
 * (which the daemon can decode into a picture lacking the first slice's macroblocks).
 * restart-piece (@gate set): the first slice intact, and the daemon replaced before the rest
 * (wait_at_gate()). 0 if the CAPTURE buffer came back with ERROR, 1 if as a good picture, -1
 * on any other failure.
 */
static int split_piece(struct dv_dev *d, int req, const struct h264_job *job,
		       struct v4l2_ext_control *c, unsigned int n_ctrls, unsigned int cap,
		       uint64_t ts, long n, const char *gate)
{
	size_t split = second_slice(job->buf, job->size);
	uint8_t *first;
	char md5[33];
	int r;

	if (!split) {
		fprintf(stderr, "request %ld has one slice: nothing to split\n", n);
		return -1;
	}
	first = malloc(split);
	if (!first)
		return -1;
	for (size_t i = 0; i < split; i++)
		first[i] = gate ? job->buf[i] : job->buf[i] | 0x80;
	r = dv_decode_held(d, req, cap, ts, c, n_ctrls, first, split, false);
	free(first);
	if (r || (gate && wait_at_gate(gate)))
		return -1;
	r = dv_decode_rest(d, req, ts, c, n_ctrls, job->buf + split, job->size - split);
	if (r < 0)
		return -1;
	if (r) {
		printf("pic %ld FAILED\n", n);
		return 0;
	}
	fprintf(stderr, "request %ld: the picture whose first slice %s came back without ERROR\n",
		n, gate ? "went to the replaced daemon" : "failed");
	if (!md5_of(d, cap, job, md5))
		printf("pic %ld %ux%u %s\n", n, job->crop_w, job->crop_h, md5);
	return 1;
}

/*
 * The held CAPTURE buffer of request @n is back (after the next request at the latest): it
 * holds no picture, so it must carry the ERROR flag. 1 if it came back as a good picture.
 */
static int held_returned(struct dv_dev *d, const struct h264_job *job, long n)
{
	char md5[33];

	if (!d->held_back) {
		fprintf(stderr, "held CAPTURE buffer %d of request %ld not back\n", d->held, n);
		return 1;
	}
	if (d->held_flags & V4L2_BUF_FLAG_ERROR) {
		printf("pic %ld FAILED\n", n);
		return 0;
	}
	fprintf(stderr, "held CAPTURE buffer %d of request %ld came back without ERROR\n",
		d->held, n);
	if (!md5_of(d, (unsigned int)d->held, job, md5))
		printf("pic %ld %ux%u %s\n", n, job->crop_w, job->crop_h, md5);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, 'p' },
		{ "video", required_argument, NULL, 'd' },
		{ "no-matrix-flag", no_argument, NULL, 'm' },
		{ "capture", required_argument, NULL, 'C' },
		{ "hold-fault", required_argument, NULL, 'H' },
		{ "fault-at", required_argument, NULL, 'F' },
		DV_FAULT_OPTIONS,
		{ 0 },
	};
	enum h264_pattern pattern = H264_PATTERN_GST;
	const char *video = NULL, *restart_gate = NULL;
	static struct h264_job job;
	struct h264_client client;
	static struct dv_dev dev;
	uint64_t cap_ts[DV_MAX_BUFS] = { 0 };
	enum dv_mem mem = DV_MEM_MMAP;
	unsigned int ncap = NCAP;
	int req = -1, c, r, status = 0, others = 0;
	long jobs = 0, failed = 0, fault_at = 0, held_job = -1, resync_at = -1;
	bool started = false, no_flag = false, rotate = false, held_bad = false;
	enum hold_fault hold = HOLD_NONE;
	struct h264_job held_pic;
	struct dv_fault fault = { 0 };
	uint8_t *data;
	size_t size;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int fo = dv_fault_option(&fault, c, optarg);

		if (fo < 0)
			return 2;
		others += c != 'p';
		if (fo)
			continue;
		if (c == 'p')
			pattern = !strcmp(optarg, "chromium") ? H264_PATTERN_CHROMIUM :
				  !strcmp(optarg, "ffmpeg")   ? H264_PATTERN_FFMPEG :
				  H264_PATTERN_GST;
		else if (c == 'd')
			video = optarg;
		else if (c == 'm')
			no_flag = true;
		else if (c == 'C' && !dv_parse_capture(optarg, &mem, &rotate))
			ncap = mem == DV_MEM_MMAP ? NCAP : DV_CHROMIUM_POOL;
		else if (c == 'H' && !strcmp(optarg, "unpaired"))
			hold = HOLD_UNPAIRED;
		else if (c == 'H' && !strcmp(optarg, "flush"))
			hold = HOLD_FLUSH;
		else if (c == 'H' && !strcmp(optarg, "flush-running"))
			hold = HOLD_FLUSH_RUNNING;
		else if (c == 'H' && !strcmp(optarg, "failed-piece"))
			hold = HOLD_FAILED_PIECE;
		else if (c == 'H' && !strcmp(optarg, "restart-piece"))
			hold = HOLD_RESTART_PIECE;
		else if (c == 'F')
			fault_at = strtol(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: dv-h264client [--pattern gst|chromium|ffmpeg] [--no-matrix-flag] "
			"[--capture mmap|dmabuf-import|dmabuf-import-rotate] "
			"[--hold-fault unpaired|flush|flush-running|failed-piece|restart-piece] "
			"[--fault-at N] "
			DV_FAULT_USAGE " [--video DEV] clip.h264\n");
		return 2;
	}
	if (hold == HOLD_RESTART_PIECE) {
		/* its gate is between the two pieces, not before every request */
		restart_gate = fault.gate;
		fault.gate = NULL;
		if (!restart_gate) {
			fprintf(stderr, "--hold-fault restart-piece needs --gate\n");
			return 2;
		}
	}
	if (pattern == H264_PATTERN_FFMPEG) {
		/* a client of its own: no fault, hold or CAPTURE memory option */
		if (others) {
			fprintf(stderr, "--pattern ffmpeg takes no other option\n");
			return 2;
		}
		data = file_load(argv[optind], &size);
		if (!data || h264_client_init(&client, pattern, data, size))
			return 1;
		status = dv_h264_ffmpeg_run(&client);
		h264_client_free(&client);
		free(data);
		return status;
	}
	dv_fault_start(&fault);
	data = file_load(argv[optind], &size);
	if (!data || h264_client_init(&client, pattern, data, size) || dv_open(&dev, video))
		return 1;
	client.never_flag_matrix = no_flag;
	dev.pool_rotate = rotate;
	while (!status && (r = h264_client_next(&client, &job)) == 1) {
		const uint8_t *bits;
		unsigned int cap;
		uint64_t ts;
		size_t size;
		double t0;
		char md5[33];

		if (!started) {
			/* the SPS first, so that CAPTURE offers P010 for 10-bit */
			struct v4l2_ext_control sc = {
				.id = V4L2_CID_STATELESS_H264_SPS, .size = sizeof(job.sps),
				.ptr = &job.sps,
			};
			uint32_t fourcc = job.bit_depth == 10 ? V4L2_PIX_FMT_P010 :
					  V4L2_PIX_FMT_NV12;

			if (dv_set_formats(&dev, V4L2_PIX_FMT_H264_SLICE, job.width, job.height, 0) ||
			    dv_set_ctrls(&dev, &sc, 1) ||
			    dv_set_formats(&dev, V4L2_PIX_FMT_H264_SLICE, job.width, job.height,
					   fourcc) ||
			    dv_alloc(&dev, 1, ncap, mem) || dv_stream(&dev, true))
				return 1;
			req = dv_req_alloc(&dev);
			if (req < 0)
				return 1;
			started = true;
		}
		if (dv_fault_seeks_before(&fault, jobs)) {
			/* a flushing seek: every buffer back, nothing in flight, the DPB starts over */
			dv_fault_announce(&fault, jobs);
			if (dv_stream(&dev, false) || dv_stream(&dev, true))
				return 1;
			h264_client_seek(&client);
		}
		if (dv_fault_skips(&fault, jobs)) {
			/* never queued; a dropped picture's timestamp names one the device never had */
			dv_fault_announce(&fault, jobs);
			printf("pic %ld SKIPPED\n", jobs);
			dv_fault_pic(&fault);
			if (fault.kind == DV_FAULT_DROP)
				h264_client_done(&client, &job, dv_fault_ghost_ts(jobs));
			jobs++;
			continue;
		}
		/* a CAPTURE buffer the DPB does not name */
		for (cap = 0; cap < ncap; cap++) {
			bool held = false;

			for (unsigned int i = 0; i < V4L2_H264_NUM_DPB_ENTRIES; i++)
				held |= (job.dp.dpb[i].flags & V4L2_H264_DPB_ENTRY_FLAG_VALID) &&
					job.dp.dpb[i].reference_ts == cap_ts[cap] && cap_ts[cap];
			/* nor the CAPTURE buffer still held */
			held |= (int)cap == dev.held && !dev.held_back;
			if (!held)
				break;
		}
		if (cap == ncap) {
			fprintf(stderr, "every CAPTURE buffer is a reference\n");
			return 1;
		}
		/* Chromium names pictures by CAPTURE index; GStreamer by a counter */
		ts = pattern == H264_PATTERN_CHROMIUM ? (uint64_t)(cap + 1) * 1000 :
		     (uint64_t)(jobs + 1) * 1000;
		if (hold && jobs > fault_at && resync_at < 0 &&
		    (job.dp.flags & V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC)) {
			resync_at = jobs;
			printf("resync %ld\n", jobs);
		}
		if ((hold == HOLD_FAILED_PIECE || hold == HOLD_RESTART_PIECE) && jobs == fault_at) {
			struct v4l2_ext_control ctrls[5];
			unsigned int nc = job_controls(&job, pattern == H264_PATTERN_CHROMIUM, ctrls);

			printf("fault %ld\n", jobs);
			r = split_piece(&dev, req, &job, ctrls, nc, cap, ts, jobs,
					restart_gate);
			if (r < 0)
				return 1;
			held_bad |= r;
			failed += !r;
			cap_ts[cap] = ts;
			h264_client_done(&client, &job, ts);
			jobs++;
			continue;
		}
		if (hold && jobs == fault_at) {
			r = hold_one(&dev, req, &job, cap, ts, pattern == H264_PATTERN_CHROMIUM,
				     hold);
			if (r < 0)
				return 1;
			printf("fault %ld\n", jobs);
			held_pic = job;
			held_job = jobs;
			cap_ts[cap] = ts;
			h264_client_done(&client, &job, ts);
			jobs++;
			continue;
		}
		size = job.size;
		bits = dv_fault_bytes(&fault, jobs, job.buf, &size, job.slice_hdr_end, jobs);
		if (!(job.dp.flags & (V4L2_H264_DECODE_PARAM_FLAG_PFRAME |
				      V4L2_H264_DECODE_PARAM_FLAG_BFRAME)))
			dv_fault_key(&fault, jobs);
		t0 = dv_fault_before(&fault, jobs);
		r = decode_one(&dev, req, &job, cap, ts, pattern == H264_PATTERN_CHROMIUM, bits, size);
		if (r < 0)
			return 1;
		dv_fault_after(&fault, jobs, t0, r);
		cap_ts[cap] = ts;
		if (held_job >= 0) {
			/* go on: the decode from the next IDR is checked too */
			if (held_returned(&dev, &held_pic, held_job))
				held_bad = true;
			else
				failed++;
			held_job = -1;
		}
		if (r) {
			fprintf(stderr, "request %ld (CAPTURE %u) came back with ERROR\n", jobs, cap);
			printf("pic %ld FAILED\n", jobs);
			dv_fault_pic(&fault);
			failed++;
			/* between a fault and the next IDR a request may fail */
			if ((!hold || resync_at >= 0) && !fault.keep_going)
				status = 1;
		} else {
			if (md5_of(&dev, cap, &job, md5))
				return 1;
			printf("pic %ld %ux%u %s\n", jobs, job.crop_w, job.crop_h, md5);
			dv_fault_pic(&fault);
		}
		h264_client_done(&client, &job, ts);
		jobs++;
	}
	if (r < 0) {
		fprintf(stderr, "GStreamer's parser failed after %ld pictures\n", jobs);
		status = 1;
	}
	if (held_bad)
		status = 1;
	if (dev.cap_seq_repeats) {
		fprintf(stderr, "%u CAPTURE buffers came back with a sequence number already given\n",
			dev.cap_seq_repeats);
		status = 1;
	}
	if (hold && resync_at < 0) {
		fprintf(stderr, "no IDR after the held request %ld to resync at\n", fault_at);
		status = 1;
	}
	fprintf(stderr, "dv-h264client: %ld requests, %ld failed, CAPTURE %s x%u, %lu re-imports\n",
		jobs, failed, mem == DV_MEM_MMAP ? "mmap" : "dmabuf-import", ncap, dev.pool_changes);
	if (started)
		dv_stream(&dev, false);
	dv_close(&dev);
	h264_client_free(&client);
	free(data);
	dv_fault_free(&fault);
	return status;
}
