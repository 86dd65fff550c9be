/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivf.h"

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int push(struct ivf *ivf, size_t *cap, const uint8_t *data, size_t size)
{
	if (ivf->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct ivf_frame *n = realloc(ivf->frames, ncap * sizeof(*n));

		if (!n)
			return -1;
		ivf->frames = n;
		*cap = ncap;
	}
	ivf->frames[ivf->count++] = (struct ivf_frame){ data, size };
	return 0;
}

/* A superframe ends with an index: marker, frame sizes, marker again. */
static int push_vp9(struct ivf *ivf, size_t *cap, const uint8_t *d, size_t size)
{
	uint8_t marker = size ? d[size - 1] : 0;
	unsigned int frames, mag;
	size_t index_size, off = 0;
	const uint8_t *idx;

	if ((marker & 0xe0) != 0xc0)
		return push(ivf, cap, d, size);
	frames = (marker & 7) + 1;
	mag = ((marker >> 3) & 3) + 1;
	index_size = 2 + (size_t)mag * frames;
	if (size < index_size || d[size - index_size] != marker)
		return push(ivf, cap, d, size);
	idx = d + size - index_size + 1;
	for (unsigned int i = 0; i < frames; i++) {
		size_t fsize = 0;

		for (unsigned int b = 0; b < mag; b++)
			fsize |= (size_t)idx[i * mag + b] << (8 * b);
		if (off + fsize > size - index_size) {
			fprintf(stderr, "ivf: bad superframe index\n");
			return -1;
		}
		if (fsize && push(ivf, cap, d + off, fsize))
			return -1;
		off += fsize;
	}
	return 0;
}

int ivf_load(struct ivf *ivf, const char *path, int split_vp9)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, pos;
	long len;

	memset(ivf, 0, sizeof(*ivf));
	if (!f) {
		perror(path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 32 || fseek(f, 0, SEEK_SET))
		goto bad;
	ivf->file_size = (size_t)len;
	ivf->file = malloc(ivf->file_size);
	if (!ivf->file || fread(ivf->file, 1, ivf->file_size, f) != ivf->file_size)
		goto bad;
	fclose(f);
	f = NULL;
	if (memcmp(ivf->file, "DKIF", 4))
		goto bad;
	memcpy(ivf->fourcc, ivf->file + 8, 4);
	pos = ivf->file[6] | (size_t)ivf->file[7] << 8; /* header size */
	while (pos + 12 <= ivf->file_size) {
		size_t size = le32(ivf->file + pos);

		pos += 12;
		if (size > ivf->file_size - pos)
			goto bad;
		if (split_vp9 ? push_vp9(ivf, &cap, ivf->file + pos, size) :
				push(ivf, &cap, ivf->file + pos, size))
			goto bad;
		pos += size;
	}
	return 0;
bad:
	fprintf(stderr, "%s: not a readable IVF file\n", path);
	if (f)
		fclose(f);
	ivf_free(ivf);
	return -1;
}

void ivf_free(struct ivf *ivf)
{
	free(ivf->file);
	free(ivf->frames);
	memset(ivf, 0, sizeof(*ivf));
}
