/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dd_check_h264_job() against slice headers written here bit by bit: a job whose
 * DECODE_PARAMS and PPS say what its slices say passes, and each field a client copies from
 * the slice header (PPS id, frame_num, field or frame, idr_pic_id, the picture order count
 * fields) fails the job when one bit of it differs, as a damaged header does. The fields
 * VA-API does not carry pass when the control leaves them 0 (what a VA-API bridge sends).
 * The rest of the header: a reference list modification must name a picture the DPB holds
 * (short-term across a frame_num wrap, long-term, fields of either parity), and values out of
 * 7.4.3's ranges or CABAC alignment bits that are not ones fail the job, each for its reason.
 * The reader's length: headers with every optional part (B and SP/SI slices, both lists'
 * weights with chroma, every marking operation, deblocking offsets, redundant_pic_cnt, a field
 * with 32 references) end where they were written to end, or a misread length would make the
 * alignment check refuse good pictures.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* a field slice header with 32 references, their modifications and weights */
#define BW_BYTES 256
#include "bit_writer.h"
#include "engine.h"
#include "expectation.h"
#include "h264_check.h"
#include "h264_slice_header.h"
#include "test_check.h"

static int failures;

static void put_ue(struct bw *w, uint32_t v)
{
	unsigned int len = 0;

	while ((v + 1ull) >> (len + 1))
		len++;
	put(w, 0, len);
	put(w, v + 1, len + 1);
}

static void put_se(struct bw *w, int32_t v)
{
	put_ue(w, v > 0 ? 2u * (uint32_t)v - 1 : 2u * (uint32_t)-v);
}

/* What one slice header says; the controls are made from the same values. */
struct header {
	bool idr, field, bottom;
	uint32_t pps_id, frame_num, idr_pic_id, poc_lsb;
	int32_t delta_bottom;
	int32_t delta[2];	/* pic_order_cnt_type 1 */
	/* the rest of a P slice's header: list 0's modifications (idc, value) */
	unsigned int num_mods;
	uint32_t mods[4][2];
	uint32_t refs;		/* num_ref_idx_l0_active_minus1 + 1 if overridden, or 0 */
	uint32_t mmco;		/* one adaptive marking operation (1..6; 7 is invalid) */
	int32_t qp_delta;
	bool cabac, zero_align;	/* CABAC; a 0 among the alignment bits */
	bool p_in_idr;		/* slice_type P although the NAL unit is IDR */
	bool sp;		/* slice_type SP (Extended profile): a P slice's header and more */
	uint32_t redundant;	/* redundant_pic_cnt, when the PPS has it (redundant_present) */
};

/* The DPB the controls carry (frames 8 and 7, short-term, unless a test says otherwise). */
static struct v4l2_h264_dpb_entry dpb[V4L2_H264_NUM_DPB_ENTRIES];

static void set_dpb(unsigned int n, const uint16_t *frame_nums, uint32_t flags, uint32_t fields)
{
	memset(dpb, 0, sizeof(dpb));
	for (unsigned int i = 0; i < n; i++)
		dpb[i] = (struct v4l2_h264_dpb_entry){
			.reference_ts = 1000u * (i + 1), .frame_num = frame_nums[i],
			.pic_num = frame_nums[i], .fields = (uint8_t)fields,
			.flags = V4L2_H264_DPB_ENTRY_FLAG_VALID | V4L2_H264_DPB_ENTRY_FLAG_ACTIVE |
				 flags,
		};
}

/* The sequence the slices belong to: pic_order_cnt_type 0 or 1, fields allowed or not. */
static unsigned int poc_type;
static bool frames_only;

/*
 * An Annex B slice NAL unit: the header for an SPS with 4-bit frame_num, pic_order_cnt_type
 * poc_type (type 0: a 6-bit lsb), field pictures unless frames_only, and a PPS with the
 * bottom field POC fields, one reference by default, no weights and no deblocking fields;
 * then a few bytes of "data" (no byte of it may look like a start code).
 */
static bool ended_aligned; /* the last header write_slice() wrote needed no alignment bits */
/* check(): the slice without its start code (START_CODE_NONE), followed by `tail` */
static bool bare;
static bool redundant_present; /* the PPS's redundant_pic_cnt_present_flag */
static const uint8_t *tail;
static size_t tail_len;

