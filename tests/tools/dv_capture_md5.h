/* SPDX-License-Identifier: BSD-2-Clause */
/* The MD5 of a picture in a one-plane NV12/P010 CAPTURE buffer, hashed like FFmpeg's framemd5 */
#ifndef DV_CAPTURE_MD5_H
#define DV_CAPTURE_MD5_H

#include <stdint.h>

#include "dv_v4l2.h"

/* w x h from the top left of CAPTURE buffer idx; brackets the read with dv_cap_sync */
int dv_cap_md5(const struct dv_dev *d, unsigned int idx, uint32_t w, uint32_t h, char out[33]);

#endif
