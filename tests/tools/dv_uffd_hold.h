/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A GET_MSG held inside the kernel's copy of the message (userfaultfd): the
 * message's head (what the kernel reads first) lies on an ordinary page, its
 * body on a page left missing and registered with a userfaultfd, so the copy
 * of the body to the peer stops until a thread of the peer resolves the
 * fault. In that window the kernel has taken the job off its queue and
 * reserved the fds of its buffers, and has not handed them over yet: a test
 * acts there (a client's STREAMOFF or close), then lets the copy go on
 * (it succeeds) or fail (the page is unmapped first: EFAULT).
 *
 * Needs CONFIG_USERFAULTFD and, for faults taken by the kernel, CAP_SYS_PTRACE
 * or vm.unprivileged_userfaultfd (the tests run as root).
 */
#ifndef DV_UFFD_HOLD_H
#define DV_UFFD_HOLD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <linux/daedalus-v4l2.h>

struct dv_uffd_hold {
	const char *file;	/* created when the copy is held; FILE.go lets it go on */
	bool fail;		/* make the copy fail instead */
	int uffd;
	unsigned char *area;	/* two pages: the head ends the first, the body starts the second */
	size_t page;
	pthread_t thread;
	bool running;
	atomic_bool stop_waiting;	/* the GET_MSG returned: the thread need not wait on */
	int faults;		/* faults resolved by the thread (set once it is joined) */
	int error;		/* the thread's errno, 0 if none */
};

/* Sets up the area and the userfaultfd. Returns 0 or a negative errno. */
int dv_uffd_hold_init(struct dv_uffd_hold *h, const char *file, bool fail);

/*
 * The held message: only its head (up to the union) may be written by the
 * caller; its body is on the missing page. Starts the thread that waits for
 * the fault. Once per hold. Returns NULL on failure.
 */
struct daedalus_msg *dv_uffd_hold_arm(struct dv_uffd_hold *h);

/*
 * After the GET_MSG that used the message returned: waits for the thread.
 * Returns the number of faults it resolved (1 when the copy was held), or a
 * negative errno.
 */
int dv_uffd_hold_done(struct dv_uffd_hold *h);

#endif
