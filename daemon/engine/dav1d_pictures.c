/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "dav1d_pictures.h"

/*
 * Each buffer starts with this header, in a block of DAV1D_PICTURE_ALIGNMENT; the planes
 * follow it.
 */
struct pic_block {
	struct pic_block *next; /* on the kept list */
	size_t size;            /* the whole block, header included: what the meter counts */
};

/*
 * Kept blocks of one size. Two sizes: a frame coded at a reduced width (AV1 superres) makes
 * two pictures each of a different size, the coded one and the upscaled one.
 */
struct kept_list {
	struct pic_block *blocks;
	size_t size;
	uint64_t used; /* when a block of this size was last asked for, to replace the older */
};

#define KEPT_SIZES 2

struct dd_dav1d_pictures {
	atomic_uint refs; /* the stream's, and one per picture out */
	struct dd_meter *meter;
	pthread_mutex_t lock; /* the kept lists */
	struct kept_list kept[KEPT_SIZES];
	uint64_t asked; /* allocations so far, the clock of kept_list.used */
};

/* The block of dav1d's alignment in front of the planes (see dav1d/picture.h) */
#define HEADER_SIZE DAV1D_PICTURE_ALIGNMENT

struct dd_dav1d_pictures *dd_dav1d_pictures_new(struct dd_meter *meter)
{
	struct dd_dav1d_pictures *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->meter = dd_meter_ref(meter);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void block_free(struct dd_dav1d_pictures *p, struct pic_block *b)
{
	dd_meter_give(p->meter, b->size);
	free(b);
}

/* Gives a list's blocks back to the system. Under the lock. */
static void drop_kept(struct dd_dav1d_pictures *p, struct kept_list *k)
{
	while (k->blocks) {
		struct pic_block *b = k->blocks;

		k->blocks = b->next;
		block_free(p, b);
	}
}

void dd_dav1d_pictures_unref(struct dd_dav1d_pictures *p)
{
	if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (unsigned int i = 0; i < KEPT_SIZES; i++)
		drop_kept(p, &p->kept[i]);
	pthread_mutex_destroy(&p->lock);
	dd_meter_unref(p->meter);
	free(p);
}

/* The list for blocks of size; a new size takes the list asked for least recently. */
static struct kept_list *kept_for(struct dd_dav1d_pictures *p, size_t size)
{
	struct kept_list *k = &p->kept[0];

	for (unsigned int i = 0; i < KEPT_SIZES; i++) {
		if (p->kept[i].size == size) {
			k = &p->kept[i];
			break;
		}
		if (p->kept[i].used < k->used)
			k = &p->kept[i];
	}
	if (k->size != size) {
		drop_kept(p, k);
		k->size = size;
	}
	k->used = ++p->asked;
	return k;
}

/*
 * A kept block of size, or a new one the meter allowed; NULL when refused or out of memory.
 * Before a refusal the kept blocks go back to the system (after a size change they are of
 * no use), and all of them go when the limit was lowered below what is held: then, as in
 * the FFmpeg backend, no picture is handed out until the pictures fit again.
 */
static struct pic_block *block_get(struct dd_dav1d_pictures *p, size_t size)
{
	struct pic_block *b;
	struct kept_list *k;
	bool taken;
	void *mem;

	pthread_mutex_lock(&p->lock);
	k = kept_for(p, size);
	/* a limit below what is held hands out no kept block: the next check drops them all */
	b = dd_meter_fits(p->meter, 0) ? k->blocks : NULL;
	if (b)
		k->blocks = b->next;
	else if (!dd_meter_fits(p->meter, size))
		for (unsigned int i = 0; i < KEPT_SIZES; i++)
			drop_kept(p, &p->kept[i]);
	taken = b || dd_meter_take(p->meter, size);
	pthread_mutex_unlock(&p->lock);
	if (b || !taken)
		return b;
	if (posix_memalign(&mem, DAV1D_PICTURE_ALIGNMENT, size)) {
		dd_meter_give(p->meter, size);
		return NULL;
	}
	b = mem;
	b->size = size;
	return b;
}

/*
 * A row of a plane in bytes: whole 128-pixel units as dav1d asks, and one alignment unit more
 * when that is a multiple of 1024 bytes, so that the rows of a superblock do not all map to
 * the same cache sets.
 */
static size_t plane_stride(size_t width, unsigned int sample_bytes)
{
	size_t stride = width * sample_bytes;

	return stride % 1024 ? stride : stride + DAV1D_PICTURE_ALIGNMENT;
}

static int pictures_alloc(Dav1dPicture *pic, void *cookie)
{
	struct dd_dav1d_pictures *p = cookie;
	const Dav1dPictureParameters *pp = &pic->p;
	bool chroma = pp->layout != DAV1D_PIXEL_LAYOUT_I400;
	unsigned int ss_hor = pp->layout == DAV1D_PIXEL_LAYOUT_I420 ||
			      pp->layout == DAV1D_PIXEL_LAYOUT_I422;
	unsigned int ss_ver = pp->layout == DAV1D_PIXEL_LAYOUT_I420;
	unsigned int bytes = pp->bpc > 8 ? 2 : 1;
	size_t w, h, y_stride, uv_stride, y_size, uv_size, size;
	struct pic_block *b;
	uint8_t *base;

	if (pp->w <= 0 || pp->h <= 0 || pp->w > 65536 || pp->h > 65536)
		return DAV1D_ERR(EINVAL);
	w = ((size_t)pp->w + 127) & ~(size_t)127;
	h = ((size_t)pp->h + 127) & ~(size_t)127;
	y_stride = plane_stride(w, bytes);
	uv_stride = chroma ? plane_stride(w >> ss_hor, bytes) : 0;
	y_size = y_stride * h;
	uv_size = uv_stride * (h >> ss_ver);
	/* dav1d may read up to one alignment unit past the last plane */
	size = HEADER_SIZE + y_size + 2 * uv_size + DAV1D_PICTURE_ALIGNMENT;
	b = block_get(p, size);
	if (!b)
		return DAV1D_ERR(ENOMEM);
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	base = (uint8_t *)b + HEADER_SIZE;
	pic->data[0] = base;
	pic->data[1] = chroma ? base + y_size : NULL;
	pic->data[2] = chroma ? base + y_size + uv_size : NULL;
	pic->stride[0] = (ptrdiff_t)y_stride;
	pic->stride[1] = (ptrdiff_t)uv_stride;
	pic->allocator_data = b;
	return 0;
}

/* Called by dav1d's threads too: the kept list is under the lock. */
static void pictures_release(Dav1dPicture *pic, void *cookie)
{
	struct dd_dav1d_pictures *p = cookie;
	struct pic_block *b = pic->allocator_data;

	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < KEPT_SIZES && b; i++) {
		if (p->kept[i].size == b->size) {
			b->next = p->kept[i].blocks;
			p->kept[i].blocks = b;
			b = NULL;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (b)
		block_free(p, b);
	dd_dav1d_pictures_unref(p);
}

Dav1dPicAllocator dd_dav1d_pictures_allocator(struct dd_dav1d_pictures *p)
{
	return (Dav1dPicAllocator){
		.cookie = p,
		.alloc_picture_callback = pictures_alloc,
		.release_picture_callback = pictures_release,
	};
}
