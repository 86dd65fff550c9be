/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sd_notify protocol, spoken directly instead of through libsystemd: it is one datagram
 * to an AF_UNIX socket whose address systemd puts in $NOTIFY_SOCKET (a path, or an
 * abstract-namespace name written with a leading '@'). Linking libsystemd for it would add a
 * run-time dependency to a daemon that otherwise needs only libc (FFmpeg and dav1d are
 * dlopen()ed), and a build-time switch between two behaviours; this way the same binary
 * runs under systemd, under another init, or by hand, where $NOTIFY_SOCKET is unset and
 * every notice is a no-op.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

unsigned int dm_notify_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	char *end;

	if (!usec || !usec[0])
		return 0;
	if (pid && pid[0] && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno || *end || us == 0)
		return 0;
	us /= 2000;
	/* poll()'s timeout is an int of ms; a watchdog of a few hours needs no finer pings */
	if (us > 3600000)
		us = 3600000;
	return us ? (unsigned int)us : 1;
}

/* The socket dm_notify_open() connected, or -1. */
static int notify_fd = -1;

/* A datagram socket connected to NAME (not empty): the fd, or -errno. */
static int connect_to(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t sa_len;
	size_t len;
	int fd;

	/* systemd also knows vsock addresses (for VMs); a service on the host never gets one */
	if (name[0] != '/' && name[0] != '@')
		return -EAFNOSUPPORT;
	len = strlen(name);
	/* a path needs its terminating NUL in sun_path, an abstract name does not */
	if (len > sizeof(sa.sun_path) || (name[0] == '/' && len == sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, name, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	/* an abstract name is exactly its bytes: the address length must not count padding */
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sa_len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int dm_notify_open(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	int fd;

	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	if (!name || !name[0])
		return 0;
	fd = connect_to(name);
	if (fd < 0)
		return fd;
	notify_fd = fd;
	return 0;
}

int dm_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t len = strlen(state);
	ssize_t sent;
	int fd, err = 0;

	if (!name || !name[0])
		return 0;
	fd = notify_fd >= 0 ? notify_fd : connect_to(name);
	if (fd < 0)
		return fd;
	/* send(): sendto without an address, the only kind the sandbox lets through */
	sent = send(fd, state, len, MSG_NOSIGNAL);
	if (sent < 0)
		err = -errno;
	else if ((size_t)sent != len)
		err = -EMSGSIZE;
	if (fd != notify_fd)
		close(fd);
	return err;
}
