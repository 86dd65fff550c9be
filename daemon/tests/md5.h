/* SPDX-License-Identifier: BSD-2-Clause */
/* MD5 (RFC 1321), so the tests can compare pictures with `ffmpeg -f framemd5`. */
#ifndef DAEDALUS_TEST_MD5_H
#define DAEDALUS_TEST_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
	uint32_t h[4];
	uint64_t len;
	uint8_t buf[64];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t len);
void md5_hex(struct md5 *m, char out[33]);

#endif
