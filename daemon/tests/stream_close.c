/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>

#include "picture_meter.h"
#include "stream_close.h"

int stream_close_counted(struct dd_stream *stream)
{
	struct dd_meter *m = dd_stream_meter(stream);
	uint64_t held, peak;

	if (!m) {
		fprintf(stderr, "the stream's backend counts no pictures\n");
		dd_stream_close(stream);
		return 1;
	}
	dd_meter_ref(m);
	dd_stream_close(stream);
	held = dd_meter_held(m);
	peak = dd_meter_peak(m);
	dd_meter_unref(m);
	fprintf(stderr, "pictures: %llu bytes at most, %llu still counted after the close\n",
		(unsigned long long)peak, (unsigned long long)held);
	return held != 0 || peak == 0;
}
