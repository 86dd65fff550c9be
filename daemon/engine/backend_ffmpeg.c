/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * FFmpeg (libavcodec) backend.
 *
 * How the picture of *this* job is found (see docs/daemon-engine.md): with slice threads
 * only, avcodec_send_packet() decodes the whole frame before it returns, and the decoder
 * allocates the frame's picture through get_buffer2 during that call, whether the frame is
 * shown or not. So the engine hooks get_buffer2, keeps a reference to the last picture
 * allocated during the send, drains avcodec_receive_frame() (output order is irrelevant
 * here and draining keeps the next send from merely queueing), and copies that picture
 * into the CAPTURE buffer. That is SYNC mode, every stream's unless the engine keeps jobs in
 * flight (PIPE mode, below), where frame threads decode after the send returns.
 *
 * How a damaged frame is noticed in SYNC mode: only from what libavcodec returns, never from
 * its log. The send's and the receive's return codes; for H.264, AV_EF_EXPLODE (without it,
 * damaged slices and reference errors are concealed and only logged) and the return code of
 * every slice decoded on a slice thread, which libavcodec drops and slice_execute() keeps.
 * (PIPE mode also reads the log for H.264: backend_ffmpeg_pipe.c says why.)
 * decode_error_flags does not help: VP8 and VP9 never set it, and H.264 sets it only on
 * output frames (display order, after the job completed) or, with slice threads, on the
 * decoder's own frame and only for the last batch of slices (FFmpeg 5.1 - 7.1).
 *
 * PIPE mode (dd_engine_config.frame_delay > 1, H.264, VP8, VP9): frame threads, several jobs
 * in flight, their pictures told apart by the packet number in pkt->opaque; see
 * backend_ffmpeg_pipe.c. libavcodec fixes thread_type at open, so the stream opens in the
 * mode for the engine's frame_delay and changes mode with a new context (ff_set_frame_delay)
 * when the caller's lookahead changes (a client learnt to wait for each request), at a job
 * that needs no earlier picture.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "backend_ffmpeg.h"
#include "error.h"
#include "ffmpeg_pictures.h"
#include "picture.h"
#include "warm_samples.h"

/*
 * av_log's callback is process-wide. libavcodec's lines go to the daemon's debug log. In SYNC
 * mode whether a job failed is decided from return codes (below), never from the words of a
 * line or from which thread logged it. PIPE mode has no return code for a damaged H.264
 * slice (backend_ffmpeg_pipe.c explains why), so there an error line logged with one of our
 * decoders' contexts goes to the packet that context's opaque names (struct ff_packet_ref).
 */
static struct ff_backend *log_backend;

static int capture_get_buffer2(AVCodecContext *ctx, AVFrame *frame, int flags);

/*
 * The packet of a PIPE stream a line is about (its stream and number), or NULL: every
 * av_log context starts with its AVClass.
 */
static const struct ff_packet_ref *pipe_log_packet(const struct ff_backend *be, void *avcl)
{
	AVCodecContext *ctx = avcl;
	const struct ff_packet_ref *ref;

	if (!avcl || *(const AVClass *const *)avcl != be->codec_class ||
	    ctx->get_buffer2 != capture_get_buffer2)
		return NULL;
	ref = ctx->opaque;
	return ref->tag && ref->s->frame_threads && ref->s->codec == DD_CODEC_H264 ? ref : NULL;
}

/*
 * PIPE mode: a complaint that says nothing about the picture being decoded. A memory
 * management operation names a picture the decoder does not have (after a seek to a non-IDR
 * I picture, the pictures it drops were never decoded); pictures that would need one fail on
 * their own (the engine's DPB check).
 */
static bool benign_error(const char *line)
{
	return strstr(line, "mmco: unref");
}

