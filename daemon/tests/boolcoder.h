/* SPDX-License-Identifier: BSD-2-Clause */
/* Bit reader and the VP8/VP9 boolean (arithmetic) decoder, for the test's header parsers. */
#ifndef DAEDALUS_TEST_BOOLCODER_H
#define DAEDALUS_TEST_BOOLCODER_H

#include <stddef.h>
#include <stdint.h>

struct bitreader {
	const uint8_t *d;
	size_t size;
	size_t pos; /* bits */
	int overrun;
};

static inline uint32_t br_bits(struct bitreader *b, unsigned int n)
{
	uint32_t v = 0;

	while (n--) {
		if (b->pos >= b->size * 8) {
			b->overrun = 1;
			return 0;
		}
		v = v << 1 | ((b->d[b->pos / 8] >> (7 - b->pos % 8)) & 1);
		b->pos++;
	}
	return v;
}

/* magnitude then sign bit, as VP9's su(n) */
static inline int br_signed(struct bitreader *b, unsigned int n)
{
	int v = (int)br_bits(b, n);

	return br_bits(b, 1) ? -v : v;
}

struct boolcoder {
	const uint8_t *d, *end;
	uint32_t value;
	uint32_t range;
	int bit_count;
};

static inline void bc_init(struct boolcoder *bc, const uint8_t *d, size_t size)
{
	bc->d = d;
	bc->end = d + size;
	bc->value = 0;
	for (int i = 0; i < 2; i++)
		bc->value = bc->value << 8 | (bc->d < bc->end ? *bc->d++ : 0);
	bc->range = 255;
	bc->bit_count = 0;
}

static inline int bc_bool(struct boolcoder *bc, unsigned int prob)
{
	uint32_t split = 1 + (((bc->range - 1) * prob) >> 8);
	uint32_t big_split = split << 8;
	int bit;

	if (bc->value >= big_split) {
		bit = 1;
		bc->range -= split;
		bc->value -= big_split;
	} else {
		bit = 0;
		bc->range = split;
	}
	while (bc->range < 128) {
		bc->value <<= 1;
		bc->range <<= 1;
		if (++bc->bit_count == 8) {
			bc->bit_count = 0;
			bc->value |= bc->d < bc->end ? *bc->d++ : 0;
		}
	}
	return bit;
}

static inline uint32_t bc_literal(struct boolcoder *bc, unsigned int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 1 | (uint32_t)bc_bool(bc, 128);
	return v;
}

/* magnitude then sign, as VP8's signed header fields */
static inline int bc_signed(struct boolcoder *bc, unsigned int n)
{
	int v = (int)bc_literal(bc, n);

	return bc_bool(bc, 128) ? -v : v;
}

#endif
