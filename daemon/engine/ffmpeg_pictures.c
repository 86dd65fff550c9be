/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>

#include "ffmpeg_pictures.h"

/* One plane's buffer as handed out: libavcodec's, and what it took from the meter. */
struct metered_buf {
	AVBufferRef *inner;
	struct dd_meter *meter;
	size_t size;
	void (*unref)(AVBufferRef **buf);
};

/* The last reference to the wrapper is gone (any thread): the bytes go back. */
static void metered_free(void *opaque, uint8_t *data)
{
	struct metered_buf *mb = opaque;

	(void)data;
	dd_meter_give(mb->meter, mb->size);
	dd_meter_unref(mb->meter);
	mb->unref(&mb->inner);
	free(mb);
}

/* *slot's buffer in a wrapper that carries its bytes; -1 (slot unchanged) when out of memory. */
static int wrap(const struct dd_ffmpeg_lib *lib, struct dd_meter *meter, AVBufferRef **slot)
{
	struct metered_buf *mb = malloc(sizeof(*mb));
	AVBufferRef *outer;

	if (!mb)
		return -1;
	outer = lib->av_buffer_create((*slot)->data, (*slot)->size, metered_free, mb, 0);
	if (!outer) {
		free(mb);
		return -1;
	}
	*mb = (struct metered_buf){
		.inner = *slot,
		.meter = dd_meter_ref(meter),
		.size = (*slot)->size,
		.unref = lib->av_buffer_unref,
	};
	*slot = outer;
	return 0;
}

/* The frame's buffers: buf[] up to its first empty entry, then extended_buf[]. */
static AVBufferRef **frame_buffer(AVFrame *frame, int i)
{
	int n = 0;

	while (n < AV_NUM_DATA_POINTERS && frame->buf[n])
		n++;
	if (i < n)
		return &frame->buf[i];
	return i - n < frame->nb_extended_buf ? &frame->extended_buf[i - n] : NULL;
}

int ff_meter_frame(const struct dd_ffmpeg_lib *lib, struct dd_meter *meter, AVFrame *frame,
		   bool *refused)
{
	uint64_t unwrapped = 0;
	AVBufferRef **slot;

	*refused = false;
	for (int i = 0; (slot = frame_buffer(frame, i)); i++)
		unwrapped += (*slot)->size;
	if (!dd_meter_take(meter, unwrapped)) {
		*refused = true;
		goto fail;
	}
	for (int i = 0; (slot = frame_buffer(frame, i)); i++) {
		size_t size = (*slot)->size;

		if (wrap(lib, meter, slot))
			goto no_memory;
		unwrapped -= size;
	}
	return 0;
no_memory:
	/* the wrapped planes give theirs back as the frame lets them go */
	dd_meter_give(meter, unwrapped);
fail:
	lib->av_frame_unref(frame);
	return AVERROR(ENOMEM);
}
