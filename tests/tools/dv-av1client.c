// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-av1client: decodes an AV1 IVF clip through the daedalus-v4l2 device with the Request
 * API, filling the OUTPUT buffer the way a given client does (daemon/tests/av1_client.c:
 * GStreamer's AV1 parser fills the controls):
 *   --layout gst       OBU payloads of the frame's OBU_FRAME / OBU_TILE_GROUP OBUs
 *   --layout chromium  the whole temporal unit, timestamps = CAPTURE buffer index (reused,
 *                      as Chromium does), no FILM_GRAIN control
 *   --layout tiles     the tile data only (the Raspberry Pi FFmpeg fork's span)
 *   --layout ffmpeg    FFmpeg's v4l2-request device handling (mpv, Kodi; dv_av1_ffmpeg.h):
 *                      the tile data only, hidden frames in flight, buffers made one
 *                      CREATE_BUFS at a time, pictures read through exported dma-bufs; no
 *                      other option applies
 *   --capture mmap|dmabuf-import|dmabuf-import-rotate
 *                      CAPTURE memory: MMAP (12 buffers), or Chromium's frame pool: 32
 *                      dma-bufs from /dev/dma_heap/system imported as DMABUF (dv_v4l2.h)
 *   --fault KIND:N | seek:A:B, --keep-going, --pace-ms N
 *                      damage, drop or seek (N, A, B: temporal units; every frame of a
 *                      damaged unit is damaged), go on after a failed request, wait N ms
 *                      before each request (dv_fault.h)
 * One request at a time; a CAPTURE buffer is reused only when no reference slot holds it.
 * Prints "pic <n> <w>x<h> <md5>" per shown picture in display order (show_existing_frame
 * shows the buffer already decoded, never a request), for daemon/tests/run_clips.py to
 * compare with FFmpeg's libdav1d; "pic <n> FAILED" for a picture whose request came back
 * with V4L2_BUF_FLAG_ERROR (or a show_existing_frame of one). Exit status 1 if a request
 * fails (without --keep-going or --fault).
 *   --corrupt N  request N names its first tile outside the OUTPUT buffer: it must come back
 *                with ERROR, later requests may fail until a key frame, which must decode
 *                (prints "fault <picture>" and "resync <picture>" for run_clips.py)
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/media.h>
#include <linux/v4l2-controls.h>

#include "av1_client.h"
#include "dv_av1_ffmpeg.h"
#include "dv_capture_md5.h"
#include "dv_fault.h"
#include "dv_v4l2.h"
#include "ivf.h"
#include "test_picture.h"

#define NCAP 12

static int decode_one(struct dv_dev *d, int req, struct av1_job *job, unsigned int cap,
		      uint64_t ts, bool grain, const uint8_t *bits, size_t size)
{
	struct v4l2_ext_control c[4];
	unsigned int n = av1_job_controls(job, c, grain);

	return dv_decode_one(d, req, cap, ts, c, n, bits, size);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "layout", required_argument, NULL, 'l' },
		{ "video", required_argument, NULL, 'd' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "capture", required_argument, NULL, 'C' },
		DV_FAULT_OPTIONS,
		{ 0 },
	};
	enum av1_layout layout = AV1_LAYOUT_GST;
	const char *video = NULL;
	static struct av1_job job;
	struct av1_client client;
	static struct dv_dev dev;
	int slot_buf[8], req = -1, c, r, status = 0;
	uint32_t cap_w[DV_MAX_BUFS] = { 0 }, cap_h[DV_MAX_BUFS] = { 0 };
	/* the buffer's last request came back with ERROR: showing it again shows no picture */
	bool cap_err[DV_MAX_BUFS] = { 0 };
	struct dv_fault fault = { 0 };
	enum dv_mem mem = DV_MEM_MMAP;
	unsigned int ncap = NCAP;
	bool rotate = false;
	long display = 0, jobs = 0, failed = 0, corrupt = -1;
	bool faulted = false, resynced = false;
	bool started = false, ffmpeg = false;
	int others = 0;
	struct ivf ivf;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int fo = dv_fault_option(&fault, c, optarg);

		if (fo < 0)
			return 2;
		others += c != 'l';
		if (fo)
			continue;
		if (c == 'l' && !strcmp(optarg, "ffmpeg"))
			ffmpeg = true;
		else if (c == 'l')
			layout = !strcmp(optarg, "chromium") ? AV1_LAYOUT_CHROMIUM :
				 !strcmp(optarg, "tiles") ? AV1_LAYOUT_TILES : AV1_LAYOUT_GST;
		else if (c == 'd')
			video = optarg;
		else if (c == 'c')
			corrupt = atol(optarg);
		else if (c == 'C' && !dv_parse_capture(optarg, &mem, &rotate))
			ncap = mem == DV_MEM_MMAP ? NCAP : DV_CHROMIUM_POOL;
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: dv-av1client [--layout gst|chromium|tiles|ffmpeg] [--capture "
			"mmap|dmabuf-import|dmabuf-import-rotate] [--corrupt N] " DV_FAULT_USAGE
			" [--video DEV] clip.ivf\n");
		return 2;
	}
	if (ffmpeg) {
		if (others) {
			fprintf(stderr, "--layout ffmpeg takes no other option\n");
			return 2;
		}
		if (ivf_load(&ivf, argv[optind], 0) || strcmp(ivf.fourcc, "AV01"))
			return 1;
		status = dv_av1_ffmpeg_run(&ivf);
		ivf_free(&ivf);
		return status;
	}
	dv_fault_start(&fault);
	if (ivf_load(&ivf, argv[optind], 0) || strcmp(ivf.fourcc, "AV01") ||
	    av1_client_init(&client, layout) || dv_open(&dev, video))
		return 1;
	dev.pool_rotate = rotate;
	for (int i = 0; i < 8; i++)
		slot_buf[i] = -1;
	for (size_t f = 0; f < ivf.count && !status; f++) {
		bool skip = dv_fault_skips(&fault, (long)f);
		unsigned int in_tu = 0;

		if (started && dv_fault_seeks_before(&fault, (long)f)) {
			/* a flushing seek: every buffer back, nothing in flight */
			dv_fault_announce(&fault, display);
			if (dv_stream(&dev, false) || dv_stream(&dev, true))
				return 1;
		}
		av1_client_start_tu(&client, ivf.frames[f].data, ivf.frames[f].size);
		while ((r = av1_client_next(&client, &job, 0)) == 1) {
			uint32_t w = job.frame.upscaled_width, h = job.frame.frame_height_minus_1 + 1;
			const uint8_t *bits;
			unsigned int cap;
			uint64_t ts;
			size_t size;
			double t0;
			char md5[33];

			if (job.show_existing) {
				int b = slot_buf[job.show_slot & 7];

				if (job.show_existing_key && !skip)
					dv_fault_key(&fault, display);
				if (skip) {
					printf("pic %ld SKIPPED\n", display++);
				} else if (b < 0 || cap_err[b]) {
					printf("pic %ld FAILED\n", display++);
					if (!faulted && !fault.keep_going)
						status = 1;
				} else {
					if (dv_cap_md5(&dev, (unsigned int)b, cap_w[b], cap_h[b], md5))
						return 1;
					printf("pic %ld %ux%u %s\n", display++, cap_w[b], cap_h[b],
					       md5);
				}
				dv_fault_pic(&fault);
				if (job.show_existing_key)
					for (int i = 0; i < 8; i++)
						slot_buf[i] = slot_buf[job.show_slot & 7];
				av1_client_done(&client, &job, 0);
				continue;
			}
			if (!started) {
				/* the sequence first, so that CAPTURE offers P010 for 10-bit */
				struct v4l2_ext_control sc = {
					.id = V4L2_CID_STATELESS_AV1_SEQUENCE,
					.size = sizeof(job.seq), .ptr = &job.seq,
				};
				uint32_t fourcc = job.seq.bit_depth == 10 ? V4L2_PIX_FMT_P010 :
						  V4L2_PIX_FMT_NV12;

				if (dv_set_formats(&dev, V4L2_PIX_FMT_AV1_FRAME, w, h, 0) ||
				    dv_set_ctrls(&dev, &sc, 1) ||
				    dv_set_formats(&dev, V4L2_PIX_FMT_AV1_FRAME, w, h, fourcc) ||
				    dv_alloc(&dev, 1, ncap, mem) || dv_stream(&dev, true))
					return 1;
				req = dv_req_alloc(&dev);
				if (req < 0)
					return 1;
				started = true;
			}
			if (skip) {
				/* never queued: its picture is one the device never had */
				dv_fault_announce(&fault, display);
				for (int i = 0; i < 8; i++)
					if (job.fh.refresh_frame_flags & (1u << i))
						slot_buf[i] = -1;
				if (job.fh.show_frame) {
					printf("pic %ld SKIPPED\n", display++);
					dv_fault_pic(&fault);
				}
				av1_client_done(&client, &job, dv_fault_ghost_ts((long)f * 8 + in_tu++));
				continue;
			}
			/* a CAPTURE buffer no slot holds */
			for (cap = 0; cap < ncap; cap++) {
				bool held = false;

				for (int i = 0; i < 8; i++)
					held |= slot_buf[i] == (int)cap;
				if (!held)
					break;
			}
			if (cap == ncap) {
				fprintf(stderr, "every CAPTURE buffer is a reference\n");
				return 1;
			}
			/* Chromium names pictures by CAPTURE index; the others by a counter */
			ts = layout == AV1_LAYOUT_CHROMIUM ? (uint64_t)cap * 1000 :
			     (uint64_t)(jobs + 1) * 1000;
			if (jobs == corrupt) {
				job.tiles[0].tile_offset = (uint32_t)job.size + 4096;
				faulted = true;
				printf("fault %ld\n", display);
			}
			size = job.size;
			bits = dv_fault_bytes(&fault, (long)f, job.buf, &size, job.tiles[0].tile_offset,
					      display);
			if (job.frame.frame_type == V4L2_AV1_KEY_FRAME && job.fh.show_frame)
				dv_fault_key(&fault, display);
			t0 = dv_fault_before(&fault, (long)f);
			r = decode_one(&dev, req, &job, cap, ts, layout != AV1_LAYOUT_CHROMIUM, bits,
				       size);
			if (r < 0)
				return 1;
			dv_fault_after(&fault, (long)f, t0, r);
			cap_err[cap] = r;
			if (r) {
				fprintf(stderr, "request %ld (CAPTURE %u) came back with ERROR%s\n", jobs,
					cap, faulted && !resynced ? " (after the fault: allowed)" : "");
				failed++;
				if ((!faulted || resynced) && !fault.keep_going)
					status = 1;
			} else if (jobs == corrupt) {
				fprintf(stderr, "request %ld with a tile outside its buffer decoded\n",
					jobs);
				status = 1;
			} else if (faulted && !resynced && job.frame.frame_type == V4L2_AV1_KEY_FRAME &&
				   job.fh.show_frame) {
				printf("resync %ld\n", display);
				resynced = true;
			}
			cap_w[cap] = w;
			cap_h[cap] = h;
			if (job.fh.show_frame && r) {
				printf("pic %ld FAILED\n", display++);
				dv_fault_pic(&fault);
			} else if (job.fh.show_frame) {
				if (dv_cap_md5(&dev, cap, w, h, md5))
					return 1;
				printf("pic %ld %ux%u %s\n", display++, w, h, md5);
				dv_fault_pic(&fault);
			}
			for (int i = 0; i < 8; i++)
				if (job.fh.refresh_frame_flags & (1u << i))
					slot_buf[i] = (int)cap;
			av1_client_done(&client, &job, ts);
			jobs++;
		}
		if (r < 0) {
			fprintf(stderr, "temporal unit %zu: GStreamer's parser failed\n", f);
			status = 1;
		}
	}
	if (faulted && !resynced) {
		fprintf(stderr, "no key frame decoded after the fault\n");
		status = 1;
	}
	fprintf(stderr, "dv-av1client: %ld requests, %ld failed, %ld pictures shown, CAPTURE %s "
		"x%u, %lu re-imports\n", jobs, failed, display,
		mem == DV_MEM_MMAP ? "mmap" : "dmabuf-import", ncap, dev.pool_changes);
	if (started)
		dv_stream(&dev, false);
	dv_close(&dev);
	av1_client_free(&client);
	ivf_free(&ivf);
	dv_fault_free(&fault);
	return status;
}
