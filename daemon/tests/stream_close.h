/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine test drivers' end of a stream (not for the device clients, which have no engine). */
#ifndef DAEDALUS_TEST_STREAM_CLOSE_H
#define DAEDALUS_TEST_STREAM_CLOSE_H

#include "engine.h"

/*
 * Closes the stream. Every picture is released then, so the meter of its pictures must be
 * back at 0 (a byte not given back, or given back twice, shows) and must have counted
 * something: 1 (and why on stderr) when not.
 */
int stream_close_counted(struct dd_stream *stream);

#endif
