/* SPDX-License-Identifier: BSD-2-Clause */
#include "error.h"
#include "h264_check.h"
#include "h264_slice_header.h"

bool dd_h264_high_profile(uint8_t profile_idc)
{
	/* the profiles whose SPS has chroma_format_idc and bit depths (7.3.2.1.1) */
	static const uint8_t high[] = { 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139,
					134, 135 };

	for (size_t i = 0; i < sizeof(high); i++)
		if (profile_idc == high[i])
			return true;
	return false;
}

static int check_sps(const struct v4l2_ctrl_h264_sps *sps, struct dd_error *err)
{
	bool high = dd_h264_high_profile(sps->profile_idc);

	switch (sps->profile_idc) {
	case 66: case 77: case 88: case 100: case 110: case 122: case 244:
		break;
	default:
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED,
				    "H.264 profile_idc %u is not decoded here (Baseline, Main, "
				    "Extended and the High profiles are)", sps->profile_idc);
	}
	if (sps->chroma_format_idc > 1)
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED,
				    "H.264 chroma_format_idc %u: only 4:2:0 (and monochrome) "
				    "has a capture format", sps->chroma_format_idc);
	if (sps->bit_depth_luma_minus8 != sps->bit_depth_chroma_minus8 ||
	    (sps->bit_depth_luma_minus8 != 0 && sps->bit_depth_luma_minus8 != 2))
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED,
				    "H.264 bit depth %u/%u: only 8 and 10 bit are decoded",
				    sps->bit_depth_luma_minus8 + 8u, sps->bit_depth_chroma_minus8 + 8u);
	if (!high && (sps->chroma_format_idc != 1 || sps->bit_depth_luma_minus8 ||
		      (sps->flags & V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS)))
		return dd_fail(err, "H.264 profile_idc %u is 8-bit 4:2:0 only", sps->profile_idc);
	if (sps->flags & V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE)
		return dd_fail(err, "H.264 separate colour planes are 4:4:4 only");
	if (sps->seq_parameter_set_id > 31 || sps->log2_max_frame_num_minus4 > 12 ||
	    sps->pic_order_cnt_type > 2 || sps->log2_max_pic_order_cnt_lsb_minus4 > 12 ||
	    sps->max_num_ref_frames > 16)
		return dd_fail(err, "H.264 SPS value out of range (id %u, log2_max_frame_num-4 %u, "
			       "poc type %u, log2_max_poc_lsb-4 %u, max_num_ref_frames %u)",
			       sps->seq_parameter_set_id, sps->log2_max_frame_num_minus4,
			       sps->pic_order_cnt_type, sps->log2_max_pic_order_cnt_lsb_minus4,
			       sps->max_num_ref_frames);
	if (sps->offset_for_non_ref_pic == INT32_MIN ||
	    sps->offset_for_top_to_bottom_field == INT32_MIN)
		return dd_fail(err, "H.264 POC offset out of range");
	for (unsigned int i = 0; i < sps->num_ref_frames_in_pic_order_cnt_cycle; i++)
		if (sps->offset_for_ref_frame[i] == INT32_MIN)
			return dd_fail(err, "H.264 offset_for_ref_frame[%u] out of range", i);
	if (sps->pic_width_in_mbs_minus1 >= 1024 || sps->pic_height_in_map_units_minus1 >= 1024)
		return dd_fail(err, "H.264 picture of %ux%u macroblocks is too large",
			       sps->pic_width_in_mbs_minus1 + 1u,
			       sps->pic_height_in_map_units_minus1 + 1u);
	if ((sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY) &&
	    (sps->flags & V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD))
		return dd_fail(err, "H.264 SPS: MBAFF without field macroblocks");
	return 0;
}

static int check_pps(const struct v4l2_ctrl_h264_pps *pps, const struct v4l2_ctrl_h264_sps *sps,
		     struct dd_error *err)
{
	int qp_min = -26 - 6 * (int)sps->bit_depth_luma_minus8;

