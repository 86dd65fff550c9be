/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A feeder is the client half of the engine bench for one codec: it turns a loaded file into
 * the dd_jobs a V4L2 client would queue, one per coded frame, with the controls filled from
 * the bitstream by the same client emulators the tests use (daemon/tests/<codec>_client.c). The
 * bench's main loop owns everything the daemon would own: timestamps, CAPTURE buffers,
 * calling the engine.
 */
#ifndef DAEDALUS_BENCH_FEEDER_H
#define DAEDALUS_BENCH_FEEDER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

struct bench_job {
	/* codec, controls and bitstream; main sets timestamp and dst */
	struct dd_job job;
	/* the size the client sets the CAPTURE format to (before the driver's padding) */
	uint32_t width, height;
	unsigned int bit_depth;
	/* the visible picture inside it, for --md5-last and the report */
	uint32_t crop_x, crop_y, crop_w, crop_h;
	bool shown; /* the client displays this picture (not a hidden/altref frame) */
};

struct feeder {
	const struct feeder_ops *ops;
	/*
	 * Pictures the client displays, including repeats that never become a job (VP9/AV1
	 * show_existing_frame): what `ffmpeg -f null` counts as frames.
	 */
	long shown;
};

struct feeder_ops {
	const char *name;
	enum dd_codec codec;
	/* Loads the whole file; NULL with the reason on stderr. */
	struct feeder *(*open)(const char *path);
	/* Back to the start of the stream with a fresh client, for the next pass. */
	int (*rewind)(struct feeder *f);
	/*
	 * The next job: 1 with *bj filled (valid until the next call), 0 at the end of the
	 * stream, -1 when the client cannot parse the stream (the reason on stderr).
	 */
	int (*next)(struct feeder *f, struct bench_job *bj);
	/* After the job was decoded (or failed) under timestamp ts: the client's ref update. */
	void (*done)(struct feeder *f, const struct bench_job *bj, uint64_t ts);
	void (*close)(struct feeder *f);
};

extern const struct feeder_ops feeder_vp8;
extern const struct feeder_ops feeder_vp9;
#ifdef BENCH_HAVE_GST
extern const struct feeder_ops feeder_av1;
extern const struct feeder_ops feeder_h264;
#endif

#endif
