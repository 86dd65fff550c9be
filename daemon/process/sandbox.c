/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Everything the daemon does after start-up is on behalf of untrusted clients: libavcodec and
 * dav1d parse bitstreams any member of the video group chose. So once the bridge is open and
 * the libraries are loaded, the process gives up what it no longer needs, in the order that
 * keeps each step possible: the bounding set (needs CAP_SETPCAP, i.e. root), the identity
 * (setgroups/setgid/setuid, which also empties the permitted and effective sets), any
 * capability left over (file or ambient capabilities of an unusual start), then
 * no_new_privs and the seccomp filter (docs/security.md explains each choice).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/daedalus-v4l2.h>

#include "log.h"
#include "sandbox.h"

/* gcc defines __SANITIZE_ADDRESS__, clang has __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define DM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DM_ASAN 1
#endif
#endif

static int drop_identity(const char *user)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		dm_err("started as root, but the daemon's user %s does not exist%s%s (packaged: "
		       "/usr/lib/sysusers.d/daedalus-v4l2-daemon.conf; or pass --user)", user,
		       errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0) {
		dm_err("the daemon's user %s is root (uid %u, gid %u): refusing to run as it", user,
		       (unsigned int)uid, (unsigned int)gid);
		return -1;
	}
	/* needs CAP_SETPCAP: only while still root. Ends at the first unknown capability. */
	for (unsigned long cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			dm_err("cannot drop capability %lu from the bounding set: %s", cap,
			       strerror(errno));
			return -1;
		}
	}
	/* the groups first (setuid would take the right to change them), no supplementary ones */
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) {
		dm_err("cannot change to user %s (uid %u, gid %u): %s", user, (unsigned int)uid,
		       (unsigned int)gid, strerror(errno));
		return -1;
	}
	/* a real drop cannot be undone: if it can, something kept the saved uid or a capability */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		dm_err("could regain root after dropping to %s: refusing to serve", user);
		return -1;
	}
	return 0;
}

/* Empty every capability set: dropping needs no privilege, whoever started the process. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		dm_err("cannot clear the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	/* nothing to do (a unit's User=): skip capset, which a unit's filter may refuse */
	if (syscall(SYS_capget, &hdr, data) == 0 && !data[0].effective && !data[0].permitted &&
	    !data[0].inheritable && !data[1].effective && !data[1].permitted && !data[1].inheritable)
		return 0;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data)) {
		dm_err("cannot clear the capability sets: %s", strerror(errno));
		return -1;
	}
	return 0;
}

#ifndef DM_ASAN
/* A rule for a call this architecture may not have (open, poll on arm64): skipped. */
static int rule(scmp_filter_ctx f, uint32_t action, const char *name, unsigned int nargs,
		const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	r = seccomp_rule_add_array(f, action, nr, nargs, args);
	if (r)
		dm_err("seccomp rule for %s: %s", name, strerror(-r));
	return r;
}

static int allow(scmp_filter_ctx f, const char *name)
{
	return rule(f, SCMP_ACT_ALLOW, name, 0, NULL);
}

static int allow_if(scmp_filter_ctx f, const char *name, struct scmp_arg_cmp cmp)
{
	return rule(f, SCMP_ACT_ALLOW, name, 1, &cmp);
}

/*
 * What a running daemon calls, and nothing else: the bridge and dmabuf ioctls, memory
 * (mappings never executable: the libraries are loaded already), threads, futexes, time,
 * signals, logging to stderr or syslog and sd_notify (datagrams on sockets connected before
 * the filter). No open(): every file the daemon uses is an fd it holds or the bridge hands
 * it. No new socket and no send to an address: a taken-over decoder could otherwise pass
 * the bridge's fd or clients' dmabufs (SCM_RIGHTS) to any socket its uid can reach.
 */
static const char *const plain_calls[] = {
	/* I/O on fds the daemon holds: the bridge, dmabufs, stderr, the signalfd, sockets */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "lseek", "fstat",
	"newfstatat", "statx", "fcntl", "poll", "ppoll",
	/* memory (mmap and mprotect: below, never PROT_EXEC) */
	"munmap", "mremap", "madvise", "brk",
	/* threads and their synchronisation (clone: below, threads only) */
	"futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "sched_yield",
	"sched_getaffinity", "exit", "exit_group",
	/* signals: the signalfd's mask, abort(), pthread_kill (tgkill: below, own threads only) */
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack", "restart_syscall",
	/* a deadline for the fences' wait (deadline_signal.h; timer_create: below) */
	"timer_settime", "timer_delete",
	/* time and identity, read-only */
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getrandom", "sysinfo", "uname", "getrlimit",
};

