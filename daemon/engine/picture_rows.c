/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "picture_rows.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_STREAM 1
#else
#define HAVE_STREAM 0
#endif

/*
 * P010 keeps the sample in the top bits; samples are little-endian in memory. On
 * little-endian hosts with 2-byte aligned rows (every real CAPTURE buffer) whole samples
 * are stored, which vectorises; the bytewise loops are the portable fallback.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_IS_LE 1
#else
#define HOST_IS_LE 0
#endif

/*
 * The plain loops: restrict pointers and plain indexing, so that compilers vectorise them
 * (picture.c's library is built at -O3). They write whatever the streaming loops below leave:
 * the whole row where there are none, else the bytes before the first 16-byte aligned
 * destination address and after the last whole vector.
 */
static void interleave8_plain(uint8_t *restrict d, const uint8_t *restrict u,
			      const uint8_t *restrict v, uint32_t n)
{
	for (uint32_t x = 0; x < n; x++) {
		d[2 * x] = u[x];
		d[2 * x + 1] = v[x];
	}
}

static void p010_plain(uint8_t *restrict d, const uint16_t *restrict s, uint32_t n,
		       unsigned int shift)
{
	if (HOST_IS_LE && !((uintptr_t)d & 1)) {
		uint16_t *restrict d16 = (uint16_t *)(void *)d;

		for (uint32_t x = 0; x < n; x++)
			d16[x] = (uint16_t)(s[x] << shift);
		return;
	}
	for (uint32_t x = 0; x < n; x++) {
		uint16_t v = (uint16_t)(s[x] << shift);

		d[2 * x] = (uint8_t)v;
		d[2 * x + 1] = (uint8_t)(v >> 8);
	}
}

static void p010_chroma_plain(uint8_t *restrict d, const uint16_t *restrict u,
			      const uint16_t *restrict v, uint32_t n, unsigned int shift)
{
	if (HOST_IS_LE && !((uintptr_t)d & 1)) {
		uint16_t *restrict d16 = (uint16_t *)(void *)d;

		for (uint32_t x = 0; x < n; x++) {
			d16[2 * x] = (uint16_t)(u[x] << shift);
			d16[2 * x + 1] = (uint16_t)(v[x] << shift);
		}
		return;
	}
	for (uint32_t x = 0; x < n; x++) {
		uint16_t a = (uint16_t)(u[x] << shift), b = (uint16_t)(v[x] << shift);

		d[4 * x] = (uint8_t)a;
		d[4 * x + 1] = (uint8_t)(a >> 8);
		d[4 * x + 2] = (uint8_t)b;
		d[4 * x + 3] = (uint8_t)(b >> 8);
	}
}

#if HAVE_STREAM
/*
 * Units (of unit_bytes destination bytes each) to write plainly before d + head * unit_bytes
 * is 16-byte aligned, or n when it never is (a destination that is not aligned to the unit).
 */
static uint32_t head_units(const uint8_t *d, uint32_t n, unsigned int unit_bytes)
{
	unsigned int mis = (unsigned int)((uintptr_t)d & 15);
	uint32_t head;

	if (!mis)
		return 0;
	if ((16 - mis) % unit_bytes)
		return n;
	head = (16 - mis) / unit_bytes;
	return head < n ? head : n;
}

void dd_row_copy(uint8_t *restrict d, const uint8_t *restrict s, size_t n)
{
	size_t x = head_units(d, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n, 1);

	memcpy(d, s, x);
	for (; x + 16 <= n; x += 16)
		_mm_stream_si128((__m128i *)(void *)(d + x),
				 _mm_loadu_si128((const __m128i *)(const void *)(s + x)));
	memcpy(d + x, s + x, n - x);
}

void dd_row_interleave8(uint8_t *restrict d, const uint8_t *restrict u,
			const uint8_t *restrict v, uint32_t n)
{
	uint32_t x = head_units(d, n, 2);

	interleave8_plain(d, u, v, x);
	for (; x + 16 <= n; x += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(u + x));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(v + x));

		_mm_stream_si128((__m128i *)(void *)(d + 2 * x), _mm_unpacklo_epi8(a, b));
		_mm_stream_si128((__m128i *)(void *)(d + 2 * x + 16), _mm_unpackhi_epi8(a, b));
	}
	interleave8_plain(d + 2 * x, u + x, v + x, n - x);
}

void dd_row_p010(uint8_t *restrict d, const uint16_t *restrict s, uint32_t n,
		 unsigned int shift)
{
	uint32_t x = head_units(d, n, 2);
	__m128i count = _mm_cvtsi32_si128((int)shift);

	p010_plain(d, s, x, shift);
	for (; x + 8 <= n; x += 8)
		_mm_stream_si128((__m128i *)(void *)(d + 2 * x),
				 _mm_sll_epi16(_mm_loadu_si128((const __m128i *)(const void *)
							       (s + x)), count));
	p010_plain(d + 2 * x, s + x, n - x, shift);
}

void dd_row_p010_chroma(uint8_t *restrict d, const uint16_t *restrict u,
			const uint16_t *restrict v, uint32_t n, unsigned int shift)
{
	uint32_t x = head_units(d, n, 4);
	__m128i count = _mm_cvtsi32_si128((int)shift);

	p010_chroma_plain(d, u, v, x, shift);
	for (; x + 8 <= n; x += 8) {
		__m128i a = _mm_sll_epi16(_mm_loadu_si128((const __m128i *)(const void *)(u + x)),
					  count);
		__m128i b = _mm_sll_epi16(_mm_loadu_si128((const __m128i *)(const void *)(v + x)),
					  count);

		_mm_stream_si128((__m128i *)(void *)(d + 4 * x), _mm_unpacklo_epi16(a, b));
		_mm_stream_si128((__m128i *)(void *)(d + 4 * x + 16), _mm_unpackhi_epi16(a, b));
	}
	p010_chroma_plain(d + 4 * x, u + x, v + x, n - x, shift);
}

void dd_rows_done(void)
{
	_mm_sfence();
}
#else
void dd_row_copy(uint8_t *restrict d, const uint8_t *restrict s, size_t n)
{
	memcpy(d, s, n);
}

void dd_row_interleave8(uint8_t *restrict d, const uint8_t *restrict u,
			const uint8_t *restrict v, uint32_t n)
{
	interleave8_plain(d, u, v, n);
}

void dd_row_p010(uint8_t *restrict d, const uint16_t *restrict s, uint32_t n,
		 unsigned int shift)
{
	p010_plain(d, s, n, shift);
}

void dd_row_p010_chroma(uint8_t *restrict d, const uint16_t *restrict u,
			const uint16_t *restrict v, uint32_t n, unsigned int shift)
{
	p010_chroma_plain(d, u, v, n, shift);
}

void dd_rows_done(void)
{
}
#endif
