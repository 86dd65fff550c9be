// SPDX-License-Identifier: BSD-2-Clause
/* One copy of the CAPTURE hashing that the VP8/VP9 and AV1 clients share */
#include "dv_capture_md5.h"
#include "test_picture.h"

int dv_cap_md5(const struct dv_dev *d, unsigned int idx, uint32_t w, uint32_t h, char out[33])
{
	const struct v4l2_pix_format_mplane *f = &d->cap_fmt.fmt.pix_mp;
	uint8_t *map = dv_cap_mem(d, idx)->p[0].map;
	struct pic p = { .fourcc = f->pixelformat, .width = w, .height = h };
	uint32_t stride = f->plane_fmt[0].bytesperline;

	/* NV12 / P010 in one plane: CbCr follows the luma plane of the format's height */
	p.dst.planes[0].data = map;
	p.dst.planes[0].stride = stride;
	p.dst.planes[1].data = map + (size_t)stride * f->height;
	p.dst.planes[1].stride = stride;
	if (dv_cap_sync(d, idx, true))
		return -1;
	pic_md5(&p, out);
	return dv_cap_sync(d, idx, false);
}