static size_t write_slice(uint8_t *out, const struct header *h)
{
	struct bw w = { 0 };

	put(&w, h->idr ? 0x65 : 0x41, 8);
	put_ue(&w, 0);			/* first_mb_in_slice */
	put_ue(&w, h->sp ? 8 : h->idr && !h->p_in_idr ? 7 : 5); /* I, P or SP, all alike */
	put_ue(&w, h->pps_id);
	put(&w, h->frame_num, 4);
	if (!frames_only) {
		put(&w, h->field, 1);
		if (h->field)
			put(&w, h->bottom, 1);
	}
	if (h->idr)
		put_ue(&w, h->idr_pic_id);
	if (poc_type == 0) {
		put(&w, h->poc_lsb, 6);
		if (!h->field)
			put_se(&w, h->delta_bottom);
	} else {
		put_se(&w, h->delta[0]);
		if (!h->field)
			put_se(&w, h->delta[1]);
	}
	if (redundant_present)
		put_ue(&w, h->redundant);
	if (!h->idr || h->p_in_idr) {
		put(&w, h->refs != 0, 1); /* num_ref_idx_active_override_flag */
		if (h->refs)
			put_ue(&w, h->refs - 1);
		put(&w, h->num_mods != 0, 1); /* ref_pic_list_modification_flag_l0 */
		for (unsigned int i = 0; i < h->num_mods; i++) {
			put_ue(&w, h->mods[i][0]);
			put_ue(&w, h->mods[i][1]);
		}
		if (h->num_mods)
			put_ue(&w, 3);
	}
	if (h->idr) {
		put(&w, 0, 2); /* no_output_of_prior_pics_flag, long_term_reference_flag */
	} else {
		put(&w, h->mmco != 0, 1); /* adaptive_ref_pic_marking_mode_flag */
		if (h->mmco) {
			put_ue(&w, h->mmco);
			if (h->mmco != 5)
				put_ue(&w, 0);
			if (h->mmco == 3)
				put_ue(&w, 0);
			put_ue(&w, 0);
		}
	}
	if (h->cabac && (!h->idr || h->p_in_idr))
		put_ue(&w, 0); /* cabac_init_idc */
	put_se(&w, h->qp_delta);
	if (h->sp) {
		put(&w, 0, 1); /* sp_for_switch_flag */
		put_se(&w, 0); /* slice_qs_delta */
	}
	ended_aligned = w.pos % 8 == 0;
	if (h->cabac) {
		bool first = true;

		while (w.pos % 8) {
			put(&w, !(h->zero_align && first), 1);
			first = false;
		}
	}
	put(&w, 0x5a5a5a, 24);
	put(&w, 1, 1); /* rbsp_stop_one_bit */
	memcpy(out, "\0\0\1", 3);
	memcpy(out + 3, w.buf, (w.pos + 7) / 8);
	return 3 + (w.pos + 7) / 8;
}

/* What the last check() filled in. */
static struct dd_expectation checked;

