// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-vpxclient: decodes a VP8 or VP9 IVF clip through the daedalus-v4l2 device the way
 * Chromium's V4L2 stateless decoder does: the client parses each frame header
 * (daemon/tests/vp8_client.c, vp9_client.c), sends VP8_FRAME, or VP9_FRAME and
 * VP9_COMPRESSED_HDR, in every request, one frame per request (VP9 superframes split, a
 * show_existing_frame shows the buffer already decoded and is never a request), names
 * pictures by CAPTURE buffer index (timestamp = index, reused as Chromium does), and keeps
 * one request in flight. A key frame of another size or bit depth drains, frees both queues
 * and sets the formats again, as Chromium's resolution change does.
 *   --pattern ffmpeg
 *       FFmpeg's v4l2-request hwaccel instead (mpv, Kodi; dv_vpx_ffmpeg.h): hidden frames
 *       in flight, buffers made one CREATE_BUFS at a time, pictures read through exported
 *       dma-bufs; no other option applies. --pattern chromium is the default.
 *   --capture mmap|dmabuf-import|dmabuf-import-rotate
 *       CAPTURE memory: MMAP (12 buffers), or Chromium's frame pool: 32 dma-bufs from
 *       /dev/dma_heap/system imported as DMABUF and read back through their own mapping
 *       inside DMA_BUF_IOCTL_SYNC (-rotate: a reused slot gets another pool buffer)
 *   --cycle
 *       take the CAPTURE buffers in turn (the next one after the last that no reference
 *       slot holds) instead of the lowest free one, so every buffer, and its fd in the
 *       daemon, is in use within the first requests (tests/vm/daemon-dos.sh)
 *   --fault KIND:N | seek:A:B, --keep-going, --pace-ms N
 *       damage, drop or seek (N, A, B: IVF frames, a superframe's frames counted one by
 *       one), go on after a failed request, wait N ms before each request (dv_fault.h)
 *   --fence N:MS | N:never
 *       before IVF frame N is queued, a write fence is attached to its CAPTURE dmabuf
 *       (dv_fence.h; needs --capture dmabuf-import), signalled MS ms later or only when
 *       the client ends; prints "fence <frame> <CAPTURE slot> <MS>"
 * A CAPTURE buffer is reused only when no reference slot holds it. Prints
 * "pic <n> <w>x<h> <md5>" per shown picture in display order for daemon/tests/run_clips.py,
 * which compares with libvpx. A show_existing_frame of a buffer that came back with
 * V4L2_BUF_FLAG_ERROR (or that no request filled) prints "pic <n> FAILED" too. Exit status
 * 1 if a request fails (without --keep-going or --fault).
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <linux/v4l2-controls.h>

#include "dv_capture_md5.h"
#include "dv_fault.h"
#include "dv_fence.h"
#include "dv_v4l2.h"
#include "dv_vpx_ffmpeg.h"
#include "dv_vpx_frame.h"
#include "ivf.h"
#include "test_picture.h"

#define NCAP 12

/*
 * Formats and buffers for a stream of this size and depth. For 10-bit VP9 Chromium first
 * sets a VP9_FRAME of profile 2 (SetExtCtrls10Bit: profile, depth and 4:2:0 subsampling, the
 * rest zero, the frame size too) so that CAPTURE offers P010.
 */
static int setup(struct dv_dev *d, const struct dv_vpx_frame *fr, unsigned int ncap,
		 enum dv_mem mem)
{
	uint32_t coded = fr->vp9 ? V4L2_PIX_FMT_VP9_FRAME : V4L2_PIX_FMT_VP8_FRAME;

	if (dv_set_formats(d, coded, fr->width, fr->height, 0))
		return -1;
	if (fr->fourcc == V4L2_PIX_FMT_P010) {
		struct v4l2_ctrl_vp9_frame c = {
			.profile = 2, .bit_depth = 10,
			.flags = V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING |
				 V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING,
		};
		struct v4l2_ext_control sc = {
			.id = V4L2_CID_STATELESS_VP9_FRAME, .size = sizeof(c), .ptr = &c,
		};

		if (dv_set_ctrls(d, &sc, 1))
			return -1;
	}
	if (dv_set_formats(d, coded, fr->width, fr->height, fr->fourcc) ||
	    dv_alloc(d, 1, ncap, mem) || dv_stream(d, true))
		return -1;
	return 0;
}

