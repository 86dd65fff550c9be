/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the engine's own parts: pixel writers and their bounds checks, the header
 * peeks, reference bookkeeping, the per-codec descriptors, job validation, and what happens
 * without a usable FFmpeg.
 * Usage: test_engine PATH-OF-fake_ffmpeg.so
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "bit_writer.h"
#include "codec.h"
#include "engine.h"
#include "picture.h"
#include "ref_set.h"
#include "vpx_header.h"

static int failures;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			failures++;                                                      \
		}                                                                        \
	} while (0)

#define CHECK_ERR(call, err, needle)                                                     \
	do {                                                                             \
		(err).msg[0] = '\0';                                                     \
		CHECK((call) != 0);                                                      \
		if (!strstr((err).msg, needle)) {                                        \
			fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__,   \
				__LINE__, (err).msg, needle);                            \
			failures++;                                                      \
		}                                                                        \
	} while (0)

/* 5x3 planar source: luma y*10+x, Cb 100+.., Cr 200+.. (8-bit) or the same << 2 (10-bit) */
struct source {
	uint8_t y8[3][8], u8[2][4], v8[2][4];
	uint16_t y16[3][8], u16[2][4], v16[2][4];
};

static void make_source(struct source *s)
{
	for (int y = 0; y < 3; y++)
		for (int x = 0; x < 8; x++) {
			s->y8[y][x] = (uint8_t)(y * 10 + x);
			s->y16[y][x] = (uint16_t)((y * 10 + x) * 4 + 3);
		}
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 4; x++) {
			s->u8[y][x] = (uint8_t)(100 + y * 10 + x);
			s->v8[y][x] = (uint8_t)(200 + y * 10 + x);
			s->u16[y][x] = (uint16_t)(1000 + y * 10 + x);
			s->v16[y][x] = (uint16_t)(1023 - y * 10 - x);
		}
}

static void test_picture_writers(void)
{
	struct source s;
	struct dd_error err;
	_Alignas(16) uint8_t mem[3][256];
	struct dd_yuv420 src8, src10;
	struct dd_picture nv12 = {
		.fourcc = V4L2_PIX_FMT_NV12, .width = 8, .height = 4, .num_planes = 2,
		.planes = { { mem[0], 12, 48 }, { mem[1], 12, 24 } },
	};
	struct dd_picture i420 = {
		.fourcc = V4L2_PIX_FMT_YUV420M, .width = 6, .height = 4, .num_planes = 3,
		.planes = { { mem[0], 8, 32 }, { mem[1], 4, 8 }, { mem[2], 4, 8 } },
	};
	struct dd_picture p010 = {
		.fourcc = V4L2_PIX_FMT_P010, .width = 6, .height = 4, .num_planes = 2,
		.planes = { { mem[0], 16, 64 }, { mem[1], 16, 32 } },
	};
	int ok;

	make_source(&s);
	src8 = (struct dd_yuv420){ { s.y8[0], s.u8[0], s.v8[0] }, { 8, 4, 4 }, 5, 3, 8 };
	src10 = (struct dd_yuv420){ { (uint8_t *)s.y16[0], (uint8_t *)s.u16[0],
				      (uint8_t *)s.v16[0] }, { 16, 8, 8 }, 5, 3, 10 };

	memset(mem, 0xa5, sizeof(mem));
	CHECK(dd_picture_write(&nv12, &src8, &err) == 0);
	ok = 1;
	for (int y = 0; y < 3; y++)
		for (int x = 0; x < 5; x++)
			ok &= mem[0][y * 12 + x] == y * 10 + x;
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 3; x++)
			ok &= mem[1][y * 12 + 2 * x] == 100 + y * 10 + x &&
			      mem[1][y * 12 + 2 * x + 1] == 200 + y * 10 + x;
	CHECK(ok);
	CHECK(mem[0][5] == 0xa5 && mem[0][12 * 3] == 0xa5); /* padding untouched */
	CHECK(mem[1][6] == 0xa5 && mem[1][24] == 0xa5);

	memset(mem, 0xa5, sizeof(mem));
	CHECK(dd_picture_write(&i420, &src8, &err) == 0);
	ok = 1;
	for (int y = 0; y < 3; y++)
		for (int x = 0; x < 5; x++)
			ok &= mem[0][y * 8 + x] == y * 10 + x;
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 3; x++)
			ok &= mem[1][y * 4 + x] == 100 + y * 10 + x &&
			      mem[2][y * 4 + x] == 200 + y * 10 + x;
	CHECK(ok);
	CHECK(mem[1][3] == 0xa5 && mem[2][3] == 0xa5);

	/* aligned rows take the whole-sample path, odd addresses the bytewise one */
	for (int off = 0; off < 2; off++) {
		uint8_t *l = &mem[0][off], *c = &mem[1][off];

		p010.planes[0].data = l;
		p010.planes[1].data = c;
		memset(mem, 0xa5, sizeof(mem));
		CHECK(dd_picture_write(&p010, &src10, &err) == 0);
		ok = 1;
		for (int y = 0; y < 3; y++)
			for (int x = 0; x < 5; x++) {
				unsigned int v = l[y * 16 + 2 * x] | l[y * 16 + 2 * x + 1] << 8;

				ok &= v == (unsigned int)s.y16[y][x] << 6;
			}
		for (int y = 0; y < 2; y++)
			for (int x = 0; x < 3; x++) {
				const uint8_t *q = &c[y * 16 + 4 * x];

				ok &= (unsigned int)(q[0] | q[1] << 8) ==
				      (unsigned int)s.u16[y][x] << 6;
				ok &= (unsigned int)(q[2] | q[3] << 8) ==
				      (unsigned int)s.v16[y][x] << 6;
			}
		CHECK(ok);
		CHECK(l[10] == 0xa5 && c[12] == 0xa5);
	}
}

