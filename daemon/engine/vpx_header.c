/* SPDX-License-Identifier: BSD-2-Clause */
#include "error.h"
#include "vpx_header.h"

int dd_vp8_parse_tag(const uint8_t *d, size_t size, struct dd_vp8_tag *tag,
		     struct dd_error *err)
{
	uint32_t raw;

	if (size < 3)
		return dd_fail(err, "VP8 frame of %zu bytes has no frame tag", size);
	raw = d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16;
	*tag = (struct dd_vp8_tag){
		.key_frame = !(raw & 1),
		.version = (raw >> 1) & 7,
		.show_frame = (raw >> 4) & 1,
		.first_part_size = raw >> 5,
		.header_size = 3,
	};
	if (!tag->key_frame)
		return 0;
	if (size < 10)
		return dd_fail(err, "VP8 keyframe of %zu bytes is shorter than its header", size);
	if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
		return dd_fail(err, "VP8 keyframe without start code");
	tag->header_size = 10;
	tag->width = (d[6] | (uint32_t)d[7] << 8) & 0x3fff;
	tag->height = (d[8] | (uint32_t)d[9] << 8) & 0x3fff;
	return 0;
}

struct bits {
	const uint8_t *d;
	size_t size;
	size_t pos; /* in bits */
	bool overrun;
};

static uint32_t get_bits(struct bits *b, unsigned int n)
{
	uint32_t v = 0;

	while (n--) {
		if (b->pos >= b->size * 8) {
			b->overrun = true;
			return 0;
		}
		v = v << 1 | ((b->d[b->pos / 8] >> (7 - b->pos % 8)) & 1);
		b->pos++;
	}
	return v;
}

/* Returns the bit depth, or 0 on an invalid colour config. */
static unsigned int vp9_color_config(struct bits *b, unsigned int profile)
{
	unsigned int depth = 8;

	if (profile >= 2)
		depth = get_bits(b, 1) ? 12 : 10;
	if (get_bits(b, 3) != 7 /* CS_RGB */) {
		get_bits(b, 1); /* color_range */
		if (profile == 1 || profile == 3) {
			get_bits(b, 2); /* subsampling */
			if (get_bits(b, 1))
				return 0;
		}
	} else if (profile == 1 || profile == 3) {
		if (get_bits(b, 1))
			return 0;
	}
	return depth;
}

static bool vp9_sync_code(struct bits *b)
{
	return get_bits(b, 8) == 0x49 && get_bits(b, 8) == 0x83 && get_bits(b, 8) == 0x42;
}

int dd_vp9_peek(const uint8_t *data, size_t size, struct dd_vp9_peek *h, struct dd_error *err)
{
	struct bits b = { .d = data, .size = size };

	*h = (struct dd_vp9_peek){ 0 };
	if (get_bits(&b, 2) != 2)
		return dd_fail(err, "VP9 frame marker missing");
	h->profile = get_bits(&b, 1);
	h->profile |= get_bits(&b, 1) << 1;
	if (h->profile == 3 && get_bits(&b, 1))
		return dd_fail(err, "VP9 reserved bit set");
	h->show_existing_frame = get_bits(&b, 1);
	if (h->show_existing_frame)
		return b.overrun ? dd_fail(err, "VP9 frame truncated in its header") : 0;
	h->key_frame = !get_bits(&b, 1);
	h->show_frame = get_bits(&b, 1);
	h->error_resilient = get_bits(&b, 1);
	if (h->key_frame) {
		if (!vp9_sync_code(&b))
			return dd_fail(err, "VP9 keyframe without sync code");
		h->bit_depth = vp9_color_config(&b, h->profile);
		h->has_size = true;
	} else {
		h->intra_only = h->show_frame ? 0 : get_bits(&b, 1);
		if (!h->error_resilient)
			h->reset_frame_context = get_bits(&b, 2);
		if (h->intra_only) {
			if (!vp9_sync_code(&b))
				return dd_fail(err, "VP9 intra-only frame without sync code");
			h->bit_depth = h->profile > 0 ? vp9_color_config(&b, h->profile) : 8;
			get_bits(&b, 8); /* refresh_frame_flags */
			h->has_size = true;
		}
	}
	if (h->has_size) {
		if (!h->bit_depth)
			return dd_fail(err, "VP9 colour config uses a reserved value");
		h->width = get_bits(&b, 16) + 1;
		h->height = get_bits(&b, 16) + 1;
	}
	if (b.overrun)
		return dd_fail(err, "VP9 frame of %zu bytes truncated in its header", size);
	return 0;
}

/* Bytes per frame size in the index a superframe marker byte announces. */
static unsigned int superframe_mag(uint8_t marker)
{
	return ((marker >> 3) & 3) + 1;
}

unsigned int dd_vp9_superframe_count(const uint8_t *data, size_t size)
{
	uint8_t marker;
	unsigned int frames;
	size_t index_size;

	if (size < 1)
		return 0;
	marker = data[size - 1];
	if ((marker & 0xe0) != 0xc0)
		return 0;
	frames = (marker & 7) + 1;
	index_size = 2 + (size_t)superframe_mag(marker) * frames;
	if (size < index_size || data[size - index_size] != marker)
		return 0;
	return frames;
}

bool dd_vp9_superframe_exact(const uint8_t *data, size_t size)
{
	unsigned int frames = dd_vp9_superframe_count(data, size), mag;
	size_t index_size;
	const uint8_t *p;
	uint64_t total = 0;

	if (!frames)
		return false;
	mag = superframe_mag(data[size - 1]);
	index_size = 2 + (size_t)mag * frames;
	p = data + size - index_size + 1;
	for (unsigned int f = 0; f < frames; f++) {
		uint32_t frame_size = 0;

		for (unsigned int b = 0; b < mag; b++)
			frame_size |= (uint32_t)*p++ << (8 * b);
		if (!frame_size)
			return false;
		total += frame_size;
	}
	return total == size - index_size;
}
