/* SPDX-License-Identifier: BSD-2-Clause */
#include <dlfcn.h>
#include <stdio.h>

#include "send_refuser.h"

int send_refuser_load(struct send_refuser *r, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "--avcodec %s: %s\n", path, dlerror());
		return -1;
	}
	*(void **)&r->refuse = dlsym(h, "dd_test_refuse_sends");
	*(void **)&r->refused = dlsym(h, "dd_test_sends_refused");
	*(void **)&r->refused_size = dlsym(h, "dd_test_refused_size");
	return 0;
}

bool send_refuser_found(const struct send_refuser *r)
{
	return r->refuse && r->refused && r->refused_size;
}

int send_refuser_hit(const struct send_refuser *r, const char *what, long n, size_t size,
		     bool exact)
{
	int got = r->refused_size();

	if (r->refused() == 1 && (exact ? got == (int)size : got >= (int)size))
		return 0;
	fprintf(stderr, "%s %ld: the stand-in refused %u packets, the last of %d bytes, not "
		"this one's (%s%zu bytes): the refusal was not checked\n", what, n, r->refused(),
		got, exact ? "" : "at least ", size);
	return 1;
}