/*
 * Rows long enough for the vector and streaming-store loops of picture_rows.c, at every
 * destination alignment they handle differently (aligned, unaligned by a whole sample,
 * odd), against the formats' definitions; the bytes around each row stay untouched.
 */
static void test_picture_rows_wide(void)
{
	static const uint32_t widths[] = { 2, 30, 32, 34, 66, 97, 130, 258 };
	enum { H = 4, PAD = 40, STRIDE = 2 * 2 * 260 + PAD };
	uint16_t *y16 = malloc(260 * H * 2), *u16 = malloc(130 * H), *v16 = malloc(130 * H);
	uint8_t *y8 = malloc(260 * H), *u8 = malloc(130 * H / 2), *v8 = malloc(130 * H / 2);
	uint8_t *mem = malloc(3 * STRIDE * H + 64);
	struct dd_error err;
	int ok = 1;

	CHECK(y16 && u16 && v16 && y8 && u8 && v8 && mem);
	if (!y16 || !u16 || !v16 || !y8 || !u8 || !v8 || !mem)
		goto out;
	for (int i = 0; i < 260 * H; i++) {
		y16[i] = (uint16_t)((i * 37 + 11) & 1023);
		y8[i] = (uint8_t)(i * 29 + 3);
	}
	for (int i = 0; i < 130 * H / 2; i++) {
		u16[i] = (uint16_t)((i * 53 + 7) & 1023);
		v16[i] = (uint16_t)((i * 71 + 5) & 1023);
		u8[i] = (uint8_t)(i * 13 + 1);
		v8[i] = (uint8_t)(i * 17 + 9);
	}
	for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
		uint32_t w = widths[wi], cw = (w + 1) / 2;

		for (unsigned int off = 0; off < 18; off++) {
			uint8_t *l = mem + 32 + off, *c = l + STRIDE * H;
			struct dd_yuv420 s8 = { { y8, u8, v8 }, { 260, 130, 130 }, w, H, 8 };
			struct dd_yuv420 s10 = { { (uint8_t *)y16, (uint8_t *)u16, (uint8_t *)v16 },
						 { 520, 260, 260 }, w, H, 10 };
			struct dd_picture nv12 = {
				.fourcc = V4L2_PIX_FMT_NV12, .width = 260, .height = H,
				.num_planes = 2,
				.planes = { { l, STRIDE, STRIDE * H }, { c, STRIDE, STRIDE * H / 2 } },
			};
			struct dd_picture p010 = nv12;

			p010.fourcc = V4L2_PIX_FMT_P010;
			memset(mem, 0xa5, 3 * STRIDE * H + 64);
			ok &= dd_picture_write(&nv12, &s8, &err) == 0;
			for (uint32_t y = 0; y < H; y++) {
				ok &= !memcmp(l + y * STRIDE, y8 + y * 260, w);
				ok &= l[y * STRIDE + w] == 0xa5 && (l + y * STRIDE)[-1] == 0xa5;
			}
			for (uint32_t y = 0; y < H / 2; y++) {
				for (uint32_t x = 0; x < cw; x++)
					ok &= c[y * STRIDE + 2 * x] == u8[y * 130 + x] &&
					      c[y * STRIDE + 2 * x + 1] == v8[y * 130 + x];
				ok &= c[y * STRIDE + 2 * cw] == 0xa5;
			}
			if (off & 1)
				continue;
			memset(mem, 0xa5, 3 * STRIDE * H + 64);
			ok &= dd_picture_write(&p010, &s10, &err) == 0;
			for (uint32_t y = 0; y < H; y++) {
				for (uint32_t x = 0; x < w; x++)
					ok &= (unsigned int)(l[y * STRIDE + 2 * x] |
							     l[y * STRIDE + 2 * x + 1] << 8) ==
					      (unsigned int)y16[y * 260 + x] << 6;
				ok &= l[y * STRIDE + 2 * w] == 0xa5 && (l + y * STRIDE)[-1] == 0xa5;
			}
			for (uint32_t y = 0; y < H / 2; y++) {
				for (uint32_t x = 0; x < cw; x++) {
					const uint8_t *q = c + y * STRIDE + 4 * x;

					ok &= (unsigned int)(q[0] | q[1] << 8) ==
					      (unsigned int)u16[y * 130 + x] << 6;
					ok &= (unsigned int)(q[2] | q[3] << 8) ==
					      (unsigned int)v16[y * 130 + x] << 6;
				}
				ok &= c[y * STRIDE + 4 * cw] == 0xa5;
			}
		}
	}
	CHECK(ok);
