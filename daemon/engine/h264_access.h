/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where an H.264 stream becomes accessible again, and which pictures fail until then.
 *
 * The client's DPB (DECODE_PARAMS) names every picture kept for reference by the timestamp
 * it was decoded under. A picture may be decoded only if every entry is one this stream
 * decoded (the engine's set of decoded pictures), or one the current access point excused.
 * After a flush (a seek, or a daemon restart as the client sees it: the new daemon never
 * decoded what the DPB lists) or after failed pictures, decoding resumes at an access point:
 *  - an IDR: nothing before it is referenced after it;
 *  - a non-IDR picture made only of I slices (the I picture of an open GOP, the landing
 *    picture of a seek): it uses no reference itself, so what its DPB lists, decoded or not,
 *    is excused from then on. Pictures after it in display order do not use what precedes it
 *    (the recovery point contract of open GOPs; libavcodec resumes at such pictures too). The
 *    pictures that follow it in decoding order but precede it in display order ("leading"
 *    pictures, POC below the access point's) may predict from pictures before it, which this
 *    stream never decoded or decoded damaged: they fail, until a reference picture after the
 *    access point in display order ends the leading run, or an IDR.
 * POCs are the client's (DECODE_PARAMS top/bottom_field_order_cnt): a client that leaves them
 * zero only loses the leading-picture rule.
 */
#ifndef DAEDALUS_H264_ACCESS_H
#define DAEDALUS_H264_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "expectation.h"
#include "ref_set.h"

struct dd_h264_access {
	struct dd_ref_set bad;    /* pictures that failed since the last access point */
	struct dd_ref_set exempt; /* pictures before the current access point: listed, unused */
	bool after_flush;         /* nothing decoded since the stream opened or flushed */
	/*
	 * The access point is a P or B picture with an empty DPB (an intra-refresh recovery
	 * point): libavcodec concealed its references and made up frames for its DPB, so the
	 * next I picture sent whole is an access point with a restarted decoder, as after lost
	 * pictures (one sent in slices is not: see dd_h264_access_restart()).
	 */
	bool concealed;
	bool leading;             /* in the leading run of a non-IDR access point */
	int32_t poc;              /* that access point's POC */
};

void dd_h264_access_init(struct dd_h264_access *a);
void dd_h264_access_free(struct dd_h264_access *a);
/* A flush: nothing decoded so far may be referenced. */
void dd_h264_access_reset(struct dd_h264_access *a);

/*
 * Before the job is decoded (x filled by dd_check_h264_job; decoded: the timestamps this
 * stream decoded since its last IDR or flush): -1 with err if the job must fail, with
 * x->leading set for a leading picture.
 */
int dd_h264_access_check(const struct dd_h264_access *a, const struct dd_job *job,
			 struct dd_expectation *x, const struct dd_ref_set *decoded,
			 struct dd_error *err);
/*
 * After check accepted the job: true if it is an I picture (not IDR) that will become an
 * access point after lost pictures (failed, never decoded), where the decoder must start
 * afresh (codec.h, dd_codec_access_ops.restart): libavcodec's own DPB lacks those pictures
 * and the memory management commands that came with them.
 */
bool dd_h264_access_restart(const struct dd_h264_access *a, const struct dd_job *job,
			    const struct dd_expectation *x, const struct dd_ref_set *decoded);
/* The job's picture decoded; call before its timestamp joins decoded. */
void dd_h264_access_decoded(struct dd_h264_access *a, const struct dd_job *job,
			    const struct dd_expectation *x, const struct dd_ref_set *decoded);
/*
 * The job failed: its timestamp names a picture that must not be used. leading: it failed
 * as a leading picture (x->leading), so it belongs to what precedes the access point.
 */
void dd_h264_access_failed(struct dd_h264_access *a, uint64_t timestamp, bool leading);

#endif
