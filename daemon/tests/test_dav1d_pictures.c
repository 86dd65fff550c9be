/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The AV1 backend's picture allocator (engine/dav1d_pictures.c), driven as dav1d drives it:
 * the layout dav1d/picture.h asks for (aligned planes covering the size rounded up to 128
 * pixels, a shared chroma stride, padding; every byte written, so ASan sees an overrun),
 * the meter's count (kept blocks stay counted and are reused, two sizes kept for superres,
 * a refusal that first gives the kept blocks back), and pictures released from four
 * threads, the last after the stream let go of the allocator, ending with nothing held.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dav1d_pictures.h"
#include "test_check.h"

static int failures;

static size_t round128(int v)
{
	return ((size_t)v + 127) & ~(size_t)127;
}

static int alloc_pic(Dav1dPicAllocator *a, Dav1dPicture *pic, int w, int h, int bpc,
		     enum Dav1dPixelLayout layout)
{
	memset(pic, 0, sizeof(*pic));
	pic->p.w = w;
	pic->p.h = h;
	pic->p.bpc = bpc;
	pic->p.layout = layout;
	return a->alloc_picture_callback(pic, a->cookie);
}

static void release_pic(Dav1dPicAllocator *a, Dav1dPicture *pic)
{
	a->release_picture_callback(pic, a->cookie);
}

static void layout(Dav1dPicAllocator *a, int w, int h, int bpc, enum Dav1dPixelLayout l)
{
	int ss_hor = l == DAV1D_PIXEL_LAYOUT_I420 || l == DAV1D_PIXEL_LAYOUT_I422;
	int ss_ver = l == DAV1D_PIXEL_LAYOUT_I420;
	size_t bytes = bpc > 8 ? 2 : 1, rows = round128(h), uv_rows = rows >> ss_ver;
	Dav1dPicture pic;

	CHECK(alloc_pic(a, &pic, w, h, bpc, l) == 0, "%dx%d %d-bit layout %d allocated", w, h,
	      bpc, l);
	CHECK((uintptr_t)pic.data[0] % DAV1D_PICTURE_ALIGNMENT == 0 &&
	      pic.stride[0] % DAV1D_PICTURE_ALIGNMENT == 0 &&
	      (size_t)pic.stride[0] >= round128(w) * bytes, "luma aligned, stride %td",
	      pic.stride[0]);
	memset(pic.data[0], 0x5a, (size_t)pic.stride[0] * rows);
	if (l == DAV1D_PIXEL_LAYOUT_I400) {
		CHECK(!pic.data[1] && !pic.data[2], "no chroma planes for I400");
		/* the padding after the last plane */
		memset((uint8_t *)pic.data[0] + (size_t)pic.stride[0] * rows, 0x5a,
		       DAV1D_PICTURE_ALIGNMENT);
	} else {
		CHECK((uintptr_t)pic.data[1] % DAV1D_PICTURE_ALIGNMENT == 0 &&
		      (uintptr_t)pic.data[2] % DAV1D_PICTURE_ALIGNMENT == 0 &&
		      pic.stride[1] % DAV1D_PICTURE_ALIGNMENT == 0 &&
		      (size_t)pic.stride[1] >= (round128(w) >> ss_hor) * bytes,
		      "chroma aligned, stride %td", pic.stride[1]);
		CHECK((uint8_t *)pic.data[1] >= (uint8_t *)pic.data[0] + (size_t)pic.stride[0] * rows &&
		      (uint8_t *)pic.data[2] >= (uint8_t *)pic.data[1] + (size_t)pic.stride[1] * uv_rows,
		      "the planes do not overlap");
		memset(pic.data[1], 0x5a, (size_t)pic.stride[1] * uv_rows);
		memset(pic.data[2], 0x5a, (size_t)pic.stride[1] * uv_rows + DAV1D_PICTURE_ALIGNMENT);
	}
	CHECK(pic.stride[0] % 1024 != 0, "no luma stride of a multiple of 1024 bytes");
	release_pic(a, &pic);
}

static void layouts(void)
{
	struct dd_meter *m = dd_meter_new();
	struct dd_dav1d_pictures *p = dd_dav1d_pictures_new(m);
	Dav1dPicAllocator a = dd_dav1d_pictures_allocator(p);

	layout(&a, 350, 198, 8, DAV1D_PIXEL_LAYOUT_I420);
	layout(&a, 1920, 1080, 10, DAV1D_PIXEL_LAYOUT_I420);
	layout(&a, 4096, 64, 8, DAV1D_PIXEL_LAYOUT_I420); /* a 4096-byte row gets padded */
	layout(&a, 130, 130, 8, DAV1D_PIXEL_LAYOUT_I422);
	layout(&a, 130, 130, 10, DAV1D_PIXEL_LAYOUT_I444);
	layout(&a, 64, 64, 8, DAV1D_PIXEL_LAYOUT_I400);
	dd_dav1d_pictures_unref(p);
	CHECK(dd_meter_held(m) == 0, "everything back after the allocator went");
	dd_meter_unref(m);
}

