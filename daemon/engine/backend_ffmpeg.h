/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the FFmpeg backend: the stream state shared by its generic part (backend_ffmpeg.c:
 * one packet in, the picture libavcodec allocated for it out) and its H.264 part
 * (backend_ffmpeg_h264.c: access units built from jobs, held slices, field pairs).
 */
#ifndef DAEDALUS_BACKEND_FFMPEG_H
#define DAEDALUS_BACKEND_FFMPEG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "ffmpeg_lib.h"
#include "h264_packet.h"
#include "picture_meter.h"

struct ff_backend {
	struct dd_ffmpeg_lib lib;
	unsigned int threads;
	unsigned int frame_delay; /* dd_engine_config's: > 1 opens H.264 and VP9 in PIPE mode */
	unsigned int inflight;    /* dd_engine_config's: caps the frame threads; 0 = no cap */
	dd_log_fn log;
	void *log_opaque;
	const AVCodec *decoder[DD_CODEC_COUNT];
	const AVClass *codec_class; /* an AVCodecContext's, to know one in the log callback */
};

/* Frame threads (PIPE mode) per stream at most; libavcodec caps them at 16 too. */
#define FF_PIPE_MAX_THREADS 16
/* Capture slots, indexed by packet number: more than the packets libavcodec has in flight. */
#define FF_CAPTURE_SLOTS 32

struct dd_backend_stream;

/*
 * What a libavcodec context's opaque points to: the stream, and the packet being sent.
 * libavcodec copies the user's opaque into a frame thread's own context whenever it hands
 * that thread a packet (pthread_frame.c, update_context_from_user(), before the thread
 * starts on it), so in PIPE mode the context a log line comes with names the packet that
 * thread decodes, even one that allocates no picture (an H.264 second field).
 */
struct ff_packet_ref {
	struct dd_backend_stream *s;
	uintptr_t tag; /* PIPE mode: the packet's number; 0 = none (SYNC mode) */
};

/*
 * PIPE mode: what libavcodec's frame threads did for one packet in flight, filled by its
 * worker threads (get_buffer2 and the log hook), under capture_lock.
 */
struct ff_capture {
	uintptr_t tag;            /* the packet's number (pkt->opaque); 0 = free */
	struct ff_packet_ref ref; /* the contexts' opaque while the packet is sent (.s: set once) */
	AVFrame *pic;             /* the last picture allocated for it */
	unsigned int allocations;
	bool capture_failed;
	bool refused;             /* the meter refused a picture for it */
	char av_error[160];       /* the first error logged while decoding it */
};

/* AVCodecContext.execute, which H.264 calls to decode a batch of slices on its threads. */
typedef int (*ff_execute_fn)(AVCodecContext *c, int (*func)(AVCodecContext *c2, void *arg),
			     void *arg2, int *ret, int count, int size);