out:
	free(y16);
	free(u16);
	free(v16);
	free(y8);
	free(u8);
	free(v8);
	free(mem);
}

static void test_picture_checks(void)
{
	uint8_t mem[2][64];
	struct dd_picture ok = {
		.fourcc = V4L2_PIX_FMT_NV12, .width = 8, .height = 4, .num_planes = 2,
		.planes = { { mem[0], 8, 32 }, { mem[1], 8, 16 } },
	};
	struct dd_picture p;
	struct dd_error err;

	CHECK(dd_picture_check(&ok, 8, 4, 8, &err) == 0);
	CHECK(dd_picture_check(&ok, 7, 3, 8, &err) == 0);
	CHECK_ERR(dd_picture_check(&ok, 9, 4, 8, &err), err, "does not fit");
	CHECK_ERR(dd_picture_check(&ok, 8, 4, 10, &err), err, "cannot hold a 10-bit");
	CHECK_ERR(dd_picture_check(&ok, 0, 4, 8, &err), err, "empty");
	CHECK_ERR(dd_picture_check(NULL, 8, 4, 8, &err), err, "no destination");
	p = ok;
	p.fourcc = V4L2_PIX_FMT_YUYV;
	CHECK_ERR(dd_picture_check(&p, 8, 4, 8, &err), err, "unsupported capture format");
	p = ok;
	p.num_planes = 3;
	CHECK_ERR(dd_picture_check(&p, 8, 4, 8, &err), err, "needs 2 planes");
	p = ok;
	p.planes[0].stride = 7;
	CHECK_ERR(dd_picture_check(&p, 8, 4, 8, &err), err, "stride");
	p = ok;
	p.planes[1].size = 15;
	CHECK_ERR(dd_picture_check(&p, 8, 4, 8, &err), err, "plane 1 has 15 bytes");
	p = ok;
	p.planes[1].data = NULL;
	CHECK_ERR(dd_picture_check(&p, 8, 4, 8, &err), err, "not mapped");
	/* sizes that overflow 32-bit arithmetic must still be refused */
	p = ok;
	p.width = p.height = 0xffffffffu;
	p.planes[0].stride = p.planes[1].stride = 0xffffffffu;
	CHECK_ERR(dd_picture_check(&p, 0xfffffff0u, 0xfffffff0u, 8, &err), err, "bytes");
	p = ok;
	p.fourcc = V4L2_PIX_FMT_P010;
	CHECK_ERR(dd_picture_check(&p, 8, 4, 10, &err), err, "stride");
}

