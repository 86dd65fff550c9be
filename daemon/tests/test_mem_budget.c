/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The decoders' memory shared out among the streams (process/mem_budget.c): the estimate of
 * what a stream may hold, claims that fit and claims that do not, a stream growing and
 * closing, one user's share of the budget (meeting it, the others keeping the rest, streams
 * whose user is not known), and the default budget read from a cgroup tree made here (the
 * daemon's cgroup without a limit under a parent with one, none at all, a machine smaller
 * than the limit).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem_budget.h"
#include "test_check.h"

static int failures;

static void estimates(void)
{
	uint64_t hd = dm_mem_estimate(DD_CODEC_H264, 1920, 1080, 8, 3);
	uint64_t uhd = dm_mem_estimate(DD_CODEC_H264, 3840, 2160, 8, 3);

	CHECK(dm_mem_estimate(DD_CODEC_VP9, 0, 1080, 8, 3) == 0, "no size, no claim");
	/* 20 pictures of 1088p: about 65 MiB of pictures, half as much side data, the overhead */
	CHECK(hd > 90 * DM_MIB && hd < 120 * DM_MIB, "1080p H.264: %" PRIu64 " MiB", hd / DM_MIB);
	/* above what the decoders took per 1080p stream in docs/performance.md's device bench */
	CHECK(dm_mem_estimate(DD_CODEC_VP8, 1920, 1080, 8, 3) > 12 * DM_MIB, "VP8 below measured");
	CHECK(dm_mem_estimate(DD_CODEC_VP9, 1920, 1080, 8, 3) > 14 * DM_MIB, "VP9 below measured");
	CHECK(dm_mem_estimate(DD_CODEC_AV1, 1920, 1080, 8, 3) > 49 * DM_MIB, "AV1 below measured");
	CHECK(hd > 35 * DM_MIB, "H.264 below measured");
	CHECK(uhd > 3 * hd, "2160p (%" PRIu64 " MiB) is 4 times 1080p's pictures", uhd / DM_MIB);
	CHECK(dm_mem_estimate(DD_CODEC_VP9, 1920, 1080, 10, 3) >
	      dm_mem_estimate(DD_CODEC_VP9, 1920, 1080, 8, 3), "10-bit samples take 2 bytes");
	CHECK(dm_mem_estimate(DD_CODEC_AV1, 1920, 1080, 8, 5) >
	      dm_mem_estimate(DD_CODEC_AV1, 1920, 1080, 8, 1), "frames at once are pictures");
	CHECK(dm_mem_estimate(DD_CODEC_VP8, 1920, 1080, 8, 1) <
	      dm_mem_estimate(DD_CODEC_VP9, 1920, 1080, 8, 1), "VP8 keeps 3 references, VP9 8");
	CHECK(dm_mem_estimate(DD_CODEC_AV1, 70000, 16, 8, 1) == UINT64_MAX,
	      "a size past every codec's limit never fits");
	/* the largest size taken, without a 32-bit wrap: at least its 26 bare 16-bit pictures */
	CHECK(dm_mem_estimate(DD_CODEC_H264, 65536, 65536, 16, 9) >
	      (uint64_t)65536 * 65536 * 3 * 26, "a wrap at 65536");
}

