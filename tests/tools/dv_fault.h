/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fault injection the device clients share (dv-vpxclient, dv-av1client, dv-h264client),
 * for the fault matrix (tests/vm/daemon-fault-matrix.sh, tests/media/fault-matrix.py):
 *
 *   --fault KIND:N     unit N (an IVF frame for VP8/VP9, a temporal unit for AV1, a picture
 *                      for H.264, counted from 0 in the file; damage: the first unit queued
 *                      from N on) is damaged or lost:
 *       truncate       its OUTPUT buffer ends halfway through the data after the header
 *       garbage        the bytes after the header are replaced by noise (same length)
 *       flip-header    one bit in the middle of the header is flipped
 *       flip-data      one bit in the middle of the data after the header is flipped
 *       drop           never queued, as a packet the transport reports lost: the client
 *                      parsed it (so it knows which references it replaced) and names its
 *                      picture by a timestamp no request carries
 *   --fault seek:A:B   before unit A, a seek: STREAMOFF and STREAMON on both queues, units
 *                      A..B-1 never queued (as drop), decoding goes on at unit B
 *   --keep-going       a failed request does not end the run (implied by --fault)
 *   --pace-ms N        wait N ms before each request (a stream that lasts while the test
 *                      kills or stops the daemon or another client)
 *   --gate FILE        and then while FILE exists (the test holds the stream while it
 *                      starts a new daemon, which takes seconds under TCG)
 *   --hold-at N:FILE   before unit N (after the pacing; once): create FILE, wait until the
 *                      test removes it, so that the test acts at a chosen unit (it stops
 *                      the daemon, so that unit N is queued to a stopped daemon); then
 *                      create FILE.go, just before unit N is queued
 *
 * The header is what the controls describe (VP8: the frame tag and the first partition's
 * header bits; VP9: the uncompressed and compressed headers; AV1: the bytes before the first
 * tile; H.264: the NAL header and slice header of the first slice); the controls always come
 * from the undamaged unit, as from a parser that read it before the damage.
 *
 * With --fault or --keep-going the client's output is line-buffered and adds, besides its
 * "pic <n> <w>x<h> <md5>" (or "pic <n> FAILED": the picture came back with
 * V4L2_BUF_FLAG_ERROR, or shows one that did):
 *   pic <n> SKIPPED               a shown picture of a unit never queued (drop, seek)
 *   at <ms>                       after each pic line: when it was there (CLOCK_REALTIME)
 *   req <unit> <t0> <t1> ok|ERROR  each request: queued at t0, back at t1 (ms, CLOCK_REALTIME)
 *   fault <pic> <ms> <kind>        the fault, before picture <pic> of the output
 *   damage unit <n>: ...           what was damaged (sizes, the byte flipped)
 *   key <pic> <ms>                 picture <pic> is queued now as an access point (a shown key
 *                                  frame, an H.264 I or IDR picture): decoding can resume at it
 */
#ifndef DV_FAULT_H
#define DV_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dv_fault_kind {
	DV_FAULT_NONE,
	DV_FAULT_TRUNCATE,
	DV_FAULT_GARBAGE,
	DV_FAULT_FLIP_HEADER,
	DV_FAULT_FLIP_DATA,
	DV_FAULT_DROP,
	DV_FAULT_SEEK,
};

struct dv_fault {
	enum dv_fault_kind kind;
	long at, seek_to;	/* units; seek_to only for DV_FAULT_SEEK */
	bool keep_going;	/* per-request lines, failures do not end the run */
	unsigned int pace_ms;
	const char *gate;	/* --gate: no request is queued while this file exists */
	long hold_at;		/* --hold-at: the unit, -1 without */
	const char *hold;	/* --hold-at: the file */
	bool announced;
	uint8_t *copy;		/* the damaged copy of a unit */
	size_t cap;
};

/* Option values (above any character a client uses) and the entries for getopt_long. */
#define DV_FAULT_OPT_FAULT	0x1000
#define DV_FAULT_OPT_KEEP	0x1001
#define DV_FAULT_OPT_PACE	0x1002
#define DV_FAULT_OPT_GATE	0x1003
#define DV_FAULT_OPT_HOLD	0x1004
#define DV_FAULT_OPTIONS                                                        \
	{ "fault", required_argument, NULL, DV_FAULT_OPT_FAULT },               \
	{ "keep-going", no_argument, NULL, DV_FAULT_OPT_KEEP },                 \
	{ "pace-ms", required_argument, NULL, DV_FAULT_OPT_PACE },              \
	{ "gate", required_argument, NULL, DV_FAULT_OPT_GATE },                 \
	{ "hold-at", required_argument, NULL, DV_FAULT_OPT_HOLD }
#define DV_FAULT_USAGE "[--fault truncate|garbage|flip-header|flip-data|drop:N|seek:A:B] " \
	"[--keep-going] [--pace-ms N] [--gate FILE] [--hold-at N:FILE]"

/* 1: one of ours, handled; 0: not ours; -1: ours with a bad argument (printed). */
int dv_fault_option(struct dv_fault *f, int opt, const char *arg);
/* After the options: line-buffered output when the fault lines are printed. */
void dv_fault_start(struct dv_fault *f);
void dv_fault_free(struct dv_fault *f);

/* Unit @unit is never queued (dropped, or between a seek's ends). */
bool dv_fault_skips(const struct dv_fault *f, long unit);
/* The seek happens before unit @unit. */
bool dv_fault_seeks_before(const struct dv_fault *f, long unit);
/*
 * The bytes to queue for unit @unit: @data itself, or a damaged copy (*size may shrink).
 * @hdr_end: where the header ends in @data. Prints the "fault" line (@pic: the next picture
 * of the output) the first time it damages, drops or seeks.
 */
const uint8_t *dv_fault_bytes(struct dv_fault *f, long unit, const uint8_t *data, size_t *size,
			      size_t hdr_end, long pic);
/* The "fault" line for a drop or a seek (once). */
void dv_fault_announce(struct dv_fault *f, long pic);
/* A timestamp no request carries, for the picture of a unit that was never queued. */
uint64_t dv_fault_ghost_ts(long unit);
/*
 * Before the request of unit @unit: the pacing, the gate, the hold; returns the time it is
 * queued (ms, CLOCK_REALTIME).
 */
double dv_fault_before(struct dv_fault *f, long unit);
/* After a request that began at @t0: the "req" line. @r: 0 done, 1 ERROR. */
void dv_fault_after(const struct dv_fault *f, long unit, double t0, int r);
/* Before the request of an access point that will be picture @pic: the "key" line. */
void dv_fault_key(const struct dv_fault *f, long pic);
/* After a "pic" line: the "at" line. */
void dv_fault_pic(const struct dv_fault *f);
double dv_realtime_ms(void);

#endif