	if (pps->seq_parameter_set_id != sps->seq_parameter_set_id)
		return dd_fail(err, "H.264 PPS refers to SPS %u, the SPS control is %u",
			       pps->seq_parameter_set_id, sps->seq_parameter_set_id);
	if (pps->num_slice_groups_minus1)
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED, "H.264 slice groups (FMO) are not supported");
	if (pps->num_ref_idx_l0_default_active_minus1 > 31 ||
	    pps->num_ref_idx_l1_default_active_minus1 > 31 || pps->weighted_bipred_idc > 2 ||
	    pps->pic_init_qp_minus26 < qp_min || pps->pic_init_qp_minus26 > 25 ||
	    pps->pic_init_qs_minus26 < -26 || pps->pic_init_qs_minus26 > 25 ||
	    pps->chroma_qp_index_offset < -12 || pps->chroma_qp_index_offset > 12 ||
	    pps->second_chroma_qp_index_offset < -12 || pps->second_chroma_qp_index_offset > 12)
		return dd_fail(err, "H.264 PPS value out of range");
	if (!dd_h264_high_profile(sps->profile_idc) &&
	    ((pps->flags & V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE) ||
	     pps->second_chroma_qp_index_offset != pps->chroma_qp_index_offset))
		return dd_fail(err, "H.264 PPS uses High profile tools in profile_idc %u",
			       sps->profile_idc);
	return 0;
}

static int check_matrix(const struct v4l2_ctrl_h264_scaling_matrix *m, struct dd_error *err)
{
	/* 0 cannot be coded: the list syntax reads it as "use the default list" */
	for (unsigned int i = 0; i < 6; i++)
		for (unsigned int j = 0; j < 16; j++)
			if (!m->scaling_list_4x4[i][j])
				return dd_fail(err, "H.264 scaling list 4x4[%u] has a zero entry", i);
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < 64; j++)
			if (!m->scaling_list_8x8[i][j])
				return dd_fail(err, "H.264 scaling list 8x8[%u] has a zero entry", i);
	return 0;
}

int dd_h264_check_params(const struct v4l2_ctrl_h264_sps *sps,
			 const struct v4l2_ctrl_h264_pps *pps,
			 const struct v4l2_ctrl_h264_scaling_matrix *matrix, struct dd_error *err)
{
	if (!sps || !pps)
		return dd_fail(err, "H.264 job without SPS or PPS control");
	if (check_sps(sps, err) || check_pps(pps, sps, err))
		return -1;
	return matrix ? check_matrix(matrix, err) : 0;
}

/* Offset of the next 00 00 01 at or after pos, or len. */
static size_t next_start_code(const uint8_t *buf, size_t len, size_t pos)
{
	for (size_t i = pos; i + 3 <= len; i++)
		if (!buf[i] && !buf[i + 1] && buf[i + 2] == 1)
			return i;
	return len;
}

static int one_nal(const uint8_t *nal, size_t len, dd_h264_nal_fn fn, void *opaque,
		   struct dd_error *err)
{
	unsigned int type;

	if (!len)
		return 0;
	if (nal[0] & 0x80)
		return dd_fail(err, "H.264 NAL unit with forbidden_zero_bit set");
	type = nal[0] & 0x1f;
	switch (type) {
	case 1:
	case 5:
		if (len < 2)
			return dd_fail(err, "H.264 slice NAL unit of %zu byte", len);
		return fn(opaque, nal, len, err) ? -1 : 1;
	case 6:  /* SEI */
	case 9:  /* access unit delimiter */
	case 10: /* end of sequence */
	case 11: /* end of stream */
	case 12: /* filler */
		return 0;
	case 7:
	case 8:
		return dd_fail(err, "H.264 %s NAL unit in the OUTPUT buffer: parameter sets come "
			       "as controls", type == 7 ? "SPS" : "PPS");
	default:
		return dd_fail(err, "H.264 NAL unit type %u in the OUTPUT buffer: only slices are "
			       "decoded", type);
	}
}

int dd_h264_for_each_slice(const uint8_t *buf, size_t len, bool annex_b, dd_h264_nal_fn fn,
			   void *opaque, struct dd_error *err)
{
	size_t pos, end;
	int slices = 0, r;

	if (!annex_b) {
		/*
		 * A NAL unit never holds 00 00 01 (emulation prevention), and the decoder, which
		 * gets the buffer behind one start code, would split it there: a slice, SEI or
		 * parameter set hidden behind it would reach the library past every check here.
		 */
		if (next_start_code(buf, len, 0) < len)
			return dd_fail(err, "a start code inside an H.264 slice sent without start "
				       "codes (START_CODE is NONE)");
		r = one_nal(buf, len, fn, opaque, err);
		return r < 0 ? -1 : r;
	}
	pos = next_start_code(buf, len, 0);
	if (pos == len)
		return dd_fail(err, "no H.264 start code in the OUTPUT buffer (START_CODE is "
			       "ANNEX_B)");
	while (pos < len) {
		pos += 3;
		end = next_start_code(buf, len, pos);
		/* zero bytes before a start code belong to it (4-byte form, trailing zeros) */
		size_t nal_end = end;

		while (nal_end > pos && !buf[nal_end - 1])
			nal_end--;
		r = one_nal(buf + pos, nal_end - pos, fn, opaque, err);
		if (r < 0)
			return -1;
		slices += r;
		pos = end;
	}
	return slices;
}

