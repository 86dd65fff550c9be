/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rebuilds H.264 sequence and picture parameter set NAL units from the V4L2 controls.
 *
 * Stateless clients send only slice NAL units; the parameter sets reach the driver as
 * v4l2_ctrl_h264_sps / _pps / _scaling_matrix. A bitstream decoder needs them back as NAL
 * units, so these writers encode exactly what the controls carry:
 *  - no VUI and no frame cropping (the controls have neither): neither changes decoded
 *    pixels; the full macroblock-aligned frame is decoded and the client crops;
 *  - scaling lists: the SPS says "none"; the PPS carries the effective matrix of the picture
 *    (the caller decides which, see dm_job) written out in full, or flat when matrix is NULL.
 * Both NAL units are written with a 4-byte Annex-B start code and emulation prevention.
 * The controls must have passed dd_h264_check_params() (h264_check.h) first.
 */
#ifndef DAEDALUS_H264_PARAM_WRITER_H
#define DAEDALUS_H264_PARAM_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

/* Large enough for any SPS or PPS the controls can describe (255 full-range POC offsets, 8 lists). */
#define DD_H264_PARAM_NAL_MAX 4096

/* Bytes written to out (start code included), or 0 if cap is too small. */
size_t dd_h264_write_sps(const struct v4l2_ctrl_h264_sps *sps, uint8_t *out, size_t cap);
size_t dd_h264_write_pps(const struct v4l2_ctrl_h264_pps *pps,
			 const struct v4l2_ctrl_h264_scaling_matrix *matrix, uint8_t *out,
			 size_t cap);

/* Frame zig-zag scans: position in the list -> raster index (the lists' transmission order). */
extern const uint8_t dd_h264_zigzag4x4[16];
extern const uint8_t dd_h264_zigzag8x8[64];

#endif
