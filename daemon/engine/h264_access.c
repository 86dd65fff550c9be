/* SPDX-License-Identifier: BSD-2-Clause */
#include <inttypes.h>

#include <linux/videodev2.h>

#include "error.h"
#include "h264_access.h"

void dd_h264_access_init(struct dd_h264_access *a)
{
	dd_ref_set_init(&a->bad);
	dd_ref_set_init(&a->exempt);
	dd_h264_access_reset(a);
}

void dd_h264_access_free(struct dd_h264_access *a)
{
	dd_ref_set_free(&a->bad);
	dd_ref_set_free(&a->exempt);
}

void dd_h264_access_reset(struct dd_h264_access *a)
{
	dd_ref_set_clear(&a->bad);
	dd_ref_set_clear(&a->exempt);
	a->after_flush = true;
	a->concealed = false;
	a->leading = false;
	a->poc = 0;
}

static int32_t picture_poc(const struct v4l2_ctrl_h264_decode_params *dp)
{
	if (dp->flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC)
		return dp->flags & V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD ?
		       dp->bottom_field_order_cnt : dp->top_field_order_cnt;
	return dp->top_field_order_cnt < dp->bottom_field_order_cnt ?
	       dp->top_field_order_cnt : dp->bottom_field_order_cnt;
}

/* A DPB entry the stream neither decoded nor excused: a picture lost before this one. */
static bool unknown_ref(const struct dd_h264_access *a, const struct dd_expectation *x,
			uint64_t ts, uint64_t self, const struct dd_ref_set *decoded)
{
	if (x->may_ref_self && ts == self)
		return false;
	/*
	 * A picture that failed since the access point: known exactly, also when the set of
	 * decoded pictures says yes to everything (its allocation failed).
	 */
	if (dd_ref_set_holds(&a->bad, ts))
		return true;
	return !dd_ref_set_contains(decoded, ts) && !dd_ref_set_contains(&a->exempt, ts);
}

int dd_h264_access_check(const struct dd_h264_access *a, const struct dd_job *job,
			 struct dd_expectation *x, const struct dd_ref_set *decoded,
			 struct dd_error *err)
{
	const struct v4l2_ctrl_h264_decode_params *dp = job->ctrl.h264.decode_params;

	if (a->leading && !x->key_frame && picture_poc(dp) < a->poc) {
		x->leading = true;
		return dd_fail_kind(err, DD_ERR_REFERENCE,
				    "leading picture (POC %d) of a non-IDR access point (POC %d): "
				    "its references precede the access point", picture_poc(dp), a->poc);
	}
	/*
	 * P or B slices with nothing to predict from. The first picture after a flush may be
	 * one: a client resumes at an intra-refresh stream's recovery point (a P picture whose
	 * recovery-point SEI it read; we never see SEI) with its DPB reset, and hides the
	 * pictures until the recovery frame count itself (Chromium, libavcodec). Anywhere else
	 * the client dropped references the picture uses, and libavcodec would conceal them
	 * without an error.
	 */
	if (x->no_refs && !a->after_flush)
		return dd_fail_kind(err, DD_ERR_REFERENCE,
				    "H.264 picture with P or B slices and no picture for reference "
				    "in its DPB, not the first after a flush: it predicts from "
				    "pictures the client dropped");
	/* I slices use no reference: what the DPB lists cannot make them wrong */
	if (x->intra)
		return 0;
	for (unsigned int i = 0; i < x->num_refs; i++)
		if (unknown_ref(a, x, x->ref_ts[i], job->timestamp, decoded))
			return dd_fail_kind(err, DD_ERR_REFERENCE,
					    "DPB reference (ts %" PRIu64 ") was not decoded by this "
					    "stream since the last access point (IDR, I picture or "
					    "flush)", x->ref_ts[i]);
	return 0;
}

bool dd_h264_access_restart(const struct dd_h264_access *a, const struct dd_job *job,
			    const struct dd_expectation *x, const struct dd_ref_set *decoded)
{
	/* after a flush the decoder has started afresh already; an IDR resets it itself */
	if (a->after_flush || !x->intra || x->key_frame)
		return false;
	/* the access point dd_h264_access_decoded() will make of it */
	if (!dd_ref_set_empty(&a->bad))
		return true;
	/*
	 * After a concealed landing, only at a picture sent whole: a restart at the first of
	 * several requests (slices) would drop the references its later slices, if P, name.
	 */
	if (a->concealed && !job->hold)
		return true;
	for (unsigned int i = 0; i < x->num_refs; i++)
		if (unknown_ref(a, x, x->ref_ts[i], job->timestamp, decoded))
			return true;
	return false;
}

void dd_h264_access_decoded(struct dd_h264_access *a, const struct dd_job *job,
			    const struct dd_expectation *x, const struct dd_ref_set *decoded)
{
	const struct v4l2_ctrl_h264_decode_params *dp = job->ctrl.h264.decode_params;
	int32_t poc = picture_poc(dp);
	bool access_point = false;

	dd_ref_set_remove(&a->bad, job->timestamp);
	dd_ref_set_remove(&a->exempt, job->timestamp);
	if (x->key_frame) {
		dd_ref_set_clear(&a->bad);
		dd_ref_set_clear(&a->exempt);
		a->leading = false;
		a->after_flush = false;
		a->concealed = false;
		return;
	}
	/*
	 * An I picture is an access point when something before it was lost: a flush, failed
	 * pictures, or DPB entries this stream never decoded (a daemon restart). The first
	 * picture after a flush is one whatever its type: the client has reset its DPB.
	 */
	if (a->after_flush || !dd_ref_set_empty(&a->bad)) {
		access_point = a->after_flush || x->intra;
	} else if (a->concealed) {
		/*
		 * No restart came before this picture (an I picture sent in slices: restart()):
		 * libavcodec's made-up DPB stays, so it is no access point; an IDR or an I
		 * picture sent whole is.
		 */
	} else if (x->intra) {
		for (unsigned int i = 0; i < x->num_refs && !access_point; i++)
			access_point = unknown_ref(a, x, x->ref_ts[i], job->timestamp, decoded);
	}
	if (access_point) {
		dd_ref_set_move_all(&a->bad, &a->exempt);
		for (unsigned int i = 0; i < x->num_refs; i++)
			if (unknown_ref(a, x, x->ref_ts[i], job->timestamp, decoded))
				dd_ref_set_add(&a->exempt, x->ref_ts[i]);
		a->leading = true;
		a->poc = poc;
		a->concealed = a->after_flush && x->no_refs;
	} else if (a->leading && dp->nal_ref_idc && poc > a->poc) {
		a->leading = false; /* an anchor after the access point: no more leading pictures */
	}
	a->after_flush = false;
}

void dd_h264_access_failed(struct dd_h264_access *a, uint64_t timestamp, bool leading)
{
	dd_ref_set_remove(&a->exempt, timestamp);
	dd_ref_set_add(leading ? &a->exempt : &a->bad, timestamp);
}
