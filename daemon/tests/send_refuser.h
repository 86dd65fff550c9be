/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The controls of the send-refusing stand-in for libavcodec (send_refusing_avcodec.c), which
 * decode_clip and decode_h264 load as the engine's libavcodec (--avcodec).
 */
#ifndef DAEDALUS_TEST_SEND_REFUSER_H
#define DAEDALUS_TEST_SEND_REFUSER_H

#include <stdbool.h>
#include <stddef.h>

struct send_refuser {
	void (*refuse)(unsigned int n); /* the next n packets with data are refused */
	unsigned int (*refused)(void);  /* how many were */
	int (*refused_size)(void);      /* the size of the last one */
};

/*
 * Opens path (left open: the engine loads the same object) and finds the controls, NULL in
 * another library. 0, or -1 with a line on stderr when it cannot be opened.
 */
int send_refuser_load(struct send_refuser *r, const char *path);

/* Whether the controls were found (path was the stand-in). */
bool send_refuser_found(const struct send_refuser *r);

/*
 * Whether the refusal armed for packet n of what ("job", "request") hit that packet: one
 * refused, of size bytes (exact) or at least size (the engine adds parameter sets), not a
 * filler sent before it. 0 if so, 1 with a line on stderr if not.
 */
int send_refuser_hit(const struct send_refuser *r, const char *what, long n, size_t size,
		     bool exact);

#endif