/* A job between submit and collect (the async ops, both modes). */
struct ff_async_job {
	const struct dd_job *job;
	uintptr_t tag;        /* PIPE: its packet's number; 0 = none sent (finished at submit) */
	unsigned int fields;  /* H.264: which fields the packet carries (3 = a frame) */
	bool done;
	struct dd_backend_result res;
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
	bool refused; /* the meter refused a picture for the packet (SYNC: during the send) */
	/*
	 * SYNC mode, H.264: libavcodec's own execute, wrapped (backend_ffmpeg.c), and the first
	 * error a slice decoded on the slice threads returned during the current send (0: none).
	 */
	ff_execute_fn lib_execute;
	ff_execute_fn new_execute; /* a context's own, just opened (open_codec()) */
	int slice_error;
	char av_error[160]; /* PIPE mode: the first error logged for the packet completed */
	/* H.264 */
	struct dd_h264_packet h264;
	AVFrame *kept;     /* the picture of the last decoded H.264 job, for its second field */
	uint64_t kept_ts;  /* that job's timestamp */
	unsigned int kept_fields;  /* and its field (1 top, 2 bottom) */
	uint16_t kept_frame_num;
	/*
	 * PIPE mode (backend_ffmpeg_pipe.c): frame_threads = libavcodec's thread_count with
	 * FF_THREAD_FRAME; 0 = SYNC mode (slice threads, each job decoded when submitted).
	 * pipe_capable: the stream may be in PIPE mode at some point (capture_lock and cap[]
	 * are set up).
	 */
	unsigned int frame_threads;
	bool pipe_capable;
	uintptr_t sent;          /* packets sent since open or flush, fillers included */
	struct ff_packet_ref no_packet; /* the contexts' opaque between sends and in SYNC mode */
	pthread_mutex_t capture_lock;
	struct ff_capture cap[FF_CAPTURE_SLOTS];
	uint8_t vpx_header;      /* first byte of the last VP8/VP9 frame sent (version/profile) */
	/* the async ops' queue, oldest first */
	struct ff_async_job *q;
	unsigned int q_cap, q_head, q_count;
	/* the pictures' bytes against the stream's limit (ffmpeg_pictures.h) */
	struct dd_meter *meter;
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

/* PIPE mode: the meter refused the picture of packet tag (a worker's get_buffer2). */
void ff_pipe_refused(struct dd_backend_stream *s, uintptr_t tag);

/*
 * The error of a send and its receive drain (sent, received: their return codes), with what
 * the slice threads returned in s->slice_error and the capture state in s->captured,
 * s->allocations and s->capture_failed. Only return codes count, never log lines.
 */
int ff_sent_status(struct dd_backend_stream *s, int sent, int received, struct dd_error *err);

/* VP8/VP9: ret is ff_send()'s; writes s->captured into job->dst, then drops it. */
int ff_finish_vpx(struct dd_backend_stream *s, const struct dd_job *job, int ret,
		  struct dd_decoded *out, struct dd_error *err);

int ff_decode_h264(struct dd_backend_stream *s, const struct dd_job *job,
		   struct dd_decoded *out, struct dd_error *err);
/*
 * The two halves of ff_decode_h264(). prepare: adds the job to the access unit being built;
 * 1 when the job is held (out->pending set), 0 when s->h264 holds an access unit to send (its
 * fields in *fields), -1 with err. finish: ret is the send's result, the picture is
 * s->captured; writes the job's picture.
 */
int ff_prepare_h264(struct dd_backend_stream *s, const struct dd_job *job,
		    unsigned int *fields, struct dd_decoded *out, struct dd_error *err);
int ff_finish_h264(struct dd_backend_stream *s, const struct dd_job *job, unsigned int fields,
		   int ret, struct dd_decoded *out, struct dd_error *err);
void ff_flush_h264(struct dd_backend_stream *s);
/* Forgets the held pieces of a picture that will not complete, saying why in the log. */
void ff_h264_drop_pieces(struct dd_backend_stream *s, const char *why);

/* SYNC mode: decodes one job before returning (the backend's decode op). */
int ff_decode(struct dd_backend_stream *s, const struct dd_job *job, struct dd_decoded *out,
	      struct dd_error *err);

/* The async ops (backend_ffmpeg_pipe.c), and what ff_open/ff_close need from it. */
int ff_pipe_open(struct dd_backend_stream *s);
void ff_pipe_close(struct dd_backend_stream *s);
void ff_pipe_flush(struct dd_backend_stream *s);
/* A new libavcodec context: its packet numbers start again, no capture slot is in use. */
void ff_pipe_restart(struct dd_backend_stream *s);
int ff_pipe_submit(struct dd_backend_stream *s, const struct dd_job *job, uint64_t cookie,
		   struct dd_error *err);
int ff_pipe_collect(struct dd_backend_stream *s, bool wait, struct dd_backend_result *res);
void ff_pipe_sync(struct dd_backend_stream *s);
/* get_buffer2 and the log hook in PIPE mode (worker threads); tag: the line's packet. */
void ff_pipe_capture(struct dd_backend_stream *s, AVFrame *frame);
void ff_pipe_log_error(struct dd_backend_stream *s, uintptr_t tag, const char *line);

#endif