static size_t vp9_keyframe(struct bw *b, unsigned int profile, unsigned int w, unsigned int h)
{
	memset(b, 0, sizeof(*b));
	put(b, 2, 2);
	put(b, profile & 1, 1);
	put(b, profile >> 1, 1);
	put(b, 0, 1); /* show_existing_frame */
	put(b, 0, 1); /* KEY_FRAME */
	put(b, 1, 1); /* show_frame */
	put(b, 0, 1); /* error_resilient */
	put(b, 0x498342, 24);
	if (profile >= 2)
		put(b, 0, 1); /* 10-bit */
	put(b, 1, 3); /* BT.601 */
	put(b, 0, 1); /* color_range */
	put(b, w - 1, 16);
	put(b, h - 1, 16);
	put(b, 0, 1); /* render_and_frame_size_different */
	return sizeof(b->buf);
}

static void test_headers(void)
{
	static const uint8_t vp8_key[10] = { 0x40, 0x42, 0x00, 0x9d, 0x01, 0x2a,
					     0x5e, 0x01, 0xc6, 0x00 };
	static const uint8_t vp8_inter[3] = { 0x31, 0x02, 0x00 };
	struct dd_vp8_tag tag;
	struct dd_vp9_peek h;
	struct dd_error err;
	struct bw b;
	uint8_t sf[32] = { 0 };

	CHECK(dd_vp8_parse_tag(vp8_key, sizeof(vp8_key), &tag, &err) == 0);
	CHECK(tag.key_frame && !tag.show_frame && tag.width == 350 && tag.height == 198);
	CHECK(tag.first_part_size == (0x004240u >> 5) && tag.header_size == 10);
	CHECK(dd_vp8_parse_tag(vp8_inter, sizeof(vp8_inter), &tag, &err) == 0);
	CHECK(!tag.key_frame && tag.show_frame && tag.header_size == 3);
	CHECK_ERR(dd_vp8_parse_tag(vp8_key, 9, &tag, &err), err, "shorter than its header");
	CHECK_ERR(dd_vp8_parse_tag(vp8_key, 2, &tag, &err), err, "no frame tag");

	vp9_keyframe(&b, 0, 350, 198);
	CHECK(dd_vp9_peek(b.buf, sizeof(b.buf), &h, &err) == 0);
	CHECK(h.key_frame && h.show_frame && h.has_size && h.bit_depth == 8 && h.width == 350 &&
	      h.height == 198 && h.profile == 0);
	vp9_keyframe(&b, 2, 64, 48);
	CHECK(dd_vp9_peek(b.buf, sizeof(b.buf), &h, &err) == 0);
	CHECK(h.profile == 2 && h.bit_depth == 10 && h.width == 64 && h.height == 48);
	CHECK_ERR(dd_vp9_peek(b.buf, 6, &h, &err), err, "truncated");
	b.buf[0] ^= 0xc0;
	CHECK_ERR(dd_vp9_peek(b.buf, sizeof(b.buf), &h, &err), err, "marker");

	/* superframe: two frames of 3 and 4 bytes, 1-byte sizes, index c1 03 04 c1 */
	sf[7] = 0xc1;
	sf[8] = 3;
	sf[9] = 4;
	sf[10] = 0xc1;
	CHECK(dd_vp9_superframe_count(sf, 11) == 2);
	CHECK(dd_vp9_superframe_exact(sf, 11));
	CHECK(dd_vp9_superframe_count(sf, 10) == 0);
	sf[9] = 5; /* 3 + 5 bytes: past the 7 before the index */
	CHECK(!dd_vp9_superframe_exact(sf, 11));
	sf[9] = 3; /* 3 + 3: short of them */
	CHECK(!dd_vp9_superframe_exact(sf, 11));
	sf[8] = 0, sf[9] = 7; /* a frame of 0 bytes */
	CHECK(!dd_vp9_superframe_exact(sf, 11));
	sf[7] = 0;
	CHECK(dd_vp9_superframe_count(sf, 11) == 0);
	/* an index of one frame, 1-byte size: c0 07 c0 after 7 bytes */
	sf[7] = 0xc0, sf[8] = 7, sf[9] = 0xc0;
	CHECK(dd_vp9_superframe_count(sf, 10) == 1 && dd_vp9_superframe_exact(sf, 10));
	sf[8] = 0xff; /* claims 255 bytes */
	CHECK(dd_vp9_superframe_count(sf, 10) == 1 && !dd_vp9_superframe_exact(sf, 10));
}

