/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A deadline ends a blocking call that has none of its own (deadline_signal.h). A read()
 * from an empty pipe stands in for DMA_BUF_IOCTL_SYNC waiting for a fence that never
 * signals: both wait interruptibly, and neither is restarted after a handler installed
 * without SA_RESTART. Checked: the call fails with EINTR at the deadline, not before; a
 * signal that came before the call entered the kernel is followed by another; a deadline
 * disarmed interrupts nothing later; another thread's call is never interrupted; nothing is
 * armed before the handler is there (the signal's default action ends the process).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "deadline_signal.h"
#include "test_check.h"

static int failures;

struct late_writer {
	int fd;
	int after_ms;
};

static void *write_late(void *arg)
{
	const struct late_writer *w = arg;

	usleep((useconds_t)w->after_ms * 1000);
	if (write(w->fd, "x", 1) != 1)
		abort();
	return NULL;
}

static void spin_ms(int ms)
{
	int64_t until = dm_now_ms() + ms;

	while (dm_now_ms() < until)
		;
}

/* The wait ends at the deadline, with EINTR. */
static void ends_at_deadline(int fd)
{
	struct dm_deadline d;
	int64_t t0 = dm_now_ms(), took;
	char c;
	ssize_t n;
	int r;

	r = dm_deadline_arm(&d, t0 + 100);
	CHECK(r == 0, "arming failed: %d", r);
	n = read(fd, &c, 1);
	took = dm_now_ms() - t0;
	CHECK(n < 0 && errno == EINTR, "the wait ended with %zd (errno %d), not EINTR", n, errno);
	CHECK(took >= 99 && took < 2000, "the wait ended after %lld ms, not at 100",
	      (long long)took);
	dm_deadline_disarm(&d);
}

/* A signal spent before the call (the race with the poll before SYNC_START) is repeated. */
static void repeats_after_missed(int fd)
{
	unsigned int before = dm_deadline_fired();
	struct dm_deadline d;
	int64_t t0;
	char c;
	ssize_t n;
	int r;

	r = dm_deadline_arm(&d, dm_now_ms() - 10);
	CHECK(r == 0, "arming a passed deadline failed: %d", r);
	/* the first signal is handled here, outside any call */
	t0 = dm_now_ms();
	while (dm_deadline_fired() == before && dm_now_ms() - t0 < 1000)
		;
	CHECK(dm_deadline_fired() != before, "a passed deadline did not signal at once");
	t0 = dm_now_ms();
	n = read(fd, &c, 1);
	CHECK(n < 0 && errno == EINTR, "a call after a spent signal ended with %zd (errno %d)", n,
	      errno);
	CHECK(dm_now_ms() - t0 < 1000, "the repeated signal took %lld ms",
	      (long long)(dm_now_ms() - t0));
	dm_deadline_disarm(&d);
}

/* Disarmed, even right after it fired: a later call waits for its data. */
static void quiet_after_disarm(int p[2])
{
	struct late_writer w = { .fd = p[1], .after_ms = 150 };
	struct dm_deadline d;
	pthread_t t;
	char c;
	ssize_t n;

	CHECK(dm_deadline_arm(&d, dm_now_ms()) == 0, "arming failed");
	spin_ms(30); /* fired, and repeated */
	dm_deadline_disarm(&d);
	pthread_create(&t, NULL, write_late, &w);
	n = read(p[0], &c, 1);
	CHECK(n == 1, "a call after the disarm ended with %zd (errno %d), not the data", n, errno);
	pthread_join(t, NULL);
}

struct armer {
	int fd;
	ssize_t got;
	int err;
	atomic_bool done;
};

static void *arm_and_read(void *arg)
{
	struct armer *a = arg;
	struct dm_deadline d;
	char c;

	if (dm_deadline_arm(&d, dm_now_ms() + 50))
		abort();
	a->got = read(a->fd, &c, 1);
	a->err = a->got < 0 ? errno : 0;
	spin_ms(60); /* three more repeats, had they gone anywhere */
	dm_deadline_disarm(&d);
	atomic_store(&a->done, true);
	return NULL;
}

/*
 * The signal goes to the thread that armed the deadline, and no other: the main thread,
 * which the kernel would pick first for a signal sent to the process, waits meanwhile.
 */
static void only_own_thread(int p[2])
{
	struct armer a = { .fd = p[0] };
	struct late_writer w;
	pthread_t armer, writer;
	int q[2];
	char c;
	ssize_t n;

	if (pipe(q))
		abort();
	w = (struct late_writer){ .fd = q[1], .after_ms = 300 };
	pthread_create(&writer, NULL, write_late, &w);
	pthread_create(&armer, NULL, arm_and_read, &a);
	n = read(q[0], &c, 1);
	CHECK(n == 1, "another thread's wait ended with %zd (errno %d), not its data", n, errno);
	pthread_join(writer, NULL);
	for (int i = 0; i < 100 && !atomic_load(&a.done); i++)
		usleep(10000);
	/* not interrupted: released (the last case, so a byte left in the pipe harms nothing) */
	if (!atomic_load(&a.done) && write(p[1], "x", 1) != 1)
		abort();
	pthread_join(armer, NULL);
	CHECK(a.got < 0 && a.err == EINTR, "the arming thread's wait ended with %zd (errno %d)",
	      a.got, a.err);
	close(q[0]);
	close(q[1]);
}

int main(void)
{
	struct dm_deadline d;
	int p[2];
	int r;

	/* a signal that never comes fails the test at once rather than at meson's timeout */
	alarm(20);
	r = dm_deadline_arm(&d, dm_now_ms());
	CHECK(r == -EINVAL, "arming without the handler returned %d, not -EINVAL", r);
	r = dm_deadline_install();
	CHECK(r == 0, "installing the handler failed: %d", r);
	if (pipe(p))
		abort();
	ends_at_deadline(p[0]);
	repeats_after_missed(p[0]);
	quiet_after_disarm(p);
	only_own_thread(p);
	close(p[0]);
	close(p[1]);
	return check_summary("deadline-signal", failures);
}
