/* SPDX-License-Identifier: BSD-2-Clause */
/* The fuzz target's entry points (libFuzzer's) and what it counted, for fuzz_replay.c. */
#ifndef DAEDALUS_FUZZ_TARGET_H
#define DAEDALUS_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

struct fz_stats {
	uint64_t inputs;
	uint64_t jobs;    /* protocol messages built */
	uint64_t refused; /* dm_job_to_engine said the message is malformed */
	uint64_t decoded; /* the engine decoded the job */
	uint64_t failed;  /* the engine failed the job (with a reason) */
};

extern struct fz_stats fz_stats;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
