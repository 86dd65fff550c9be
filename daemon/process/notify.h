/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Readiness and shutdown notices to the service manager (systemd's sd_notify protocol):
 * "READY=1" once the daemon serves the bridge, "STOPPING=1" when it begins to shut down.
 */
#ifndef DAEDALUS_DAEMON_NOTIFY_H
#define DAEDALUS_DAEMON_NOTIFY_H

/*
 * Connects a socket to the one named by $NOTIFY_SOCKET, for every later dm_notify(): before
 * the sandbox, which allows sending only on connected sockets (a taken-over decoder must not
 * reach, or pass fds to, any socket it chooses). 0 when connected or when there is no such
 * variable; -errno when the variable is unusable or the connect failed (then each notice
 * connects a socket of its own, which the sandbox refuses). Closes the socket it made before.
 */
int dm_notify_open(void);

/*
 * Sends STATE (newline-separated VAR=value assignments) to the socket named by
 * $NOTIFY_SOCKET, through dm_notify_open()'s socket, or else a socket connected for this
 * notice. 0 when sent or when there is no such variable (not started as a Type=notify
 * service); -errno when the variable is unusable or the send failed.
 */
int dm_notify(const char *state);

/*
 * The keep-alive interval systemd wants (WatchdogSec= sets $WATCHDOG_USEC, for the process
 * named by $WATCHDOG_PID if set) in ms: half the watchdog's timeout, as sd_watchdog_enabled()
 * advises. 0 when there is no watchdog for this process.
 */
unsigned int dm_notify_watchdog_ms(void);

#endif