static void claims(void)
{
	struct dm_mem_budget b;
	struct dm_mem_claim one = { 0 }, two = { 0 }, three = { 0 };
	uint64_t free_bytes = 0;

	dm_mem_budget_init(&b, 100 * DM_MIB, 0);
	CHECK(dm_mem_claim(&b, &one, 60 * DM_MIB, &free_bytes) == DM_MEM_FITS, "the first fits");
	CHECK(dm_mem_claim(&b, &two, 60 * DM_MIB, &free_bytes) == DM_MEM_OVER_BUDGET,
	      "a second of 60 does not");
	CHECK(free_bytes == 40 * DM_MIB, "it is told 40 MiB were free, not %" PRIu64,
	      free_bytes / DM_MIB);
	CHECK(two.bytes == 0 && b.used == 60 * DM_MIB, "the refused claim took nothing");
	CHECK(dm_mem_claim(&b, &three, 40 * DM_MIB, &free_bytes) == 0, "one of 40 fits exactly");
	CHECK(dm_mem_claim(&b, &one, 61 * DM_MIB, &free_bytes) == DM_MEM_OVER_BUDGET,
	      "the full budget: no growing");
	CHECK(one.bytes == 60 * DM_MIB, "a stream refused to grow keeps its claim");
	CHECK(dm_mem_claim(&b, &one, 20 * DM_MIB, &free_bytes) == 0, "shrinking always fits");
	CHECK(b.used == 60 * DM_MIB, "used %" PRIu64 " MiB after shrinking", b.used / DM_MIB);
	CHECK(dm_mem_claim(&b, &two, 40 * DM_MIB, &free_bytes) == 0, "the room it left is used");
	dm_mem_release(&b, &three);
	dm_mem_release(&b, &three);
	CHECK(b.used == 60 * DM_MIB && three.bytes == 0, "a release twice gives back once");
	dm_mem_release(&b, &one);
	dm_mem_release(&b, &two);
	CHECK(b.used == 0, "every claim back: %" PRIu64 " used", b.used);
	CHECK(b.claims == NULL, "no claim listed");
	dm_mem_budget_fini(&b);

	dm_mem_budget_init(&b, 0, 0);
	CHECK(dm_mem_claim(&b, &one, UINT64_MAX / 2, &free_bytes) == 0, "no limit: anything fits");
	dm_mem_release(&b, &one);
	dm_mem_budget_fini(&b);
}

