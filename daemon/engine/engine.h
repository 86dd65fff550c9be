/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daedalus-engine: decodes V4L2 stateless requests ("decode jobs") into each request's
 * CAPTURE picture, in decode order: one at a time (dd_stream_decode), or several of one
 * stream in flight (dd_stream_submit / dd_stream_collect, see frame_delay).
 *
 * The engine knows nothing about the kernel bridge: the daemon (or a unit test) fills a
 * struct dd_job from a request and gets back success or a reason string. Every job yields
 * its own picture when dd_stream_decode() returns, including frames that are never shown
 * (VP8/VP9 show_frame = 0); nothing waits for later jobs.
 *
 * Threading: create and free engines from one thread (the FFmpeg backend installs a
 * process-wide log hook); streams of one engine may decode in parallel, each stream used by
 * one thread at a time (the daemon runs one worker per decoding context). The log callback
 * may be called from any of those threads, and from a backend's own decoding threads.
 */
#ifndef DAEDALUS_ENGINE_H
#define DAEDALUS_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

enum dd_codec {
	DD_CODEC_VP8,
	DD_CODEC_VP9,
	DD_CODEC_AV1,
	DD_CODEC_H264,
	DD_CODEC_COUNT
};

const char *dd_codec_name(enum dd_codec codec);

/*
 * What kind of failure, for the daemon's reason code (the words are for people): set where
 * the failure is found, never guessed from the message.
 */
enum dd_error_kind {
	DD_ERR_DATA,        /* the client's bitstream or controls are wrong, or damaged */
	DD_ERR_REFERENCE,   /* a reference the picture needs was lost: not decoded, or failed */
	DD_ERR_UNSUPPORTED, /* a feature or format this build does not decode */
	DD_ERR_NO_MEMORY,
	DD_ERR_INPUT_LOST,  /* the memory holding the bitstream went away while it was read */
};

/* Why a job failed (or a stream could not be opened); msg always NUL-terminated. */
struct dd_error {
	char msg[256];
	enum dd_error_kind kind;
};

#define DD_MAX_PLANES 3

/* One plane of the destination picture, as the daemon mapped it. */
struct dd_plane {
	uint8_t *data;
	uint32_t stride; /* bytes per line */
	size_t size;     /* bytes available from data */
};

/*
 * The CAPTURE buffer of a request. fourcc is a V4L2 pixel format:
 *  V4L2_PIX_FMT_NV12    2 planes (Y, interleaved CbCr); single-plane V4L2 buffers pass the
 *                       CbCr plane as a second dd_plane pointing inside the same memory
 *  V4L2_PIX_FMT_P010    2 planes, 16-bit little-endian samples, value in the top 10 bits
 *  V4L2_PIX_FMT_YUV420M 3 planes (Y, Cb, Cr)
 * width/height are the CAPTURE format's size; the decoded frame must fit inside it and is
 * written at the top-left corner; the padding outside the frame is left untouched.
 */
struct dd_picture {
	uint32_t fourcc;
	uint32_t width;
	uint32_t height;
	unsigned int num_planes;
	struct dd_plane planes[DD_MAX_PLANES];
};

/*
 * One decode request. The control structs are the raw V4L2 ones of the request (kernel
 * 6.12 uAPI); the reference pictures are named by the timestamps inside them
 * (last/golden/alt_frame_ts for VP8 and VP9), exactly as the client set them, so there is no
 * second copy of them here that could disagree. The engine does not trust any of it: every
 * field it relies on is checked against the bitstream and the decoder's result.
 */
