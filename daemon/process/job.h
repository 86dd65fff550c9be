/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One protocol job in the daemon's hands: a copy of the kernel's job message and its control
 * payloads, references on the mappings it touches, and the translation into the engine's
 * dd_job (nothing in the message is trusted: every offset and size is checked here).
 */
#ifndef DAEDALUS_DAEMON_JOB_H
#define DAEDALUS_DAEMON_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/daedalus-v4l2.h>

#include "bufcache.h"
#include "engine.h"

struct dm_job {
	struct dm_job *next;
	struct daedalus_job msg;
	uint8_t *ctrl_data; /* msg.ctrl_bytes bytes */
	struct dm_mapping *output;
	struct dm_mapping *capture[DAEDALUS_MAX_MEM_PLANES];
	atomic_bool cancelled; /* JOB_CANCEL arrived: the kernel has finished it already */
};

/* Why a job failed, for the log and the COMPLETE reason code. */
struct dm_failure {
	uint32_t reason; /* DAEDALUS_REASON_* */
	struct dd_error why;
};

/*
 * Copies the message and payloads (ctrl_data: the area GET_MSG filled, ctrl_size bytes) and
 * takes references on the OUTPUT and CAPTURE mappings. NULL with *fail filled if the job
 * cannot even be held (unknown buffer, no memory, a payload said to be larger than the
 * area); the caller completes it with an error.
 */
struct dm_job *dm_job_new(const struct daedalus_job *msg, const uint8_t *ctrl_data,
			  size_t ctrl_size, struct dm_bufcache *cache, struct dm_failure *fail);
void dm_job_free(struct dm_job *job, struct dm_bufcache *cache);

/* The job's codec in engine terms; false for codecs the engine has no notion of. */
bool dm_job_codec(const struct dm_job *job, enum dd_codec *codec);

/*
 * Fills *out (and *pic, which out->dst points to) from the job, pointing into the job and
 * its mappings; checks every offset and size. -1 with *fail filled if the job is malformed.
 * The control structs are copied into *ctrl so that they are aligned.
 */
union dm_job_ctrls {
	struct {
		struct v4l2_ctrl_h264_sps sps;
		struct v4l2_ctrl_h264_pps pps;
		struct v4l2_ctrl_h264_scaling_matrix scaling_matrix;
		struct v4l2_ctrl_h264_decode_params decode_params;
	} h264;
	struct v4l2_ctrl_vp8_frame vp8;
	struct {
		struct v4l2_ctrl_vp9_frame frame;
		struct v4l2_ctrl_vp9_compressed_hdr hdr;
	} vp9;
	struct {
		struct v4l2_ctrl_av1_sequence sequence;
		struct v4l2_ctrl_av1_frame frame;
		struct v4l2_ctrl_av1_film_grain film_grain;
		struct v4l2_ctrl_av1_tile_group_entry tiles[V4L2_AV1_MAX_TILE_COUNT];
	} av1;
};
int dm_job_to_engine(const struct dm_job *job, union dm_job_ctrls *ctrl, struct dd_picture *pic,
		     struct dd_job *out, struct dm_failure *fail);

#endif
