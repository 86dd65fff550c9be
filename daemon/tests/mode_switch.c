/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>

#include "mode_switch.h"

void mode_switch_init(struct mode_switch *m, unsigned int every, unsigned int lookahead,
		      const struct dd_stream *stream)
{
	*m = (struct mode_switch){ .every = every, .lookahead = lookahead, .depth = 1,
				   .mode = dd_stream_lookahead(stream) };
}

unsigned int mode_switch_before(struct mode_switch *m, struct dd_stream *stream)
{
	if (!m->every)
		return m->lookahead;
	/* the client changes only once the engine has followed its last change */
	if (m->since >= m->every && m->mode == m->depth) {
		m->depth = m->depth == 1 ? m->lookahead : 1;
		m->since = 0;
	}
	dd_stream_set_lookahead(stream, m->depth);
	return m->depth;
}

void mode_switch_after(struct mode_switch *m, const struct dd_stream *stream, long n,
		       bool may_switch)
{
	unsigned int now = dd_stream_lookahead(stream);

	if (!m->every)
		return;
	m->since++;
	if (now == m->mode)
		return;
	fprintf(stderr, "job %ld: the engine now decodes for a lookahead of %u (was %u)%s\n", n,
		now, m->mode, may_switch ? "" : ", before a job that needs earlier pictures");
	m->bad |= !may_switch;
	m->mode = now;
	m->since = 0;
	m->switches++;
}
