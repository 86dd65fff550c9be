/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --switch-every K for the clip clients (decode_clip, decode_h264): a client whose depth
 * changes while it plays, as the daemon learns it per context. It starts waiting for each
 * request (depth 1), and K jobs after each mode change of the engine it turns to keeping
 * `lookahead` requests out, or back (dd_stream_set_lookahead()). The engine must change its
 * mode only before a job that needs no earlier picture (or right after open or a flush), and
 * every picture must stay equal to the reference decode through the changes.
 */
#ifndef DAEDALUS_TEST_MODE_SWITCH_H
#define DAEDALUS_TEST_MODE_SWITCH_H

#include <stdbool.h>

#include "engine.h"

struct mode_switch {
	unsigned int every;     /* K; 0: the client never changes */
	unsigned int lookahead; /* its depth while it keeps requests out */
	unsigned int depth;     /* its depth now */
	unsigned int mode;      /* the engine's lookahead after the last submit */
	unsigned int since;     /* jobs since the engine's last mode change */
	unsigned int switches;  /* mode changes, the first (after open) included */
	bool bad;               /* a change where it must not be */
};

void mode_switch_init(struct mode_switch *m, unsigned int every, unsigned int lookahead,
		      const struct dd_stream *stream);
/* Before a job's submit: the client's depth for it, told to the engine. */
unsigned int mode_switch_before(struct mode_switch *m, struct dd_stream *stream);
/*
 * After job n's submit. may_switch: it needs no earlier picture (a key frame, an IDR), or
 * it is the first after open or a flush. A change elsewhere is printed and marked bad.
 */
void mode_switch_after(struct mode_switch *m, const struct dd_stream *stream, long n,
		       bool may_switch);

#endif
