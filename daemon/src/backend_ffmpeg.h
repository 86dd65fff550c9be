/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the FFmpeg backend: the stream state shared by its generic part (backend_ffmpeg.c:
 * one packet in, the picture libavcodec allocated for it out) and its H.264 part
 * (backend_ffmpeg_h264.c: access units built from jobs, held slices, field pairs).
 */
#ifndef DAEDALUS_BACKEND_FFMPEG_H
#define DAEDALUS_BACKEND_FFMPEG_H

#include <stdatomic.h>
#include <stdbool.h>

#include "backend.h"
#include "ffmpeg_lib.h"
#include "h264_packet.h"

struct ff_backend {
	struct dd_ffmpeg_lib lib;
	unsigned int threads;
	dd_log_fn log;
	void *log_opaque;
	const AVCodec *decoder[DD_CODEC_COUNT];
	const AVClass *codec_class; /* an AVCodecContext's, to know one in the log callback */
};

struct dd_backend_stream {
	struct ff_backend *be;
	enum dd_codec codec;
	AVCodecContext *ctx;
	AVPacket *pkt;
	AVFrame *captured; /* the last picture allocated during the current send */
	AVFrame *drained;
	unsigned int allocations;
	bool capturing;
	bool capture_failed;
	char av_error[160]; /* first error FFmpeg logged during the current send */
	atomic_bool av_error_set; /* av_error is taken (slice threads log concurrently) */
	/* H.264 */
	struct dd_h264_packet h264;
	AVFrame *kept;     /* the picture of the last decoded H.264 job, for its second field */
	uint64_t kept_ts;  /* that job's timestamp */
};

/*
 * Sends one packet and drains the decoder. On success s->captured holds the last picture
 * allocated during the send (s->allocations of them; 0 is not an error here).
 */
int ff_send(struct dd_backend_stream *s, const uint8_t *data, size_t size,
	    struct dd_error *err);

/*
 * Copies frame into job->dst and fills *out. fields: 3 the whole frame, 1 / 2 only the
 * lines of the top / bottom field.
 */
int ff_write_picture(struct dd_backend_stream *s, const AVFrame *frame,
		     const struct dd_job *job, unsigned int fields, struct dd_decoded *out,
		     struct dd_error *err);

int ff_decode_h264(struct dd_backend_stream *s, const struct dd_job *job,
		   struct dd_decoded *out, struct dd_error *err);
void ff_flush_h264(struct dd_backend_stream *s);

#endif
