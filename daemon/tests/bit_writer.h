/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An MSB-first bit writer for headers the unit tests make by hand (VP9 frame headers, H.264
 * slice headers): zero the struct, then put values; pos counts bits.
 */
#ifndef DAEDALUS_TEST_BIT_WRITER_H
#define DAEDALUS_TEST_BIT_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* a test that writes longer headers defines BW_BYTES before including this */
#ifndef BW_BYTES
#define BW_BYTES 64
#endif

struct bw {
	uint8_t buf[BW_BYTES];
	size_t pos;
};

static inline void put(struct bw *b, uint32_t v, unsigned int n)
{
	while (n--) {
		if ((v >> n) & 1)
			b->buf[b->pos / 8] |= (uint8_t)(0x80 >> (b->pos % 8));
		b->pos++;
	}
}

#endif