/* Where the frame's header ends: what the controls describe (dv_fault.h). */
static size_t header_end(const struct dv_vpx_frame *fr)
{
	if (fr->vp9)
		return (size_t)fr->c9.uncompressed_header_size + fr->c9.compressed_header_size;
	/* the frame tag (3 bytes, 10 for a key frame), then the first partition's header */
	return (fr->key ? 10u : 3u) + fr->c8.first_part_header_bits / 8;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "video", required_argument, NULL, 'd' },
		{ "capture", required_argument, NULL, 'C' },
		{ "cycle", no_argument, NULL, 'y' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "fence", required_argument, NULL, 'F' },
		DV_FAULT_OPTIONS,
		{ 0 },
	};
	const char *video = NULL;
	static struct dv_dev dev;
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9 = { 0 };
	/* CAPTURE slot of each reference: VP9's 8 slots, VP8's last/golden/alt in 0..2 */
	int slot_buf[8];
	uint32_t cap_w[DV_MAX_BUFS] = { 0 }, cap_h[DV_MAX_BUFS] = { 0 };
	/* the buffer's last request came back with ERROR: showing it again shows no picture */
	bool cap_err[DV_MAX_BUFS] = { 0 };
	struct dv_fault fault = { 0 };
	struct dv_fence fence;
	long fence_at = -1;
	int fence_ms = -1;
	uint32_t cur_w = 0, cur_h = 0, cur_fourcc = 0;
	enum dv_mem mem = DV_MEM_MMAP;
	unsigned int ncap = NCAP, changes = 0, last_cap = NCAP - 1;
	bool cycle = false, ffmpeg = false;
	int others = 0;
	long display = 0, jobs = 0, failed = 0;
	int req = -1, c, status = 0;
	bool rotate = false, is_vp9;
	unsigned long reimports = 0;
	struct ivf ivf;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int fo = dv_fault_option(&fault, c, optarg);

		if (fo < 0)
			return 2;
		others += c != 'p';
		if (fo)
			continue;
		if (c == 'p' && (!strcmp(optarg, "ffmpeg") || !strcmp(optarg, "chromium")))
			ffmpeg = !strcmp(optarg, "ffmpeg");
		else if (c == 'd')
			video = optarg;
		else if (c == 'y')
			cycle = true;
		else if (c == 'C' && !dv_parse_capture(optarg, &mem, &rotate))
			ncap = mem == DV_MEM_MMAP ? NCAP : DV_CHROMIUM_POOL;
		else if (c == 'F') {
			char *end;
			long ms = -1;

			fence_at = strtol(optarg, &end, 10);
			if (end == optarg || *end != ':' || fence_at < 0)
				return 2;
			if (strcmp(end + 1, "never")) {
				ms = strtol(end + 1, &end, 10);
				if (*end || ms < 0 || ms > 60000)
					return 2;
			}
			fence_ms = (int)ms;
		} else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: dv-vpxclient [--pattern chromium|ffmpeg] [--capture mmap|"
			"dmabuf-import|dmabuf-import-rotate] [--cycle] [--fence N:MS|N:never] "
			DV_FAULT_USAGE
			" [--video DEV] clip.ivf\n");
		return 2;
	}
	if (ffmpeg && others) {
		fprintf(stderr, "--pattern ffmpeg takes no other option\n");
		return 2;
	}
	/* (rotating, the slot's memory is chosen only as the request is queued) */
	if (fence_at >= 0 && (mem == DV_MEM_MMAP || rotate)) {
		fprintf(stderr, "--fence needs --capture dmabuf-import\n");
		return 2;
	}
	dv_fence_init(&fence);
	dv_fault_start(&fault);
	if (ivf_load(&ivf, argv[optind], 1))
		return 1;
	is_vp9 = !strcmp(ivf.fourcc, "VP90");
	if (!is_vp9 && strcmp(ivf.fourcc, "VP80")) {
		fprintf(stderr, "%s: not a VP8 or VP9 IVF file\n", argv[optind]);
		return 1;
	}
	if (ffmpeg) {
		status = dv_vpx_ffmpeg_run(&ivf, is_vp9);
		ivf_free(&ivf);
		return status;
	}
	if (dv_open(&dev, video))
		return 1;
	dev.pool_rotate = rotate;
	for (int i = 0; i < 8; i++)
		slot_buf[i] = -1;
	for (size_t i = 0; i < ivf.count && !status; i++) {
		static struct dv_vpx_frame fr;
		struct v4l2_ext_control ctl[2];
		unsigned int cap, k, n;
		const uint8_t *bits;
		uint64_t ts;
		size_t size;
		double t0;
		char md5[33];
		int r;

		memset(&fr, 0, sizeof(fr));
		fr.vp9 = is_vp9;
		if (dv_vpx_parse(&fr, &vp8, &vp9, ivf.frames[i].data, ivf.frames[i].size)) {
			fprintf(stderr, "frame %zu: cannot parse its header\n", i);
			status = 1;
			break;
		}
		if (fr.show_existing) {
			int b = slot_buf[fr.show_slot];

			if (dv_fault_skips(&fault, (long)i)) {
				printf("pic %ld SKIPPED\n", display++);
			} else if (b < 0 || cap_err[b]) {
				printf("pic %ld FAILED\n", display++);
				if (!fault.keep_going)
					status = 1;
			} else {
				if (dv_cap_md5(&dev, (unsigned int)b, cap_w[b], cap_h[b], md5))
					return 1;
				printf("pic %ld %ux%u %s\n", display++, cap_w[b], cap_h[b], md5);
			}
			dv_fault_pic(&fault);
			continue;
		}
		if (fr.key && (fr.width != cur_w || fr.height != cur_h || fr.fourcc != cur_fourcc)) {
			/* Chromium's resolution change: the queue is drained (one request at a time:
			 * nothing is in flight), buffers freed, formats and buffers made anew */
			if (cur_w) {
				reimports += dev.pool_changes;
				if (dv_free(&dev))
					return 1;
				changes++;
			}
			if (setup(&dev, &fr, ncap, mem))
				return 1;
			if (req < 0 && (req = dv_req_alloc(&dev)) < 0)
				return 1;
			cur_w = fr.width;
			cur_h = fr.height;
			cur_fourcc = fr.fourcc;
			for (int s = 0; s < 8; s++)
				slot_buf[s] = -1;
		}
		if (req < 0) {
			fprintf(stderr, "frame %zu: the stream does not start with a key frame\n", i);
			return 1;
		}
		if (dv_fault_seeks_before(&fault, (long)i)) {
			/* a flushing seek: every buffer back, nothing in flight */
			dv_fault_announce(&fault, display);
			if (dv_stream(&dev, false) || dv_stream(&dev, true))
				return 1;
		}
		if (dv_fault_skips(&fault, (long)i)) {
			/* never queued: its picture is one the device never had */
			dv_fault_announce(&fault, display);
			dv_vpx_update_slots(&fr, slot_buf, -1);
			if (is_vp9)
				vp9_client_update_refs(&vp9, &fr.i9, dv_fault_ghost_ts((long)i));
			else
				vp8_client_update_refs(&vp8, &fr.i8, dv_fault_ghost_ts((long)i));
			if (fr.show) {
				printf("pic %ld SKIPPED\n", display++);
				dv_fault_pic(&fault);
			}
			continue;
		}
		/* a CAPTURE buffer no reference slot holds */
		for (k = 0; k < ncap; k++) {
			bool held = false;

			cap = cycle ? (last_cap + 1 + k) % ncap : k;
			for (int s = 0; s < 8; s++)
				held |= slot_buf[s] == (int)cap;
			if (!held)
				break;
		}
		if (k == ncap) {
			fprintf(stderr, "every CAPTURE buffer is a reference\n");
			return 1;
		}
		last_cap = cap;
		/* Chromium: tv_usec = the CAPTURE buffer's index, references named by it */
		ts = (uint64_t)cap * 1000;
		n = dv_vpx_controls(&fr, ctl);
		size = ivf.frames[i].size;
		bits = dv_fault_bytes(&fault, (long)i, ivf.frames[i].data, &size,
				      header_end(&fr), display);
		if (fr.key && fr.show)
			dv_fault_key(&fault, display);
		if ((long)i == fence_at) {
			const struct dv_buf *b = dv_cap_mem(&dev, cap);
			int fds[DV_MAX_PLANES];

			for (k = 0; k < b->nplanes; k++)
				fds[k] = b->p[k].dmabuf;
			if (dv_fence_attach(&fence, fds, b->nplanes, fence_ms))
				return 1;
			printf("fence %zu %u %d\n", i, cap, fence_ms);
			fence_at = -2; /* attached */
		}
		t0 = dv_fault_before(&fault, (long)i);
		r = dv_decode_one(&dev, req, cap, ts, ctl, n, bits, size);
		if (r < 0)
			return 1;
		dv_fault_after(&fault, (long)i, t0, r);
		cap_w[cap] = fr.width;
		cap_h[cap] = fr.height;
		cap_err[cap] = r;
		if (r) {
			fprintf(stderr, "request %ld (frame %zu, CAPTURE %u) came back with ERROR\n",
				jobs, i, cap);
			failed++;
			if (!fault.keep_going)
				status = 1;
			if (fr.show) {
				printf("pic %ld FAILED\n", display++);
				dv_fault_pic(&fault);
			}
		} else if (fr.show) {
			if (dv_cap_md5(&dev, cap, fr.width, fr.height, md5))
				return 1;
			printf("pic %ld %ux%u %s\n", display++, fr.width, fr.height, md5);
			dv_fault_pic(&fault);
		}
		/* the reference slots follow the bitstream */
		dv_vpx_update_slots(&fr, slot_buf, (int)cap);
		if (is_vp9)
			vp9_client_update_refs(&vp9, &fr.i9, ts);
		else
			vp8_client_update_refs(&vp8, &fr.i8, ts);
		jobs++;
	}
	reimports += dev.pool_changes;
	fprintf(stderr, "dv-vpxclient: %s, %ld requests, %ld failed, %ld pictures shown, "
		"%u resolution changes, CAPTURE %s x%u, %lu re-imports\n", is_vp9 ? "VP9" : "VP8",
		jobs, failed, display, changes, mem == DV_MEM_MMAP ? "mmap" : "dmabuf-import",
		ncap, reimports);
	if (req >= 0)
		dv_stream(&dev, false);
	dv_close(&dev);
	dv_fence_end(&fence);
	if (fence_at >= 0) {
		fprintf(stderr, "--fence: frame %ld was never queued: no fence attached\n", fence_at);
		status = 1;
	}
	ivf_free(&ivf);
	dv_fault_free(&fault);
	return status;
}