static void av_log_hook(void *avcl, int level, const char *fmt, va_list ap)
{
	struct ff_backend *be = log_backend;
	const struct ff_packet_ref *ref;
	char line[256];
	int print_prefix = 1;
	size_t n;

	if (!be || level > AV_LOG_WARNING)
		return;
	be->lib.av_log_format_line2(avcl, level, fmt, ap, line, sizeof(line), &print_prefix);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	ref = level <= AV_LOG_ERROR ? pipe_log_packet(be, avcl) : NULL;
	if (ref && !benign_error(line))
		ff_pipe_log_error(ref->s, ref->tag, line);
	if (be->log)
		be->log(be->log_opaque, DD_LOG_DEBUG, line);
}

/*
 * H.264 decodes the slices of a picture in batches, one slice per slice thread, through
 * avctx->execute() (which the user may replace, avcodec.h), and passes no array for their
 * return codes: a slice that fails on a worker thread would only be logged. This wrapper
 * hands libavcodec's own execute an array and keeps the first error. It runs on the thread
 * that sends (execute returns when every slice of the batch is done).
 */
static int slice_execute(AVCodecContext *c, int (*func)(AVCodecContext *c2, void *arg),
			 void *arg2, int *ret, int count, int size)
{
	struct dd_backend_stream *s = ((const struct ff_packet_ref *)c->opaque)->s;
	int local[64], *rets = ret, r;

	if (!rets && count > 0)
		rets = count <= (int)(sizeof(local) / sizeof(local[0])) ? local :
		       malloc(sizeof(*rets) * (size_t)count);
	if (!rets && count > 0) {
		s->slice_error = AVERROR(ENOMEM);
		return AVERROR(ENOMEM);
	}
	r = s->lib_execute(c, func, arg2, rets, count, size);
	for (int i = 0; i < count && !s->slice_error; i++)
		if (rets[i] < 0)
			s->slice_error = rets[i];
	if (rets != ret && rets != local)
		free(rets);
	return r;
}

static enum AVCodecID codec_id(enum dd_codec codec)
{
	switch (codec) {
	case DD_CODEC_VP8:
		return AV_CODEC_ID_VP8;
	case DD_CODEC_VP9:
		return AV_CODEC_ID_VP9;
	case DD_CODEC_H264:
		return AV_CODEC_ID_H264;
	default:
		return AV_CODEC_ID_NONE;
	}
}

static void *ff_init(const struct dd_engine_config *config, struct dd_error *why)
{
	struct ff_backend *be = calloc(1, sizeof(*be));
	long cpus;

	if (!be) {
		dd_fail_kind(why, DD_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	if (dd_ffmpeg_lib_load(&be->lib, config->ffmpeg_avcodec_path,
			       config->ffmpeg_avutil_path, why)) {
		free(be);
		return NULL;
	}
	be->log = config->log;
	be->log_opaque = config->log_opaque;
	be->threads = config->threads;
	be->frame_delay = config->frame_delay;
	be->inflight = config->inflight;
	if (!be->threads) {
		/* H.264 slice threads pay off up to the slice count; 4 covers most streams */
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		be->threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned int)cpus;
	}
	for (int c = 0; c < DD_CODEC_COUNT; c++)
		be->decoder[c] = be->lib.avcodec_find_decoder(codec_id((enum dd_codec)c));
	be->codec_class = be->lib.avcodec_get_class();
	if (!log_backend) {
		log_backend = be;
		be->lib.av_log_set_level(AV_LOG_WARNING);
		be->lib.av_log_set_callback(av_log_hook);
	}
	return be;
}

static void ff_fini(void *backend)
{
	struct ff_backend *be = backend;

	if (!be)
		return;
	if (log_backend == be) {
		be->lib.av_log_set_callback(NULL);
		log_backend = NULL;
	}
	dd_ffmpeg_lib_unload(&be->lib);
	free(be);
}

static bool ff_supports(void *backend, enum dd_codec codec, uint32_t fourcc,
			unsigned int bit_depth, struct dd_error *why)
{
	struct ff_backend *be = backend;

	if (codec < 0 || codec >= DD_CODEC_COUNT || !be->decoder[codec]) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "this libavcodec has no %s decoder", dd_codec_name(codec));
		return false;
	}
	if (codec == DD_CODEC_VP8 && bit_depth != 8) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "VP8 is 8-bit only");
		return false;
	}
	if (bit_depth != 8 && bit_depth != 10) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "%u-bit pictures have no capture format", bit_depth);
		return false;
	}
	if (fourcc != V4L2_PIX_FMT_NV12 && fourcc != V4L2_PIX_FMT_YUV420M &&
	    fourcc != V4L2_PIX_FMT_P010) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "capture format not supported by the FFmpeg backend");
		return false;
	}
	if (dd_fourcc_bit_depth(fourcc) != bit_depth) {
		dd_fail_kind(why, DD_ERR_UNSUPPORTED, "capture format does not carry %u-bit samples", bit_depth);
		return false;
	}
	return true;
}

