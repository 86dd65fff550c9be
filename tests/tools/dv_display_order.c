// SPDX-License-Identifier: BSD-2-Clause
/* Pictures through the request pipe in display order: see dv_display_order.h. */
#include <stdio.h>
#include <string.h>

#include "dv_display_order.h"

static int print_picture(struct dv_display *d, unsigned int cap, long display)
{
	char md5[33];

	if (d->cap_err[cap]) {
		printf("pic %ld FAILED\n", display);
		return 0;
	}
	if (dv_rp_md5(&d->rp, cap, 0, 0, d->cap_w[cap], d->cap_h[cap], md5))
		return -1;
	printf("pic %ld %ux%u %s\n", display, d->cap_w[cap], d->cap_h[cap], md5);
	return 0;
}

int dv_display_back(void *opaque, unsigned int cap, uint32_t flags)
{
	struct dv_display *d = opaque;

	d->cap_err[cap] = flags & V4L2_BUF_FLAG_ERROR;
	d->cap_w[cap] = d->pend[cap].w;
	d->cap_h[cap] = d->pend[cap].h;
	if (d->cap_err[cap]) {
		fprintf(stderr, "frame %ld back (CAPTURE %u) with ERROR\n", d->rp.completed - 1,
			cap);
		d->failed++;
	}
	return d->pend[cap].display < 0 ? 0 : print_picture(d, cap, d->pend[cap].display);
}

void dv_display_expect(struct dv_display *d, unsigned int cap, long display, uint32_t w,
		       uint32_t h)
{
	d->pend[cap].display = display;
	d->pend[cap].w = w;
	d->pend[cap].h = h;
}

int dv_display_shown(struct dv_display *d, unsigned int cap)
{
	return dv_rp_wait_capture(&d->rp, cap);
}

int dv_display_again(struct dv_display *d, int cap, long display)
{
	if (cap < 0) {
		printf("pic %ld FAILED\n", display);
		d->failed++;
		return 0;
	}
	if (!d->open || dv_rp_wait_capture(&d->rp, (unsigned int)cap))
		return -1;
	return print_picture(d, (unsigned int)cap, display);
}

int dv_display_stop(struct dv_display *d, struct dv_rp *pool)
{
	int ret = dv_rp_drain(&d->rp);

	if (d->rp.max_in_flight > d->max_in_flight)
		d->max_in_flight = d->rp.max_in_flight;
	if (d->rp.ncap > d->max_pool)
		d->max_pool = d->rp.ncap;
	dv_rp_close_node(&d->rp);
	if (pool)
		*pool = d->rp;
	else
		dv_rp_release_pool(&d->rp);
	d->open = false;
	memset(d->cap_err, 0, sizeof(d->cap_err));
	return ret;
}
