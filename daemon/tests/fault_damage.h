/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where the fault matrix's damage lands, shared by the device clients' fault injection
 * (tests/tools/dv_fault.c) and the engine's test drivers (decode_h264 --flip-header), so that
 * a test without the device damages exactly the bit the matrix does.
 */
#ifndef DAEDALUS_TEST_FAULT_DAMAGE_H
#define DAEDALUS_TEST_FAULT_DAMAGE_H

#include <stddef.h>

/* the bit a header flip toggles */
#define FAULT_FLIP_MASK 0x10

/*
 * The byte a header flip toggles in a unit whose header ends at hdr_end (bytes, rounded up):
 * the middle of the header past its first byte (a NAL header, a frame marker); byte 0 when
 * the header has no byte past the first two.
 */
static inline size_t fault_flip_header_byte(size_t hdr_end)
{
	return hdr_end > 2 ? 1 + (hdr_end - 1) / 2 : 0;
}

#endif