struct scan_state {
	const struct v4l2_ctrl_h264_sps *sps;
	const struct v4l2_ctrl_h264_pps *pps;
	const struct v4l2_ctrl_h264_decode_params *dp;
	unsigned int idr, non_idr, inter, redundant;
};

/*
 * A slice header that disagrees with what the client says it holds (DECODE_PARAMS, the PPS):
 * clients copy these fields from the slice headers, as hardware decoders need them, and every
 * slice of a picture carries the same values (7.4.3). A mismatch is damage in a header (a bit
 * that libavcodec would read as another frame_num or picture order count and decode into a
 * picture that looks right and is not), or a client out of step with its stream.
 * frame_num and the field flags are checked always: every client fills them (VA-API carries
 * them too). The PPS id, idr_pic_id and the picture order count fields only when the control
 * holds a value other than 0: VA-API carries none of them, so a VA-API bridge may leave them
 * 0, and a 0 there says nothing. GStreamer, FFmpeg and Chromium fill them all.
 */
static bool claimed_and_differs(uint32_t control, uint32_t slice)
{
	return control && control != slice;
}

static int header_against_controls(const struct dd_h264_slice_header *sh,
				   const struct scan_state *st, struct dd_error *err)
{
	const struct v4l2_ctrl_h264_decode_params *dp = st->dp;
	bool field = dp->flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC;
	bool bottom = dp->flags & V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD;

	if (sh->frame_num != dp->frame_num)
		return dd_fail(err, "H.264 slice has frame_num %u, DECODE_PARAMS %u", sh->frame_num,
			       dp->frame_num);
	if (sh->field_pic != field || (field && sh->bottom_field != bottom))
		return dd_fail(err, "H.264 slice is a %s, DECODE_PARAMS a %s",
			       sh->field_pic ? sh->bottom_field ? "bottom field" : "top field" : "frame",
			       field ? bottom ? "bottom field" : "top field" : "frame");
	if (claimed_and_differs(st->pps->pic_parameter_set_id, sh->pic_parameter_set_id))
		return dd_fail(err, "H.264 slice names PPS %u, the PPS control is %u",
			       sh->pic_parameter_set_id, st->pps->pic_parameter_set_id);
	/* an IDR slice in a non-IDR job is reported after the scan, with both counts */
	if (sh->idr && (dp->flags & V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC) &&
	    claimed_and_differs(dp->idr_pic_id, sh->idr_pic_id))
		return dd_fail(err, "H.264 slice has idr_pic_id %u, DECODE_PARAMS %u", sh->idr_pic_id,
			       dp->idr_pic_id);
	if (claimed_and_differs(dp->pic_order_cnt_lsb, sh->pic_order_cnt_lsb) ||
	    claimed_and_differs((uint32_t)dp->delta_pic_order_cnt_bottom,
				(uint32_t)sh->delta_pic_order_cnt_bottom) ||
	    claimed_and_differs((uint32_t)dp->delta_pic_order_cnt0,
				(uint32_t)sh->delta_pic_order_cnt[0]) ||
	    claimed_and_differs((uint32_t)dp->delta_pic_order_cnt1,
				(uint32_t)sh->delta_pic_order_cnt[1]))
		return dd_fail(err, "H.264 slice's picture order count fields (lsb %u, deltas %d %d "
			       "%d) are not DECODE_PARAMS' (%u, %d %d %d)", sh->pic_order_cnt_lsb,
			       sh->delta_pic_order_cnt_bottom, sh->delta_pic_order_cnt[0],
			       sh->delta_pic_order_cnt[1], dp->pic_order_cnt_lsb,
			       dp->delta_pic_order_cnt_bottom, dp->delta_pic_order_cnt0,
			       dp->delta_pic_order_cnt1);
	return 0;
}

/*
 * Long-term entries: the API asks for LongTermFrameIdx in frame_num and LongTermPicNum in
 * pic_num; clients differ (Chromium swaps them; FFmpeg's v4l2-request forks have put FrameNum
 * in frame_num and in pic_num whichever LongTermPicNum a modification named last, for fields
 * either parity's). Any of these values in either field will do: a check missed costs less
 * than a good picture refused.
 */
