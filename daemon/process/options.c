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
		"Decodes the jobs of the daedalus-v4l2 V4L2 stateless decoder (VP8, VP9) in\n"
		"userspace, attached to the kernel module through %s.\n"
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
		"      --device PATH  the bridge device (default %s)\n"
		"      --user NAME    started as root: the user to run as once the bridge is\n"
		"                     open (default %s)\n"
		"      --sandbox-probe  for tests: once confined, try calls the sandbox forbids\n"
		"                     and log that each failed\n"
		"      --no-warm-up   do not decode a tiny picture of each codec before serving\n"
		"                     (the first stream of each codec then starts slower)\n"
		"  -V, --version      print the version and which codecs can be decoded here\n"
		"  -h, --help         this text\n",
		prog, DAEDALUS_DEVICE_PATH, DM_DEFAULT_MAX_INFLIGHT, DAEDALUS_DEVICE_PATH,
		DM_SANDBOX_DEFAULT_USER);
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
		{ "user", required_argument, NULL, 'u' },
		{ "sandbox-probe", no_argument, NULL, 'P' },
		{ "no-warm-up", no_argument, NULL, 'W' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct dm_options){ .device = DAEDALUS_DEVICE_PATH, .user = DM_SANDBOX_DEFAULT_USER,
				  .max_inflight = DM_DEFAULT_MAX_INFLIGHT };
	while ((c = getopt_long(argc, argv, "fvt:Vh", longopts, NULL)) != -1) {
		char *end;
		unsigned long n;

		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 't':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n > 64 || optarg[0] == '-') {
				fprintf(stderr, "%s: --threads wants a number from 0 to 64\n", argv[0]);
				return -1;
			}
			o->threads = (unsigned int)n;
			break;
		case 'd':
			o->device = optarg;
			break;
		case 'I':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 8 || optarg[0] == '-') {
				fprintf(stderr, "%s: --max-inflight wants a number from 1 to 8\n",
					argv[0]);
				return -1;
			}
			o->max_inflight = (unsigned int)n;
			break;
		case 'C':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n > 1024 || optarg[0] == '-') {
				fprintf(stderr, "%s: --cpus wants a number from 0 to 1024\n", argv[0]);
				return -1;
			}
			o->cpus = (unsigned int)n;
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
