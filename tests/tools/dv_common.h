/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the bridge protocol test tools (dv-reqclient, dv-testpeer).
 *
 * The test peer writes into every CAPTURE buffer a "record" (what it was
 * told by the kernel about the job) followed by a pseudo-random pattern
 * seeded from the job's timestamp and first bitstream bytes. The client
 * knows what it queued, so it computes the same record and pattern and
 * compares the whole buffer bit for bit: this proves that the bitstream,
 * the controls, the timestamps and the reference lookups crossed the kernel
 * unchanged, without trusting either side's own report.
 */
#ifndef DV_COMMON_H
#define DV_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define DV_RECORD_MAGIC		0x50545644u	/* "DVTP" */
#define DV_RECORD_VERSION	1u
#define DV_RECORD_REFS		16
#define DV_RECORD_CTRLS		8
/* The pattern starts here in memory plane 0 (after the record). */
#define DV_PATTERN_START	512u

/* dv_record_ref.content */
#define DV_REF_CONTENT_NONE	0u	/* not FOUND, or SELF: nothing checked */
#define DV_REF_CONTENT_OK	1u	/* holds the record of the named frame */
#define DV_REF_CONTENT_BAD	2u	/* FOUND but holds something else */
#define DV_REF_CONTENT_ERROR	3u	/* FOUND with DAEDALUS_BUF_FLAG_ERROR */

struct dv_record_ref {
	uint64_t timestamp;
	uint32_t flags;		/* DAEDALUS_REF_FLAG_* as received */
	uint32_t content;	/* DV_REF_CONTENT_* */
};

struct dv_record_ctrl {
	uint32_t id;
	uint32_t size;
	uint64_t hash;		/* dv_hash() of the payload */
};

/* Everything is little endian, naturally aligned, zero padded. */
struct dv_record {
	uint32_t magic;
	uint32_t version;
	uint64_t timestamp;	/* CAPTURE timestamp of the job (ns) */
	uint64_t seed;		/* dv_pattern_seed() of this picture */
	uint64_t out_hash;	/* dv_hash() of the OUTPUT bitstream bytes */
	uint32_t out_bytes;	/* OUTPUT bytesused */
	uint32_t codec;		/* DAEDALUS_CODEC_* */
	uint32_t num_refs;
	uint32_t num_req_ctrls;	/* controls flagged IN_REQUEST, sorted by id */
	struct dv_record_ref refs[DV_RECORD_REFS];
	struct dv_record_ctrl ctrls[DV_RECORD_CTRLS];
};

_Static_assert(sizeof(struct dv_record) <= DV_PATTERN_START, "record too big");

uint64_t dv_hash(const void *data, size_t len);
/* Seed of a picture's pattern: its timestamp and first bitstream bytes. */
uint64_t dv_pattern_seed(uint64_t timestamp, const uint8_t *bits, size_t len);
/* Fill / check bytes [from, len) of memory plane @plane with the pattern. */
void dv_pattern_fill(uint8_t *dst, size_t from, size_t len, uint64_t seed,
		     unsigned int plane);
/* Returns the offset of the first wrong byte, or (size_t)-1 if all match. */
size_t dv_pattern_check(const uint8_t *src, size_t from, size_t len,
			uint64_t seed, unsigned int plane);
/* Deterministic bitstream bytes for frame @frame of context @ctx. */
void dv_bitstream_fill(uint8_t *dst, size_t len, unsigned int ctx,
		       unsigned int frame);

uint64_t dv_now_ns(void);		/* CLOCK_MONOTONIC */
double dv_ms_since(uint64_t t0_ns);
const char *dv_errname(int err);	/* "ENOENT", ... */
int dv_errno_from_name(const char *name);	/* -1 if unknown */

/* DMA_BUF_IOCTL_SYNC start/end; return 0 or -errno. */
int dv_dmabuf_sync(int fd, int start, int write);

#endif
