/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A V4L2 stateless H.264 client for the tests: GStreamer's H.264 parser (codecparsers) splits
 * an Annex-B stream into pictures and fills the V4L2 H.264 controls the way a client does,
 * in frame-based mode with 00 00 01 before every slice. Two submission patterns:
 *   gst       PPS flag SCALING_MATRIX_PRESENT if the SPS or the PPS has lists, the matrix
 *             sent only then (GStreamer)
 *   chromium  SPS, PPS, scaling matrix and decode parameters in every request, the PPS flag
 *             only for lists in the PPS itself, DECODE_MODE set in every request (Chromium)
 *   ffmpeg    SPS, PPS, scaling matrix and decode parameters in every request, the PPS flag
 *             always set: the lists are the effective ones, flat when the stream has none
 *             (FFmpeg's v4l2-request hwaccel)
 * The DPB is a sliding window of the last max_num_ref_frames reference frames, named by
 * their timestamps, with their POCs (oldest first; FFmpeg's pattern newest first) and which
 * of their fields are references (a field picture is one job: the second field of a frame
 * joins the first field's entry, and says so in h264_job.second_field, for a client to send
 * it into the first field's CAPTURE buffer under its timestamp): enough for the decoder, which takes its references from the slices, and
 * for the daemon's check that every named picture was decoded (streams with memory
 * management operations may list a picture the stream already dropped; that is harmless
 * here). POCs are computed for POC types 0 and 2 (type 1 is left zero), as clients do: the
 * daemon uses them to spot leading pictures after a seek.
 */
#ifndef DAEDALUS_TEST_H264_CLIENT_H
#define DAEDALUS_TEST_H264_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

#define GST_USE_UNSTABLE_API
#include <gst/codecparsers/gsth264parser.h>

enum h264_pattern {
	H264_PATTERN_GST,
	H264_PATTERN_CHROMIUM,
	H264_PATTERN_FFMPEG,
};

struct h264_job {
	struct v4l2_ctrl_h264_sps sps;
	struct v4l2_ctrl_h264_pps pps;
	struct v4l2_ctrl_h264_scaling_matrix matrix;
	struct v4l2_ctrl_h264_decode_params dp;
	bool send_sps_pps;  /* in this request (else: sticky from an earlier one) */
	bool send_matrix;
	bool reference;     /* nal_ref_idc != 0 */
	/* a field picture whose frame's other field was the job before (same frame_num) */
	bool second_field;
	uint8_t *buf;       /* the OUTPUT buffer */
	size_t size, cap;
	size_t slice_hdr_end; /* where the first slice's header ends in buf (bytes, rounded up) */
	/* the picture as shown: the SPS crop window */
	uint32_t crop_x, crop_y, crop_w, crop_h;
	uint32_t width, height; /* macroblock-aligned coded size */
	unsigned int bit_depth;
	int reorder;            /* the SPS's num_reorder_frames, -1 if its VUI does not say */
};

struct h264_client {
	GstH264NalParser *parser;
	enum h264_pattern pattern;
	/*
	 * Chromium with lists in the SPS only: the matrix is in every request but the PPS flag
	 * is never set, so only "the control is in this request" makes the driver use it.
	 */
	bool never_flag_matrix;
	const uint8_t *data;
	size_t size, pos;
	int last_sps_id, last_pps_id; /* what the last request carried (-1: none yet) */
	struct {
		uint64_t ts;
		uint16_t frame_num;
		int32_t top_poc, bottom_poc;
		uint8_t fields; /* V4L2_H264_{TOP,BOTTOM}_FIELD_REF, both for a frame */
	} refs[16];
	unsigned int num_refs;
	/* the last job was a first field (of this parity flag, this frame_num) */
	bool field_open;
	bool open_reference; /* a pair is two reference fields or two non-reference ones */
	uint8_t open_parity;
	uint16_t open_frame_num;
	/* POC state of the previous reference picture (8.2.1) */
	int32_t prev_poc_msb, prev_poc_lsb, frame_num_offset;
	int prev_frame_num;
	/* of the picture being built, for done() */
	int32_t poc_msb, poc_lsb, cur_frame_num_offset;
};

int h264_client_init(struct h264_client *c, enum h264_pattern pattern, const uint8_t *data,
		     size_t size);
void h264_client_free(struct h264_client *c);

/* The next picture: 1 with *job filled, 0 at the end of the stream, -1 on a parse error. */
int h264_client_next(struct h264_client *c, struct h264_job *job);

/* A seek: the DPB and the POC state start over, as a client's do. */
void h264_client_seek(struct h264_client *c);

/* After the job's picture was decoded under timestamp ts: the DPB's update. */
void h264_client_done(struct h264_client *c, const struct h264_job *job, uint64_t ts);

#endif
