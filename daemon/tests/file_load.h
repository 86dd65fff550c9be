/* SPDX-License-Identifier: BSD-2-Clause */
/* Whole-file reads for the test clients. */
#ifndef DAEDALUS_TEST_FILE_LOAD_H
#define DAEDALUS_TEST_FILE_LOAD_H

#include <stddef.h>
#include <stdint.h>

/* The file's bytes (malloc()ed, *size of them), or NULL with the reason printed. */
uint8_t *file_load(const char *path, size_t *size);

#endif
