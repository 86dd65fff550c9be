/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Row kernels of the pixel-format writers (picture.c): one row of a plane, from the planar
 * 4:2:0 samples decoders produce to a CAPTURE format. They run once per pixel of every
 * picture, so they are most of the engine's own cost.
 *
 * CAPTURE memory is written once and read by someone else (the client, a display, a GPU),
 * never by the engine. Where the CPU has streaming (non-temporal) stores, the rows are written
 * with them: the plain stores' read of each destination line before it is overwritten, and the
 * eviction of the decoder's own working set to make room for those lines, are a third of the
 * memory traffic of a 2160p or a 10-bit picture. Call dd_rows_done() after the last row of a
 * picture, before the picture is handed over.
 */
#ifndef DAEDALUS_PICTURE_ROWS_H
#define DAEDALUS_PICTURE_ROWS_H

#include <stddef.h>
#include <stdint.h>

/* n bytes */
void dd_row_copy(uint8_t *restrict d, const uint8_t *restrict s, size_t n);
/* n samples of each: d = u0 v0 u1 v1 ... */
void dd_row_interleave8(uint8_t *restrict d, const uint8_t *restrict u,
			const uint8_t *restrict v, uint32_t n);
/* n 16-bit host-endian samples to little-endian samples shifted left by shift */
void dd_row_p010(uint8_t *restrict d, const uint16_t *restrict s, uint32_t n,
		 unsigned int shift);
/* n samples of each, interleaved as in dd_row_interleave8, shifted as in dd_row_p010 */
void dd_row_p010_chroma(uint8_t *restrict d, const uint16_t *restrict u,
			const uint16_t *restrict v, uint32_t n, unsigned int shift);
/* Orders the streaming stores of the rows written so far before any later store. */
void dd_rows_done(void);

#endif