/* Runs the check on a slice with `slice`'s header and controls made from `ctrl`. */
static int check(const struct header *slice, const struct header *ctrl, struct dd_error *err)
{
	struct v4l2_ctrl_h264_sps sps = {
		.profile_idc = 100, .level_idc = 40, .chroma_format_idc = 1,
		.log2_max_frame_num_minus4 = 0, .pic_order_cnt_type = (uint8_t)poc_type,
		.log2_max_pic_order_cnt_lsb_minus4 = 2, .max_num_ref_frames = 2,
		.pic_width_in_mbs_minus1 = 3, .pic_height_in_map_units_minus1 = 1,
		.flags = V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE |
			 (frames_only ? V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY : 0),
	};
	struct v4l2_ctrl_h264_pps pps = {
		.pic_parameter_set_id = (uint8_t)ctrl->pps_id,
		.flags = V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT |
			 (slice->cabac ? V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE : 0) |
			 (redundant_present ? V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT : 0),
	};
	struct v4l2_ctrl_h264_decode_params dp = {
		.frame_num = (uint16_t)ctrl->frame_num,
		.idr_pic_id = (uint16_t)ctrl->idr_pic_id,
		.pic_order_cnt_lsb = (uint16_t)ctrl->poc_lsb,
		.delta_pic_order_cnt_bottom = ctrl->delta_bottom,
		.delta_pic_order_cnt0 = ctrl->delta[0],
		.delta_pic_order_cnt1 = ctrl->delta[1],
		.flags = (ctrl->idr ? V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC : 0) |
			 (ctrl->field ? V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC : 0) |
			 (ctrl->bottom ? V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD : 0),
	};
	uint8_t bitstream[80];
	struct dd_job job = { .codec = DD_CODEC_H264 };
	struct dd_expectation x;
	int r;

	memcpy(dp.dpb, dpb, sizeof(dpb));
	job.ctrl.h264.sps = &sps;
	job.ctrl.h264.pps = &pps;
	job.ctrl.h264.decode_params = &dp;
	job.ctrl.h264.annex_b = !bare;
	job.bitstream = bitstream + (bare ? 3 : 0);
	job.bitstream_size = write_slice(bitstream, slice) - (bare ? 3 : 0);
	if (tail_len && tail_len <= sizeof(bitstream) - 3 - job.bitstream_size) {
		memcpy(bitstream + (bare ? 3 : 0) + job.bitstream_size, tail, tail_len);
		job.bitstream_size += tail_len;
	}
	memset(err, 0, sizeof(*err));
	memset(&x, 0, sizeof(x));
	r = dd_check_h264_job(&job, &x, err);
	checked = x;
	return r;
}

static void agree(const char *what, const struct header *h)
{
	struct dd_error err;

	CHECK(check(h, h, &err) == 0, "%s: slice and controls agree, but: %s", what, err.msg);
}

/*
 * The slice says `h` with one field changed; the controls say `h`. The job must fail for
 * the reason `why` names (a part of the message), not for another.
 */
static void refused(const char *what, const struct header *h, const struct header *slice,
		    const char *why)
{
	int failed_before = failures;
	struct dd_error err;

	CHECK(check(slice, h, &err) == -1, "%s: a slice that disagrees with the controls passed",
	      what);
	CHECK(err.kind == DD_ERR_DATA, "%s: error kind %d, want DD_ERR_DATA", what, err.kind);
	CHECK(strstr(err.msg, why), "%s: failed for another reason than \"%s\": %s", what, why,
	      err.msg);
	if (failures == failed_before)
		printf("ok   %s: %s\n", what, err.msg);
}

static void differ(const char *what, const struct header *h, const struct header *slice)
{
	refused(what, h, slice, "DECODE_PARAMS");
}

/* A slice whose header is wrong in itself: the controls say the same. */
static void invalid(const char *what, const struct header *h, const char *why)
{
	refused(what, h, h, why);
}

