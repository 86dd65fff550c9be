/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tiny pictures per codec that backends decode once when the daemon starts, so that the
 * first client's first frame does not pay for paging in (and, under an emulator, for
 * translating) the library's decoding code (docs/daemon-engine.md, "Warm-up").
 * Made by scripts/make-warm-samples.
 */
#ifndef DAEDALUS_WARM_SAMPLES_H
#define DAEDALUS_WARM_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define DD_WARM_MAX_PACKETS 4

struct dd_warm_packet {
	const uint8_t *data;
	size_t size;
};

/* packets in decode order: a key frame first, each packet one shown picture */
struct dd_warm_sample {
	unsigned int count;
	struct dd_warm_packet packet[DD_WARM_MAX_PACKETS];
};

/* The sample of codec, or NULL for a codec out of range. */
const struct dd_warm_sample *dd_warm_sample(enum dd_codec codec);

#endif
