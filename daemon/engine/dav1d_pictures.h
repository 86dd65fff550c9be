/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dav1d's pictures, allocated by the AV1 backend instead of by dav1d, so that the stream's
 * meter (picture_meter.h) counts them and can refuse one past the stream's limit.
 *
 * Released buffers of the current picture size are kept for the next pictures, as dav1d's
 * own allocator keeps them: a picture is 3 to 25 MB, and memory fresh from the system costs
 * a page fault per page on its first write. Kept buffers stay counted as held (they are
 * the decoder's memory); they are kept for two sizes (a frame coded at a reduced width,
 * AV1 superres, makes a picture of each), and go back to the system when a third size takes
 * their place, when a new picture would otherwise be refused, when the limit is lowered
 * below what the pictures hold, or when the stream closes.
 */
#ifndef DAEDALUS_DAV1D_PICTURES_H
#define DAEDALUS_DAV1D_PICTURES_H

#include <dav1d/dav1d.h>

#include "picture_meter.h"

struct dd_dav1d_pictures;

/* Pictures counted by meter (a reference is taken); NULL when out of memory. */
struct dd_dav1d_pictures *dd_dav1d_pictures_new(struct dd_meter *meter);

/*
 * The stream lets go. Pictures still out (a dav1d picture the caller holds, a frame thread
 * finishing) keep the allocator alive until they come back.
 */
void dd_dav1d_pictures_unref(struct dd_dav1d_pictures *p);

/* The allocator for Dav1dSettings.allocator; its cookie is p. */
Dav1dPicAllocator dd_dav1d_pictures_allocator(struct dd_dav1d_pictures *p);

#endif