/* Reference list modifications against the DPB (frames 8 and 7 for P frame 9). */
static void ref_mods(const struct header *p)
{
	struct header h = *p;

	h.refs = 2, h.num_mods = 2;
	h.mods[0][0] = 0, h.mods[0][1] = 1; /* 9 - 2: frame 7 */
	h.mods[1][0] = 1, h.mods[1][1] = 0; /* 7 + 1: frame 8 */
	agree("modifications naming frames 7 and 8", &h);
	/* the matrix's flipped bit: abs_diff_pic_num_minus1 1 became 2 */
	h.mods[0][1] = 2;
	invalid("modification naming frame 6, not in the DPB", &h, "DPB does not hold");
	h.mods[0][1] = 1, h.mods[1][1] = 1;
	invalid("modification naming frame 9, the picture itself", &h, "DPB does not hold");

	/* across the wrap (MaxFrameNum 16): frame 1 predicting from 15 and 0 */
	set_dpb(2, (const uint16_t[]){ 15, 0 }, 0, V4L2_H264_FRAME_REF);
	h = *p, h.frame_num = 1, h.refs = 2, h.num_mods = 2;
	h.mods[0][0] = 0, h.mods[0][1] = 1; /* 1 - 2 + 16 */
	h.mods[1][0] = 1, h.mods[1][1] = 0; /* 15 + 1 - 16 */
	agree("modifications across the frame_num wrap", &h);
	h.mods[1][1] = 1;
	invalid("modification across the wrap naming frame 1", &h, "DPB does not hold");

	/* long-term: LongTermFrameIdx 2 in frame_num, as the API asks */
	set_dpb(2, (const uint16_t[]){ 8, 2 }, 0, V4L2_H264_FRAME_REF);
	dpb[1].flags |= V4L2_H264_DPB_ENTRY_FLAG_LONG_TERM;
	h = *p, h.num_mods = 1;
	h.mods[0][0] = 2, h.mods[0][1] = 2;
	agree("modification naming long-term picture 2", &h);
	h.mods[0][1] = 8;
	invalid("modification naming long-term 8, a short-term frame", &h, "long-term");

	/* fields: top field 7 names (CurrPicNum 15) its own bottom field and top field 6 */
	if (!frames_only) {
		set_dpb(1, (const uint16_t[]){ 6 }, 0, V4L2_H264_TOP_FIELD_REF);
		h = *p, h.field = true, h.frame_num = 7, h.delta_bottom = 0, h.refs = 2;
		h.num_mods = 2;
		h.mods[0][0] = 0, h.mods[0][1] = 0; /* 14: frame 7, the other parity */
		h.mods[1][0] = 0, h.mods[1][1] = 0; /* 13: frame 6, this parity */
		agree("second field naming its first field and a top field", &h);
		set_dpb(1, (const uint16_t[]){ 6 }, 0, V4L2_H264_BOTTOM_FIELD_REF);
		invalid("field naming a top field the DPB holds as bottom only", &h,
			"DPB does not hold");
	}
	set_dpb(2, (const uint16_t[]){ 8, 7 }, 0, V4L2_H264_FRAME_REF);
}

/* Values out of 7.4.3's ranges, each refused for its own reason. */
static void ranges(const struct header *p, const struct header *idr)
{
	struct header h = *p;

	h.refs = 17;
	invalid("17 references for a frame", &h, "num_ref_idx");
	h = *p, h.num_mods = 2;
	h.mods[0][0] = 0, h.mods[0][1] = 0;
	h.mods[1][0] = 0, h.mods[1][1] = 0;
	invalid("two modifications for one reference", &h, "ref_pic_list_modification");
	h = *p, h.num_mods = 1, h.mods[0][0] = 4;
	invalid("modification_of_pic_nums_idc 4", &h, "ref_pic_list_modification");
	h = *p, h.num_mods = 1, h.mods[0][1] = 16;
	invalid("abs_diff_pic_num of 17 with MaxPicNum 16", &h, "ref_pic_list_modification");
	h = *p, h.mmco = 3;
	agree("marking operation 3", &h);
	h.mmco = 7;
	invalid("marking operation 7", &h, "dec_ref_pic_marking");
	h = *p, h.qp_delta = 25;
	agree("slice QP 51", &h);
	h.qp_delta = 26;
	invalid("slice QP 52", &h, "slice QP");
	h = *p, h.qp_delta = -27;
	invalid("slice QP -1 at 8 bits", &h, "slice QP");
	h = *idr, h.p_in_idr = true;
	invalid("a P slice in an IDR picture", &h, "IDR picture");
	/* slice_qp_delta 0 or 1 (1 or 3 bits): one of them leaves alignment bits to clear */
	for (unsigned int i = 0; i < 4; i++) {
		uint8_t buf[80];

		h = i < 2 ? *p : *idr;
		h.cabac = true, h.qp_delta = i % 2;
		agree(i < 2 ? "CABAC P frame" : "CABAC IDR frame", &h);
		write_slice(buf, &h);
		if (ended_aligned)
			continue;
		h.zero_align = true;
		invalid(i < 2 ? "CABAC P frame, alignment bit 0" : "CABAC IDR frame, alignment bit 0",
			&h, "cabac_alignment_one_bit");
	}
}