struct dd_job {
	enum dd_codec codec;
	uint64_t timestamp; /* the request's OUTPUT timestamp in ns; names this picture later */
	/*
	 * HOLD_CAPTURE_BUF: more jobs (H.264 slices, or the second field) follow into this
	 * CAPTURE buffer, and its picture is complete after the last of them. new_frame: the
	 * first job that writes this CAPTURE buffer (pieces held from an earlier buffer that
	 * never got its last job are dropped). lost_piece: an earlier job of this picture failed
	 * (the kernel knows, even of a job this daemon never saw): the picture misses that piece,
	 * so this job fails whatever its own data, and later pictures cannot predict from it.
	 */
	bool hold;
	bool new_frame;
	bool lost_piece;
	union {
		struct {
			const struct v4l2_ctrl_vp8_frame *frame;
		} vp8;
		struct {
			const struct v4l2_ctrl_vp9_frame *frame;
			/* optional: libavcodec reads the compressed header from the bitstream */
			const struct v4l2_ctrl_vp9_compressed_hdr *compressed_hdr;
		} vp9;
		struct {
			/* reference slots: frame->reference_frame_ts[0..7] */
			const struct v4l2_ctrl_av1_sequence *sequence;
			const struct v4l2_ctrl_av1_frame *frame;
			/* every tile of the frame; offsets and sizes into bitstream */
			const struct v4l2_ctrl_av1_tile_group_entry *tiles;
			unsigned int num_tiles;
			/* optional: without it, no grain is applied */
			const struct v4l2_ctrl_av1_film_grain *film_grain;
		} av1;
		struct {
			/* DPB: decode_params->dpb[], entries with VALID (and ACTIVE) checked */
			const struct v4l2_ctrl_h264_sps *sps;
			const struct v4l2_ctrl_h264_pps *pps;
			/* NULL = flat: see dm_job's rule (PPS flag or control in this request) */
			const struct v4l2_ctrl_h264_scaling_matrix *scaling_matrix;
			const struct v4l2_ctrl_h264_decode_params *decode_params;
			/* START_CODE_ANNEX_B: slices start with 00 00 01; else one slice, bare */
			bool annex_b;
		} h264;
	} ctrl;
	const uint8_t *bitstream;
	size_t bitstream_size;
	/*
	 * Optional: set (by anyone, at any time) when the memory behind bitstream went away,
	 * so that what was read is not what the client sent (the daemon's sigbus_guard.h).
	 * Read once the engine and the library have taken the bitstream (in the submit): the
	 * job then fails (DD_ERR_INPUT_LOST), as if the library had refused it.
	 */
	const atomic_bool *bitstream_lost;
	const struct dd_picture *dst;
};

/*
 * The coded size job's controls announce, before any check (for logs): 0x0 when the codec is
 * unknown or its controls are missing.
 */
void dd_job_coded_size(const struct dd_job *job, uint32_t *width, uint32_t *height);

struct dd_engine;
struct dd_stream;

enum dd_log_level {
	DD_LOG_ERROR,
	DD_LOG_WARNING,
	DD_LOG_INFO,
	DD_LOG_DEBUG,
};

typedef void (*dd_log_fn)(void *opaque, enum dd_log_level level, const char *msg);

struct dd_engine_config {
	/* intra-frame threads per stream (AV1 tiles, H.264 slices; VP8 and VP9 always decode
	 * with one, see backend_ffmpeg.c); 0 = automatic */
	unsigned int threads;
	dd_log_fn log;    /* may be NULL */
	void *log_opaque;
	/* test hooks: override the FFmpeg library file names (NULL = the built-in SONAMEs) */
	const char *ffmpeg_avcodec_path;
	const char *ffmpeg_avutil_path;
	const char *dav1d_path; /* NULL = libdav1d's built-in SONAME */
	/*
	 * How many frames of one stream a backend may decode at once (frame threads), for
	 * callers that submit ahead with dd_stream_submit(). 0 or 1: each job is decoded when
	 * it is submitted, as dd_stream_decode() always did. dav1d uses up to
	 * min(frame_delay, 4, threads); FFmpeg decodes H.264 and VP9 with min(frame_delay,
	 * threads) frame threads instead of slice threads (VP8, and FFmpeg before 6.0, stay
	 * synchronous). With frame_delay jobs submitted, the oldest is finished without waiting.
	 */
	unsigned int frame_delay;
	/*
	 * How many jobs the caller keeps submitted at most, when that is fewer than frame_delay
	 * (0: frame_delay). The daemon keeps the module's grant G in flight with frame_delay
	 * G + 1 (room for dav1d's G frames, see backend_dav1d.c); FFmpeg's frame threads are
	 * capped at this, because with as many frame threads as jobs in flight the last submit
	 * finishes the oldest, and with more, nothing finishes until a drain: on four cores,
	 * min(frame_delay, threads) = 3 frame threads for 2 jobs drained after every pair.
	 */
	unsigned int inflight;
};

