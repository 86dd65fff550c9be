/* SPDX-License-Identifier: BSD-2-Clause */
/* The bench's result: one line of JSON on stdout, for the orchestrator that compares runs. */
#ifndef DAEDALUS_BENCH_REPORT_H
#define DAEDALUS_BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct bench_result {
	const char *codec;
	const char *file;
	const char *backend;    /* the engine backend that decoded ("ffmpeg", "dav1d") */
	unsigned int threads, repeat;
	unsigned int lookahead; /* jobs kept submitted before collecting (1: dd_stream_decode) */
	unsigned int inflight;  /* 0, or --inflight: the daemon's loop with this many granted */
	unsigned int frame_delay; /* the engine's dd_engine_config.frame_delay */
	long jobs;              /* jobs decoded or submitted, all passes */
	long pictures;          /* of them, the ones that decoded (a picture written) */
	long shown;             /* pictures the client displays (ffmpeg's frame count) */
	long failed;
	uint32_t width, height; /* the last picture's visible size */
	unsigned int bits;
	uint32_t fourcc;
	double wall_s;          /* the decode loop, all passes */
	double cpu_s;           /* user + system of all threads over the same interval */
	double decode_s;        /* wall time inside the engine's decode/submit/collect/sync */
	long drains;            /* --inflight: complete syncs with all granted jobs in flight */
	long grace_waits;       /* --sync-client: waits of the grace period before a drain */
	long maxrss_kib;
	double capture_alloc_s; /* of wall_s: the CAPTURE buffers allocated (capture.h) */
	const char *md5_last;   /* NULL: not asked for, or some job failed */
};

void bench_report_json(FILE *out, const struct bench_result *r);

#endif