/* A header with every optional part the reader knows, for its length (see lengths()). */
struct full {
	unsigned int type;		/* 0 P, 1 B, 2 I, 3 SP, 4 SI */
	bool idr, field, mono, cabac, redundant, wp, dbf;
	unsigned int ref_idc, wb;	/* nal_ref_idc, weighted_bipred_idc */
	uint32_t refs[2];		/* overridden num_ref_idx_active, or 0 */
	unsigned int mods;		/* modifications per list (idc 0, 1, 2 in turn) */
	unsigned int mmcos;		/* marking operations 1, 2, 3, 4, 6, 5 in turn (up to 6) */
	unsigned int dbf_idc;
};

static uint32_t write_full(struct bw *w, const struct full *f, struct v4l2_ctrl_h264_sps *sps,
			   struct v4l2_ctrl_h264_pps *pps)
{
	static const uint32_t ops[] = { 1, 2, 3, 4, 6, 5 };
	unsigned int t = f->type % 5;
	unsigned int lists = t == 1 ? 2 : t == 2 || t == 4 ? 0 : 1;
	uint32_t active[2] = { 1, 1 };
	uint32_t start;

	*sps = (struct v4l2_ctrl_h264_sps){
		.profile_idc = 100, .chroma_format_idc = f->mono ? 0 : 1,
		.log2_max_pic_order_cnt_lsb_minus4 = 2, .max_num_ref_frames = 16,
	};
	*pps = (struct v4l2_ctrl_h264_pps){
		.weighted_bipred_idc = (uint8_t)f->wb,
		.flags = (f->cabac ? V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE : 0) |
			 (f->redundant ? V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT : 0) |
			 (f->wp ? V4L2_H264_PPS_FLAG_WEIGHTED_PRED : 0) |
			 (f->dbf ? V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT : 0),
	};
	put(w, (f->ref_idc << 5) | (f->idr ? 5 : 1), 8);
	start = (uint32_t)w->pos;
	put_ue(w, 0);
	put_ue(w, f->type);
	put_ue(w, 0);
	put(w, 3, 4);			/* frame_num */
	put(w, f->field, 1);
	if (f->field)
		put(w, 1, 1);		/* bottom */
	if (f->idr)
		put_ue(w, 1);
	put(w, 9, 6);			/* pic_order_cnt_lsb */
	if (f->redundant)
		put_ue(w, 5);
	if (t == 1)
		put(w, 1, 1);		/* direct_spatial_mv_pred_flag */
	if (lists) {
		put(w, f->refs[0] != 0, 1);
		if (f->refs[0]) {
			put_ue(w, f->refs[0] - 1);
			active[0] = f->refs[0];
			if (lists > 1) {
				put_ue(w, f->refs[1] - 1);
				active[1] = f->refs[1];
			}
		}
		for (unsigned int l = 0; l < lists; l++) {
			put(w, f->mods != 0, 1);
			for (unsigned int i = 0; i < f->mods; i++) {
				put_ue(w, i % 3);
				put_ue(w, i % 8); /* below MaxPicNum (16 or 32) */
			}
			if (f->mods)
				put_ue(w, 3);
		}
	}
	if ((f->wp && (t == 0 || t == 3)) || (f->wb == 1 && t == 1)) {
		put_ue(w, 5);
		if (!f->mono)
			put_ue(w, 4);
		for (unsigned int l = 0; l < lists; l++)
			for (uint32_t i = 0; i < active[l]; i++) {
				put(w, i % 2, 1); /* luma weights for every other entry */
				if (i % 2) {
					put_se(w, -128);
					put_se(w, 127);
				}
				if (f->mono)
					continue;
				put(w, 1, 1);
				for (unsigned int c = 0; c < 2; c++) {
					put_se(w, 100);
					put_se(w, -100);
				}
			}
	}
	if (f->ref_idc) {
		if (f->idr) {
			put(w, 1, 2);
		} else {
			put(w, f->mmcos != 0, 1);
			for (unsigned int i = 0; i < f->mmcos; i++) {
				put_ue(w, ops[i]);
				if (ops[i] != 5)
					put_ue(w, 2);
				if (ops[i] == 3)
					put_ue(w, 1);
			}
			if (f->mmcos)
				put_ue(w, 0);
		}
	}
	if (f->cabac && lists)
		put_ue(w, 2);
	put_se(w, -3);
	if (t == 3)
		put(w, 1, 1);
	if (t == 3 || t == 4)
		put_se(w, 4);
	if (f->dbf) {
		put_ue(w, f->dbf_idc);
		if (f->dbf_idc != 1) {
			put_se(w, -6);
			put_se(w, 6);
		}
	}
	return (uint32_t)w->pos - start;
}

