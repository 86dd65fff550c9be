/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * H.264 in the FFmpeg backend. libavcodec gets Annex-B access units that h264_packet builds
 * from jobs: slices held with HOLD_CAPTURE_BUF wait for the job that completes the CAPTURE
 * buffer, so a picture (or GStreamer's field pair) is decoded by one send.
 *
 * Fields sent one request each (FFmpeg's v4l2-request re-queues the CAPTURE buffer for the
 * second field): the first field allocates the picture; the second decodes into that same
 * picture without an allocation, so the first one's picture is kept for it. Each writes only
 * its own lines, as the other field's lines in the CAPTURE buffer belong to the other job.
 *
 * libavcodec conceals damaged or missing data and only logs it unless asked to fail
 * (AV_EF_EXPLODE, set at open in SYNC mode); a slice that fails on a slice thread is seen
 * through its return code (backend_ffmpeg.c), so a damaged picture is reported, not shown.
 * PIPE mode cannot use EXPLODE and reads the errors logged for the packet instead
 * (backend_ffmpeg_pipe.c).
 */
#include <inttypes.h>
#include <stdio.h>

#include "backend_ffmpeg.h"
#include "error.h"

void ff_h264_drop_pieces(struct dd_backend_stream *s, const char *why)
{
	char msg[160];

	if (s->be->log) {
		snprintf(msg, sizeof(msg), "H.264: %u held request(s) of ts %" PRIu64 " dropped: %s",
			 s->h264.pieces, s->h264.timestamp, why);
		s->be->log(s->be->log_opaque, DD_LOG_WARNING, msg);
	}
	/* the pieces may carry the parameter sets: the decoder never got them */
	dd_h264_packet_reset(&s->h264);
}

int ff_prepare_h264(struct dd_backend_stream *s, const struct dd_job *job,
		    unsigned int *fields, struct dd_decoded *out, struct dd_error *err)
{
	struct dd_h264_packet *p = &s->h264;

	if (p->pieces && job->new_frame)
		ff_h264_drop_pieces(s, "their CAPTURE buffer was released without its last request");
	else if (p->pieces && p->timestamp != job->timestamp)
		ff_h264_drop_pieces(s, "a request of another timestamp followed them");
	if (dd_h264_packet_add(p, job, err)) {
		/* held pieces may carry parameter sets the decoder never got */
		dd_h264_packet_reset(p);
		return -1;
	}
	if (job->hold) {
		out->pending = true;
		return 1;
	}
	*fields = p->fields;
	return 0;
}

int ff_finish_h264(struct dd_backend_stream *s, const struct dd_job *job, unsigned int fields,
		   int ret, struct dd_decoded *out, struct dd_error *err)
{
	const struct dd_ffmpeg_lib *lib = &s->be->lib;
	const uint16_t frame_num = job->ctrl.h264.decode_params->frame_num;
	const AVFrame *pic;

	if (!ret && s->av_error[0]) /* PIPE mode only: a line logged for this packet */
		ret = dd_fail(err, "libavcodec: %s", s->av_error);
	if (ret)
		goto fail;

	if (s->allocations) {
		pic = s->captured;
		lib->av_frame_unref(s->kept);
		if (fields != 3) {
			if (lib->av_frame_ref(s->kept, s->captured) < 0) {
				ret = dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
				goto fail;
			}
			s->kept_ts = job->timestamp;
			s->kept_fields = fields;
			s->kept_frame_num = frame_num;
		}
	} else if (fields != 3 && s->kept->buf[0] && s->kept_ts == job->timestamp &&
		   fields != s->kept_fields && frame_num == s->kept_frame_num) {
		pic = s->kept; /* the second field, decoded into its first field's picture */
	} else {
		ret = dd_fail(err, "libavcodec decoded no picture for this H.264 request%s",
			      fields != 3 ? " (a second field without its first: one of the other "
			      "parity and the same frame_num)" : "");
		goto fail;
	}
	ret = ff_write_picture(s, pic, job, fields, out, err);
	/* the profile without the constraint flags FFmpeg ORs in (constrained baseline...) */
	out->profile = s->ctx->profile & 0xff;
	if (pic == s->kept)
		lib->av_frame_unref(s->kept);
	lib->av_frame_unref(s->captured);
	return ret;
fail:
	/* a picture refused by the stream's limit fails its frame with whatever error: say so */
	if (s->refused)
		dd_meter_fail(s->meter, err);
	/*
	 * The decoder may not have taken the parameter sets in this packet: send them again.
	 * PIPE mode finishes a job after later ones were sent: only the sets are forgotten,
	 * never slices held for a later job.
	 */
	if (s->frame_threads)
		s->h264.sps_len = s->h264.pps_len = 0;
	else
		dd_h264_packet_reset(&s->h264);
	lib->av_frame_unref(s->kept);
	lib->av_frame_unref(s->captured);
	return -1;
}

int ff_decode_h264(struct dd_backend_stream *s, const struct dd_job *job,
		   struct dd_decoded *out, struct dd_error *err)
{
	struct dd_h264_packet *p = &s->h264;
	unsigned int fields = 3;
	int ret = ff_prepare_h264(s, job, &fields, out, err);

	if (ret)
		return ret < 0 ? -1 : 0;
	ret = ff_send(s, p->data, p->len, err);
	dd_h264_packet_clear(p);
	return ff_finish_h264(s, job, fields, ret, out, err);
}

void ff_flush_h264(struct dd_backend_stream *s)
{
	dd_h264_packet_reset(&s->h264);
	s->be->lib.av_frame_unref(s->kept);
}