/*
 * Never fails for a missing or unusable backend library: such codecs are reported as
 * unavailable by dd_engine_codec_status() and jobs for them fail with the reason.
 * Returns NULL only when out of memory.
 */
struct dd_engine *dd_engine_new(const struct dd_engine_config *config);
void dd_engine_free(struct dd_engine *engine);

/*
 * Whether a codec can be decoded into fourcc at bit_depth, and by which backend. On false,
 * why says why not. backend may be NULL.
 */
bool dd_engine_supports(struct dd_engine *engine, enum dd_codec codec, uint32_t fourcc,
			unsigned int bit_depth, const char **backend, struct dd_error *why);

/*
 * Decodes a few tiny built-in pictures of codec with the backend that would decode it into
 * NV12, so that the first client's first frame does not pay for paging in the library's
 * decoding code (or, under an emulator, translating it). The number of pictures decoded
 * (all of the sample's: warm_samples.h); 0: the codec is unavailable or its backend has
 * nothing to warm up; -1 with err: the sample did not decode.
 */
int dd_engine_warm_up(struct dd_engine *engine, enum dd_codec codec, struct dd_error *err);

/* Human-readable one-line summary per codec (for logs and --version). */
void dd_engine_describe(struct dd_engine *engine, enum dd_codec codec, char *buf, size_t len);

/*
 * Opens a decoding context. The capture format may change between jobs (resolution or bit
 * depth change at a keyframe); fourcc is only a hint for picking a backend.
 */
struct dd_stream *dd_stream_open(struct dd_engine *engine, enum dd_codec codec, uint32_t fourcc,
				 struct dd_error *err);

/*
 * 0 on success; -1 with err filled. Never crashes on client data. Synchronous: the picture is
 * written when it returns. Not while submitted jobs are uncollected (that fails the job).
 */
int dd_stream_decode(struct dd_stream *stream, const struct dd_job *job, struct dd_error *err);

/*
 * Asynchronous decoding. dd_stream_submit() validates the job and hands it to the backend;
 * the caller keeps the job, everything it points to (controls, bitstream, dst) valid and
 * untouched until dd_stream_collect() returns it. A job may name (as a reference) a picture
 * still in flight. Returns 0 when the job is pending, or -1 with err filled when it failed at
 * once (it is then not pending and never collected). cookie is the caller's, returned by
 * collect.
 */
int dd_stream_submit(struct dd_stream *stream, const struct dd_job *job, uint64_t cookie,
		     struct dd_error *err);

enum dd_collect {
	DD_COLLECT_NONE,   /* the oldest pending job is not finished (or nothing is pending) */
	DD_COLLECT_OK,     /* *cookie's picture is written into its dst */
	DD_COLLECT_FAILED, /* *cookie failed, err says why */
};

/*
 * The oldest pending job, once finished: jobs are collected strictly in submission order.
 * With wait, blocks until the oldest pending job is finished (NONE only when nothing is
 * pending); without, never blocks. The job's post-decode checks and the stream's reference
 * bookkeeping are done in this order too: a job whose reference failed fails as well.
 */
enum dd_collect dd_stream_collect(struct dd_stream *stream, bool wait, uint64_t *cookie,
				  struct dd_error *err);

/*
 * Finishes every pending job, so that each is collectable without waiting. The decoder keeps
 * its references: the next job may be an inter frame predicted from them.
 */
void dd_stream_sync(struct dd_stream *stream);

/* Jobs submitted and not yet collected. */
unsigned int dd_stream_pending(const struct dd_stream *stream);

/*
 * How many jobs the caller keeps submitted on this stream from now on: what its client
 * does, which the daemon learns per context (1: a client that waits for each request, so
 * every job is synced right after its submit). 0 or anything above the engine's frame_delay
 * means frame_delay, what a stream starts with. A backend whose best mode depends on it
 * (FFmpeg: frame threads only pay when jobs overlap, and a sync after every job costs
 * fillers) changes mode before the next job that needs no earlier picture (a key frame, an
 * H.264 IDR, or any job right after open or a flush), after finishing the jobs in flight,
 * so no picture depends on the change; the others (dav1d) ignore it. Cheap: call it before
 * every submit.
 */