static int capture_get_buffer2(AVCodecContext *ctx, AVFrame *frame, int flags)
{
	struct dd_backend_stream *s = ((const struct ff_packet_ref *)ctx->opaque)->s;
	uintptr_t tag = (uintptr_t)frame->opaque; /* PIPE: the packet (gone with a refusal) */
	int ret = s->be->lib.avcodec_default_get_buffer2(ctx, frame, flags);
	bool refused = false;

	/* counted against the stream's limit, or refused (ffmpeg_pictures.h) */
	if (ret >= 0)
		ret = ff_meter_frame(&s->be->lib, s->meter, frame, &refused);
	if (refused && s->frame_threads)
		ff_pipe_refused(s, tag);
	else if (refused)
		s->refused = true;
	if (ret >= 0 && s->frame_threads) {
		ff_pipe_capture(s, frame);
		return ret;
	}
	if (ret < 0 || !s->capturing)
		return ret;
	s->be->lib.av_frame_unref(s->captured);
	if (s->be->lib.av_frame_ref(s->captured, frame) < 0)
		s->capture_failed = true;
	else
		s->allocations++;
	return ret;
}

/*
 * VP8 and VP9 decode with one thread whatever --threads says; only H.264 gets slice threads.
 *
 * VP8: with two slice threads (one per token partition), FFmpeg 7.1's VP8 decoder gave wrong
 * pictures from an inter frame to the next key frame in 2 of 20 runs of the ffmpeg CLI itself
 * in the testbed's arm64 VM (two CPUs under multi-threaded TCG), never with one thread. It
 * may be the emulation, but nobody has shown it cannot happen on a Pi; it is silent, so no
 * job could fail on it. VP8 threads only across token partitions, which most streams have
 * one of, so little speed is lost.
 *
 * VP9: a frame decoded with a probability context, segmentation or loop-filter state that
 * does not match its encoder's (a frame before it was lost or failed) decodes its tiles out
 * of step, and the one thing in libavcodec that notices is the single-threaded tile loop:
 * decode_tiles() in vp9.c checks before each superblock that tile data is left, and fails
 * the frame with AVERROR_INVALIDDATA (without a log line). The slice-threaded loop
 * (decode_tiles_mt(), used for every frame once thread_count > 1, whatever its tile count)
 * has no such check: the send succeeds, nothing is logged, no decode_error_flags are set,
 * and the frame and the frames after it "decode" into wrong pictures. Found with two CPUs by
 * daemon-faults.sh; the clip tests vp9-drop-2threads and vp9-tiles-drop-3threads repeat it.
 * Tile columns decoded in parallel are what this costs, until frame threads (which decode
 * each frame's tiles with the checking loop) replace slice threads (docs/performance.md).
 */
static unsigned int stream_threads(const struct ff_backend *be, enum dd_codec codec)
{
	return codec == DD_CODEC_VP8 || codec == DD_CODEC_VP9 ? 1 : be->threads;
}