static void test_ref_set(void)
{
	struct dd_ref_set s;

	dd_ref_set_init(&s);
	CHECK(!dd_ref_set_contains(&s, 0));
	dd_ref_set_add(&s, 0);
	dd_ref_set_add(&s, 1000);
	CHECK(dd_ref_set_contains(&s, 0) && dd_ref_set_contains(&s, 1000));
	dd_ref_set_remove(&s, 0);
	CHECK(!dd_ref_set_contains(&s, 0) && dd_ref_set_contains(&s, 1000));
	dd_ref_set_clear(&s);
	CHECK(!dd_ref_set_contains(&s, 1000));
	for (uint64_t i = 0; i < DD_REF_SET_CAPACITY; i++)
		dd_ref_set_add(&s, i);
	CHECK(dd_ref_set_contains(&s, 7) && !dd_ref_set_contains(&s, DD_REF_SET_CAPACITY));
	/* once full it forgets the entry least recently added or named, and still rejects */
	dd_ref_set_touch(&s, 0);
	dd_ref_set_add(&s, DD_REF_SET_CAPACITY);
	CHECK(!dd_ref_set_contains(&s, 1u << 30));
	CHECK(dd_ref_set_contains(&s, 0) && !dd_ref_set_contains(&s, 1));
	CHECK(dd_ref_set_contains(&s, DD_REF_SET_CAPACITY));
	dd_ref_set_clear(&s);
	CHECK(!dd_ref_set_contains(&s, 7));
	dd_ref_set_free(&s);
}

static void test_without_ffmpeg(const char *avcodec, const char *avutil, const char *needle)
{
	struct dd_engine_config cfg = { .ffmpeg_avcodec_path = avcodec,
					.ffmpeg_avutil_path = avutil };
	struct dd_engine *e = dd_engine_new(&cfg);
	struct dd_error err;
	char desc[512];

	CHECK(e != NULL);
	if (!e)
		return;
	err.msg[0] = '\0';
	CHECK(!dd_engine_supports(e, DD_CODEC_VP9, V4L2_PIX_FMT_NV12, 8, NULL, &err));
	if (!strstr(err.msg, needle)) {
		fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", err.msg, needle);
		failures++;
	}
	CHECK(err.kind == DD_ERR_UNSUPPORTED);
	err.msg[0] = '\0';
	err.kind = DD_ERR_DATA;
	CHECK(dd_stream_open(e, DD_CODEC_VP8, V4L2_PIX_FMT_NV12, &err) == NULL);
	CHECK(strstr(err.msg, needle) != NULL);
	CHECK(err.kind == DD_ERR_UNSUPPORTED);
	dd_engine_describe(e, DD_CODEC_VP9, desc, sizeof(desc));
	CHECK(strstr(desc, "unavailable") && strstr(desc, needle));
	dd_engine_free(e);
}

/*
 * Every codec has a complete descriptor at its own index (the engine calls through it with no
 * fallback), and the coded size each reads from its controls.
 */