static int build_filter(scmp_filter_ctx f)
{
	static const unsigned long ioctls[] = {
		DAEDALUS_IOC_HELLO, DAEDALUS_IOC_GET_MSG, DAEDALUS_IOC_COMPLETE, DMA_BUF_IOCTL_SYNC,
	};
	/* the type's low bits: SOCK_CLOEXEC and SOCK_NONBLOCK may be or-ed in */
	const struct scmp_arg_cmp own[2] = { SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0) };

	for (size_t i = 0; i < sizeof(plain_calls) / sizeof(plain_calls[0]); i++)
		if (allow(f, plain_calls[i]))
			return -1;
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (allow_if(f, "ioctl", SCMP_A1(SCMP_CMP_EQ, ioctls[i])))
			return -1;
	/* thread names (FFmpeg and dav1d name their workers) */
	if (allow_if(f, "prctl", SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) ||
	    allow_if(f, "prctl", SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME)) ||
	    allow_if(f, "mmap", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) ||
	    allow_if(f, "mprotect", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)))
		return -1;
	/*
	 * syslog's and sd_notify's sockets were connected before the filter: send() is sendto()
	 * without an address, the only kind allowed (no sendmsg: no fds passed either)
	 */
	if (allow_if(f, "sendto", SCMP_A4(SCMP_CMP_EQ, 0)))
		return -1;
	if (allow_if(f, "tgkill", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())))
		return -1;
	/*
	 * timers on the monotonic clock only (another process's CPU clock would tell its
	 * timing); their signal the kernel lets reach only a thread of this process
	 */
	if (allow_if(f, "timer_create", SCMP_A0(SCMP_CMP_EQ, CLOCK_MONOTONIC)))
		return -1;
	/* new threads, never a new process (fork, vfork and posix_spawn lack CLONE_THREAD) */
	if (allow_if(f, "clone", SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)))
		return -1;
	/*
	 * clone3's flags are in memory, where a filter cannot look: ENOSYS makes glibc fall back
	 * to clone, whose flags it can.
	 */
	if (rule(f, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL))
		return -1;
	/* getrlimit() is prlimit64 on newer ABIs: reading one's own limits only */
	return rule(f, SCMP_ACT_ALLOW, "prlimit64", 2, own);
}

static int install_filter(void)
{
	/* everything not listed fails with EPERM: see docs/security.md for why not a kill */
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;

	if (!f) {
		dm_err("seccomp_init failed");
		return -1;
	}
	/* another ABI's calls (i386 on x86-64) are never the daemon's own */
	r = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* every thread, not only the caller's */
	if (!r)
		r = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!r && build_filter(f))
		r = -EINVAL; /* logged by rule() */
	else if (!r)
		r = seccomp_load(f);
	if (r)
		dm_err("cannot install the seccomp filter: %s", strerror(-r));
	seccomp_release(f);
	return r ? -1 : 0;
}
#endif

static void probe_result(const char *what, int r)
{
	if (r < 0)
		dm_info("sandbox probe: %s failed: %s", what, strerror(errno));
	else
		dm_warn("sandbox probe: %s succeeded", what);
}

/* Tests only (--sandbox-probe): a decoder taken over would try these; each must fail. */
static void probe(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/shm/x" };
	struct msghdr msg = { 0 };
	int r;
	pid_t pid;

	r = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	probe_result("socket(AF_INET)", r);
	if (r >= 0)
		close(r);
	r = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	probe_result("socket(AF_UNIX, SOCK_STREAM) (the system bus's kind)", r);
	if (r >= 0)
		close(r);
	r = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	probe_result("socket(AF_UNIX, SOCK_DGRAM)", r);
	if (r >= 0)
		close(r);
	/* fd -1: the filter answers before the kernel would look at the fd (EBADF) */
	r = (int)sendto(-1, "x", 1, MSG_NOSIGNAL, (const struct sockaddr *)&sa, sizeof(sa));
	probe_result("sendto(an address) (another process's socket)", r);
	r = (int)sendmsg(-1, &msg, MSG_NOSIGNAL);
	probe_result("sendmsg() (fds to another process)", r);
	r = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	probe_result("open(/proc/self/status)", r);
	if (r >= 0)
		close(r);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	probe_result("fork()", pid);
	r = setuid(0);
	probe_result("setuid(0)", r);
}

int dm_sandbox_enter(const struct dm_sandbox_config *cfg)
{
	const char *filter = "seccomp filter";

	/* syslog() stamps local time: read the zone while files can still be opened */
	tzset();
	if (geteuid() == 0 && drop_identity(cfg->user))
		return -1;
	if (drop_capabilities())
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		dm_err("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
#ifdef DM_ASAN
	/*
	 * ASan reports and LeakSanitizer need what the filter forbids (reading /proc/self/maps,
	 * ptrace of the own threads from a helper process at exit): sanitizer builds, which are
	 * for tests only, run without it and say so. The identity drop made the process
	 * undumpable, which would also keep LeakSanitizer's helper out.
	 */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	filter = "no seccomp filter (address-sanitizer build)";
#else
	if (install_filter())
		return -1;
#endif
	dm_info("sandbox: uid %u, gid %u, no capabilities, no_new_privs, %s",
		(unsigned int)getuid(), (unsigned int)getgid(), filter);
	if (cfg->probe)
		probe();
	return 0;
}