static bool long_term_matches(uint32_t v, uint32_t idx, uint32_t num, unsigned int parity)
{
	return v == idx || v == num || (parity && v == (num ^ 1));
}

/* Whether the DPB holds a picture for reference: parity 1 top field, 2 bottom, 0 either. */
static bool dpb_holds(const struct v4l2_ctrl_h264_decode_params *dp, bool long_term,
		      uint32_t frame_num, uint32_t pic_num, uint32_t max_frame_num,
		      unsigned int parity)
{
	const uint32_t want = V4L2_H264_DPB_ENTRY_FLAG_VALID | V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;

	for (unsigned int i = 0; i < V4L2_H264_NUM_DPB_ENTRIES; i++) {
		const struct v4l2_h264_dpb_entry *e = &dp->dpb[i];

		if ((e->flags & want) != want ||
		    !!(e->flags & V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM) != long_term)
			continue;
		/* a client that leaves `fields` 0 says nothing about parity */
		if (parity && e->fields && !(e->fields & parity))
			continue;
		/* short-term: frame_num as the slice header has it (the driver wraps it) */
		if (long_term ? long_term_matches(e->frame_num, frame_num, pic_num, parity) ||
				long_term_matches(e->pic_num, frame_num, pic_num, parity) :
				e->frame_num % max_frame_num == frame_num)
			return true;
	}
	return false;
}

/*
 * 8.2.4.3: each reference list modification names a picture by its picture number, which
 * must be one the DPB holds for reference. A damaged header names another (the fault
 * matrix's flipped bit turned an abs_diff_pic_num_minus1 of 1 into 2, naming a frame_num no
 * picture had), and libavcodec then logs "reference picture missing during reorder", puts
 * another picture in the list and decodes a wrong picture that it reports as good, even
 * with AV_EF_EXPLODE. The DPB is the client's: it is what a hardware decoder would predict
 * from, and what the daemon checks the references against.
 */
static int ref_mods_against_dpb(const struct dd_h264_slice_header *sh,
				const struct scan_state *st, struct dd_error *err)
{
	uint32_t max_frame_num = 1u << (st->sps->log2_max_frame_num_minus4 + 4u);
	uint32_t max_pic_num = sh->field_pic ? 2 * max_frame_num : max_frame_num;
	uint32_t curr = sh->field_pic ? 2 * sh->frame_num + 1 : sh->frame_num;
	unsigned int same = sh->bottom_field ? 2 : 1;

	for (unsigned int l = 0; l < 2; l++) {
		uint32_t pred = curr;

		for (unsigned int i = 0; i < sh->num_ref_mods[l]; i++) {
			const struct dd_h264_ref_mod *m = &sh->ref_mods[l][i];
			uint32_t num, frame;
			unsigned int parity;
			bool long_term = m->idc == 2;

			if (long_term) {
				num = m->value;
			} else {
				/* picNumLXNoWrap (8-34, 8-35); the reader bounded the difference */
				uint32_t d = m->value + 1;

				pred = m->idc ? (pred + d) % max_pic_num :
						(pred + max_pic_num - d) % max_pic_num;
				num = pred;
			}
			/* a field's picture numbers are 2 * frame + 1 for its own parity (8-28) */
			frame = sh->field_pic ? num >> 1 : num;
			parity = !sh->field_pic ? 0 : num & 1 ? same : 3 - same;
			if (dpb_holds(st->dp, long_term, frame, num, max_frame_num, parity))
				continue;
			/* a second field may name its own first field, which a DPB may leave out */
			if (sh->field_pic && !long_term && frame == sh->frame_num && parity != same)
				continue;
			return dd_fail(err, "H.264 slice's reference list %u, entry %u names %s "
				       "picture %u, which DECODE_PARAMS' DPB does not hold for "
				       "reference", l, i, long_term ? "long-term" : "short-term",
				       num);
		}
	}
	return 0;
}