static void test_codecs(void)
{
	struct v4l2_ctrl_vp8_frame c8 = { .width = 350, .height = 198 };
	struct v4l2_ctrl_vp9_frame c9 = { .frame_width_minus_1 = 63, .frame_height_minus_1 = 47 };
	struct v4l2_ctrl_av1_frame a1 = { .frame_width_minus_1 = 95, .frame_height_minus_1 = 53 };
	struct v4l2_ctrl_h264_sps sps = { .pic_width_in_mbs_minus1 = 21,
					  .pic_height_in_map_units_minus1 = 8 };
	struct dd_job job = { .codec = DD_CODEC_VP8 };
	struct dd_expectation x = { 0 };
	uint64_t ts[DD_MAX_JOB_REFS];
	uint32_t w = 1, h = 1;

	for (int c = 0; c < DD_CODEC_COUNT; c++) {
		const struct dd_codec_ops *ops = dd_codec_ops_get((enum dd_codec)c);

		CHECK(ops && ops->codec == (enum dd_codec)c && ops->check && ops->coded_size);
		if (!ops)
			continue;
		CHECK(ops->name && !strcmp(ops->name, dd_codec_name((enum dd_codec)c)));
		/* what fails with a failed job in flight: by name, or the codec's own check */
		CHECK(!ops->predicts_from != !ops->access);
		CHECK(!ops->access || (ops->access->state_new && ops->access->state_free &&
				       ops->access->reset && ops->access->check &&
				       ops->access->decoded && ops->access->failed));
	}
	CHECK(!dd_codec_ops_get(DD_CODEC_COUNT) && !strcmp(dd_codec_name(DD_CODEC_COUNT),
							   "unknown codec"));

	dd_job_coded_size(&job, &w, &h); /* no controls */
	CHECK(w == 0 && h == 0);
	job.ctrl.vp8.frame = &c8;
	dd_job_coded_size(&job, &w, &h);
	CHECK(w == 350 && h == 198);
	job = (struct dd_job){ .codec = DD_CODEC_VP9, .ctrl.vp9.frame = &c9 };
	dd_job_coded_size(&job, &w, &h);
	CHECK(w == 64 && h == 48);
	job = (struct dd_job){ .codec = DD_CODEC_H264, .ctrl.h264.sps = &sps };
	dd_job_coded_size(&job, &w, &h); /* fields: map units are pairs of lines */
	CHECK(w == 352 && h == 288);
	sps.flags = V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY;
	dd_job_coded_size(&job, &w, &h);
	CHECK(w == 352 && h == 144);
	job = (struct dd_job){ .codec = DD_CODEC_AV1, .ctrl.av1.frame = &a1 };
	dd_job_coded_size(&job, &w, &h);
	CHECK(w == 96 && h == 54);
	a1.upscaled_width = 128;
	dd_job_coded_size(&job, &w, &h);
	CHECK(w == 128 && h == 54);
	job.codec = DD_CODEC_COUNT;
	dd_job_coded_size(&job, &w, &h);
	CHECK(w == 0 && h == 0);

	/* AV1: the slots the frame uses, not its own timestamp; a key frame none */
	job = (struct dd_job){ .codec = DD_CODEC_AV1, .timestamp = 9000, .ctrl.av1.frame = &a1 };
	a1.frame_type = V4L2_AV1_INTER_FRAME;
	for (int i = 0; i < V4L2_AV1_TOTAL_REFS_PER_FRAME; i++)
		a1.reference_frame_ts[i] = 1000u * (unsigned int)i;
	for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++)
		a1.ref_frame_idx[i] = (int8_t)(i % 3);
	a1.reference_frame_ts[2] = 9000;
	CHECK(dd_codec_av1.predicts_from(&job, &x, ts) == 5 && ts[0] == 0 && ts[1] == 1000);
	a1.frame_type = V4L2_AV1_KEY_FRAME;
	CHECK(dd_codec_av1.predicts_from(&job, &x, ts) == 0);
	/* VP9: last, golden, altref other than itself (a key frame lists none) */
	x = (struct dd_expectation){ .num_refs = 3, .ref_ts = { 5, 9000, 7 } };
	job.codec = DD_CODEC_VP9;
	CHECK(dd_codec_vp9.predicts_from(&job, &x, ts) == 2 && ts[0] == 5 && ts[1] == 7);
	CHECK(!strcmp(dd_codec_vp9.ref_name(1), "golden"));
}

