// SPDX-License-Identifier: BSD-2-Clause
/* A GET_MSG held inside the kernel's copy of the message: see dv_uffd_hold.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#include "dv_uffd_hold.h"
#include "dv_signal.h"

/* how long the thread waits for FILE.go before it lets the copy go on anyway */
#define HOLD_LIMIT_MS 30000

int dv_uffd_hold_init(struct dv_uffd_hold *h, const char *file, bool fail)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	int r;

	memset(h, 0, sizeof(*h));
	h->file = file;
	h->fail = fail;
	h->page = (size_t)sysconf(_SC_PAGESIZE);
	h->uffd = -1;
	/* the body must fit on the second page */
	if (sizeof(struct daedalus_msg) - offsetof(struct daedalus_msg, u) > h->page)
		return -EINVAL;
	h->area = mmap(NULL, 2 * h->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->area == MAP_FAILED) {
		h->area = NULL;
		return -errno;
	}
	h->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (h->uffd < 0)
		goto fail;
	if (ioctl(h->uffd, UFFDIO_API, &api))
		goto fail;
	reg = (struct uffdio_register){
		.range = { .start = (uintptr_t)(h->area + h->page), .len = h->page },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(h->uffd, UFFDIO_REGISTER, &reg))
		goto fail;
	return 0;
fail:
	r = -errno;
	if (h->uffd >= 0)
		close(h->uffd);
	munmap(h->area, 2 * h->page);
	h->area = NULL;
	h->uffd = -1;
	return r;
}

/* The body page: filled with zeros (the copy goes on), or unmapped (it fails). */
static int resolve(struct dv_uffd_hold *h)
{
	uintptr_t body = (uintptr_t)(h->area + h->page);

	if (h->fail) {
		struct uffdio_range r = { .start = body, .len = h->page };

		/* the faulting thread sleeps without the mmap lock: the unmap goes through,
		 * and once woken its retried access finds no mapping */
		if (munmap(h->area + h->page, h->page))
			return -errno;
		return ioctl(h->uffd, UFFDIO_WAKE, &r) ? -errno : 0;
	} else {
		static unsigned char zeros[65536];
		struct uffdio_copy c = {
			.dst = body, .src = (uintptr_t)zeros, .len = h->page,
		};

		if (h->page > sizeof(zeros))
			return -EINVAL;
		return ioctl(h->uffd, UFFDIO_COPY, &c) ? -errno : 0;
	}
}

static void *hold_thread(void *arg)
{
	struct dv_uffd_hold *h = arg;
	struct pollfd pfd = { .fd = h->uffd, .events = POLLIN };
	struct uffd_msg m;
	sigset_t all;
	int r;

	/* the peer's signals (SIGTERM at its end) are the main thread's to handle */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		if (atomic_load(&h->stop_waiting))
			return NULL;	/* the GET_MSG returned without touching the body */
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (read(h->uffd, &m, sizeof(m)) == (ssize_t)sizeof(m) &&
		    m.event == UFFD_EVENT_PAGEFAULT)
			break;
	}
	r = dv_signal_create(h->file, "");
	/* no FILE.go in time: the copy goes on anyway (HOLD_LIMIT_MS) */
	if (!r)
		dv_signal_wait(h->file, ".go", true, 5, HOLD_LIMIT_MS, NULL);
	if (!r)
		r = resolve(h);
	if (r) {
		/* never leave the copy waiting: let it fail */
		struct uffdio_range wake = { .start = (uintptr_t)(h->area + h->page),
					     .len = h->page };

		h->error = -r;
		munmap(h->area + h->page, h->page);
		ioctl(h->uffd, UFFDIO_WAKE, &wake);
	} else {
		h->faults = 1;
	}
	return NULL;
}

struct daedalus_msg *dv_uffd_hold_arm(struct dv_uffd_hold *h)
{
	struct daedalus_msg *m = (struct daedalus_msg *)(h->area + h->page -
							  offsetof(struct daedalus_msg, u));

	if (h->running || !h->area || h->faults || h->error)
		return NULL;	/* once per hold: after a failed copy the body is unmapped */
	atomic_store(&h->stop_waiting, false);
	if (pthread_create(&h->thread, NULL, hold_thread, h))
		return NULL;
	h->running = true;
	return m;
}

int dv_uffd_hold_done(struct dv_uffd_hold *h)
{
	if (!h->running)
		return -EINVAL;
	atomic_store(&h->stop_waiting, true);
	pthread_join(h->thread, NULL);
	h->running = false;
	return h->error ? -h->error : h->faults;
}
