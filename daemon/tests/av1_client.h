/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A V4L2 stateless AV1 client for the tests: GStreamer's AV1 parser (codecparsers) splits
 * each temporal unit into frames and fills the V4L2 AV1 controls the way a client does;
 * the OUTPUT buffer is built in one of the layouts real clients use:
 *   gst       the OBU payloads of the frame's OBU_FRAME / OBU_TILE_GROUP OBUs (GStreamer)
 *   chromium  the whole temporal unit, for every frame in it (Chromium)
 *   tiles     only the tile data, back to back (the Raspberry Pi FFmpeg fork's span)
 * The tile entries point into that buffer. References are named by timestamps, one per
 * decode job, tracked per slot like GStreamer does.
 */
#ifndef DAEDALUS_TEST_AV1_CLIENT_H
#define DAEDALUS_TEST_AV1_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>
#include <linux/videodev2.h>

#define GST_USE_UNSTABLE_API
#include <gst/codecparsers/gstav1parser.h>

enum av1_layout {
	AV1_LAYOUT_GST,
	AV1_LAYOUT_CHROMIUM,
	AV1_LAYOUT_TILES,
};

struct av1_job {
	bool show_existing;     /* no decode: show slot show_slot (key: refreshes all slots) */
	bool show_existing_key;
	int show_slot;
	struct v4l2_ctrl_av1_sequence seq;
	struct v4l2_ctrl_av1_frame frame;
	struct v4l2_ctrl_av1_film_grain grain;
	struct v4l2_ctrl_av1_tile_group_entry tiles[V4L2_AV1_MAX_TILE_COUNT];
	unsigned int num_tiles;
	uint8_t *buf; /* the OUTPUT buffer */
	size_t size, cap;
	GstAV1FrameHeaderOBU fh; /* what the parser found, for comparisons */
};

struct av1_client {
	GstAV1Parser *parser;
	enum av1_layout layout;
	GstAV1SequenceHeaderOBU seq;
	bool have_seq;
	uint64_t slot_ts[8];
	/* the temporal unit being split */
	const uint8_t *tu;
	size_t tu_size, pos;
	GstAV1FrameHeaderOBU fh;
	bool in_frame;
};

int av1_client_init(struct av1_client *c, enum av1_layout layout);
void av1_client_free(struct av1_client *c);

/* Starts splitting a temporal unit (the caller keeps data alive until it is consumed). */
void av1_client_start_tu(struct av1_client *c, const uint8_t *data, size_t size);

/*
 * The next frame of the temporal unit: 1 with *job filled (ts names the picture a decode job
 * makes), 0 when the unit is consumed, -1 on a parse error.
 */
int av1_client_next(struct av1_client *c, struct av1_job *job, uint64_t ts);

/*
 * The job's controls into @c: AV1_SEQUENCE, AV1_FRAME, the tile group entries, and with
 * @grain FILM_GRAIN. Their count.
 */
unsigned int av1_job_controls(struct av1_job *job, struct v4l2_ext_control c[4], bool grain);

/* After a job's frame was decoded (or shown): the parser's and the slots' reference update. */
void av1_client_done(struct av1_client *c, struct av1_job *job, uint64_t ts);

#endif
