// SPDX-License-Identifier: BSD-2-Clause
#include "dv_common.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/dma-buf.h>

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: cheap, and every input bit affects the output */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t dv_hash(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ len;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return mix64(h);
}

uint64_t dv_pattern_seed(uint64_t timestamp, const uint8_t *bits, size_t len)
{
	uint64_t head = 0;
	size_t i;

	for (i = 0; i < 8 && i < len; i++)
		head |= (uint64_t)bits[i] << (8 * i);
	return mix64(timestamp ^ mix64(head));
}

static uint8_t pattern_byte(uint64_t pseed, size_t k)
{
	return (uint8_t)(mix64(pseed + k / 8) >> (8 * (k % 8)));
}

void dv_pattern_fill(uint8_t *dst, size_t from, size_t len, uint64_t seed,
		     unsigned int plane)
{
	uint64_t pseed = seed ^ ((uint64_t)plane << 56);
	size_t k = from;

	for (; k < len && k % 8; k++)
		dst[k] = pattern_byte(pseed, k);
	for (; k + 8 <= len; k += 8) {
		uint64_t w = mix64(pseed + k / 8);

		memcpy(dst + k, &w, 8);	/* little endian hosts only */
	}
	for (; k < len; k++)
		dst[k] = pattern_byte(pseed, k);
}

size_t dv_pattern_check(const uint8_t *src, size_t from, size_t len,
			uint64_t seed, unsigned int plane)
{
	uint64_t pseed = seed ^ ((uint64_t)plane << 56);
	size_t k = from;

	for (; k < len && k % 8; k++)
		if (src[k] != pattern_byte(pseed, k))
			return k;
	for (; k + 8 <= len; k += 8) {
		uint64_t w = mix64(pseed + k / 8);

		if (memcmp(src + k, &w, 8)) {
			for (size_t j = k; j < k + 8; j++)
				if (src[j] != pattern_byte(pseed, j))
					return j;
		}
	}
	for (; k < len; k++)
		if (src[k] != pattern_byte(pseed, k))
			return k;
	return (size_t)-1;
}

void dv_bitstream_fill(uint8_t *dst, size_t len, unsigned int ctx,
		       unsigned int frame)
{
	uint64_t s = mix64(((uint64_t)ctx << 32) | frame);

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			s = mix64(s);
		dst[i] = (uint8_t)(s >> (8 * (i % 8)));
	}
}

uint64_t dv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double dv_ms_since(uint64_t t0_ns)
{
	return (double)(dv_now_ns() - t0_ns) / 1e6;
}

static const struct {
	int err;
	const char *name;
} dv_errs[] = {
	{ 0, "OK" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
	{ EBADF, "EBADF" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
	{ EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
	{ ENOTTY, "ENOTTY" }, { EPROTO, "EPROTO" }, { EALREADY, "EALREADY" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { ENODEV, "ENODEV" },
	{ EIO, "EIO" }, { ETIMEDOUT, "ETIMEDOUT" }, { ENXIO, "ENXIO" },
};

const char *dv_errname(int err)
{
	for (size_t i = 0; i < sizeof(dv_errs) / sizeof(dv_errs[0]); i++)
		if (dv_errs[i].err == err)
			return dv_errs[i].name;
	return "E?";
}

int dv_errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(dv_errs) / sizeof(dv_errs[0]); i++)
		if (!strcmp(dv_errs[i].name, name))
			return dv_errs[i].err;
	return -1;
}

int dv_dmabuf_sync(int fd, int start, int write)
{
	struct dma_buf_sync s = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ),
	};

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s)) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}
