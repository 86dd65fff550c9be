/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An H.264 slice header (7.3.3) read whole, with the SPS and PPS the job's controls give,
 * and checked against the value ranges of 7.4.3. The fields a client copies into
 * DECODE_PARAMS are kept so a job can be checked against its own slices; the reference list
 * modifications are kept so they can be checked against the job's DPB. The rest (weights,
 * marking, QP, deblocking) is only read for its ranges and its length: a header that parses
 * to the wrong length ends where CABAC's alignment bits are not all ones.
 */
#ifndef DAEDALUS_H264_SLICE_HEADER_H
#define DAEDALUS_H264_SLICE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

/* 7.4.3.1: at most num_ref_idx_lX_active_minus1 + 1 modifications, that is 32 */
#define DD_H264_MAX_REF_MODS 32

struct dd_h264_ref_mod {
	uint8_t idc;	/* modification_of_pic_nums_idc: 0, 1 (short-term), 2 (long-term) */
	uint32_t value;	/* abs_diff_pic_num_minus1 or long_term_pic_num */
};

struct dd_h264_slice_header {
	uint32_t first_mb_in_slice;
	uint32_t slice_type;		/* 0..9 */
	uint32_t pic_parameter_set_id;
	uint32_t frame_num;
	bool field_pic, bottom_field;
	bool idr;			/* nal_unit_type 5 */
	uint8_t nal_ref_idc;
	uint32_t idr_pic_id;		/* IDR only */
	uint32_t pic_order_cnt_lsb;	/* pic_order_cnt_type 0 */
	int32_t delta_pic_order_cnt_bottom;
	int32_t delta_pic_order_cnt[2];	/* pic_order_cnt_type 1 */
	uint32_t redundant_pic_cnt;	/* 0: a primary picture's slice */
	uint32_t num_ref_idx_active[2];	/* after the override; 0 for lists the slice lacks */
	uint8_t num_ref_mods[2];
	struct dd_h264_ref_mod ref_mods[2][DD_H264_MAX_REF_MODS];
	uint32_t header_bits;		/* RBSP bits after the NAL header byte, before alignment */
};

/* Why a header was refused (dd_h264_read_slice_header's return value). */
enum dd_h264_header_fault {
	DD_H264_HEADER_OK = 0,
	DD_H264_HEADER_CUT,		/* the unit ends inside the header */
	DD_H264_HEADER_SLICE_TYPE,	/* above 9, or not intra in an IDR picture */
	DD_H264_HEADER_REDUNDANT,	/* redundant_pic_cnt above 127 */
	DD_H264_HEADER_REF_COUNT,	/* num_ref_idx_lX_active_minus1 past 15 (frame) or 31 */
	DD_H264_HEADER_REF_MODS,	/* idc above 3, too many, abs_diff_pic_num past MaxPicNum */
	DD_H264_HEADER_WEIGHTS,		/* a denominator past 7, a weight or offset past 8 bits */
	DD_H264_HEADER_MARKING,		/* memory_management_control_operation past 6, or too many */
	DD_H264_HEADER_QP,		/* slice QP or QS, or cabac_init_idc, out of range */
	DD_H264_HEADER_DEBLOCKING,	/* disable_deblocking_filter_idc past 2, offsets past 6 */
	DD_H264_HEADER_ALIGNMENT,	/* a cabac_alignment_one_bit that is 0 */
};

/*
 * Reads the header of one slice NAL unit (NAL header byte included, emulation prevention
 * bytes allowed), up to the start of the slice data. Fields the SPS and PPS leave out of the
 * header are 0. FMO's slice_group_change_cycle is not read: the job check refuses slice
 * groups before. The PPS's default reference counts are read from the control, as is the
 * PPS the daemon writes for libavcodec: a client that leaves them 0 (a VA-API bridge made for
 * slice-based decoders may) misleads libavcodec's parse as much as this one. Returns
 * DD_H264_HEADER_OK or the first fault found.
 */
enum dd_h264_header_fault dd_h264_read_slice_header(const uint8_t *nal, size_t len,
						    const struct v4l2_ctrl_h264_sps *sps,
						    const struct v4l2_ctrl_h264_pps *pps,
						    struct dd_h264_slice_header *sh);

/* A few words saying what the fault is, for a log line. */
const char *dd_h264_header_fault_name(enum dd_h264_header_fault f);

#endif