/*
 * PIPE mode's frame threads: H.264, VP8 and VP9 when the caller keeps frame_delay jobs in
 * flight (each with a filler packet that completes the frames in flight without changing
 * the decoder's state: backend_ffmpeg_pipe.c; a drain would drop the references). 0: SYNC.
 */
static unsigned int stream_frame_threads(const struct ff_backend *be, unsigned int frame_delay)
{
#ifdef AV_CODEC_FLAG_COPY_OPAQUE
	/*
	 * As many frames at once as the caller keeps in flight and the threads allow: with
	 * that many jobs submitted, the oldest of them is then finished (see
	 * backend_ffmpeg_pipe.c). Fewer than two threads gain nothing over SYNC.
	 */
	unsigned int t = frame_delay < be->threads ? frame_delay : be->threads;

	if (be->inflight && t > be->inflight)
		t = be->inflight;
	if (t < 2)
		return 0;
	return t > FF_PIPE_MAX_THREADS ? FF_PIPE_MAX_THREADS : t;
#else
	/* FFmpeg 5.1 (lavc 59): no AV_CODEC_FLAG_COPY_OPAQUE to tell the pictures apart */
	(void)be;
	(void)frame_delay;
	return 0;
#endif
}

/*
 * A libavcodec context for s's codec with frame_threads frame threads (PIPE mode), or slice
 * threads when 0 (SYNC mode); NULL with err. s->new_execute: its own execute, which H.264 in
 * SYNC mode wraps (slice_execute(), through s->lib_execute).
 */
static AVCodecContext *open_codec(struct dd_backend_stream *s, unsigned int frame_threads,
				  struct dd_error *err)
{
	const struct ff_backend *be = s->be;
	AVCodecContext *ctx = be->lib.avcodec_alloc_context3(be->decoder[s->codec]);
	char msg[128];
	int ret;