/* One user's streams meet its share; the other users keep the rest of the budget. */
static void user_shares(void)
{
	struct dm_mem_budget b;
	struct dm_mem_claim a = { .owner = 1000 }, a2 = { .owner = 1000 }, a3 = { .owner = 1000 };
	struct dm_mem_claim o = { .owner = 1001 }, o2 = { .owner = 1001 };
	struct dm_mem_claim unknown = { .owner = DM_OWNER_UNKNOWN };
	uint64_t free_bytes = 0, hd = 0;
	const enum dd_codec codecs[] = { DD_CODEC_H264, DD_CODEC_VP8, DD_CODEC_VP9, DD_CODEC_AV1 };

	/*
	 * The default leaves a third: at the unit's 768 MiB, room for a 1080p stream of any
	 * codec and depth (3 frames at once: the daemon's frame_delay with 2 jobs in flight);
	 * the share itself takes a 2160p stream of any codec and depth but 10-bit H.264.
	 */
	CHECK(dm_mem_per_user_default(768 * DM_MIB) == 512 * DM_MIB, "share of 768 MiB: %" PRIu64,
	      dm_mem_per_user_default(768 * DM_MIB) / DM_MIB);
	CHECK(dm_mem_per_user_default(0) == 0, "no budget, no share");
	for (unsigned int i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		for (unsigned int bits = 8; bits <= 10; bits += 2) {
			uint64_t e = dm_mem_estimate(codecs[i], 1920, 1080, bits, 3);
			uint64_t uhd = dm_mem_estimate(codecs[i], 3840, 2160, bits, 3);

			hd = e > hd ? e : hd;
			if (codecs[i] != DD_CODEC_H264 || bits == 8)
				CHECK(uhd <= 512 * DM_MIB, "a 2160p %u-bit stream of codec %d (%"
				      PRIu64 " MiB) fits the share", bits, (int)codecs[i],
				      uhd / DM_MIB);
		}
	}
	CHECK(hd <= 256 * DM_MIB, "the largest 1080p claim (%" PRIu64 " MiB) fits the third left",
	      hd / DM_MIB);
	CHECK(dm_mem_estimate(DD_CODEC_H264, 3840, 2160, 10, 3) > 512 * DM_MIB,
	      "2160p 10-bit H.264 is past the share (docs/security.md says so)");

	dm_mem_budget_init(&b, 500 * DM_MIB, 300 * DM_MIB);
	CHECK(dm_mem_claim(&b, &a, 200 * DM_MIB, &free_bytes) == DM_MEM_FITS, "user 1000: 200");
	CHECK(dm_mem_claim(&b, &a2, 100 * DM_MIB, &free_bytes) == DM_MEM_FITS,
	      "user 1000: 100 more fill its share exactly");
	CHECK(dm_mem_claim(&b, &a3, DM_MIB, &free_bytes) == DM_MEM_OVER_SHARE,
	      "user 1000: past its share");
	CHECK(free_bytes == 0 && a3.bytes == 0, "nothing of the share left (%" PRIu64 "), none taken",
	      free_bytes);
	CHECK(dm_mem_claim(&b, &o, 200 * DM_MIB, &free_bytes) == DM_MEM_FITS,
	      "user 1001 gets the rest of the budget");
	CHECK(dm_mem_claim(&b, &o2, DM_MIB, &free_bytes) == DM_MEM_OVER_BUDGET,
	      "the budget full: the budget refuses, not the share");
	CHECK(dm_mem_claim(&b, &unknown, DM_MIB, &free_bytes) == DM_MEM_OVER_BUDGET,
	      "a stream of no known user meets the budget too");
	dm_mem_release(&b, &a);
	CHECK(dm_mem_claim(&b, &a3, 150 * DM_MIB, &free_bytes) == DM_MEM_FITS,
	      "a stream of user 1000 closed: its share has room again");
	dm_mem_release(&b, &o);
	CHECK(dm_mem_claim(&b, &a2, 160 * DM_MIB, &free_bytes) == DM_MEM_OVER_SHARE,
	      "growing past the share is refused");
	CHECK(free_bytes == 150 * DM_MIB && a2.bytes == 100 * DM_MIB,
	      "it is told its share has 150 MiB for it (%" PRIu64 ") and keeps its 100",
	      free_bytes / DM_MIB);
	CHECK(dm_mem_claim(&b, &a2, 150 * DM_MIB, &free_bytes) == DM_MEM_FITS,
	      "growing to exactly the share fits");
	CHECK(dm_mem_claim(&b, &unknown, 100 * DM_MIB, &free_bytes) == DM_MEM_FITS,
	      "no share applies to a stream of no known user");
	dm_mem_release(&b, &a2);
	dm_mem_release(&b, &a3);
	dm_mem_release(&b, &unknown);
	CHECK(b.used == 0 && b.claims == NULL, "all back, none listed (%" PRIu64 ")", b.used);
	dm_mem_budget_fini(&b);

	dm_mem_budget_init(&b, 0, 50 * DM_MIB);
	CHECK(dm_mem_claim(&b, &a, 60 * DM_MIB, &free_bytes) == DM_MEM_OVER_SHARE,
	      "a share without a budget still applies");
	CHECK(dm_mem_claim(&b, &o, 50 * DM_MIB, &free_bytes) == DM_MEM_FITS, "up to it");
	dm_mem_release(&b, &o);
	dm_mem_budget_fini(&b);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void default_budget(void)
{
	char root[] = "/tmp/test_mem_budget.XXXXXX", dir[512], proc[600];
	const uint64_t phys = 8192 * DM_MIB;

	if (!mkdtemp(root)) {
		CHECK(0, "mkdtemp failed");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/system.slice", root);
	mkdir(dir, 0700);
	write_file(dir, "memory.max", "1073741824\n");
	snprintf(dir, sizeof(dir), "%s/system.slice/d.service", root);
	mkdir(dir, 0700);
	write_file(dir, "memory.max", "max\n");
	snprintf(proc, sizeof(proc), "%s/cgroup", root);

	write_file(root, "cgroup", "0::/system.slice/d.service\n");
	CHECK(dm_mem_budget_default(root, proc, phys) == 768 * DM_MIB,
	      "the parent's 1 GiB binds: %" PRIu64 " MiB",
	      dm_mem_budget_default(root, proc, phys) / DM_MIB);
	write_file(dir, "memory.max", "536870912\n");
	CHECK(dm_mem_budget_default(root, proc, phys) == 384 * DM_MIB, "its own 512 MiB binds");
	CHECK(dm_mem_budget_default(root, proc, 256 * DM_MIB) == 192 * DM_MIB,
	      "a machine smaller than the limit binds");
	write_file(root, "cgroup", "0::/\n");
	CHECK(dm_mem_budget_default(root, proc, phys) == 6144 * DM_MIB, "the root cgroup: the machine");
	CHECK(dm_mem_budget_default(root, "/nonexistent/cgroup", phys) == 6144 * DM_MIB,
	      "no /proc/self/cgroup: the machine");

	snprintf(dir, sizeof(dir), "rm -rf '%s'", root);
	if (system(dir))
		fprintf(stderr, "could not remove %s\n", root);
}

int main(void)
{
	estimates();
	claims();
	user_shares();
	default_budget();
	return check_summary("test_mem_budget", failures);
}
