/* SPDX-License-Identifier: BSD-2-Clause */
/* The decoders' memory shared out among the streams (mem_budget.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mem_budget.h"

void dm_mem_budget_init(struct dm_mem_budget *b, uint64_t limit, uint64_t per_user)
{
	pthread_mutex_init(&b->lock, NULL);
	b->limit = limit;
	b->per_user = per_user;
	b->used = 0;
	b->claims = NULL;
}

/*
 * A third stays for the others: at the packaged unit's budget of 768 MiB, 256 MiB, room for a
 * 1080p stream of any codec, 8 or 10 bits (10-bit H.264 claims 204 MiB: mem_budget tests),
 * whatever one user holds; the 512 MiB share still takes a 2160p stream of any codec and
 * depth but 10-bit H.264 (758 MiB, more than a share can be while a third stays free).
 */
uint64_t dm_mem_per_user_default(uint64_t limit)
{
	return limit - limit / 3;
}

void dm_mem_budget_fini(struct dm_mem_budget *b)
{
	pthread_mutex_destroy(&b->lock);
}

/* memory.max of one cgroup directory: 0 for "max", a missing or unreadable file. */
static uint64_t read_memory_max(const char *dir)
{
	char path[4096], text[32] = "";
	uint64_t v = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/memory.max", dir) >= (int)sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(text, sizeof(text), f) && sscanf(text, "%" SCNu64, &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

uint64_t dm_mem_budget_default(const char *cgroup_root, const char *proc_cgroup,
			       uint64_t phys_bytes)
{
	char line[4096], dir[4096];
	uint64_t limit = phys_bytes;
	FILE *f = fopen(proc_cgroup, "re");

	/* cgroup v2: the one line "0::/path" */
	while (f && fgets(line, sizeof(line), f)) {
		size_t n;

		if (strncmp(line, "0::/", 4))
			continue;
		n = strcspn(line + 3, "\n");
		if (snprintf(dir, sizeof(dir), "%s%.*s", cgroup_root, (int)n, line + 3) >=
		    (int)sizeof(dir))
			break;
		/* every level from the daemon's cgroup up: the smallest limit binds */
		for (;;) {
			uint64_t v = read_memory_max(dir);
			char *slash = strrchr(dir, '/');

			if (v && (!limit || v < limit))
				limit = v;
			if (!slash || (size_t)(slash - dir) < strlen(cgroup_root))
				break;
			*slash = '\0';
		}
		break;
	}
	if (f)
		fclose(f);
	/* a quarter for the daemon itself, the libraries' own tables and what estimates miss */
	return limit - limit / 4;
}

/* References a stream of the codec may keep (the codec's limit, not what a stream uses). */
static unsigned int max_refs(enum dd_codec codec)
{
	switch (codec) {
	case DD_CODEC_H264:
		return 16;
	case DD_CODEC_VP8:
		return 3;
	case DD_CODEC_VP9:
	case DD_CODEC_AV1:
	default:
		return 8;
	}
}

/*
 * Side data per picture, in quarters of the picture: H.264 keeps motion vectors and
 * reference indices of both lists per 4x4 block, AV1 its reference motion vectors and
 * segmentation per 8x8 block (dav1d), VP8 and VP9 less.
 */
static unsigned int side_quarters(enum dd_codec codec)
{
	return codec == DD_CODEC_H264 || codec == DD_CODEC_AV1 ? 2 : 1;
}

/* the decoder's contexts, tables and threads besides its pictures */
#define DM_STREAM_OVERHEAD (8 * DM_MIB)

uint64_t dm_mem_estimate(enum dd_codec codec, uint32_t width, uint32_t height,
			 unsigned int bit_depth, unsigned int frames)
{
	uint64_t w, h, picture, pictures;

	if (!width || !height)
		return 0;
	/* larger than any codec's limit: a size no decoder takes, so no claim fits */
	if (width > 65536 || height > 65536)
		return UINT64_MAX;
	/* the libraries pad each picture for motion vectors pointing outside it */
	w = ((uint64_t)width + 63) / 64 * 64 + 64;
	h = ((uint64_t)height + 63) / 64 * 64 + 64;
	picture = w * h * 3 / 2 * (bit_depth > 8 ? 2 : 1);
	/* the references, the frames decoded at once and the picture being output */
	pictures = max_refs(codec) + (frames ? frames : 1) + 1;
	return pictures * picture / 4 * (4 + side_quarters(codec)) + DM_STREAM_OVERHEAD;
}

/* What the claims of c's user other than c hold (under the lock). */
static uint64_t user_holds(const struct dm_mem_budget *b, const struct dm_mem_claim *c)
{
	uint64_t sum = 0;

	for (const struct dm_mem_claim *o = b->claims; o; o = o->next)
		if (o != c && o->owner == c->owner)
			sum += o->bytes;
	return sum;
}

static void set_bytes(struct dm_mem_budget *b, struct dm_mem_claim *c, uint64_t bytes)
{
	b->used = b->used - c->bytes + bytes;
	if (!c->bytes && bytes) {
		c->next = b->claims;
		c->prev = &b->claims;
		if (b->claims)
			b->claims->prev = &c->next;
		b->claims = c;
	} else if (c->bytes && !bytes) {
		*c->prev = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->next = NULL;
		c->prev = NULL;
	}
	c->bytes = bytes;
}

enum dm_mem_verdict dm_mem_claim(struct dm_mem_budget *b, struct dm_mem_claim *c,
				 uint64_t bytes, uint64_t *free_bytes)
{
	enum dm_mem_verdict r = DM_MEM_FITS;

	pthread_mutex_lock(&b->lock);
	if (bytes > c->bytes) {
		/* used counts c->bytes: the others' claims are used - c->bytes */
		uint64_t others = b->used - c->bytes;
		bool shared = b->per_user && c->owner != DM_OWNER_UNKNOWN;
		uint64_t mine = shared ? user_holds(b, c) : 0;
		uint64_t share_left = mine < b->per_user ? b->per_user - mine : 0;

		if (b->limit && bytes > b->limit - others) {
			*free_bytes = b->limit - others;
			r = DM_MEM_OVER_BUDGET;
		} else if (shared && bytes > share_left) {
			*free_bytes = share_left;
			r = DM_MEM_OVER_SHARE;
		}
	}
	if (r == DM_MEM_FITS)
		set_bytes(b, c, bytes);
	pthread_mutex_unlock(&b->lock);
	return r;
}

void dm_mem_release(struct dm_mem_budget *b, struct dm_mem_claim *c)
{
	pthread_mutex_lock(&b->lock);
	set_bytes(b, c, 0);
	pthread_mutex_unlock(&b->lock);
}