	if (!ctx) {
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	ctx->opaque = &s->no_packet;
	ctx->get_buffer2 = capture_get_buffer2;
	/*
	 * SYNC: H.264 reports most of what it finds wrong only when asked to fail on it: damaged
	 * slice data (a slice decoded on the sending thread), reference list and marking errors.
	 * The slices decoded on slice threads are seen through slice_execute() (after open).
	 * Not in PIPE mode, where it would fail every packet after one marking complaint
	 * (backend_ffmpeg_pipe.c).
	 */
	if (s->codec == DD_CODEC_H264 && !frame_threads)
		ctx->err_recognition |= AV_EF_EXPLODE;
	if (frame_threads) {
		/* PIPE: the packet number travels to the worker and to the picture */
		ctx->thread_type = FF_THREAD_FRAME;
		ctx->thread_count = (int)frame_threads;
#ifdef AV_CODEC_FLAG_COPY_OPAQUE
		ctx->flags |= AV_CODEC_FLAG_COPY_OPAQUE;
#endif
	} else {
		/* SYNC: the picture is complete when the send returns */
		ctx->thread_type = FF_THREAD_SLICE;
		ctx->thread_count = (int)stream_threads(be, s->codec);
	}
	ret = be->lib.avcodec_open2(ctx, be->decoder[s->codec], NULL);
	if (ret < 0) {
		be->lib.av_strerror(ret, msg, sizeof(msg));
		be->lib.avcodec_free_context(&ctx);
		dd_fail_kind(err, DD_ERR_UNSUPPORTED, "cannot open the libavcodec %s decoder: %s",
			     dd_codec_name(s->codec), msg);
		return NULL;
	}
	s->new_execute = NULL;
	if (s->codec == DD_CODEC_H264 && !frame_threads && ctx->execute) {
		s->new_execute = ctx->execute;
		ctx->execute = slice_execute;
	}
	return ctx;
}

static void ff_close(struct dd_backend_stream *s)
{
	if (!s)
		return;
	/* the worker threads stop here, before the capture slots they fill go */
	s->be->lib.avcodec_free_context(&s->ctx);
	ff_pipe_close(s);
	s->be->lib.av_packet_free(&s->pkt);
	s->be->lib.av_frame_free(&s->captured);
	s->be->lib.av_frame_free(&s->drained);
	s->be->lib.av_frame_free(&s->kept);
	dd_h264_packet_free(&s->h264);
	/* pictures still out elsewhere keep the meter (ffmpeg_pictures.c) */
	dd_meter_unref(s->meter);
	free(s);
}

/* A stream of codec, its context opened with frame_threads (0: SYNC mode); NULL with err. */
static struct dd_backend_stream *open_stream(struct ff_backend *be, enum dd_codec codec,
					     unsigned int frame_threads, struct dd_error *err)
{
	struct dd_backend_stream *s;

	if (codec < 0 || codec >= DD_CODEC_COUNT || !be->decoder[codec]) {
		dd_fail_kind(err, DD_ERR_UNSUPPORTED, "this libavcodec has no %s decoder", dd_codec_name(codec));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	s->be = be;
	s->codec = codec;
	s->no_packet.s = s;
	s->pkt = be->lib.av_packet_alloc();
	s->captured = be->lib.av_frame_alloc();
	s->drained = be->lib.av_frame_alloc();
	s->kept = be->lib.av_frame_alloc();
	s->meter = dd_meter_new();
	dd_h264_packet_init(&s->h264);
	s->frame_threads = frame_threads;
	if (!s->pkt || !s->captured || !s->drained || !s->kept || !s->meter) {
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		goto fail;
	}
	/*
	 * Capture slots for PIPE mode, which the stream may enter later (ff_set_frame_delay).
	 * Set only here: ff_pipe_close() destroys the lock ff_pipe_open() made when it is set.
	 */
	s->pipe_capable = stream_frame_threads(be, UINT_MAX) && be->frame_delay > 1;
	if (ff_pipe_open(s)) {
		dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory");
		goto fail;
	}
	s->ctx = open_codec(s, s->frame_threads, err);
	if (!s->ctx)
		goto fail;
	s->lib_execute = s->new_execute;
	return s;
fail:
	ff_close(s);
	return NULL;
}

static struct dd_backend_stream *ff_open(void *backend, enum dd_codec codec,
					 struct dd_error *err)
{
	struct ff_backend *be = backend;

	return open_stream(be, codec, stream_frame_threads(be, be->frame_delay), err);
}

/*
 * The sample through a SYNC stream, each packet sent as a job's data is (ff_send()): the
 * decoder's code, its slice threads and our hooks all run once. The pictures are dropped.
 * Each packet is one picture, so each send allocates one.
 */
static int ff_warm_up(void *backend, enum dd_codec codec, struct dd_error *err)
{
	const struct dd_warm_sample *sample = dd_warm_sample(codec);
	struct dd_backend_stream *s;
	int r = 0, pictures = 0;

	if (!sample || !sample->count)
		return 0;
	s = open_stream(backend, codec, 0, err);
	if (!s)
		return -1;
	for (unsigned int i = 0; i < sample->count && !r; i++) {
		r = ff_send(s, sample->packet[i].data, sample->packet[i].size, err);
		pictures += (int)s->allocations; /* the pictures the send allocated */
	}
	ff_close(s);
	return r ? -1 : pictures;
}

/*
 * The caller's lookahead changed: a new libavcodec context in the mode for it (libavcodec
 * fixes thread_type at open). The engine calls this with nothing in flight, before a job
 * that needs no earlier picture, so the new decoder starts from nothing as it would after a
 * seek, and decodes exactly what the old one would have.
 */
static int ff_set_frame_delay(struct dd_backend_stream *s, unsigned int frame_delay,
			      const struct dd_job *next, struct dd_error *err)
{
	const struct dd_ffmpeg_lib *lib = &s->be->lib;
	unsigned int t = s->pipe_capable ? stream_frame_threads(s->be, frame_delay) : 0;
	AVCodecContext *ctx;

	if (t == s->frame_threads)
		return 0;
	/*
	 * Held pieces the next job starts a new picture over can never complete (its prepare
	 * would drop them): they must not keep the mode, e.g. the slices of a lone field the
	 * engine refused in PIPE mode, whose mode must change at this key frame.
	 */
	if (s->codec == DD_CODEC_H264 && s->h264.pieces && next->new_frame)
		ff_h264_drop_pieces(s, "their CAPTURE buffer was released without its last request");
	/* part of a picture is in this decoder (a lone first field SYNC mode decoded) */
	if (s->kept->buf[0])
		return 1;
	/*
	 * Held pieces are bytes no decoder has seen yet (the picture goes to libavcodec at its
	 * last piece, in either mode): they move to the new decoder, with their parameter sets
	 * in front. Done first: should the new decoder not open, the old one gets them too,
	 * parameter sets it already has. A client's lone field learnt only at its last slice,
	 * at the key frame where frame threads began, so decodes one frame at a time instead of
	 * being refused with its GOP (docs/frame-parallel.md).
	 */
	if (s->codec == DD_CODEC_H264 && dd_h264_packet_restart(&s->h264, err))
		return 1; /* kept as they are: the mode changes at a later key frame */
	ctx = open_codec(s, t, err);
	if (!ctx)
		return -1; /* the old one decodes on */
	/* its worker threads end here; every packet they had is finished and collected */
	lib->avcodec_free_context(&s->ctx);
	s->ctx = ctx;
	s->frame_threads = t;
	s->lib_execute = s->new_execute;
	lib->av_frame_unref(s->captured);
	ff_pipe_restart(s);
	return 0;
}

static bool ff_frames_in_parallel(const struct dd_backend_stream *s)
{
	return s->frame_threads > 1;
}

static unsigned int pix_fmt_bit_depth(int format)
{
	switch (format) {
	case AV_PIX_FMT_YUV420P:
	case AV_PIX_FMT_YUVJ420P: /* full range is a flag; the samples are the same */
		return 8;
	case AV_PIX_FMT_YUV420P10:
		return 10;
	default:
		return 0;
	}
}

int ff_send(struct dd_backend_stream *s, const uint8_t *data, size_t size,
	    struct dd_error *err)
{
	const struct dd_ffmpeg_lib *lib = &s->be->lib;
	int sent, ret;

	if (size > INT_MAX / 2)
		return dd_fail(err, "bitstream of %zu bytes is too large", size);

	/* not reference-counted: libavcodec copies it into a padded buffer of its own */
	s->pkt->data = (uint8_t *)data;
	s->pkt->size = (int)size;

	lib->av_frame_unref(s->captured);
	s->allocations = 0;
	s->capture_failed = false;
	s->refused = false;
	s->slice_error = 0;
	s->capturing = true;

	sent = lib->avcodec_send_packet(s->ctx, s->pkt);
	do {
		ret = lib->avcodec_receive_frame(s->ctx, s->drained);
		lib->av_frame_unref(s->drained);
	} while (ret >= 0);

	s->capturing = false;
	s->pkt->data = NULL;
	s->pkt->size = 0;
	return ff_sent_status(s, sent, ret, err);
}

/*
 * The kind of a failure libavcodec returned: its allocations failing is no fault of the
 * stream, a feature it does not implement (AVERROR_PATCHWELCOME) is a limit.
 */
static enum dd_error_kind ff_error_kind(int ret)
{
	if (ret == AVERROR(ENOMEM))
		return DD_ERR_NO_MEMORY;
	if (ret == AVERROR_PATCHWELCOME || ret == AVERROR(ENOSYS))
		return DD_ERR_UNSUPPORTED;
	return DD_ERR_DATA;
}

int ff_sent_status(struct dd_backend_stream *s, int sent, int ret, struct dd_error *err)
{
	const struct dd_ffmpeg_lib *lib = &s->be->lib;
	char msg[128];

	if (sent < 0) {
		lib->av_strerror(sent, msg, sizeof(msg));
		return dd_fail_kind(err, ff_error_kind(sent), "libavcodec rejected the frame: %s",
				    msg);
	}
	if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) {
		lib->av_strerror(ret, msg, sizeof(msg));
		return dd_fail_kind(err, ff_error_kind(ret), "libavcodec failed: %s", msg);
	}
	if (s->slice_error == AVERROR(ENOMEM))
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory while decoding slices");
	if (s->slice_error < 0) {
		lib->av_strerror(s->slice_error, msg, sizeof(msg));
		return dd_fail(err, "libavcodec could not decode a slice of the picture: %s", msg);
	}
	if (s->capture_failed)
		return dd_fail_kind(err, DD_ERR_NO_MEMORY, "out of memory while capturing the picture");
	return 0;
}

int ff_write_picture(struct dd_backend_stream *s, const AVFrame *frame,
		     const struct dd_job *job, unsigned int fields, struct dd_decoded *out,
		     struct dd_error *err)
{
	struct dd_yuv420 src;

