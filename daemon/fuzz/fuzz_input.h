/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The byte format of one fuzz input: what a hostile client can choose for one stream, as a
 * sequence of jobs. The fuzz target (fuzz_target.c) reads it, the seed maker (fuzz_seeds.c)
 * writes it from real clips. Every field is read leniently: a short or odd input is cut, never
 * refused, so that every mutation of libFuzzer still reaches the daemon.
 *
 *   stream header (struct fz_stream)
 *   job*:  struct fz_job_head
 *          struct fz_mangle  x head.num_mangles (at most FZ_MAX_MANGLES)
 *          for each control i of the codec (fz_codec_ctrls) with bit i of head.set:
 *              dynamic array controls: uint16_t elems, then elems payloads
 *              others: one payload (the uAPI struct, or 4 bytes for a menu)
 *          head.bitstream_size bytes of bitstream (cut to what is left)
 *
 * Controls not set keep their value from the job before (zero at the start), exactly as
 * V4L2 controls are sticky: the kernel sends every control of the codec with every job and
 * marks those of this request DAEDALUS_CTRL_FLAG_IN_REQUEST. Mangles then rewrite fields of
 * the message's control table, as a kernel bug (or a taken-over kernel) could.
 */
#ifndef DAEDALUS_FUZZ_INPUT_H
#define DAEDALUS_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define FZ_MAX_CTRLS 8
#define FZ_MAX_MANGLES 3
/* the largest CAPTURE picture a fuzz input may ask for (the kernel's own limit is larger;
 * larger pictures only make each run slower) */
#define FZ_MAX_WIDTH 1920
#define FZ_MAX_HEIGHT 1088

/* fz_stream.format */
enum fz_format {
	FZ_FORMAT_NV12,
	FZ_FORMAT_P010,
	FZ_FORMAT_YUV420M,
	FZ_FORMAT_COUNT
};

/* fz_stream.flags */
#define FZ_STREAM_SUBMIT (1u << 0)     /* dd_stream_submit/collect, lookahead jobs in flight */
#define FZ_STREAM_WIDE_STRIDE (1u << 1) /* lines padded beyond the kernel's minimum */

struct fz_stream {
	uint8_t format;    /* enum fz_format, modulo FZ_FORMAT_COUNT */
	uint8_t flags;     /* FZ_STREAM_* */
	uint8_t lookahead; /* with FZ_STREAM_SUBMIT: 1 + lookahead % 4 jobs in flight */
	uint8_t reserved;
	uint16_t width;    /* the CAPTURE format's size, clamped to 16..FZ_MAX_* */
	uint16_t height;
};

/* fz_job_head.flags: the protocol's job flags, one to one */
#define FZ_JOB_NEW_FRAME (1u << 0)    /* DAEDALUS_JOB_FLAG_NEW_FRAME */
#define FZ_JOB_HOLD (1u << 1)         /* DAEDALUS_JOB_FLAG_HOLD */
#define FZ_JOB_STREAM_START (1u << 2) /* DAEDALUS_JOB_FLAG_STREAM_START */
#define FZ_JOB_LOST_PIECE (1u << 3)   /* DAEDALUS_JOB_FLAG_LOST_PIECE */

struct fz_job_head {
	uint8_t flags;       /* FZ_JOB_* */
	uint8_t set;         /* bit i: control i is part of this request, its payload follows */
	uint8_t num_mangles;
	uint8_t reserved;
	uint32_t bitstream_size;
	uint64_t timestamp;  /* the OUTPUT timestamp: later jobs name this picture by it */
};

/* fz_mangle.field */
enum fz_field {
	FZ_FIELD_ID,
	FZ_FIELD_ELEM_SIZE,
	FZ_FIELD_ELEMS,
	FZ_FIELD_OFFSET,
	FZ_FIELD_SIZE,
	FZ_FIELD_FLAGS,
	FZ_FIELD_NUM_CTRLS,  /* the message's num_ctrls (ctrl is ignored) */
	FZ_FIELD_CTRL_BYTES, /* the message's ctrl_bytes */
	FZ_FIELD_COUNT
};

struct fz_mangle {
	uint8_t ctrl;  /* index into the control table, modulo its length */
	uint8_t field; /* enum fz_field, modulo FZ_FIELD_COUNT */
	uint16_t reserved;
	uint32_t value;
};

/* One control of a codec as the kernel registers it. */
struct fz_ctrl_desc {
	uint32_t id;
	uint32_t elem_size;
	uint32_t max_elems; /* > 1: a dynamic array (AV1 tile group entries) */
};

/* The controls the kernel sends with every job of codec (those the daemon reads). */
unsigned int fz_codec_ctrls(enum dd_codec codec, const struct fz_ctrl_desc **descs);

/* Reading: a cursor over the input. */
struct fz_reader {
	const uint8_t *data;
	size_t size, pos;
};

/* Copies up to len bytes into dst, zero-filling what the input lacks; false if it lacked any. */
bool fz_read(struct fz_reader *r, void *dst, size_t len);
/* Up to len bytes in place (*got of them); the pointer stays valid with the input. */
const uint8_t *fz_take(struct fz_reader *r, size_t len, size_t *got);
bool fz_at_end(const struct fz_reader *r);

/* Writing (the seed maker): appends to a growing buffer; aborts when out of memory. */
struct fz_writer {
	uint8_t *data;
	size_t size, cap;
};

void fz_write(struct fz_writer *w, const void *src, size_t len);
void fz_writer_free(struct fz_writer *w);

#endif