static void lengths(void)
{
	static const struct full cases[] = {
		{ .type = 1, .ref_idc = 1, .wb = 1, .refs = { 3, 3 }, .mods = 3, .mmcos = 6,
		  .cabac = true, .dbf = true },
		{ .type = 1, .wb = 2, .refs = { 2, 2 }, .mods = 2, .dbf = true, .dbf_idc = 2 },
		{ .type = 0, .field = true, .ref_idc = 2, .wp = true, .refs = { 32 }, .mods = 32,
		  .mono = true },
		{ .type = 0, .ref_idc = 3, .wp = true, .mmcos = 3, .redundant = true,
		  .cabac = true },
		{ .type = 3, .ref_idc = 1, .wp = true, .refs = { 4 }, .mods = 1, .dbf = true,
		  .dbf_idc = 1 },
		{ .type = 4, .ref_idc = 1, .redundant = true },
		{ .type = 2, .idr = true, .ref_idc = 3, .cabac = true, .dbf = true },
		{ .type = 7, .idr = true, .ref_idc = 3, .dbf = true, .dbf_idc = 1 },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct v4l2_ctrl_h264_sps sps;
		struct v4l2_ctrl_h264_pps pps;
		struct dd_h264_slice_header sh;
		struct bw w = { 0 };
		uint32_t bits = write_full(&w, &cases[i], &sps, &pps);
		enum dd_h264_header_fault f;

		put(&w, 0xff, 8); /* alignment ones and some data; the stop bit */
		put(&w, 0x80, 8);
		CHECK(w.pos <= 8 * sizeof(w.buf), "header %u overflows the writer", i);
		f = dd_h264_read_slice_header(w.buf, (w.pos + 7) / 8, &sps, &pps, &sh);
		CHECK(f == DD_H264_HEADER_OK, "header %u (slice_type %u): %s", i, cases[i].type,
		      dd_h264_header_fault_name(f));
		CHECK(sh.header_bits == bits, "header %u (slice_type %u): %u bits read, %u written",
		      i, cases[i].type, sh.header_bits, bits);
		if (f == DD_H264_HEADER_OK && sh.header_bits == bits)
			printf("ok   header %u (slice_type %u): %u bits, read whole\n", i,
			       cases[i].type, bits);
	}
}