static void test_job_validation(void)
{
	struct dd_engine *e = dd_engine_new(NULL);
	struct v4l2_ctrl_vp9_frame c9 = { 0 };
	uint8_t mem[2][4096];
	struct dd_picture dst = {
		.fourcc = V4L2_PIX_FMT_NV12, .width = 64, .height = 48, .num_planes = 2,
		.planes = { { mem[0], 64, 64 * 48 }, { mem[1], 64, 64 * 24 } },
	};
	struct dd_job job = { .codec = DD_CODEC_VP9, .dst = &dst };
	struct dd_stream *s;
	struct dd_error err;
	const char *backend = NULL;
	char desc[512];
	struct bw b;

	CHECK(e != NULL);
	if (!e)
		return;
	CHECK(dd_engine_supports(e, DD_CODEC_VP9, V4L2_PIX_FMT_P010, 10, &backend, &err));
	CHECK(backend && !strcmp(backend, "ffmpeg"));
	CHECK(dd_engine_supports(e, DD_CODEC_VP8, V4L2_PIX_FMT_YUV420M, 8, NULL, &err));
	CHECK(!dd_engine_supports(e, DD_CODEC_VP8, V4L2_PIX_FMT_P010, 10, NULL, &err));
	CHECK(err.kind == DD_ERR_UNSUPPORTED);
	CHECK(!dd_engine_supports(e, DD_CODEC_VP9, V4L2_PIX_FMT_P010, 12, NULL, &err));
	dd_engine_describe(e, DD_CODEC_VP9, desc, sizeof(desc));
	CHECK(strstr(desc, "NV12(8-bit, ffmpeg)") && strstr(desc, "P010(10-bit, ffmpeg)"));

	s = dd_stream_open(e, DD_CODEC_VP9, V4L2_PIX_FMT_NV12, &err);
	CHECK(s != NULL);
	if (!s) {
		fprintf(stderr, "open: %s\n", err.msg);
		dd_engine_free(e);
		return;
	}
	vp9_keyframe(&b, 0, 64, 48);
	job.bitstream = b.buf;
	job.bitstream_size = sizeof(b.buf);
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "without V4L2_CID_STATELESS_VP9_FRAME");
	job.ctrl.vp9.frame = &c9;
	c9.flags = V4L2_VP9_FRAME_FLAG_SHOW_FRAME; /* not KEY_FRAME */
	c9.bit_depth = 8;
	c9.frame_width_minus_1 = 63;
	c9.frame_height_minus_1 = 47;
	c9.uncompressed_header_size = 10;
	c9.compressed_header_size = 10;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "frame flags disagree");
	c9.flags |= V4L2_VP9_FRAME_FLAG_KEY_FRAME;
	c9.frame_width_minus_1 = 99;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "controls say 100x48");
	CHECK(err.kind == DD_ERR_DATA);
	c9.frame_width_minus_1 = 63;
	c9.profile = 2;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "profile");
	c9.profile = 0;
	c9.compressed_header_size = 60;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "truncated");
	c9.compressed_header_size = 10;
	{
		/* an index of one frame claiming 255 bytes: libavcodec would refuse the packet
		 * before decoding, out of PIPE mode's count */
		uint8_t sf1[sizeof(b.buf) + 3];

		memcpy(sf1, b.buf, sizeof(b.buf));
		sf1[sizeof(b.buf)] = 0xc0;
		sf1[sizeof(b.buf) + 1] = 0xff;
		sf1[sizeof(b.buf) + 2] = 0xc0;
		job.bitstream = sf1;
		job.bitstream_size = sizeof(sf1);
		CHECK_ERR(dd_stream_decode(s, &job, &err), err, "superframe index of one frame");
		job.bitstream = b.buf;
		job.bitstream_size = sizeof(b.buf);
	}
	/* headers fine, but the "tile data" is zeros: libavcodec must refuse, not crash */
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "libavcodec");
	dst.planes[1].size = 10;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "plane 1");
	dst.planes[1].size = 64 * 24;
	job.codec = DD_CODEC_VP8;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "VP8 job on a VP9 stream");
	job.codec = DD_CODEC_VP9;
	/* the kernel says an earlier piece of this picture failed: whatever the data, it fails */
	job.lost_piece = true;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "an earlier request of this picture");
	job.lost_piece = false;
	job.bitstream_size = 0;
	CHECK_ERR(dd_stream_decode(s, &job, &err), err, "empty");
	/* an inter frame right after open (a flush: the failures above break a VP9 stream
	 * until a key frame) names references nobody decoded */
	dd_stream_flush(s);
	{
		struct bw inter = { { 0 }, 0 };

		put(&inter, 2, 2);
		put(&inter, 0, 2);
		put(&inter, 0, 1); /* show_existing */
		put(&inter, 1, 1); /* NON_KEY */
		put(&inter, 1, 1); /* show */
		put(&inter, 0, 1); /* error_res */
		job.bitstream = inter.buf;
		job.bitstream_size = sizeof(inter.buf);
		c9.flags = V4L2_VP9_FRAME_FLAG_SHOW_FRAME;
		c9.last_frame_ts = 5000;
		CHECK_ERR(dd_stream_decode(s, &job, &err), err, "last reference (ts 5000)");
		CHECK(err.kind == DD_ERR_REFERENCE);
		/* VP9 is chained: after a job the engine never saw, nothing until a key frame */
		dd_stream_flush(s);
		dd_stream_lost(s, NULL);
		CHECK_ERR(dd_stream_decode(s, &job, &err), err, "an earlier frame was lost");
		CHECK(err.kind == DD_ERR_REFERENCE);
		/* show_existing_frame is never a request */
		inter.buf[0] |= 0x08;
		CHECK_ERR(dd_stream_decode(s, &job, &err), err, "show_existing_frame");
	}
	/*
	 * An intra-only frame right after a flush loads probability context 0, which no frame
	 * since set (libvpx: "Uninitialized entropy context"), unless it resets all four.
	 */
	for (unsigned int reset = 0; reset < 4; reset += 3) {
		struct bw io = { { 0 }, 0 };

		dd_stream_flush(s);
		put(&io, 2, 2);
		put(&io, 0, 2);
		put(&io, 0, 1); /* show_existing */
		put(&io, 1, 1); /* NON_KEY */
		put(&io, 0, 1); /* hidden */
		put(&io, 0, 1); /* error_res */
		put(&io, 1, 1); /* intra_only */
		put(&io, reset, 2); /* reset_frame_context */
		put(&io, 0x498342, 24);
		put(&io, 1, 8); /* refresh_frame_flags */
		put(&io, 63, 16);
		put(&io, 47, 16);
		job.bitstream = io.buf;
		job.bitstream_size = sizeof(io.buf);
		c9.flags = V4L2_VP9_FRAME_FLAG_INTRA_ONLY;
		c9.frame_width_minus_1 = 63;
		c9.frame_height_minus_1 = 47;
		if (reset != 3) {
			CHECK_ERR(dd_stream_decode(s, &job, &err), err,
				  "intra-only frame that loads a saved probability");
			CHECK(err.kind == DD_ERR_REFERENCE);
		} else {
			/* it reaches the decoder (and fails there: no tile data) */
			err.msg[0] = '\0';
			CHECK(dd_stream_decode(s, &job, &err) == -1);
			CHECK(!strstr(err.msg, "intra-only frame that loads"));
		}
	}
	dd_stream_flush(s);
	dd_stream_close(s);
	dd_engine_free(e);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FAKE_FFMPEG_SO\n", argv[0]);
		return 2;
	}
	test_picture_writers();
	test_picture_rows_wide();
	test_picture_checks();
	test_headers();
	test_ref_set();
	test_codecs();
	test_without_ffmpeg("/nonexistent/libavcodec.so.1", NULL, "cannot load");
	test_without_ffmpeg(argv[1], NULL, "is version");
	test_without_ffmpeg(NULL, argv[1], "is version");
	test_job_validation();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("all engine unit checks passed\n");
	return 0;
}
