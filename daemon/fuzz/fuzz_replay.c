/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main() for the fuzz target where libFuzzer is not linked (gcc builds, the meson tests):
 * runs every file named, and every file in every directory named, through
 * LLVMFuzzerTestOneInput once, and prints what the target counted.
 *   --clean   every job must decode (the seed corpus: jobs made from real clips by a real
 *             client's parser); without it, jobs may fail, only crashes and broken promises
 *             (the target aborts) fail the run, as for the crash inputs in regress/
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_load.h"
#include "fuzz_target.h"

static int run_file(const char *path)
{
	size_t size;
	uint8_t *data = file_load(path, &size);

	if (!data)
		return -1;
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's regular files in name order (a stable order for the logs). */
static int run_dir(const char *dir, unsigned int *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int status = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n])
			abort();
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (run_file(names[i]))
			status = -1;
		else
			(*files)++;
		free(names[i]);
	}
	free(names);
	return status;
}

int main(int argc, char **argv)
{
	unsigned int files = 0;
	int clean = 0, status = 0;
	struct stat st;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--clean")) {
			clean = 1;
			continue;
		}
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 2;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &files) : run_file(argv[i]))
			return 2;
		if (!S_ISDIR(st.st_mode))
			files++;
	}
	printf("%u files, %" PRIu64 " jobs: %" PRIu64 " decoded, %" PRIu64 " failed in the engine, %"
	       PRIu64 " refused by dm_job_to_engine\n", files, fz_stats.jobs, fz_stats.decoded,
	       fz_stats.failed, fz_stats.refused);
	if (!files) {
		fprintf(stderr, "no input files\n");
		status = 1;
	}
	if (clean && (fz_stats.failed || fz_stats.refused || !fz_stats.decoded)) {
		fprintf(stderr, "--clean: every job of these inputs should have decoded\n");
		status = 1;
	}
	return status;
}
