/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dm_notify() against real AF_UNIX datagram sockets, as systemd would listen on them: a
 * filesystem path, an abstract name ('@' in $NOTIFY_SOCKET, exactly its bytes on the wire,
 * also at the longest length an address allows), and the cases that must do nothing or
 * fail cleanly.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "test_check.h"

static int failures;

/* A listening socket at ADDR (len bytes of sun_path, abstract if sun_path[0] == 0). */
static int listener(const char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	memcpy(sa.sun_path, path, len);
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		perror("bind");
		exit(1);
	}
	return fd;
}

/* The one datagram waiting on FD must be exactly WANT. */
static void expect_datagram(int fd, const char *want, const char *what)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	CHECK(n >= 0, "%s: nothing received (%s)", what, strerror(errno));
	if (n < 0)
		return;
	buf[n] = '\0';
	CHECK(strcmp(buf, want) == 0, "%s: received '%s', want '%s'", what, buf, want);
	CHECK(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "%s: more than one datagram", what);
}

/* $NOTIFY_SOCKET = name ("@..."): the datagram must reach the abstract socket of its bytes */
static void expect_abstract(const char *name, const char *state, const char *what)
{
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path)] = { 0 };
	size_t len = strlen(name);
	int fd, r;

	memcpy(addr + 1, name + 1, len - 1);
	fd = listener(addr, len);
	setenv("NOTIFY_SOCKET", name, 1);
	r = dm_notify(state);
	CHECK(r == 0, "%s: %s", what, strerror(-r));
	expect_datagram(fd, state, what);
	close(fd);
}

int main(void)
{
	char dir[] = "/tmp/test-notify.XXXXXX";
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	int fd, r;

	unsetenv("NOTIFY_SOCKET");
	CHECK(dm_notify("READY=1") == 0, "no $NOTIFY_SOCKET must be a no-op");
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK(dm_notify("READY=1") == 0, "an empty $NOTIFY_SOCKET must be a no-op");

	/* a filesystem path */
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path, strlen(path));
	setenv("NOTIFY_SOCKET", path, 1);
	r = dm_notify("READY=1\nSTATUS=x");
	CHECK(r == 0, "path: %s", strerror(-r));
	expect_datagram(fd, "READY=1\nSTATUS=x", "path");
	/* connected once (before the sandbox), then every notice on that socket */
	r = dm_notify_open();
	CHECK(r == 0, "dm_notify_open: %s", strerror(-r));
	CHECK(dm_notify("WATCHDOG=1") == 0, "a notice on the connected socket failed");
	expect_datagram(fd, "WATCHDOG=1", "first notice on the connected socket");
	CHECK(dm_notify("STOPPING=1") == 0, "a notice on the connected socket failed");
	expect_datagram(fd, "STOPPING=1", "second notice on the connected socket");
	close(fd);
	unlink(path);
	CHECK(dm_notify("STOPPING=1") < 0, "a notice to a listener that is gone succeeded");
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(dm_notify_open() == -ENOENT, "dm_notify_open to a path without a listener");
	r = dm_notify("STOPPING=1");
	CHECK(r == -ENOENT || r == -ECONNREFUSED, "path without a listener: got %d", r);
	rmdir(dir);

	/* an abstract name: '@' in the variable, NUL on the wire, no padding in the length */
	snprintf(name, sizeof(name), "@daedalus-test-notify-%d", (int)getpid());
	expect_abstract(name, "STOPPING=1", "abstract");

	/* the longest abstract name: all 108 bytes of sun_path */
	memset(name, 'n', sizeof(name) - 1);
	name[0] = '@';
	name[sizeof(name) - 1] = '\0';
	snprintf(name + 1, 12, "%010d", (int)getpid());
	name[11] = 'n';
	expect_abstract(name, "READY=1", "108-byte abstract name");

	/* what must fail without sending anywhere */
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(((struct sockaddr_un *)0)->sun_path)] = '\0';
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(dm_notify("READY=1") == -ENAMETOOLONG, "a 108-byte path leaves no room for its NUL");
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK(dm_notify("READY=1") == -EAFNOSUPPORT, "vsock addresses are not ours");
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK(dm_notify("READY=1") == -EAFNOSUPPORT, "a relative path is not an address");

	/* the watchdog's keep-alive interval: half of $WATCHDOG_USEC, for this process only */
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CHECK(dm_notify_watchdog_ms() == 0, "no $WATCHDOG_USEC, no watchdog");
	setenv("WATCHDOG_USEC", "10000000", 1);
	CHECK(dm_notify_watchdog_ms() == 5000, "WatchdogSec=10s: a ping every 5 s, got %u",
	      dm_notify_watchdog_ms());
	setenv("WATCHDOG_USEC", "1000", 1);
	CHECK(dm_notify_watchdog_ms() == 1, "1 ms is the shortest interval");
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "4000000", 1);
	CHECK(dm_notify_watchdog_ms() == 2000, "our own $WATCHDOG_PID");
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	CHECK(dm_notify_watchdog_ms() == 0, "another process's watchdog is not ours");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "10s", 1);
	CHECK(dm_notify_watchdog_ms() == 0, "a malformed $WATCHDOG_USEC is ignored");
	setenv("WATCHDOG_USEC", "0", 1);
	CHECK(dm_notify_watchdog_ms() == 0, "0 is no watchdog");

	return check_summary("test_notify", failures);
}