void dd_stream_set_lookahead(struct dd_stream *stream, unsigned int lookahead);

/* The lookahead the stream's backend decodes for now (dd_stream_set_lookahead()). */
unsigned int dd_stream_lookahead(const struct dd_stream *stream);
/* Whether its backend decodes several frames at once now (FFmpeg's frame threads). */
bool dd_stream_frames_in_parallel(const struct dd_stream *stream);

/*
 * Whether the stream shares the CPUs with other busy streams (the daemon's CPU share,
 * daemon/process/cpu_share.h): then it decodes one frame at a time with no frame-level
 * parallelism, whatever the lookahead (FFmpeg as for a lookahead of 1; dav1d with one frame
 * context instead of the frame_delay - 1 it keeps even for a caller that syncs every job):
 * the other streams keep the CPUs busy, so a frame decoded beside another only completes
 * later. Applied where a lookahead change is (dd_stream_set_lookahead()). Cheap: call it
 * before every submit.
 */
void dd_stream_set_shared(struct dd_stream *stream, bool shared);

/*
 * STREAMOFF/seek: drop all decoder state; the next job must be a keyframe. Jobs still pending
 * fail ("flushed") and stay to be collected.
 */
void dd_stream_flush(struct dd_stream *stream);

/* Pending jobs are dropped: their dst may or may not have been written. */
void dd_stream_close(struct dd_stream *stream);

/*
 * A job with this CAPTURE timestamp was never decoded (cancelled before it reached the
 * decoder): a picture the timestamp named before is gone from the application's buffer, so
 * jobs that name it must fail, as after a failed job. Clients reuse timestamps (Chromium
 * names pictures by CAPTURE index), so without this a later job could name the timestamp and
 * be decoded against the older picture the decoder still holds under it.
 */
void dd_stream_forget(struct dd_stream *stream, uint64_t timestamp);

/*
 * A job of this stream never reached the engine, in decoding order after every job submitted
 * so far: the caller failed it before submitting it (cancelled by the kernel before it
 * started, controls it could not read), or the kernel failed it without delivering it (a
 * jump in the jobs' sequence numbers: withdrawn by the watchdog while the daemon was stopped,
 * no fd left in the daemon). timestamp: its CAPTURE timestamp, or NULL when unknown. The
 * decoder lacks whatever that frame changed: besides forgetting the timestamp (as
 * dd_stream_forget), a codec whose decoder state depends on every frame since the key
 * frame (VP8, VP9: probability contexts, the previous frame's motion vectors, the segment
 * map) fails every later job until the next key frame, and H.264 counts the picture as lost,
 * so that decoding resumes at an access point with a restarted decoder. AV1 empties the
 * reference slots that hold the timestamp (every slot when it is unknown: the lost frames
 * may have refreshed any, under reused timestamps), so jobs that predict from them fail
 * until the slots are refreshed (a shown key frame refreshes all).
 */
void dd_stream_lost(struct dd_stream *stream, const uint64_t *timestamp);

/*
 * The most picture memory the stream's decoder may hold from now on, in bytes (0: no limit):
 * the stream's claim on the daemon's memory budget. A picture past it is refused inside the
 * library, and its job fails with DD_ERR_NO_MEMORY; the pictures already held stay. A backend
 * that does not count its pictures (no meter op) ignores it. Cheap: call it before every
 * submit.
 */
void dd_stream_set_memory_limit(struct dd_stream *stream, uint64_t bytes);

/*
 * The meter of the stream's pictures (picture_meter.h: what they hold now, the most they
 * held), or NULL for a backend that does not count them. Owned by the stream; a caller that
 * reads it after dd_stream_close() takes a reference first (every picture's bytes are back
 * once the last picture is released).
 */
struct dd_meter;
struct dd_meter *dd_stream_meter(const struct dd_stream *stream);

const char *dd_stream_backend_name(const struct dd_stream *stream);

#endif