static void counting(void)
{
	struct dd_meter *m = dd_meter_new();
	struct dd_dav1d_pictures *p = dd_dav1d_pictures_new(m);
	Dav1dPicAllocator a = dd_dav1d_pictures_allocator(p);
	Dav1dPicture pic[4], wide, small;
	uint64_t one, three, both, small_kept;

	for (int i = 0; i < 3; i++)
		alloc_pic(&a, &pic[i], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420);
	three = dd_meter_held(m);
	one = three / 3;
	CHECK(one > 352 * 384 * 3 / 2 && three == 3 * one, "three pictures of %llu bytes held",
	      (unsigned long long)one);
	release_pic(&a, &pic[0]);
	release_pic(&a, &pic[1]);
	CHECK(dd_meter_held(m) == three, "released ones are kept, still counted");
	alloc_pic(&a, &pic[0], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420);
	CHECK(dd_meter_held(m) == three, "and reused: nothing new taken");
	/* superres: the upscaled picture beside the coded one, both sizes kept */
	alloc_pic(&a, &wide, 704, 288, 8, DAV1D_PIXEL_LAYOUT_I420);
	both = dd_meter_held(m);
	release_pic(&a, &wide);
	alloc_pic(&a, &wide, 704, 288, 8, DAV1D_PIXEL_LAYOUT_I420);
	alloc_pic(&a, &pic[1], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420);
	CHECK(dd_meter_held(m) == both, "two sizes at once reuse their kept blocks");
	release_pic(&a, &wide);
	/* a third size takes the place of the one asked for least recently (704 wide) */
	alloc_pic(&a, &small, 176, 144, 8, DAV1D_PIXEL_LAYOUT_I420);
	CHECK(dd_meter_held(m) < both && dd_meter_held(m) > three,
	      "the wide kept block went back for a third size");
	release_pic(&a, &small);
	/* at the limit: a kept block is reused; a new picture first gives the kept ones back */
	release_pic(&a, &pic[2]);
	small_kept = dd_meter_held(m);
	dd_meter_set_limit(m, small_kept);
	CHECK(alloc_pic(&a, &pic[2], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420) == 0,
	      "a kept picture is reused at the limit");
	CHECK(alloc_pic(&a, &pic[3], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420) == DAV1D_ERR(ENOMEM),
	      "a new one past it is refused");
	CHECK(dd_meter_refusals(m, NULL) == 1, "the refusal counted");
	CHECK(dd_meter_held(m) == three, "the small kept block went back first");
	dd_meter_set_limit(m, three + one);
	CHECK(alloc_pic(&a, &pic[3], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420) == 0,
	      "room for a fourth");
	/* a limit lowered below what is held: the kept block goes, nothing is handed out */
	release_pic(&a, &pic[3]);
	dd_meter_set_limit(m, one);
	CHECK(alloc_pic(&a, &pic[3], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420) == DAV1D_ERR(ENOMEM) &&
	      dd_meter_held(m) == three, "a lowered limit: refused, the kept block given back");
	dd_meter_set_limit(m, 0);
	alloc_pic(&a, &pic[3], 352, 288, 8, DAV1D_PIXEL_LAYOUT_I420);
	for (int i = 0; i < 4; i++)
		release_pic(&a, &pic[i]);
	dd_dav1d_pictures_unref(p);
	CHECK(dd_meter_held(m) == 0, "nothing held after the close: %llu",
	      (unsigned long long)dd_meter_held(m));
	dd_meter_unref(m);
}

#define THREADS 4
#define ROUNDS 2000

struct worker {
	Dav1dPicAllocator a;
	Dav1dPicture last; /* released by main after the allocator's owner let go */
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	Dav1dPicture pic[3] = { 0 };

	for (int i = 0; i < ROUNDS; i++) {
		Dav1dPicture *q = &pic[i % 3];

		if (q->allocator_data)
			release_pic(&w->a, q);
		/* two sizes, as superres makes */
		w->bad |= alloc_pic(&w->a, q, i % 2 ? 128 : 256, 64, 8,
				    DAV1D_PIXEL_LAYOUT_I420) != 0;
		memset(q->data[0], i, (size_t)q->stride[0] * 128);
	}
	release_pic(&w->a, &pic[0]);
	release_pic(&w->a, &pic[1]);
	w->last = pic[2];
	return NULL;
}

static void threads(void)
{
	struct dd_meter *m = dd_meter_new();
	struct dd_dav1d_pictures *p = dd_dav1d_pictures_new(m);
	struct worker w[THREADS];
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .a = dd_dav1d_pictures_allocator(p) };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(!w[i].bad, "thread %d: every allocation succeeded", i);
	}
	/* the stream closes while pictures are still out (a frame thread finishing) */
	dd_dav1d_pictures_unref(p);
	CHECK(dd_meter_held(m) > 0, "pictures still out keep their bytes");
	for (int i = 0; i < THREADS; i++)
		release_pic(&w[i].a, &w[i].last);
	CHECK(dd_meter_held(m) == 0, "every byte back once: %llu",
	      (unsigned long long)dd_meter_held(m));
	dd_meter_unref(m);
}

int main(void)
{
	layouts();
	counting();
	threads();
	return check_summary("test_dav1d_pictures", failures);
}
