/* SPDX-License-Identifier: BSD-2-Clause */
#include "deadline_signal.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid /* older glibc names no member for it */
#endif

static atomic_bool installed;
static atomic_uint fired;

static void on_deadline(int sig)
{
	(void)sig; /* the interrupted call's EINTR is the message */
	atomic_fetch_add_explicit(&fired, 1, memory_order_relaxed);
}

int dm_deadline_install(void)
{
	/* no SA_RESTART: a restarted call would wait on as if nothing had happened */
	struct sigaction sa = { .sa_handler = on_deadline };

	sigemptyset(&sa.sa_mask);
	if (sigaction(DM_DEADLINE_SIGNAL, &sa, NULL))
		return -errno;
	atomic_store(&installed, true);
	return 0;
}

unsigned int dm_deadline_fired(void)
{
	return atomic_load_explicit(&fired, memory_order_relaxed);
}

int dm_deadline_arm(struct dm_deadline *d, int64_t deadline_ms)
{
	struct sigevent ev;
	struct itimerspec at = {
		.it_value = { .tv_sec = deadline_ms / 1000,
			      .tv_nsec = (deadline_ms % 1000) * 1000000 },
		.it_interval = { .tv_nsec = DM_DEADLINE_REPEAT_MS * 1000000 },
	};

	d->armed = false;
	/* without the handler the signal's default action would end the process */
	if (!atomic_load(&installed))
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = DM_DEADLINE_SIGNAL;
	ev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &ev, &d->timer))
		return -errno;
	/* absolute: a deadline already passed fires at once */
	if (timer_settime(d->timer, TIMER_ABSTIME, &at, NULL)) {
		int err = -errno;

		timer_delete(d->timer);
		return err;
	}
	d->armed = true;
	return 0;
}

void dm_deadline_disarm(struct dm_deadline *d)
{
	if (!d->armed)
		return;
	timer_delete(d->timer);
	d->armed = false;
}
