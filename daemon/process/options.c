/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/daedalus-v4l2.h>

#include "options.h"
#include "sandbox.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"Decodes the jobs of the daedalus-v4l2 V4L2 stateless decoder (H.264, VP8,\n"
		"VP9, AV1) in userspace, attached to the kernel module through %s.\n"
		"\n"
		"  -f, --foreground   stay in the foreground and log to stderr (else: syslog)\n"
		"  -v, --verbose      also log every job and buffer\n"
		"  -t, --threads N    decoding threads inside one stream (AV1 tiles, H.264\n"
		"                     slices; VP8 and VP9 always use one); 0 = automatic (default)\n"
		"      --max-inflight N  jobs of one stream to decode at once (frame threads),\n"
		"                     if the module grants them (its max_inflight parameter);\n"
		"                     1 = one at a time; default %u\n"
		"      --cpus N       CPUs the busy streams share: a stream decodes frames in\n"
		"                     parallel only while the frames of all busy streams fit\n"
		"                     (jobs in flight for a client that keeps requests out, 1\n"
		"                     for one that waits for each), or while it is alone;\n"
		"                     0 = the CPUs the daemon may run on (default)\n"
		"      --memory-budget MIB  memory the streams' decoders may take together:\n"
		"                     a stream whose decoder may need more than is left fails\n"
		"                     its frames; 0 = no limit; default: three quarters of\n"
		"                     the cgroup's memory.max, or of the machine's memory\n"
		"      --memory-per-user MIB  of the budget, what one user's streams may take\n"
		"                     together (the others keep the rest); 0 = no share;\n"
		"                     default: two thirds of the budget\n"
		"      --hang-timeout MS  a decoder call that has not returned after MS\n"
		"                     milliseconds is taken for a hung decoder: the daemon\n"
		"                     exits (status %u), for its service manager to start it\n"
		"                     again (every stream resumes at its next key frame);\n"
		"                     0 = never; default %u, or %u times the module's job\n"
		"                     timeout if that is longer\n"
		"      --device PATH  the bridge device (default %s)\n"
		"      --user NAME    started as root: the user to run as once the bridge is\n"
		"                     open (default %s)\n"
		"      --test-stall-ms MS  for tests: every call into a decoder sleeps MS\n"
		"                     first (the hang watch)\n"
		"      --sandbox-probe  for tests: once confined, try calls the sandbox forbids\n"
		"                     and log that each failed\n"
		"      --no-warm-up   do not decode a tiny picture of each codec before serving\n"
		"                     (the first stream of each codec then starts slower)\n"
		"  -V, --version      print the version and which codecs can be decoded here\n"
		"  -h, --help         this text\n",
		prog, DAEDALUS_DEVICE_PATH, DM_DEFAULT_MAX_INFLIGHT, DM_EXIT_HUNG,
		DM_DEFAULT_HANG_TIMEOUT_MS, DM_HANG_JOB_TIMEOUTS, DAEDALUS_DEVICE_PATH,
		DM_SANDBOX_DEFAULT_USER);
}

/* A whole decimal number from lo to hi into *out; -1 (the error printed) otherwise. */
static int parse_count(const char *prog, const char *name, const char *arg, unsigned int lo,
		       unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || arg[0] == '-' || n < lo || n > hi) {
		fprintf(stderr, "%s: --%s wants a number from %u to %u\n", prog, name, lo, hi);
		return -1;
	}
	*out = (unsigned int)n;
	return 0;
}

int dm_options_parse(struct dm_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "threads", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'd' },
		{ "max-inflight", required_argument, NULL, 'I' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "memory-budget", required_argument, NULL, 'M' },
		{ "memory-per-user", required_argument, NULL, 'U' },
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "test-stall-ms", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "sandbox-probe", no_argument, NULL, 'P' },
		{ "no-warm-up", no_argument, NULL, 'W' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct dm_options){ .device = DAEDALUS_DEVICE_PATH, .user = DM_SANDBOX_DEFAULT_USER,
				  .max_inflight = DM_DEFAULT_MAX_INFLIGHT,
				  .hang_timeout_ms = DM_DEFAULT_HANG_TIMEOUT_MS };
	while ((c = getopt_long(argc, argv, "fvt:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 't':
			if (parse_count(argv[0], "threads", optarg, 0, 64, &o->threads))
				return -1;
			break;
		case 'd':
			o->device = optarg;
			break;
		case 'I':
			if (parse_count(argv[0], "max-inflight", optarg, 1, 8, &o->max_inflight))
				return -1;
			break;
		case 'C':
			if (parse_count(argv[0], "cpus", optarg, 0, 1024, &o->cpus))
				return -1;
			break;
		case 'M':
			if (parse_count(argv[0], "memory-budget", optarg, 0, 1U << 30,
					&o->memory_budget_mib))
				return -1;
			o->memory_budget_set = true;
			break;
		case 'U':
			if (parse_count(argv[0], "memory-per-user", optarg, 0, 1U << 30,
					&o->memory_per_user_mib))
				return -1;
			o->memory_per_user_set = true;
			break;
		case 'H':
			if (parse_count(argv[0], "hang-timeout", optarg, 0, 3600000,
					&o->hang_timeout_ms))
				return -1;
			o->hang_timeout_set = true;
			break;
		case 'S':
			if (parse_count(argv[0], "test-stall-ms", optarg, 0, 3600000,
					&o->test_stall_ms))
				return -1;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'P':
			o->sandbox_probe = true;
			break;
		case 'W':
			o->no_warm_up = true;
			break;
		case 'V':
			o->version = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return -1;
	}
	return 0;
}