static int note_slice(void *opaque, const uint8_t *nal, size_t len, struct dd_error *err)
{
	struct scan_state *st = opaque;
	struct dd_h264_slice_header sh;
	enum dd_h264_header_fault f;

	f = dd_h264_read_slice_header(nal, len, st->sps, st->pps, &sh);
	if (f)
		return dd_fail(err, "H.264 slice header: %s (slice_type %u, frame_num %u)",
			       dd_h264_header_fault_name(f), sh.slice_type, sh.frame_num);
	/*
	 * Extended profile's switching slices: libavcodec reads sp_for_switch_flag and
	 * slice_qs_delta and drops them, decoding SP as P and SI as I, a wrong picture with no
	 * error. Refused, so that the client knows.
	 */
	if (sh.slice_type % 5 == 3 || sh.slice_type % 5 == 4)
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED, "H.264 %s slice (Extended profile "
				    "stream switching): libavcodec does not decode it",
				    sh.slice_type % 5 == 3 ? "SP" : "SI");
	if (sh.idr)
		st->idr++;
	else
		st->non_idr++;
	if (sh.slice_type % 5 != 2 && sh.slice_type % 5 != 4) /* I and SI are intra */
		st->inter++;
	if (sh.redundant_pic_cnt)
		st->redundant++;
	if (header_against_controls(&sh, st, err))
		return -1;
	/* with gaps in frame_num, clients list the "non-existing" frames each their own way */
	if (st->sps->flags & V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED)
		return 0;
	return ref_mods_against_dpb(&sh, st, err);
}

int dd_check_h264_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err)
{
	const struct v4l2_ctrl_h264_sps *sps = job->ctrl.h264.sps;
	const struct v4l2_ctrl_h264_decode_params *dp = job->ctrl.h264.decode_params;
	struct scan_state st = { .sps = sps, .pps = job->ctrl.h264.pps, .dp = dp };
	bool idr, field, frame_mbs_only;
	int n;

	if (!dp)
		return dd_fail(err, "H.264 job without DECODE_PARAMS");
	if (dd_h264_check_params(sps, job->ctrl.h264.pps, job->ctrl.h264.scaling_matrix, err))
		return -1;
	n = dd_h264_for_each_slice(job->bitstream, job->bitstream_size, job->ctrl.h264.annex_b,
				   note_slice, &st, err);
	if (n < 0)
		return -1;
	if (!n)
		return dd_fail(err, "no H.264 slice in the OUTPUT buffer");
	/*
	 * libavcodec skips redundant slices (as clients do before sending): a request of nothing
	 * else would decode nothing, and a second field's would leave its first field's picture
	 * with the other field's lines never decoded.
	 */
	if ((unsigned int)n == st.redundant)
		return dd_fail(err, "only redundant H.264 slices (redundant_pic_cnt > 0) in the "
			       "OUTPUT buffer: no primary picture to decode");
	idr = dp->flags & V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC;
	if (st.idr && st.non_idr)
		return dd_fail(err, "IDR and non-IDR slices in one H.264 picture");
	if (idr != (st.idr > 0))
		return dd_fail(err, "controls say %s picture, slices say %s", idr ? "IDR" :
			       "non-IDR", st.idr ? "IDR" : "non-IDR");
	frame_mbs_only = sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY;
	field = dp->flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC;
	if (field && frame_mbs_only)
		return dd_fail(err, "H.264 field picture in a frames-only sequence");

	*x = (struct dd_expectation){
		.width = (sps->pic_width_in_mbs_minus1 + 1u) * 16,
		.height = (sps->pic_height_in_map_units_minus1 + 1u) * 16 * (frame_mbs_only ? 1 : 2),
		.bit_depth = sps->bit_depth_luma_minus8 + 8u,
		.profile = sps->profile_idc,
		.key_frame = idr,
		.intra = !st.inter,
		/* the second field's DPB names its own first field */
		.may_ref_self = field,
	};
	/*
	 * Entries in use for reference: the client names them by the timestamps of pictures it
	 * decoded here. With gaps in frame_num allowed, clients also list "non-existing" frames
	 * under made-up timestamps, so the check is skipped for such streams.
	 */
	if (sps->flags & V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED)
		return 0;
	for (unsigned int i = 0; i < V4L2_H264_NUM_DPB_ENTRIES; i++) {
		const struct v4l2_h264_dpb_entry *e = &dp->dpb[i];
		uint32_t want = V4L2_H264_DPB_ENTRY_FLAG_VALID | V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;

		if ((e->flags & want) == want && x->num_refs < DD_MAX_JOB_REFS)
			x->ref_ts[x->num_refs++] = e->reference_ts;
	}
	/*
	 * P and B slices predict from at least one picture: h264_access.c judges an empty DPB.
	 * Not for a field: the second field of an I/P pair may predict from its own first
	 * field only, which a client's DPB may leave out (ref_mods_against_dpb()).
	 */
	x->no_refs = !x->intra && !x->num_refs && !field;
	return 0;
}