	*out = (struct dd_decoded){
		.width = (uint32_t)frame->width,
		.height = (uint32_t)frame->height,
		.bit_depth = pix_fmt_bit_depth(frame->format),
		.profile = s->ctx->profile,
	};
	if (!out->bit_depth)
		return dd_fail(err, "decoded picture is not 4:2:0 (pixel format %d); no capture "
			       "format for it", frame->format);
	src = (struct dd_yuv420){
		.data = { frame->data[0], frame->data[1], frame->data[2] },
		.stride = { frame->linesize[0], frame->linesize[1], frame->linesize[2] },
		.width = out->width,
		.height = out->height,
		.bit_depth = out->bit_depth,
	};
	if (fields == 3)
		return dd_picture_write(job->dst, &src, err);
	return dd_picture_write_field(job->dst, &src, fields == 2, err);
}

int ff_finish_vpx(struct dd_backend_stream *s, const struct dd_job *job, int ret,
		  struct dd_decoded *out, struct dd_error *err)
{
	if (!ret && !s->allocations)
		ret = dd_fail(err, "libavcodec decoded no picture for this frame");
	/* a picture refused by the stream's limit fails its frame with whatever error: say so */
	if (ret && s->refused)
		dd_meter_fail(s->meter, err);
	if (!ret)
		ret = ff_write_picture(s, s->captured, job, 3, out, err);
	s->be->lib.av_frame_unref(s->captured);
	return ret;
}

int ff_decode(struct dd_backend_stream *s, const struct dd_job *job, struct dd_decoded *out,
	      struct dd_error *err)
{
	if (s->codec == DD_CODEC_H264)
		return ff_decode_h264(s, job, out, err);
	return ff_finish_vpx(s, job, ff_send(s, job->bitstream, job->bitstream_size, err), out,
			     err);
}

static struct dd_meter *ff_meter(struct dd_backend_stream *s)
{
	return s->meter;
}

static void ff_flush(struct dd_backend_stream *s)
{
	s->be->lib.avcodec_flush_buffers(s->ctx);
	s->be->lib.av_frame_unref(s->captured);
	if (s->codec == DD_CODEC_H264)
		ff_flush_h264(s);
	ff_pipe_flush(s);
}

const struct dd_backend_ops dd_backend_ffmpeg = {
	.name = "ffmpeg",
	.init = ff_init,
	.fini = ff_fini,
	.supports = ff_supports,
	.open = ff_open,
	.decode = ff_decode,
	.submit = ff_pipe_submit,
	.collect = ff_pipe_collect,
	.sync = ff_pipe_sync,
	.set_frame_delay = ff_set_frame_delay,
	.frames_in_parallel = ff_frames_in_parallel,
	.flush = ff_flush,
	.close = ff_close,
	.warm_up = ff_warm_up,
	.meter = ff_meter,
};
