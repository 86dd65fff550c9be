/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FFmpeg backend's asynchronous ops (submit / collect / sync), which the engine uses when
 * its frame_delay is above 1. The stream opens in the mode for that frame_delay and changes
 * it only between jobs, with a new libavcodec context (ff_set_frame_delay()):
 *
 * SYNC (everything when frame_delay <= 1, and a caller that waits for each job): submit
 * decodes the job at once, exactly as decode() does, and queues its result for collect.
 *
 * PIPE (H.264, VP8, VP9; FFmpeg 6.0 and later, for AV_CODEC_FLAG_COPY_OPAQUE): libavcodec decodes
 * with T = min(frame_delay, threads) frame threads, so T jobs are decoded at once. What this relies on, read from FFmpeg 7.1's pthread_frame.c
 * (docs/frame-parallel.md, section 1):
 *  - packets go to the T workers in turn; once every worker has one, each further
 *    avcodec_send_packet() waits for the oldest worker's decode() to return and collects
 *    it, whether it made a picture or not (hidden VP9 frames, H.264 pictures held for
 *    reordering). So after sending packet n and draining avcodec_receive_frame(), every
 *    packet up to n - (T - 1) is decoded, and an error that this send or drain returns is
 *    packet n - (T - 1)'s. tests/ pin this: every picture is compared with the SYNC decode.
 *  - each job's picture is the one libavcodec allocated for its packet through get_buffer2
 *    (in the worker), found by the packet number carried in pkt->opaque, which
 *    AV_CODEC_FLAG_COPY_OPAQUE copies to the frame before get_buffer2 is called. The frames
 *    avcodec_receive_frame() hands out (display order, shown ones only) are dropped.
 *  - errors: the return code the send or drain that collects a packet returns. That is not
 *    all of them: with frame threads libavcodec's H.264 decodes each slice on the packet's
 *    worker and drops the slice's return code unless AV_EF_EXPLODE is set, and EXPLODE
 *    cannot be set here: a frame thread marks the previous picture's references when it
 *    takes over the decoder state (update_thread_context), and with EXPLODE a marking
 *    complaint there (after a seek, "mmco: unref short failure" for a picture the decoder
 *    never had) fails that packet and every later one until a flush. So PIPE mode still
 *    reads the errors libavcodec logs (the only report left), each for the packet named by
 *    the opaque of the context it is logged with: libavcodec copies the user context's
 *    opaque into a worker's context with each packet it hands over (struct ff_packet_ref),
 *    and pipe_send() points it at the packet's own. A worker's last picture allocation
 *    would not do: a packet may allocate none (an H.264 second field, which decodes into
 *    its first field's picture), and its lines would then go to an older packet.
 *    SYNC mode reads no log (backend_ffmpeg.c).
 *
 * sync has to finish the jobs in flight without the drain that drops the references
 * (send(NULL) then flush), so it sends T - 1 packets that change no decoder state:
 *  - H.264: an access unit delimiter alone, sent with skip_frame = AVDISCARD_NONREF (the
 *    decoder returns without a picture; with AVDISCARD_DEFAULT it reports "no frame!");
 *  - VP9: a frame header with show_existing_frame = 1 for slot 0 (every key frame refreshes
 *    all eight slots) and the stream's profile bits; the header parser returns before it
 *    touches any state, and the duplicate picture it outputs is dropped like every output;
 *  - VP8: a hidden inter frame whose first partition is all zero bytes (send_vp8_filler()),
 *    sent with skip_frame = AVDISCARD_NONREF. A boolean decoder reading zeros decodes every
 *    flag and literal as 0: no refresh of last, golden or altref, so the frame is not a
 *    reference and vp8.c skips it after the header, keeping its reference slots and its
 *    previous picture (whose segment map the next frame may inherit); refresh_entropy_probs
 *    is 0, so the probabilities and every update the header made to them are restored on
 *    the skip and handed to the next frame thread unchanged (vp8_decode_update_thread_context
 *    takes prob[!update_probabilities]); segmentation and loop filter deltas are off for it,
 *    their data untouched, and both flags are read again by every frame. The rest it sets
 *    (quantizers, filter level, sign bias, partition count) every frame sets again before
 *    using it.
 * None is proven neutral by reading alone: the decode_clip and decode_h264 tests with
 * --stall-every compare every picture with the reference decoder's.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_ffmpeg.h"
#include "error.h"

int ff_pipe_open(struct dd_backend_stream *s)
{
	if (!s->pipe_capable)
		return 0;
	if (pthread_mutex_init(&s->capture_lock, NULL)) {
		s->pipe_capable = false;
		s->frame_threads = 0;
		return -1;
	}
	for (unsigned int i = 0; i < FF_CAPTURE_SLOTS; i++) {
		s->cap[i].ref.s = s;
		s->cap[i].pic = s->be->lib.av_frame_alloc();
		if (!s->cap[i].pic)
			return -1;
	}
	return 0;
}

/* After avcodec_free_context(): no worker thread is left. */
void ff_pipe_close(struct dd_backend_stream *s)
{
	free(s->q);
	s->q = NULL;
	s->q_cap = s->q_count = 0;
	if (!s->pipe_capable)
		return;
	for (unsigned int i = 0; i < FF_CAPTURE_SLOTS; i++)
		s->be->lib.av_frame_free(&s->cap[i].pic);
	pthread_mutex_destroy(&s->capture_lock);
}

void ff_pipe_capture(struct dd_backend_stream *s, AVFrame *frame)
{
	uintptr_t tag = (uintptr_t)frame->opaque;
	struct ff_capture *c = &s->cap[tag % FF_CAPTURE_SLOTS];

	pthread_mutex_lock(&s->capture_lock);
	if (tag && c->tag == tag) {
		s->be->lib.av_frame_unref(c->pic);
		if (s->be->lib.av_frame_ref(c->pic, frame) < 0)
			c->capture_failed = true;
		else
			c->allocations++;
	}
	pthread_mutex_unlock(&s->capture_lock);
}

void ff_pipe_refused(struct dd_backend_stream *s, uintptr_t tag)
{
	struct ff_capture *c = &s->cap[tag % FF_CAPTURE_SLOTS];

	pthread_mutex_lock(&s->capture_lock);
	if (tag && c->tag == tag)
		c->refused = true;
	pthread_mutex_unlock(&s->capture_lock);
}

void ff_pipe_log_error(struct dd_backend_stream *s, uintptr_t tag, const char *line)
{
	struct ff_capture *c = &s->cap[tag % FF_CAPTURE_SLOTS];

	pthread_mutex_lock(&s->capture_lock);
	/* the first error wins; a finished packet's slot is free (tag 0) */
	if (tag && c->tag == tag && !c->av_error[0])
		snprintf(c->av_error, sizeof(c->av_error), "%s", line);
	pthread_mutex_unlock(&s->capture_lock);
}

static struct ff_async_job *q_at(const struct dd_backend_stream *s, unsigned int i)
{
	return &s->q[(s->q_head + i) % s->q_cap];
}

/* A new entry at the tail, or NULL when out of memory. */
static struct ff_async_job *q_push(struct dd_backend_stream *s)
{
	if (s->q_count == s->q_cap) {
		unsigned int cap = s->q_cap ? s->q_cap * 2 : 8;
		struct ff_async_job *q = malloc(sizeof(*q) * cap);

		if (!q)
			return NULL;
		for (unsigned int i = 0; i < s->q_count; i++)
			q[i] = *q_at(s, i);
		free(s->q);
		s->q = q;
		s->q_cap = cap;
		s->q_head = 0;
	}
	return q_at(s, s->q_count++);
}

/* The job whose packet is tag, or NULL (a filler). */
static struct ff_async_job *q_find_tag(const struct dd_backend_stream *s, uintptr_t tag)
{
	for (unsigned int i = 0; i < s->q_count; i++) {
		struct ff_async_job *j = q_at(s, i);

		if (!j->done && j->tag == tag)
			return j;
	}
	return NULL;
}

/* Packet tag is decoded: its job (if it is not a filler) gets its picture and result. */
static void pipe_complete(struct dd_backend_stream *s, uintptr_t tag, int sent, int received)
{
	const struct dd_ffmpeg_lib *lib = &s->be->lib;
	struct ff_capture *c = &s->cap[tag % FF_CAPTURE_SLOTS];
	struct ff_async_job *j = q_find_tag(s, tag);
	int ret;

	lib->av_frame_unref(s->captured);
	s->allocations = 0;
	s->capture_failed = false;
	s->refused = false;
	s->slice_error = 0;
	s->av_error[0] = '\0';
	pthread_mutex_lock(&s->capture_lock);
	if (c->tag == tag) {
		if (c->allocations && lib->av_frame_ref(s->captured, c->pic) < 0)
			s->capture_failed = true;
		s->allocations = c->allocations;
		s->capture_failed |= c->capture_failed;
		s->refused = c->refused;
		snprintf(s->av_error, sizeof(s->av_error), "%s", c->av_error);
		lib->av_frame_unref(c->pic);
		c->tag = 0;
	}
	pthread_mutex_unlock(&s->capture_lock);
	if (j) {
		ret = ff_sent_status(s, sent, received, &j->res.err);
		if (s->codec == DD_CODEC_H264)
			j->res.ret = ff_finish_h264(s, j->job, j->fields, ret, &j->res.out,
						    &j->res.err);
		else
			j->res.ret = ff_finish_vpx(s, j->job, ret, &j->res.out, &j->res.err);
		j->done = true;
	} else {
		lib->av_frame_unref(s->captured);
	}
	/*
	 * This packet's line only: ff_finish_h264() also runs for the jobs decoded one frame
	 * at a time after a switch (SYNC), which must not fail for a line a PIPE packet logged
	 */
	s->av_error[0] = '\0';
}

/*
 * Whether an error avcodec_send_packet() returned for packet tag may have come before the
 * packet reached a frame thread. Such a send leaves libavcodec with one packet fewer in
 * flight than counted here, collecting nothing: the packet completed T - 1 sends later would
 * be one still being decoded, its picture half written. From FFmpeg 7.1's decode.c and
 * pthread_frame.c, the errors before a thread takes the packet are allocations (the
 * packet's copy, its properties, the user and thread context updates: ENOMEM) and the
 * bitstream filters' (none for H.264 and VP8; VP9's superframe split: EINVAL, ENOMEM). Once
 * a thread took it, the send returns the verdict on the packet it collects: what the
 * decoders return for damaged data (AVERROR_INVALIDDATA), or ENOMEM when the stream's
 * picture memory limit refused that packet's picture in its worker (its capture slot says
 * so). H.264's update_thread_context returns INVALIDDATA before a thread takes the packet
 * only for reference marking errors under AV_EF_EXPLODE, which PIPE mode leaves off
 * (backend_ffmpeg.c), and for parameter sets the checks refuse first (h264_check.c).
 */
static bool send_may_have_missed(struct dd_backend_stream *s, uintptr_t tag, int sent)
{
	uintptr_t collected = tag - (s->frame_threads - 1);
	struct ff_capture *c = &s->cap[collected % FF_CAPTURE_SLOTS];
	bool refused;

	if (sent >= 0)
		return false;
	/* the first T - 1 sends collect nothing: an error is the send's own */
	if (tag < s->frame_threads)
		return true;
	if (sent == AVERROR_INVALIDDATA)
		return false;
	if (sent != AVERROR(ENOMEM))
		return true;
	pthread_mutex_lock(&s->capture_lock);
	refused = c->tag == collected && c->refused;
	pthread_mutex_unlock(&s->capture_lock);
	return !refused;
}

/*
 * After a send that may have missed (above): libavcodec's count of packets in flight is
 * unknown, so the decoder is flushed (which waits for every frame thread) and every job in
 * flight fails, marked reset: the engine then forgets every picture decoded before (as for
 * pictures lost), so nothing predicts from them. Which packet libavcodec failed is unknown:
 * the oldest job carries its error, the others say they went with it. Held H.264 slices
 * stay (a filler's send may be the one that failed, and the slices wait for a job still to
 * come), as do the parameter sets the packet writer remembers: the flush keeps libavcodec's.
 */
static void pipe_reset(struct dd_backend_stream *s, int sent)
{
	struct dd_error first = { "", DD_ERR_DATA };
	bool named = false;

	s->be->lib.avcodec_flush_buffers(s->ctx);
	s->be->lib.av_frame_unref(s->captured);
	/* a first field's picture: its second field decodes alone after the flush */
	s->be->lib.av_frame_unref(s->kept);
	ff_sent_status(s, sent, AVERROR(EAGAIN), &first);
	for (unsigned int i = 0; i < s->q_count; i++) {
		struct ff_async_job *j = q_at(s, i);

		if (j->done)
			continue;
		if (!named)
			j->res.err = first;
		else
			dd_fail_kind(&j->res.err, DD_ERR_REFERENCE, "the decoder was flushed while "
				     "this frame was in flight: %s", first.msg);
		named = true;
		j->res.ret = -1;
		j->res.reset = true;
		j->done = true;
	}
	ff_pipe_restart(s);
}

/*
 * Sends one packet under the next packet number, drains the output, and completes the
 * packet sent T - 1 before it (or, after an error that leaves the count in doubt, every
 * packet in flight: pipe_reset(), and 1). -1 only when the packet cannot be sent at all.
 */
static int pipe_send(struct dd_backend_stream *s, const uint8_t *data, size_t size)
{
	const struct dd_ffmpeg_lib *lib = &s->be->lib;
	uintptr_t tag = ++s->sent;
	struct ff_capture *c = &s->cap[tag % FF_CAPTURE_SLOTS];
	int sent, received;

	if (size > INT_MAX / 2)
		return -1;
	pthread_mutex_lock(&s->capture_lock);
	lib->av_frame_unref(c->pic);
	c->tag = tag;
	c->allocations = 0;
	c->capture_failed = false;
	c->refused = false;
	c->av_error[0] = '\0';
	pthread_mutex_unlock(&s->capture_lock);

	/* not reference-counted: libavcodec copies it into a padded buffer of its own */
	s->pkt->data = (uint8_t *)data;
	s->pkt->size = (int)size;
#ifdef AV_CODEC_FLAG_COPY_OPAQUE
	s->pkt->opaque = (void *)tag;
#endif
	/*
	 * The packet reaches a frame thread during this send, together with this opaque: the
	 * previous drain left libavcodec nothing buffered, so the send submits it at once (VP9
	 * superframes that could leave frames waiting are refused by the check, vpx_check.c).
	 * A send that fails before the packet reaches a thread: pipe_reset().
	 */
	c->ref.tag = tag;
	s->ctx->opaque = &c->ref;
	sent = lib->avcodec_send_packet(s->ctx, s->pkt);
	do {
		received = lib->avcodec_receive_frame(s->ctx, s->drained);
		lib->av_frame_unref(s->drained);
	} while (received >= 0);
	s->ctx->opaque = &s->no_packet;
	s->pkt->data = NULL;
	s->pkt->size = 0;
#ifdef AV_CODEC_FLAG_COPY_OPAQUE
	s->pkt->opaque = NULL;
#endif

	if (send_may_have_missed(s, tag, sent)) {
		pipe_reset(s, sent);
		return 1;
	}
	if (tag >= s->frame_threads)
		pipe_complete(s, tag - (s->frame_threads - 1), sent, received);
	return 0;
}

/*
 * The VP8 filler: a 3-byte frame tag (inter frame, the stream's version, hidden, first
 * partition size), a first partition of zeros long enough for the whole header (about 1100
 * flags, nearly all of them with probabilities that make a zero cost a fraction of a bit),
 * and one token partition, which libavcodec wants non-empty and never reads.
 */
#define VP8_FILLER_HEADER 256u
#define VP8_FILLER_SIZE (3u + VP8_FILLER_HEADER + 16u)

static void send_vp8_filler(struct dd_backend_stream *s)
{
	uint8_t f[VP8_FILLER_SIZE] = { 0 };

	f[0] = (uint8_t)(1 | (s->vpx_header & 0x0e) | ((VP8_FILLER_HEADER & 7) << 5));
	f[1] = (uint8_t)(VP8_FILLER_HEADER >> 3);
	f[2] = (uint8_t)(VP8_FILLER_HEADER >> 11);
	pipe_send(s, f, sizeof(f));
}

/* One packet that completes the oldest in flight and changes nothing (see the top). */
static void send_filler(struct dd_backend_stream *s)
{
	static const uint8_t aud[] = { 0, 0, 0, 1, 9, 0xf0 }; /* primary_pic_type 7: any */
	uint8_t vp9[2] = { 0, 0 };
	enum AVDiscard skip = s->ctx->skip_frame;

	if (s->codec == DD_CODEC_H264 || s->codec == DD_CODEC_VP8) {
		/* libavcodec gives each worker the skip_frame of the moment its packet is sent */
		s->ctx->skip_frame = AVDISCARD_NONREF;
		if (s->codec == DD_CODEC_H264)
			pipe_send(s, aud, sizeof(aud));
		else
			send_vp8_filler(s);
		s->ctx->skip_frame = skip;
		return;
	}
	/* frame marker and profile bits as in the stream; profile 3 has a reserved zero more */
	vp9[0] = (uint8_t)(s->vpx_header & 0xf0);
	if ((vp9[0] & 0x30) == 0x30) {
		vp9[0] |= 0x04; /* show_existing_frame; frame_to_show_map_idx 0 */
		pipe_send(s, vp9, 2);
	} else {
		vp9[0] |= 0x08;
		pipe_send(s, vp9, 1);
	}
}

int ff_pipe_submit(struct dd_backend_stream *s, const struct dd_job *job, uint64_t cookie,
		   struct dd_error *err)
{
	struct ff_async_job *j = q_push(s);
	int ret;

	if (!j)
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
	*j = (struct ff_async_job){ .job = job, .fields = 3, .res = { .cookie = cookie } };
	if (!s->frame_threads) {
		j->res.ret = ff_decode(s, job, &j->res.out, &j->res.err);
		j->done = true;
		return 0;
	}
	j->tag = s->sent + 1;
	if (s->codec == DD_CODEC_H264) {
		ret = ff_prepare_h264(s, job, &j->fields, &j->res.out, err);
		if (ret) {
			/* held, or failed before anything was sent */
			j->tag = 0;
			if (ret < 0) {
				s->q_count--;
				return -1;
			}
			j->done = true;
			return 0;
		}
		ret = pipe_send(s, s->h264.data, s->h264.len);
		/*
		 * A reset: the packet may never have reached libavcodec, nor the parameter
		 * sets in it, which the next packet then carries again
		 */
		if (ret > 0)
			dd_h264_packet_reset(&s->h264);
		dd_h264_packet_clear(&s->h264);
	} else {
		s->vpx_header = job->bitstream[0];
		ret = pipe_send(s, job->bitstream, job->bitstream_size);
	}
	if (ret < 0) {
		s->sent--;
		s->q_count--;
		return dd_fail(err, "bitstream of %zu bytes is too large", job->bitstream_size);
	}
	return 0;
}

/* The newest packet in flight, 0 if none. */
static uintptr_t last_in_flight(const struct dd_backend_stream *s)
{
	uintptr_t last = 0;

	for (unsigned int i = 0; i < s->q_count; i++) {
		const struct ff_async_job *j = q_at(s, i);

		if (!j->done && j->tag > last)
			last = j->tag;
	}
	return last;
}

void ff_pipe_sync(struct dd_backend_stream *s)
{
	uintptr_t last;

	if (!s->frame_threads)
		return;
	/* a filler whose send reset the decoder (pipe_reset()) leaves nothing in flight */
	while ((last = last_in_flight(s)) && s->sent < last + s->frame_threads - 1)
		send_filler(s);
}

int ff_pipe_collect(struct dd_backend_stream *s, bool wait, struct dd_backend_result *res)
{
	struct ff_async_job *j;

	if (!s->q_count)
		return 0;
	j = q_at(s, 0);
	if (!j->done) {
		if (!wait)
			return 0;
		ff_pipe_sync(s);
		if (!j->done) {
			/* a packet libavcodec never collected: nothing to show for it */
			j->res.ret = dd_fail(&j->res.err, "libavcodec lost the frame");
			j->done = true;
		}
	}
	*res = j->res;
	s->q_head = (s->q_head + 1) % s->q_cap;
	s->q_count--;
	return 1;
}

/* After avcodec_flush_buffers(): the packets in flight are gone, their jobs fail. */
void ff_pipe_flush(struct dd_backend_stream *s)
{
	for (unsigned int i = 0; i < s->q_count; i++) {
		struct ff_async_job *j = q_at(s, i);

		if (!j->done) {
			j->res.ret = dd_fail(&j->res.err, "the stream was flushed before the job "
					     "finished");
			j->done = true;
		}
	}
	/* libavcodec counts its workers' turns from the start again */
	ff_pipe_restart(s);
}

void ff_pipe_restart(struct dd_backend_stream *s)
{
	s->sent = 0;
	if (!s->pipe_capable)
		return;
	pthread_mutex_lock(&s->capture_lock);
	for (unsigned int i = 0; i < FF_CAPTURE_SLOTS; i++) {
		s->be->lib.av_frame_unref(s->cap[i].pic);
		s->cap[i].tag = 0;
	}
	pthread_mutex_unlock(&s->capture_lock);
}
