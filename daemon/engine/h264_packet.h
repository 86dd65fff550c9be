/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Annex-B access unit a bitstream decoder gets for an H.264 picture, built from jobs.
 *
 * Each job adds its slices, preceded by an SPS and a PPS rebuilt from its controls whenever
 * they differ from the last ones this stream handed to the decoder. Jobs held with
 * HOLD_CAPTURE_BUF (slice-based decoding, GStreamer's first field) accumulate here until the
 * last job of the CAPTURE buffer, so the decoder always sees whole pictures (or field pairs)
 * and never has to be told where a picture ends.
 */
#ifndef DAEDALUS_H264_PACKET_H
#define DAEDALUS_H264_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "h264_param_writer.h"

/* Bounds on what one CAPTURE buffer may accumulate (a client that never ends a picture). */
#define DD_H264_MAX_PIECES 1024
#define DD_H264_MAX_BYTES (64u << 20)

struct dd_h264_packet {
	uint8_t *data;
	size_t len, cap;
	unsigned int pieces;   /* jobs in data */
	uint64_t timestamp;    /* of those jobs */
	/* which lines the pieces decode: 1 top field, 2 bottom field, 3 the whole frame */
	unsigned int fields;
	/* the pieces' picture: all of one frame, or of fields of one frame (one frame_num) */
	bool frame;
	uint16_t frame_num;
	/* the parameter sets the decoder has last been given (len 0: none / forget) */
	uint8_t sps[DD_H264_PARAM_NAL_MAX], pps[DD_H264_PARAM_NAL_MAX];
	size_t sps_len, pps_len;
	/* data begins with both parameter sets; a piece after the first carried one */
	bool lead_params, params_later;
};

void dd_h264_packet_init(struct dd_h264_packet *p);
void dd_h264_packet_free(struct dd_h264_packet *p);

/* Drops the accumulated pieces (not the parameter-set memory). */
void dd_h264_packet_clear(struct dd_h264_packet *p);

/* Also forgets which parameter sets the decoder has (after a flush or a failed decode). */
void dd_h264_packet_reset(struct dd_h264_packet *p);

/*
 * The decoder is replaced by a new one, which has no parameter sets, in the middle of a
 * picture (a mode change at a held piece): the pieces held so far get the parameter sets
 * they were added under in front, so that they decode in the new decoder as they would
 * have in the old. Without pieces, the same as dd_h264_packet_reset(). -1 with err: the
 * pieces cannot be carried over (their parameter sets changed between pieces and the
 * first piece's are no longer known, or out of memory); nothing changed.
 */
int dd_h264_packet_restart(struct dd_h264_packet *p, struct dd_error *err);

/* Appends the job's parameter sets (if changed) and slices. -1 with err: nothing appended. */
int dd_h264_packet_add(struct dd_h264_packet *p, const struct dd_job *job, struct dd_error *err);

#endif
