// SPDX-License-Identifier: BSD-2-Clause
/* The device clients' shared fault injection (dv_fault.h) */
#include "dv_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>

#include "dv_common.h"
#include "dv_signal.h"
#include "fault_damage.h"

static const char *const kind_names[] = {
	[DV_FAULT_TRUNCATE] = "truncate", [DV_FAULT_GARBAGE] = "garbage",
	[DV_FAULT_FLIP_HEADER] = "flip-header", [DV_FAULT_FLIP_DATA] = "flip-data",
	[DV_FAULT_DROP] = "drop", [DV_FAULT_SEEK] = "seek",
};

int dv_fault_option(struct dv_fault *f, int opt, const char *arg)
{
	if (opt == DV_FAULT_OPT_KEEP) {
		f->keep_going = true;
		return 1;
	}
	if (opt == DV_FAULT_OPT_GATE) {
		f->gate = arg;
		return 1;
	}
	if (opt == DV_FAULT_OPT_HOLD) {
		char *end;

		f->hold_at = strtol(arg, &end, 10);
		if (end == arg || *end != ':' || !end[1] || f->hold_at < 0) {
			fprintf(stderr, "bad --hold-at %s: want N:FILE\n", arg);
			return -1;
		}
		f->hold = end + 1;
		f->keep_going = true;
		return 1;
	}
	if (opt == DV_FAULT_OPT_PACE) {
		f->pace_ms = (unsigned int)atoi(arg);
		return 1;
	}
	if (opt != DV_FAULT_OPT_FAULT)
		return 0;
	for (int k = DV_FAULT_TRUNCATE; k <= DV_FAULT_SEEK; k++) {
		size_t n = strlen(kind_names[k]);

		if (strncmp(arg, kind_names[k], n) || arg[n] != ':')
			continue;
		f->kind = k;
		f->keep_going = true;
		if (k == DV_FAULT_SEEK &&
		    sscanf(arg + n + 1, "%ld:%ld", &f->at, &f->seek_to) == 2 &&
		    f->at >= 0 && f->seek_to > f->at)
			return 1;
		if (k != DV_FAULT_SEEK && sscanf(arg + n + 1, "%ld", &f->at) == 1 && f->at >= 0)
			return 1;
		break;
	}
	fprintf(stderr, "bad --fault %s: want KIND:N (KIND truncate, garbage, flip-header, "
		"flip-data, drop) or seek:A:B (A < B)\n", arg);
	return -1;
}

void dv_fault_start(struct dv_fault *f)
{
	/* the test follows the output while the client runs (to kill the daemon mid-stream) */
	if (f->keep_going || f->pace_ms)
		setvbuf(stdout, NULL, _IOLBF, 0);
}

void dv_fault_free(struct dv_fault *f)
{
	free(f->copy);
	f->copy = NULL;
}

bool dv_fault_skips(const struct dv_fault *f, long unit)
{
	if (f->kind == DV_FAULT_DROP)
		return unit == f->at;
	return f->kind == DV_FAULT_SEEK && unit >= f->at && unit < f->seek_to;
}

bool dv_fault_seeks_before(const struct dv_fault *f, long unit)
{
	return f->kind == DV_FAULT_SEEK && unit == f->at;
}

double dv_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void dv_fault_announce(struct dv_fault *f, long pic)
{
	if (f->announced || f->kind == DV_FAULT_NONE)
		return;
	f->announced = true;
	printf("fault %ld %.1f %s\n", pic, dv_realtime_ms(), kind_names[f->kind]);
}

const uint8_t *dv_fault_bytes(struct dv_fault *f, long unit, const uint8_t *data, size_t *size,
			      size_t hdr_end, long pic)
{
	size_t n = *size, i;

	/* the first unit queued from N on (N may be a VP9 show_existing_frame, never queued) */
	if (unit < f->at || f->announced || f->kind < DV_FAULT_TRUNCATE ||
	    f->kind > DV_FAULT_FLIP_DATA)
		return data;
	if (hdr_end > n)
		hdr_end = n;
	if (n > f->cap) {
		uint8_t *c = realloc(f->copy, n);

		if (!c)
			return data;
		f->copy = c;
		f->cap = n;
	}
	memcpy(f->copy, data, n);
	i = n;
	switch (f->kind) {
	case DV_FAULT_TRUNCATE:
		*size = hdr_end + (n - hdr_end) / 2;
		break;
	case DV_FAULT_GARBAGE:
		/* dv_bitstream_fill: deterministic noise, the same in every run */
		dv_bitstream_fill(f->copy + hdr_end, n - hdr_end, 0xfa, (unsigned int)unit);
		break;
	case DV_FAULT_FLIP_HEADER:
		i = fault_flip_header_byte(hdr_end);
		f->copy[i] ^= FAULT_FLIP_MASK;
		break;
	case DV_FAULT_FLIP_DATA:
		if (n > hdr_end)
			f->copy[i = hdr_end + (n - hdr_end) / 2] ^= 0x10;
		break;
	default:
		break;
	}
	dv_fault_announce(f, pic);
	/* what was done, for whoever looks into a cell */
	printf("damage unit %ld: %zu bytes, header %zu, sent %zu, bit 0x10 of byte %zd flipped\n",
	       unit, n, hdr_end, *size, i < n ? (ssize_t)i : (ssize_t)-1);
	return f->copy;
}

uint64_t dv_fault_ghost_ts(long unit)
{
	/* far above any timestamp a client here uses (1000 per picture or buffer) */
	return 0x7000000000000ull + (uint64_t)unit * 1000;
}

/* Creates the signal file PATH+SUFFIX; false, with the reason, if it cannot. */
static bool create_file(const char *path, const char *suffix)
{
	int r = dv_signal_create(path, suffix);

	if (r)
		fprintf(stderr, "%s%s: %s\n", path, suffix, strerror(-r));
	return !r;
}

double dv_fault_before(struct dv_fault *f, long unit)
{
	if (f->pace_ms)
		nanosleep(&(struct timespec){ .tv_sec = f->pace_ms / 1000,
			  .tv_nsec = (long)(f->pace_ms % 1000) * 1000000L }, NULL);
	if (f->gate)
		dv_signal_wait(f->gate, "", false, 10, -1, NULL);
	if (f->hold && unit == f->hold_at) {
		if (create_file(f->hold, "")) {
			dv_signal_wait(f->hold, "", false, 5, -1, NULL);
			/* FILE.go: released, unit N is queued now; the test waits for it rather
			 * than guess how long a loaded emulated guest takes to see the release */
			create_file(f->hold, ".go");
		}
		/* once: an AV1 temporal unit of several frames calls this per frame */
		f->hold = NULL;
	}
	return dv_realtime_ms();
}

void dv_fault_after(const struct dv_fault *f, long unit, double t0, int r)
{
	if (f->keep_going)
		printf("req %ld %.1f %.1f %s\n", unit, t0, dv_realtime_ms(), r ? "ERROR" : "ok");
}

void dv_fault_key(const struct dv_fault *f, long pic)
{
	if (f->keep_going)
		printf("key %ld %.1f\n", pic, dv_realtime_ms());
}

void dv_fault_pic(const struct dv_fault *f)
{
	if (f->keep_going)
		printf("at %.1f\n", dv_realtime_ms());
}
