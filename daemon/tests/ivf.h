/* SPDX-License-Identifier: BSD-2-Clause */
/* IVF container reader and VP9 superframe splitter: the test's stand-in for a demuxer and
 * GStreamer's vp9parse. */
#ifndef DAEDALUS_TEST_IVF_H
#define DAEDALUS_TEST_IVF_H

#include <stddef.h>
#include <stdint.h>

struct ivf_frame {
	const uint8_t *data;
	size_t size;
};

struct ivf {
	uint8_t *file;
	size_t file_size;
	char fourcc[5];
	struct ivf_frame *frames;
	size_t count;
};

/* Reads every frame; for VP9 splits superframes so each coded frame is one entry. */
int ivf_load(struct ivf *ivf, const char *path, int split_vp9_superframes);
void ivf_free(struct ivf *ivf);

#endif