int main(void)
{
	const struct header idr = { .idr = true, .pps_id = 3, .frame_num = 0, .idr_pic_id = 5,
				    .poc_lsb = 0, .delta_bottom = 1 };
	const struct header p = { .pps_id = 3, .frame_num = 9, .poc_lsb = 36,
				  .delta_bottom = -2 };
	const struct header top = { .pps_id = 3, .frame_num = 7, .field = true, .poc_lsb = 41 };
	const struct header bottom = { .pps_id = 3, .frame_num = 7, .field = true,
				       .bottom = true, .poc_lsb = 42 };
	struct dd_error err;
	struct header h;

	agree("IDR frame", &idr);
	CHECK(!checked.no_refs, "an IDR frame counted as P or B slices without references");
	/* P slices and nothing for reference in the DPB: h264_access.c decides (no_refs) */
	agree("P frame, empty DPB", &p);
	CHECK(checked.no_refs, "P frame with an empty DPB: no_refs not set");
	dpb[0] = (struct v4l2_h264_dpb_entry){ .reference_ts = 1000, .frame_num = 8,
		.fields = V4L2_H264_FRAME_REF, .flags = V4L2_H264_DPB_ENTRY_FLAG_VALID };
	agree("P frame, DPB with a picture not used for reference", &p);
	CHECK(checked.no_refs, "P frame whose DPB holds no picture for reference: no_refs not set");
	/* a field may predict from its own first field only, which the DPB may leave out */
	agree("bottom P field, empty DPB", &bottom);
	CHECK(!checked.no_refs, "a P field with an empty DPB counted as predicting from nothing");
	set_dpb(2, (const uint16_t[]){ 8, 7 }, 0, V4L2_H264_FRAME_REF);
	agree("P frame", &p);
	CHECK(!checked.no_refs && checked.num_refs == 2, "P frame with two references: no_refs %d, "
	      "%u references", checked.no_refs, checked.num_refs);
	agree("top field", &top);
	agree("bottom field", &bottom);
	h = idr, h.pps_id ^= 1;
	refused("PPS id", &idr, &h, "PPS control");
	h = p, h.frame_num ^= 4;
	differ("frame_num", &p, &h);
	h = idr, h.idr_pic_id ^= 2;
	differ("idr_pic_id", &idr, &h);
	h = p, h.poc_lsb ^= 16;
	differ("pic_order_cnt_lsb", &p, &h);
	h = p, h.delta_bottom = 2;
	differ("delta_pic_order_cnt_bottom", &p, &h);
	h = top, h.bottom = true;
	differ("bottom field for a top field", &top, &h);
	h = p, h.field = true;
	differ("field for a frame", &p, &h);
	h = p, h.idr = true;
	refused("IDR slice in a non-IDR job", &p, &h, "slices say IDR");
	/* libavcodec would decode an SP slice as P, ignoring what makes it SP: not as good */
	h = p, h.sp = true;
	CHECK(check(&h, &h, &err) == -1 && err.kind == DD_ERR_UNSUPPORTED &&
	      strstr(err.msg, "SP slice"), "an SP slice was not refused as unsupported: %s",
	      err.msg);

	/* a VA-API bridge: no PPS id, idr_pic_id or POC fields in the controls */
	h = idr, h.pps_id = 0, h.idr_pic_id = 0, h.poc_lsb = 0, h.delta_bottom = 0;
	CHECK(check(&idr, &h, &err) == 0, "IDR, fields VA-API lacks left 0: %s", err.msg);
	h = p, h.pps_id = 0, h.poc_lsb = 0, h.delta_bottom = 0;
	CHECK(check(&p, &h, &err) == 0, "P, fields VA-API lacks left 0: %s", err.msg);
	h.frame_num ^= 1;
	CHECK(check(&p, &h, &err) == -1, "P, fields VA-API lacks left 0, frame_num off by one: "
	      "passed");

	ref_mods(&p);
	ranges(&p, &idr);
	lengths();

	/*
	 * START_CODE_NONE: the buffer is one slice. Bytes 00 00 01 inside it (which no NAL unit
	 * holds) would make the decoder see a second NAL unit there, unchecked: here an SPS.
	 */
	bare = true;
	agree("slice without a start code", &p);
	tail = (const uint8_t[]){ 0, 0, 1, 0x67, 0x64, 0, 0x28 };
	tail_len = 7;
	invalid("slice without a start code hiding an SPS behind 00 00 01", &p,
		"start code inside");
	bare = false;
	invalid("the same bytes with start codes (ANNEX_B): the SPS is seen and refused", &p,
		"SPS NAL unit");
	tail_len = 0;

	/* redundant slices: libavcodec skips them, so a request of nothing else decodes nothing */
	redundant_present = true;
	agree("a primary slice, redundant_pic_cnt present", &bottom);
	h = bottom, h.redundant = 1;
	invalid("a second field of redundant slices only", &h, "only redundant");
	redundant_present = false;

	/* frames only: no field_pic_flag in the header */
	frames_only = true;
	agree("frames-only P frame", &p);
	h = p, h.frame_num ^= 2;
	differ("frames-only frame_num", &p, &h);
	h = p, h.poc_lsb ^= 1;
	differ("frames-only pic_order_cnt_lsb", &p, &h);
	ref_mods(&p);
	ranges(&p, &idr);

	/* pic_order_cnt_type 1: the two deltas instead of the lsb */
	poc_type = 1;
	h = p, h.poc_lsb = 0, h.delta_bottom = 0, h.delta[0] = -3, h.delta[1] = 5;
	agree("POC type 1 P frame", &h);
	{
		struct header d = h;

		d.delta[0] = 3;
		differ("delta_pic_order_cnt[0]", &h, &d);
		d = h, d.delta[1] = 4;
		differ("delta_pic_order_cnt[1]", &h, &d);
	}

	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
