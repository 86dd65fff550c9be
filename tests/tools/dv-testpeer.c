// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-testpeer: a stand-in for the decoding daemon that speaks the bridge
 * protocol (docs/protocol.md) and "decodes" by writing a test record and
 * pattern (dv_common.h) into each CAPTURE buffer. It checks everything the
 * kernel sends, and on request misbehaves the way a broken daemon would, to
 * show that the kernel rejects or survives it.
 *
 * Exit status 0 only if every kernel answer was the expected one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/daedalus-v4l2.h>

#include "dv_common.h"
#include "dv_signal.h"
#include "dv_uffd_hold.h"

enum peer_mode { MODE_OK, MODE_ERROR, MODE_BADID, MODE_OVERSIZE, MODE_HANG, MODE_CHAOS };

struct handle {
	unsigned long long id;
	int fd;
	uint8_t *map;
	size_t len;
	bool writable;
	bool gone;
};

struct pjob {
	unsigned long long id;
	uint32_t ctx_id;
	uint32_t cap_planes;
	uint32_t cap_len[DAEDALUS_MAX_MEM_PLANES];
	uint64_t cap_ts;	/* its CAPTURE buffer's timestamp: how later jobs name it */
	uint64_t due_ns;
	bool cancelled;
	bool cancel_wait;	/* its JOB_CANCEL has DAEDALUS_CANCEL_FLAG_WAIT */
	uint64_t cancel_due_ns;	/* --cancel-delay-ms: when to answer it */
	bool finished;
	bool fail;		/* answer with ERROR (--error-every) */
	bool held;		/* DAEDALUS_JOB_FLAG_HOLD: a piece of a picture */
	bool raced;		/* our answer got ENOENT: a JOB_CANCEL must follow */
	bool never;		/* --mode chaos: left to the watchdog */
};

static struct {
	enum peer_mode mode;
	unsigned int delay_ms;
	unsigned int jitter_ms;		/* plus 0..jitter_ms, pseudo-random */
	unsigned int error_every;	/* answer every Nth job with ERROR */
	bool fail_held;			/* answer every HOLD job with ERROR */
	bool reopen_after_held;		/* answer a HOLD job OK, then a new session */
	unsigned int jobs_limit;	/* stop after this many jobs finished */
	unsigned int run_ms;
	unsigned int close_after;	/* hold this many jobs, then close */
	unsigned int exit_after;	/* hold this many jobs, then _exit */
	unsigned int hold_ms;
	bool reopen;
	const char *ready_file;
	bool expect_all_gone;
	unsigned int gone_wait_ms;
	unsigned int expect_pending;
	bool probe_faults;
	unsigned int pipeline;		/* HELLO_FLAG_PIPELINE with this wish */
	unsigned int expect_inflight;	/* granted max_inflight must be this */
	bool lifo;			/* answer due jobs newest first */
	unsigned int cancel_delay_ms;	/* answer a waiting JOB_CANCEL this late */
	bool ignore_cancel;		/* never answer a waiting JOB_CANCEL */
	bool no_ref_fds;		/* HELLO without REF_FDS, as the daemon */
	bool no_owner;			/* HELLO without OWNER: jobs must name no user */
	unsigned long long seed;	/* --mode chaos */
	const char *uffd_file;		/* --uffd-hold N:FILE: hold the GET_MSG after N jobs */
	unsigned int uffd_after;
	bool uffd_fail;			/* --uffd-fail: and make its copy fail */
	bool app_aborts;		/* --app-aborts: a timed-out job may be claimed by it */
	bool uffd_pause;		/* --uffd-pause: no GET_MSG after the held one until told */
	int verbose;
} opt = { .gone_wait_ms = 3000 };

static struct {
	unsigned int jobs, completed, errors_sent, rejected_ok, late_rejected, cancel_answered;
	unsigned int cancel_crossed;	/* a waiting JOB_CANCEL after our accepted answer */
	unsigned int cancels, ctx_gone, buf_gone, fds, violations, unexpected;
	unsigned int pending, max_pending, ref_found, ref_checked_ok;
	unsigned int ref_fds;		/* fds that came in a reference slot */
	unsigned int ref_unknown;	/* FOUND references with a plane of no fd here */
	unsigned int probe_enospc, probe_efault, raced;
	unsigned int uffd_held, uffd_efault;	/* --uffd-hold: copies held, and failed */
	unsigned int wait_claimed;	/* --app-aborts: answers to a waiting cancel refused */
	int uffd_type;			/* the type of the message the held copy delivered */
	unsigned int max_inflight, max_hint_inflight, max_queued, hint_bad;
	unsigned int garbage, never, reopens;
	unsigned int held, lost_piece;	/* jobs with DAEDALUS_JOB_FLAG_HOLD, _LOST_PIECE */
	unsigned int stream_starts;	/* jobs with DAEDALUS_JOB_FLAG_STREAM_START */
	uint32_t last_start_seq;	/* the sequence of the last of them */
} st;

static int bridge = -1;
static uint32_t session;
static struct handle *handles;
static size_t nhandles, cap_handles;
static struct pjob *jobs;
static size_t njobs, cap_jobs;
static uint32_t *ctxs;
static bool *ctx_gone;
static uint32_t *ctx_owner;	/* the user each context's jobs name (HELLO_FLAG_OWNER) */
static bool owners_granted;
static size_t nctxs, cap_ctxs;
static void *ctrl_area;
static uint32_t ctrl_area_size;
static volatile sig_atomic_t stop;

#define VIOLATION(...) do { \
	st.violations++; \
	fprintf(stderr, "dv-testpeer: VIOLATION: " __VA_ARGS__); \
	fputc('\n', stderr); \
} while (0)

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	*cap = need * 2 + 16;
	p = realloc(p, *cap * elem);
	if (!p) {
		perror("realloc");
		exit(2);
	}
	return p;
}

static struct handle *handle_find(unsigned long long id)
{
	for (size_t i = 0; i < nhandles; i++)
		if (handles[i].id == id)
			return &handles[i];
	return NULL;
}

static void handle_unmap(struct handle *h)
{
	if (h->map)
		munmap(h->map, h->len);
	h->map = NULL;
	if (h->fd >= 0) {
		close(h->fd);
		st.fds--;
	}
	h->fd = -1;
}

/* Take note of a memory plane in a message: new fd or a known handle. */
static struct handle *plane_take(const struct daedalus_mem_plane *mp,
				 const char *what)
{
	struct handle *h = handle_find(mp->handle);

	if (!mp->handle) {
		VIOLATION("%s: handle 0", what);
		return NULL;
	}
	if (!h) {
		if (mp->fd < 0) {
			VIOLATION("%s: first use of handle %llu without an fd",
				  what, mp->handle);
			return NULL;
		}
		handles = grow(handles, &cap_handles, nhandles + 1, sizeof(*handles));
		h = &handles[nhandles++];
		*h = (struct handle){ .id = mp->handle, .fd = mp->fd, .len = mp->length };
		st.fds++;
		return h;
	}
	if (h->gone) {
		VIOLATION("%s: handle %llu used after BUF_GONE", what, mp->handle);
		return NULL;
	}
	if (mp->fd >= 0) {
		VIOLATION("%s: second fd %d for handle %llu", what, mp->fd, mp->handle);
		close(mp->fd);
	}
	if (mp->length != h->len)
		VIOLATION("%s: handle %llu length changed %zu -> %u", what,
			  mp->handle, h->len, mp->length);
	return h;
}

static uint8_t *handle_map(struct handle *h, bool write)
{
	if (h->map && (h->writable || !write))
		return h->map;
	if (h->map) {
		munmap(h->map, h->len);
		h->map = NULL;
	}
	h->map = mmap(NULL, h->len, PROT_READ | (write ? PROT_WRITE : 0),
		      MAP_SHARED, h->fd, 0);
	if (h->map == MAP_FAILED) {
		h->map = NULL;
		VIOLATION("mmap handle %llu (fd %d, %zu bytes, %s): %s", h->id,
			  h->fd, h->len, write ? "rw" : "ro", strerror(errno));
		return NULL;
	}
	h->writable = write;
	return h->map;
}

/* A job of context id naming user owner: a context's user never changes. */
static void ctx_seen(uint32_t id, uint32_t owner)
{
	for (size_t i = 0; i < nctxs; i++)
		if (ctxs[i] == id) {
			if (ctx_gone[i])
				VIOLATION("job for context %u after CTX_GONE", id);
			if (ctx_owner[i] != owner)
				VIOLATION("context %u: a job of user %u after jobs of user %u", id,
					  owner, ctx_owner[i]);
			return;
		}
	ctxs = grow(ctxs, &cap_ctxs, nctxs + 1, sizeof(*ctxs));
	ctx_gone = realloc(ctx_gone, cap_ctxs * sizeof(*ctx_gone));
	ctx_owner = realloc(ctx_owner, cap_ctxs * sizeof(*ctx_owner));
	if (!ctx_gone || !ctx_owner)
		exit(2);
	ctxs[nctxs] = id;
	ctx_owner[nctxs] = owner;
	ctx_gone[nctxs++] = false;
}

/* The summary's owners=: the distinct users the jobs named, in order of first appearance. */
static void print_owners(FILE *f)
{
	unsigned int printed = 0;

	if (opt.no_owner) {
		fputs("owners=not_asked", f);
		return;
	}
	fputs("owners=", f);
	for (size_t i = 0; i < nctxs; i++) {
		size_t k = 0;

		while (k < i && ctx_owner[k] != ctx_owner[i])
			k++;
		if (k == i)
			fprintf(f, "%s%u", printed++ ? "," : "", ctx_owner[i]);
	}
	if (!printed)
		fputs("none", f);
}

static struct pjob *job_find(unsigned long long id)
{
	for (size_t i = 0; i < njobs; i++)
		if (jobs[i].id == id)
			return &jobs[i];
	return NULL;
}

/* One COMPLETE call; counts it as expected or not. */
static int complete_call(struct daedalus_complete *c, int want_err, const char *what)
{
	int ret = ioctl(bridge, DAEDALUS_IOC_COMPLETE, c) ? errno : 0;

	if (ret != want_err) {
		st.unexpected++;
		fprintf(stderr, "dv-testpeer: UNEXPECTED: COMPLETE %s (job %llu"
			") gave %s, want %s\n", what, c->job_id, dv_errname(ret),
			dv_errname(want_err));
	} else if (want_err) {
		st.rejected_ok++;
		if (opt.verbose)
			printf("dv-testpeer: COMPLETE %s rejected with %s as expected\n",
			       what, dv_errname(ret));
	}
	return ret;
}

/* --mode chaos: the peer's own generator (xorshift64*), seeded by --seed */
static uint32_t chaos_rnd(uint32_t n)
{
	static uint64_t s;

	if (!s)
		s = (opt.seed + 1) * 0x9e3779b97f4a7c15ULL;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return n ? (uint32_t)((s * 0x2545f4914f6cdd1dULL) >> 32) % n : 0;
}

/*
 * --mode chaos: before its real answer, 0-2 answers a broken daemon might send for job @j,
 * each of which the kernel must refuse with the documented error (docs/protocol.md).
 */
static void chaos_garbage(const struct pjob *j)
{
	for (unsigned int k = chaos_rnd(3); k; k--) {
		struct daedalus_complete bad = { .job_id = j->id, .ctx_id = j->ctx_id };
		int want;

		st.garbage++;
		switch (chaos_rnd(6)) {
		case 0:
			bad.job_id = j->id + (1ull << 40) + chaos_rnd(1000);
			want = ENOENT;
			break;
		case 1:
			bad.ctx_id = j->ctx_id + 1 + chaos_rnd(1000);
			want = EINVAL;
			break;
		case 2:
			bad.reserved[chaos_rnd(7)] = 1 + chaos_rnd(100);
			want = EINVAL;
			break;
		case 3:
			bad.status = 2 + chaos_rnd(100);
			want = EINVAL;
			break;
		case 4:
			bad.num_mem_planes = j->cap_planes;
			for (unsigned int p = 0; p < j->cap_planes; p++)
				bad.bytesused[p] = j->cap_len[p];
			bad.bytesused[chaos_rnd(j->cap_planes)] += 1 + chaos_rnd(1u << 30);
			want = ERANGE;
			break;
		default:
			bad.num_mem_planes = j->cap_planes + 1 + chaos_rnd(8);
			want = EINVAL;
			break;
		}
		/*
		 * The application may have closed (or the watchdog fired) since the job was
		 * fetched: then every answer gets ENOENT, and the real one below is judged
		 * by the JOB_CANCEL that must follow.
		 */
		if (ioctl(bridge, DAEDALUS_IOC_COMPLETE, &bad) && (errno == want || errno == ENOENT)) {
			st.rejected_ok++;
			continue;
		}
		st.unexpected++;
		fprintf(stderr, "dv-testpeer: UNEXPECTED: chaos garbage answer (job %llu) gave %s,"
			" want %s\n", j->id, dv_errname(errno), dv_errname(want));
	}
}

/* --mode chaos: the real answer, OK (whole planes or some bytes) or ERROR with any reason */
static void chaos_answer(struct pjob *j, struct daedalus_complete *c)
{
	switch (chaos_rnd(4)) {
	case 0:
		c->status = DAEDALUS_STATUS_ERROR;
		c->reason = 1 + chaos_rnd(DAEDALUS_REASON_CANCELLED);
		st.errors_sent++;
		break;
	case 1:
		c->num_mem_planes = j->cap_planes;
		for (unsigned int p = 0; p < j->cap_planes; p++)
			c->bytesused[p] = chaos_rnd(j->cap_len[p] + 1);
		break;
	default:
		break;
	}
}

static void job_finish(struct pjob *j)
{
	struct daedalus_complete c = { .job_id = j->id, .ctx_id = j->ctx_id };

	j->finished = true;
	st.pending--;
	if (j->cancelled && j->cancel_wait) {
		/* A timeout: the kernel holds the buffers until this answer. */
		c.status = DAEDALUS_STATUS_ERROR;
		c.reason = DAEDALUS_REASON_CANCELLED;
		if (opt.app_aborts) {
			/*
			 * The application's STREAMOFF or close may have claimed it since
			 * the timeout (job_abort: no second JOB_CANCEL): the answer bounces.
			 */
			int e = ioctl(bridge, DAEDALUS_IOC_COMPLETE, &c) ? errno : 0;

			if (!e) {
				st.cancel_answered++;
			} else if (e == ENOENT) {
				st.wait_claimed++;
			} else {
				st.unexpected++;
				fprintf(stderr, "dv-testpeer: UNEXPECTED: COMPLETE after a waiting "
					"JOB_CANCEL (job %llu) gave %s\n", c.job_id, dv_errname(e));
			}
			return;
		}
		if (!complete_call(&c, 0, "after a waiting JOB_CANCEL"))
			st.cancel_answered++;
		return;
	}
	if (j->cancelled) {
		/* The kernel already failed it: a late answer must bounce. */
		if (!complete_call(&c, ENOENT, "after JOB_CANCEL"))
			return;
		st.late_rejected++;
		return;
	}
	switch (opt.mode) {
	case MODE_BADID: {
		struct daedalus_complete bad = c;

		bad.job_id = j->id + (1ull << 40);
		complete_call(&bad, ENOENT, "unknown job id");
		bad = c;
		bad.ctx_id = j->ctx_id + 1000;
		complete_call(&bad, EINVAL, "wrong ctx id");
		bad = c;
		bad.reserved[3] = 1;
		complete_call(&bad, EINVAL, "reserved field set");
		bad = c;
		bad.status = 7;
		complete_call(&bad, EINVAL, "unknown status");
		bad = c;
		bad.reason = DAEDALUS_REASON_BITSTREAM;
		complete_call(&bad, EINVAL, "OK with a reason");
		break;
	}
	case MODE_OVERSIZE: {
		struct daedalus_complete bad = c;

		bad.num_mem_planes = j->cap_planes;
		for (unsigned int p = 0; p < j->cap_planes; p++)
			bad.bytesused[p] = j->cap_len[p];
		bad.bytesused[j->cap_planes - 1] += 1;
		complete_call(&bad, ERANGE, "bytesused = length + 1");
		bad.bytesused[j->cap_planes - 1] = 0xffffffffu;
		complete_call(&bad, ERANGE, "bytesused = 4 GiB - 1");
		bad.bytesused[j->cap_planes - 1] = j->cap_len[j->cap_planes - 1];
		if (j->cap_planes < DAEDALUS_MAX_MEM_PLANES) {
			bad.num_mem_planes = j->cap_planes + 1;
			complete_call(&bad, EINVAL, "one plane too many");
		}
		bad.num_mem_planes = DAEDALUS_MAX_MEM_PLANES + 1;
		complete_call(&bad, EINVAL, "num_mem_planes > max");
		/* The real answer names every plane with its exact length. */
		c.num_mem_planes = j->cap_planes;
		for (unsigned int p = 0; p < j->cap_planes; p++)
			c.bytesused[p] = j->cap_len[p];
		break;
	}
	case MODE_ERROR:
		c.status = DAEDALUS_STATUS_ERROR;
		c.reason = DAEDALUS_REASON_BITSTREAM;
		st.errors_sent++;
		break;
	case MODE_CHAOS:
		chaos_garbage(j);
		chaos_answer(j, &c);
		break;
	default:
		break;
	}
	if (j->fail && opt.mode != MODE_ERROR) {
		c.status = DAEDALUS_STATUS_ERROR;
		c.reason = DAEDALUS_REASON_BITSTREAM;
		st.errors_sent++;
	}
	if (ioctl(bridge, DAEDALUS_IOC_COMPLETE, &c)) {
		/*
		 * The application may have gone (or the watchdog fired) after
		 * we fetched the job and before this answer: then the kernel
		 * has queued a JOB_CANCEL that we have not read yet, and ENOENT
		 * is right. Judged when that JOB_CANCEL arrives, or at the end.
		 */
		if (errno == ENOENT) {
			j->raced = true;
			st.raced++;
			return;
		}
		st.unexpected++;
		fprintf(stderr, "dv-testpeer: UNEXPECTED: COMPLETE (job %llu) gave %s\n",
			j->id, dv_errname(errno));
		return;
	}
	st.completed++;
	if (opt.mode == MODE_BADID) {
		complete_call(&c, ENOENT, "stale (second) answer");
	}
}

static int cmp_ctrl(const void *a, const void *b)
{
	const struct dv_record_ctrl *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * A reference's memory plane. Asked for (HELLO_FLAG_REF_FDS), a plane new to this session
 * brings its fd, as output and capture do. Not asked for, as by daedalus-v4l2d, which keeps
 * its own reference pictures: never an fd, and a plane it has no fd of stays unknown here
 * (false).
 */
static bool ref_plane_take(const struct daedalus_mem_plane *mp)
{
	if (!opt.no_ref_fds) {
		if (mp->fd >= 0 && !handle_find(mp->handle))
			st.ref_fds++;
		plane_take(mp, "ref");
		return true;
	}
	if (mp->fd >= 0) {
		VIOLATION("ref: fd %d for handle %llu without HELLO_FLAG_REF_FDS", mp->fd,
			  mp->handle);
		st.ref_fds++;
		close(mp->fd);
		return false;
	}
	if (!mp->handle) {
		VIOLATION("ref: handle 0");
		return false;
	}
	if (!handle_find(mp->handle))
		return false;
	plane_take(mp, "ref");
	return true;
}

static void check_ref(const struct daedalus_job *j, unsigned int i,
		      struct dv_record_ref *out)
{
	const struct daedalus_ref *r = &j->refs[i];
	bool known = true;
	struct handle *h;
	const struct dv_record *rec;
	uint8_t *m;

	out->timestamp = r->timestamp;
	out->flags = r->flags;
	out->content = DV_REF_CONTENT_NONE;
	if (!(r->flags & DAEDALUS_REF_FLAG_FOUND)) {
		if (r->buf.num_mem_planes || r->buf.mem[0].handle)
			VIOLATION("ref %u not FOUND but describes a buffer", i);
		return;
	}
	if (!(r->flags & DAEDALUS_REF_FLAG_USED))
		VIOLATION("ref %u FOUND but not USED", i);
	if (r->buf.timestamp != r->timestamp)
		VIOLATION("ref %u: buffer timestamp %llu != slot %llu",
			  i, (unsigned long long)r->buf.timestamp, (unsigned long long)r->timestamp);
	if (r->buf.num_mem_planes != j->capture.num_mem_planes)
		VIOLATION("ref %u: %u planes, capture has %u", i,
			  r->buf.num_mem_planes, j->capture.num_mem_planes);
	for (unsigned int p = 0; p < r->buf.num_mem_planes && p < DAEDALUS_MAX_MEM_PLANES; p++)
		known &= ref_plane_take(&r->buf.mem[p]);
	if (!known)
		st.ref_unknown++;
	st.ref_found++;
	if (r->flags & DAEDALUS_REF_FLAG_SELF) {
		if (r->buf.mem[0].handle != j->capture.mem[0].handle)
			VIOLATION("ref %u SELF but another buffer", i);
		return;
	}
	if (r->buf.flags & DAEDALUS_BUF_FLAG_ERROR) {
		/*
		 * A reference whose own job this peer still holds, and the kernel has not
		 * given up on (a JOB_CANCEL: the watchdog failed it), has no verdict yet:
		 * an ERROR here is the one of the picture its buffer held before, and a
		 * daemon would drop a picture it is about to decode.
		 */
		for (size_t k = 0; k < njobs; k++)
			if (jobs[k].ctx_id == j->ctx_id && !jobs[k].finished &&
			    !jobs[k].cancelled && jobs[k].cap_ts == r->timestamp)
				VIOLATION("ref %u (ts %llu) flagged ERROR while its job %llu is in "
					  "flight here", i, (unsigned long long)r->timestamp,
					  jobs[k].id);
		out->content = DV_REF_CONTENT_ERROR;
		return;
	}
	h = handle_find(r->buf.mem[0].handle);
	if (!h || !(m = handle_map(h, true))) {
		out->content = DV_REF_CONTENT_BAD;
		return;
	}
	dv_dmabuf_sync(h->fd, 1, 0);
	rec = (const struct dv_record *)m;
	out->content = DV_REF_CONTENT_BAD;
	if (h->len >= DV_PATTERN_START + 4096 && rec->magic == DV_RECORD_MAGIC &&
	    rec->timestamp == r->timestamp &&
	    dv_pattern_check(m, DV_PATTERN_START, DV_PATTERN_START + 4096,
			     rec->seed, 0) == (size_t)-1) {
		out->content = DV_REF_CONTENT_OK;
		st.ref_checked_ok++;
	}
	dv_dmabuf_sync(h->fd, 0, 0);
}

/* Validate a job, write the record and pattern; false if it is unusable. */
static bool job_paint(const struct daedalus_job *j, struct pjob *pj)
{
	const struct daedalus_picture *pic = &j->picture;
	struct dv_record rec = { 0 };
	struct handle *oh, *ch[DAEDALUS_MAX_MEM_PLANES] = { 0 };
	const uint8_t *bits;
	uint8_t *om;
	bool ok = true;

	if (j->codec < DAEDALUS_CODEC_H264 || j->codec > DAEDALUS_CODEC_AV1)
		VIOLATION("job %llu: codec %u", j->job_id, j->codec);
	if (j->num_refs > DAEDALUS_MAX_REFS || j->num_ctrls > DAEDALUS_MAX_CTRLS ||
	    j->ctrl_bytes > ctrl_area_size) {
		VIOLATION("job %llu: counts out of range", j->job_id);
		return false;
	}
	if (j->output.num_mem_planes != 1 || j->capture.num_mem_planes < 1 ||
	    j->capture.num_mem_planes > DAEDALUS_MAX_MEM_PLANES) {
		VIOLATION("job %llu: plane counts %u/%u", j->job_id,
			  j->output.num_mem_planes, j->capture.num_mem_planes);
		return false;
	}
	if (j->capture.timestamp != j->output.timestamp)
		VIOLATION("job %llu: capture ts %llu != output ts %llu",
			  j->job_id, (unsigned long long)j->capture.timestamp,
			  (unsigned long long)j->output.timestamp);

	oh = plane_take(&j->output.mem[0], "output");
	for (unsigned int p = 0; p < j->capture.num_mem_planes; p++) {
		ch[p] = plane_take(&j->capture.mem[p], "capture");
		pj->cap_len[p] = j->capture.mem[p].length;
		if (!ch[p])
			ok = false;
	}
	pj->cap_planes = j->capture.num_mem_planes;
	if (!oh || !ok)
		return false;
	for (unsigned int c = 0; c < pic->num_color_planes && c < DAEDALUS_MAX_COLOR_PLANES; c++) {
		const struct daedalus_color_plane *cp = &pic->plane[c];

		if (cp->mem_plane >= j->capture.num_mem_planes ||
		    (uint64_t)cp->offset + cp->size > j->capture.mem[cp->mem_plane].length)
			VIOLATION("job %llu: color plane %u outside its memory plane",
				  j->job_id, c);
	}
	if ((uint64_t)j->output.mem[0].data_offset + j->output.mem[0].bytesused >
	    j->output.mem[0].length) {
		VIOLATION("job %llu: bitstream beyond the OUTPUT buffer", j->job_id);
		return false;
	}
	/* OUTPUT is exported read-only: a writable mapping must be refused. */
	if (!oh->map) {
		void *w = mmap(NULL, oh->len, PROT_READ | PROT_WRITE, MAP_SHARED, oh->fd, 0);

		if (w != MAP_FAILED) {
			VIOLATION("OUTPUT dmabuf handle %llu can be mapped writable", oh->id);
			munmap(w, oh->len);
		}
	}
	om = handle_map(oh, false);
	if (!om)
		return false;
	dv_dmabuf_sync(oh->fd, 1, 0);
	bits = om + j->output.mem[0].data_offset;
	rec.magic = DV_RECORD_MAGIC;
	rec.version = DV_RECORD_VERSION;
	rec.timestamp = j->capture.timestamp;
	rec.seed = dv_pattern_seed(j->capture.timestamp, bits, j->output.mem[0].bytesused);
	rec.out_hash = dv_hash(bits, j->output.mem[0].bytesused);
	rec.out_bytes = j->output.mem[0].bytesused;
	dv_dmabuf_sync(oh->fd, 0, 0);
	rec.codec = j->codec;
	rec.num_refs = j->num_refs;
	for (unsigned int i = 0; i < j->num_refs; i++)
		check_ref(j, i, &rec.refs[i]);
	for (unsigned int i = 0; i < j->num_ctrls; i++) {
		const struct daedalus_ctrl *c = &j->ctrls[i];

		if (c->offset % 8 || (uint64_t)c->offset + c->size > j->ctrl_bytes ||
		    (uint64_t)c->elem_size * c->elems != c->size) {
			VIOLATION("job %llu: control %#x payload out of range",
				  j->job_id, c->id);
			continue;
		}
		if (!(c->flags & DAEDALUS_CTRL_FLAG_IN_REQUEST))
			continue;
		if (rec.num_req_ctrls == DV_RECORD_CTRLS)
			continue;
		rec.ctrls[rec.num_req_ctrls++] = (struct dv_record_ctrl){
			.id = c->id, .size = c->size,
			.hash = dv_hash((uint8_t *)ctrl_area + c->offset, c->size),
		};
	}
	qsort(rec.ctrls, rec.num_req_ctrls, sizeof(rec.ctrls[0]), cmp_ctrl);

	for (unsigned int p = 0; p < j->capture.num_mem_planes; p++) {
		uint8_t *m = handle_map(ch[p], true);
		size_t from = 0;

		if (!m)
			return false;
		dv_dmabuf_sync(ch[p]->fd, 1, 1);
		if (p == 0 && ch[p]->len >= DV_PATTERN_START) {
			memset(m, 0, DV_PATTERN_START);
			memcpy(m, &rec, sizeof(rec));
			from = DV_PATTERN_START;
		}
		/* chaos: jobs of any size come fast; a page shows the mapping works */
		dv_pattern_fill(m, from, opt.mode == MODE_CHAOS && ch[p]->len > from + 4096 ?
				from + 4096 : ch[p]->len, rec.seed, p);
		dv_dmabuf_sync(ch[p]->fd, 0, 1);
	}
	return true;
}

static void on_job(const struct daedalus_job *j)
{
	struct pjob *pj;

	st.jobs++;
	if (job_find(j->job_id))
		VIOLATION("job id %llu sent twice", j->job_id);
	if (!owners_granted && j->owner)
		VIOLATION("job %llu: owner %u without HELLO_FLAG_OWNER", j->job_id, j->owner);
	ctx_seen(j->ctx_id, j->owner);
	jobs = grow(jobs, &cap_jobs, njobs + 1, sizeof(*jobs));
	pj = &jobs[njobs++];
	*pj = (struct pjob){ .id = j->job_id, .ctx_id = j->ctx_id,
			     .cap_ts = j->capture.timestamp,
			     .due_ns = dv_now_ns() + (uint64_t)opt.delay_ms * 1000000ull,
			     .fail = opt.error_every && st.jobs % opt.error_every == 0 };
	if (opt.jitter_ms)
		pj->due_ns += (uint64_t)(rand() % (opt.jitter_ms + 1)) * 1000000ull;
	st.held += !!(j->flags & DAEDALUS_JOB_FLAG_HOLD);
	st.lost_piece += !!(j->flags & DAEDALUS_JOB_FLAG_LOST_PIECE);
	if (j->flags & DAEDALUS_JOB_FLAG_STREAM_START) {
		st.stream_starts++;
		st.last_start_seq = j->sequence;
	}
	/* --fail-held: a slice or first field the daemon could not use; the rest it answers OK */
	pj->held = j->flags & DAEDALUS_JOB_FLAG_HOLD;
	if (opt.fail_held && pj->held)
		pj->fail = true;
	if (opt.mode == MODE_CHAOS && !chaos_rnd(20)) {
		pj->never = true;	/* the watchdog's, or the close's */
		st.never++;
	}
	st.pending++;
	if (st.pending > st.max_pending)
		st.max_pending = st.pending;
	/* Hints: this job counts itself, and never more than were granted. */
	if (!j->inflight || j->inflight > st.max_inflight) {
		st.hint_bad++;
		VIOLATION("job %llu: inflight hint %u, granted %u", j->job_id, j->inflight,
			  st.max_inflight);
	}
	if (j->inflight > st.max_hint_inflight)
		st.max_hint_inflight = j->inflight;
	if (j->queued > st.max_queued)
		st.max_queued = j->queued;
	for (unsigned int r = 0; r < sizeof(j->reserved) / sizeof(j->reserved[0]); r++)
		if (j->reserved[r])
			VIOLATION("job %llu: reserved[%u] = %u", j->job_id, r, j->reserved[r]);
	if (opt.verbose)
		printf("dv-testpeer: job %llu ctx %u codec %u seq %u flags %#x ts %llu"
		       " out %u bytes, %u refs, %u ctrls, inflight %u queued %u\n",
		       j->job_id, j->ctx_id, j->codec, j->sequence, j->flags,
		       (unsigned long long)j->capture.timestamp,
		       j->output.mem[0].bytesused, j->num_refs, j->num_ctrls,
		       j->inflight, j->queued);
	if (!job_paint(j, pj)) {
		/* Fail it the way a daemon would, so the client is not stuck. */
		struct daedalus_complete c = { .job_id = j->job_id, .ctx_id = j->ctx_id,
					       .status = DAEDALUS_STATUS_ERROR,
					       .reason = DAEDALUS_REASON_INTERNAL };
		complete_call(&c, 0, "error for an unusable job");
		pj->finished = true;
		st.pending--;
	}
}

static void on_event(const struct daedalus_msg *m)
{
	unsigned long long id = m->u.event.id;

	switch (m->type) {
	case DAEDALUS_MSG_BUF_GONE: {
		struct handle *h = handle_find(id);

		st.buf_gone++;
		if (!h || h->gone) {
			VIOLATION("BUF_GONE for %s handle %llu",
				  h ? "an already gone" : "an unknown", id);
			return;
		}
		h->gone = true;
		handle_unmap(h);
		break;
	}
	case DAEDALUS_MSG_CTX_GONE: {
		size_t i;

		st.ctx_gone++;
		for (i = 0; i < nctxs && ctxs[i] != (uint32_t)id; i++)
			;
		if (i == nctxs || ctx_gone[i]) {
			VIOLATION("CTX_GONE for unknown or gone context %llu", id);
			return;
		}
		ctx_gone[i] = true;
		break;
	}
	case DAEDALUS_MSG_JOB_CANCEL: {
		struct pjob *j = job_find(id);

		st.cancels++;
		if (!j) {
			VIOLATION("JOB_CANCEL for unknown job %llu", id);
			return;
		}
		if (j->cancelled)
			VIOLATION("JOB_CANCEL twice for job %llu", id);
		/*
		 * A waiting one may cross our answer: the job timed out just before it, the
		 * answer was accepted and the job failed (the application sees ERROR).
		 */
		if (j->finished && !j->cancelled && !j->raced &&
		    (m->u.event.flags & DAEDALUS_CANCEL_FLAG_WAIT))
			st.cancel_crossed++;
		else if (j->finished && !j->cancelled && !j->raced)
			VIOLATION("JOB_CANCEL for job %llu that we completed", id);
		if (j->raced)
			st.late_rejected++;
		j->cancelled = true;
		j->cancel_wait = m->u.event.flags & DAEDALUS_CANCEL_FLAG_WAIT;
		if (m->u.event.flags & ~DAEDALUS_CANCEL_FLAG_WAIT)
			VIOLATION("JOB_CANCEL %llu with flags %#x", id, m->u.event.flags);
		if (opt.verbose)
			printf("dv-testpeer: JOB_CANCEL %llu%s after %s\n", id,
			       j->cancel_wait ? " (waiting)" : "",
			       j->finished ? "finish" : "nothing");
		if (j->finished)
			break;
		/*
		 * Answer now (ENOENT unless the kernel waits for it), or, for a waiting
		 * cancel, as a slow daemon would: later, or never.
		 */
		if (j->cancel_wait && opt.ignore_cancel)
			break;
		if (j->cancel_wait && opt.cancel_delay_ms) {
			j->cancel_due_ns = dv_now_ns() +
					   (uint64_t)opt.cancel_delay_ms * 1000000ull;
			break;
		}
		job_finish(j);
		break;
	}
	default:
		VIOLATION("message type %u", m->type);
	}
}

/* Fetch one message; returns 1 if one was handled, 0 if none, -1 on error. */
static int handle_msg(const struct daedalus_msg *m)
{
	if (m->session != session)
		VIOLATION("message of session %u in session %u", m->session, session);
	if (m->type == DAEDALUS_MSG_JOB)
		on_job(&m->u.job);
	else
		on_event(m);
	return 1;
}

/*
 * Fetches that must fail without losing the message: a control area too
 * small for the job (ENOSPC), and a message buffer the kernel cannot write
 * (EFAULT; any fds it had reserved must not leak or count as sent). Returns
 * 1 if a message was consumed by the probes themselves (an event fits in a
 * zero sized area), else 0.
 */
static int probe_faults(void)
{
	static struct daedalus_msg *ro;
	struct daedalus_msg m = { .flags = DAEDALUS_GET_FLAG_NONBLOCK };
	int e;

	e = ioctl(bridge, DAEDALUS_IOC_GET_MSG, &m) ? errno : 0;
	if (!e) {
		if (m.type == DAEDALUS_MSG_JOB && m.u.job.ctrl_bytes)
			VIOLATION("job with %u control bytes delivered into a 0 byte area",
				  m.u.job.ctrl_bytes);
		return handle_msg(&m);
	}
	if (e == EAGAIN || e == EINTR)
		return 0;
	if (e != ENOSPC) {
		VIOLATION("GET_MSG with a 0 byte control area: %s, want ENOSPC", dv_errname(e));
		return 0;
	}
	st.probe_enospc++;
	if (!ro) {
		ro = mmap(NULL, sizeof(*ro), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ro == MAP_FAILED)
			exit(2);
	}
	mprotect(ro, sizeof(*ro), PROT_READ | PROT_WRITE);
	*ro = (struct daedalus_msg){
		.ctrl_data = (uintptr_t)ctrl_area, .ctrl_data_size = ctrl_area_size,
		.flags = DAEDALUS_GET_FLAG_NONBLOCK,
	};
	mprotect(ro, sizeof(*ro), PROT_READ);
	e = ioctl(bridge, DAEDALUS_IOC_GET_MSG, ro) ? errno : 0;
	if (e == EFAULT)
		st.probe_efault++;
	else
		VIOLATION("GET_MSG into read-only memory: %s, want EFAULT", dv_errname(e));
	return 0;
}

/*
 * --uffd-hold: the first GET_MSG once uffd_after jobs were received goes into a
 * message whose body page is missing, so the kernel's copy of it stops there
 * (dv_uffd_hold.h) until the test has acted and lets it go on, or fail.
 */
static struct dv_uffd_hold uhold;
static struct daedalus_msg *uhold_msg;
static bool uhold_over;

/* --uffd-pause: FILE.returned says the held GET_MSG returned; wait for FILE.resume */
static void uffd_pause(void)
{
	if (!dv_signal_create(opt.uffd_file, ".returned"))
		dv_signal_wait(opt.uffd_file, ".resume", true, 5, 30000, &stop);
}

static int get_held(void)
{
	struct daedalus_msg m;
	int e, faults;

	if (!uhold_msg) {
		uhold_msg = dv_uffd_hold_arm(&uhold);
		if (!uhold_msg) {
			fprintf(stderr, "dv-testpeer: cannot start the userfaultfd thread\n");
			st.unexpected++;
			uhold_over = true;
			return 0;
		}
	}
	/* the head only: the body is the missing page */
	uhold_msg->ctrl_data = (uintptr_t)ctrl_area;
	uhold_msg->ctrl_data_size = ctrl_area_size;
	uhold_msg->flags = DAEDALUS_GET_FLAG_NONBLOCK;
	e = ioctl(bridge, DAEDALUS_IOC_GET_MSG, uhold_msg) ? errno : 0;
	if (e == EAGAIN || e == EINTR)
		return 0;	/* nothing was pending: still armed */
	uhold_over = true;
	faults = dv_uffd_hold_done(&uhold);
	if (faults < 0) {
		fprintf(stderr, "dv-testpeer: userfaultfd: %s\n", dv_errname(-faults));
		st.unexpected++;
	} else {
		st.uffd_held += (unsigned int)faults;
	}
	printf("dv-testpeer: held GET_MSG returned %s\n", e ? dv_errname(e) : "a message");
	fflush(stdout);
	if (opt.uffd_pause)
		uffd_pause();
	if (opt.uffd_fail) {
		/*
		 * The body is unmapped now: nothing of it can be read. The kernel's
		 * copy wrote the head (on the mapped page) before it faulted.
		 */
		st.uffd_type = (int)uhold_msg->type;
		if (e == EFAULT)
			st.uffd_efault++;
		else
			VIOLATION("GET_MSG whose copy was made to fail: %s, want EFAULT",
				  e ? dv_errname(e) : "success");
		return 1;
	}
	if (e) {
		VIOLATION("GET_MSG whose copy was held: %s, want a message", dv_errname(e));
		return 1;
	}
	memcpy(&m, uhold_msg, sizeof(m));
	st.uffd_type = (int)m.type;
	return handle_msg(&m);
}

static int get_one(void)
{
	struct daedalus_msg m = {
		.ctrl_data = (uintptr_t)ctrl_area,
		.ctrl_data_size = ctrl_area_size,
		.flags = DAEDALUS_GET_FLAG_NONBLOCK,
	};

	if (opt.probe_faults && probe_faults())
		return 1;
	if (opt.uffd_file && !uhold_over && st.jobs >= opt.uffd_after)
		return get_held();
	if (ioctl(bridge, DAEDALUS_IOC_GET_MSG, &m)) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		fprintf(stderr, "dv-testpeer: GET_MSG: %s\n", dv_errname(errno));
		st.unexpected++;
		return -1;
	}
	return handle_msg(&m);
}

/* Calls that must fail in a precise way; part of every run. */
static void protocol_checks_before_hello(void)
{
	struct daedalus_msg m = { 0 };
	struct daedalus_complete c = { 0 };
	struct daedalus_hello h = { .version = DAEDALUS_PROTOCOL_VERSION + 1 };
	int e;

	e = ioctl(bridge, DAEDALUS_IOC_GET_MSG, &m) ? errno : 0;
	if (e != EPROTO)
		VIOLATION("GET_MSG before HELLO: %s, want EPROTO", dv_errname(e));
	e = ioctl(bridge, DAEDALUS_IOC_COMPLETE, &c) ? errno : 0;
	if (e != EPROTO)
		VIOLATION("COMPLETE before HELLO: %s, want EPROTO", dv_errname(e));
	e = ioctl(bridge, DAEDALUS_IOC_HELLO, &h) ? errno : 0;
	if (e != EPROTONOSUPPORT || h.version != DAEDALUS_PROTOCOL_VERSION)
		VIOLATION("HELLO version+1: %s version %u, want EPROTONOSUPPORT %u",
			  dv_errname(e), h.version, DAEDALUS_PROTOCOL_VERSION);
	h = (struct daedalus_hello){ .version = DAEDALUS_PROTOCOL_VERSION };
	h.reserved[6] = 1;
	e = ioctl(bridge, DAEDALUS_IOC_HELLO, &h) ? errno : 0;
	if (e != EINVAL)
		VIOLATION("HELLO with reserved set: %s, want EINVAL", dv_errname(e));
	h = (struct daedalus_hello){ .version = DAEDALUS_PROTOCOL_VERSION,
				     /* the lowest bit no flag uses */
				     .flags = DAEDALUS_HELLO_VALID_FLAGS + 1 };
	e = ioctl(bridge, DAEDALUS_IOC_HELLO, &h) ? errno : 0;
	if (e != EINVAL)
		VIOLATION("HELLO with an unknown flag: %s, want EINVAL", dv_errname(e));
	h = (struct daedalus_hello){ .version = DAEDALUS_PROTOCOL_VERSION, .max_inflight = 2 };
	e = ioctl(bridge, DAEDALUS_IOC_HELLO, &h) ? errno : 0;
	if (e != EINVAL)
		VIOLATION("HELLO with max_inflight but no PIPELINE flag: %s, want EINVAL",
			  dv_errname(e));
	e = ioctl(bridge, _IO(DAEDALUS_IOC_MAGIC, 0x7f)) ? errno : 0;
	if (e != ENOTTY)
		VIOLATION("unknown ioctl: %s, want ENOTTY", dv_errname(e));
}

static void protocol_checks_after_hello(void)
{
	struct daedalus_hello h = { .version = DAEDALUS_PROTOCOL_VERSION };
	struct daedalus_msg m = { .flags = 1u << 7 };
	int e;

	e = ioctl(bridge, DAEDALUS_IOC_HELLO, &h) ? errno : 0;
	if (e != EALREADY)
		VIOLATION("second HELLO: %s, want EALREADY", dv_errname(e));
	e = ioctl(bridge, DAEDALUS_IOC_GET_MSG, &m) ? errno : 0;
	if (e != EINVAL)
		VIOLATION("GET_MSG with an unknown flag: %s, want EINVAL", dv_errname(e));
	m = (struct daedalus_msg){ .flags = DAEDALUS_GET_FLAG_NONBLOCK };
	m.reserved[5] = 1;
	e = ioctl(bridge, DAEDALUS_IOC_GET_MSG, &m) ? errno : 0;
	if (e != EINVAL)
		VIOLATION("GET_MSG with reserved set: %s, want EINVAL", dv_errname(e));
}

static int bridge_open_hello(void)
{
	struct daedalus_hello h = { .version = DAEDALUS_PROTOCOL_VERSION };
	uint32_t old = session;

	bridge = open(DAEDALUS_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (bridge < 0) {
		fprintf(stderr, "dv-testpeer: open %s: %s (%s)\n", DAEDALUS_DEVICE_PATH,
			dv_errname(errno), strerror(errno));
		return -1;
	}
	protocol_checks_before_hello();
	if (opt.pipeline) {
		h.flags = DAEDALUS_HELLO_FLAG_PIPELINE;
		h.max_inflight = opt.pipeline;
	}
	/* this peer checks what references hold, so it reads them, unless told not to */
	if (!opt.no_ref_fds)
		h.flags |= DAEDALUS_HELLO_FLAG_REF_FDS;
	/* as the daemon: the tests check which user each job names */
	if (!opt.no_owner)
		h.flags |= DAEDALUS_HELLO_FLAG_OWNER;
	if (ioctl(bridge, DAEDALUS_IOC_HELLO, &h)) {
		fprintf(stderr, "dv-testpeer: HELLO: %s\n", dv_errname(errno));
		return -1;
	}
	st.max_inflight = h.max_inflight;
	if (opt.pipeline && (!(h.flags & DAEDALUS_HELLO_FLAG_PIPELINE) ||
			     !h.max_inflight || h.max_inflight > opt.pipeline))
		VIOLATION("HELLO PIPELINE %u: flags %#x max_inflight %u", opt.pipeline,
			  h.flags, h.max_inflight);
	if (!opt.pipeline && ((h.flags & DAEDALUS_HELLO_FLAG_PIPELINE) || h.max_inflight != 1))
		VIOLATION("HELLO without PIPELINE: flags %#x max_inflight %u, want no PIPELINE "
			  "and 1", h.flags, h.max_inflight);
	owners_granted = h.flags & DAEDALUS_HELLO_FLAG_OWNER;
	if (owners_granted == opt.no_owner)
		VIOLATION("HELLO OWNER %sasked, granted flags %#x", opt.no_owner ? "not " : "",
			  h.flags);
	if (!!(h.flags & DAEDALUS_HELLO_FLAG_REF_FDS) == opt.no_ref_fds)
		VIOLATION("HELLO REF_FDS %sasked, granted flags %#x",
			  opt.no_ref_fds ? "not " : "", h.flags);
	if (opt.expect_inflight && h.max_inflight != opt.expect_inflight) {
		printf("dv-testpeer: granted max_inflight %u, want %u\n", h.max_inflight,
		       opt.expect_inflight);
		st.unexpected++;
	}
	session = h.session;
	if (old && session != old + 1)
		VIOLATION("session %u after session %u", session, old);
	if (h.max_mem_planes > DAEDALUS_MAX_MEM_PLANES || h.max_refs > DAEDALUS_MAX_REFS ||
	    h.max_ctrls > DAEDALUS_MAX_CTRLS || !h.max_ctrl_bytes || !h.job_timeout_ms)
		VIOLATION("HELLO limits out of range");
	free(ctrl_area);
	ctrl_area_size = h.max_ctrl_bytes;
	ctrl_area = calloc(1, ctrl_area_size);
	if (!ctrl_area)
		exit(2);
	protocol_checks_after_hello();
	printf("dv-testpeer: ready session=%u max_inflight=%u max_jobs=%u max_ctrl_bytes=%u "
	       "max=%ux%u job_timeout_ms=%u\n", session, h.max_inflight, h.max_jobs,
	       h.max_ctrl_bytes,
	       h.max_width, h.max_height, h.job_timeout_ms);
	fflush(stdout);
	return 0;
}

/* Forget a session's fds (the kernel sends every buffer again next time). */
static void drop_session_state(void)
{
	for (size_t i = 0; i < nhandles; i++)
		handle_unmap(&handles[i]);
	nhandles = 0;
	njobs = 0;
	nctxs = 0;
	st.pending = 0;
}

/* --ready-file: the session a test waits for (written again by --reopen-after-held) */
static void write_ready_file(void)
{
	char tmp[4096];
	FILE *f;

	if (!opt.ready_file ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", opt.ready_file) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%u\n", session);
	/* whole or not at all: the test reads it as soon as it exists */
	if (fclose(f) || rename(tmp, opt.ready_file))
		unlink(tmp);
}

static void hold_and_leave(bool do_exit)
{
	unsigned long long t;

	if (opt.hold_ms)
		usleep(opt.hold_ms * 1000u);
	t = dv_now_ns();
	printf("dv-testpeer: %s with %u jobs in flight at t_ns=%llu\n",
	       do_exit ? "exiting" : "closing the bridge", st.pending, t);
	fflush(stdout);
	if (do_exit)
		_exit(0);
	close(bridge);
	bridge = -1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Descriptor numbers taken but not open: what get_unused_fd_flags() reserved
 * and neither fd_install() nor put_unused_fd() settled. /proc/self/fd does not
 * list them; F_DUPFD at such a number returns a higher one.
 */
static int count_reserved_fds(void)
{
	bool open_fd[4096] = { false };
	int top = -1, n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd < 0 || fd >= 4096)
			continue;
		open_fd[fd] = true;
		if (fd > top)
			top = fd;
	}
	closedir(d);
	for (int k = 0; k <= top && k < 4096; k++) {
		int r;

		if (open_fd[k])
			continue;
		r = fcntl(bridge, F_DUPFD_CLOEXEC, k);
		if (r < 0)
			return -1;
		n += r != k;
		close(r);
	}
	return n;
}

/* Open fds of this process, to catch fds the kernel installed but never named. */
static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static bool all_gone(void)
{
	for (size_t i = 0; i < nhandles; i++)
		if (!handles[i].gone)
			return false;
	for (size_t i = 0; i < nctxs; i++)
		if (!ctx_gone[i])
			return false;
	return true;
}

/* A newer job of the same context is still unanswered. */
static bool newer_pending(const struct pjob *j)
{
	for (const struct pjob *n = j + 1; n < jobs + njobs; n++)
		if (n->ctx_id == j->ctx_id && !n->finished)
			return true;
	return false;
}

static void usage(void)
{
	fputs("usage: dv-testpeer [options]\n"
	      "  --mode ok|error|badid|oversize|hang|chaos  how to answer jobs (default ok;\n"
	      "                      chaos: per job at random OK, OK with some bytes, ERROR\n"
	      "                      with any reason, never (the watchdog's), after 0-2\n"
	      "                      refused garbage answers; now and then close and reopen)\n"
	      "  --seed N            chaos mode's generator\n"
	      "  --delay-ms D        answer each job D ms after receiving it\n"
	      "  --jitter-ms J       plus a pseudo-random 0..J ms per job\n"
	      "  --error-every N     answer every Nth job with STATUS_ERROR\n"
	      "  --fail-held         answer every HOLD job (a held slice or first field) with\n"
	      "                      STATUS_ERROR, every other job as the mode says, whatever\n"
	      "                      its flags (DAEDALUS_JOB_FLAG_LOST_PIECE: counted only)\n"
	      "  --reopen-after-held answer the first HOLD job DONE, then close the bridge and\n"
	      "                      open it again (a new session that never saw that piece),\n"
	      "                      rewriting --ready-file with the new session number\n"
	      "  --jobs N            stop after N jobs were answered\n"
	      "  --run-ms T          stop after T ms\n"
	      "  --close-after N     hold N jobs, then close the bridge (see --hold-ms)\n"
	      "  --exit-after N      hold N jobs, then exit\n"
	      "  --hold-ms H         wait H ms before that close/exit\n"
	      "  --reopen            after --close-after, open again and serve (mode ok)\n"
	      "  --ready-file F      create F once the handshake is done\n"
	      "  --expect-all-gone   at the end, every buffer and context must be gone\n"
	      "  --expect-pending N  at least N jobs must have been in flight at once\n"
	      "  --expect-open-error ERRNAME  only open the bridge; pass if it fails so\n"
	      "  --open-only MS      open the bridge, no HELLO, wait MS ms, close\n"
	      "  --probe-faults      fetch each job first into a too small control area\n"
	      "                      (ENOSPC) and a read-only message (EFAULT)\n"
	      "  --pipeline N        HELLO with PIPELINE, asking for N jobs per context\n"
	      "  --expect-inflight N the kernel must grant max_inflight N\n"
	      "  --lifo              answer the jobs of a context newest first\n"
	      "  --no-ref-fds        HELLO without REF_FDS (as daedalus-v4l2d): a reference\n"
	      "                      must never bring an fd; one whose buffer has no fd here\n"
	      "                      is recorded as BAD unless flagged ERROR\n"
	      "  --no-owner          HELLO without OWNER: every job must name user 0\n"
	      "  --cancel-delay-ms D answer a JOB_CANCEL the kernel waits for (a timeout)\n"
	      "                      D ms after it, as a daemon still decoding would\n"
	      "  --ignore-cancel     never answer a JOB_CANCEL the kernel waits for\n"
	      "  --uffd-hold N:FILE  the first GET_MSG once N jobs were received goes into a\n"
	      "                      message whose body page is missing (userfaultfd): the\n"
	      "                      kernel's copy stops there; FILE is created then, and the\n"
	      "                      copy goes on once FILE.go exists (dv_uffd_hold.h)\n"
	      "  --uffd-fail         and the copy fails (the page unmapped): EFAULT\n"
	      "  --uffd-pause        after the held GET_MSG returned, create FILE.returned and\n"
	      "                      fetch nothing more until FILE.resume exists\n"
	      "  --app-aborts        the answer to a waiting JOB_CANCEL may get ENOENT: the\n"
	      "                      application STREAMOFFed or closed since (wait_claimed)\n"
	      "  --now               print CLOCK_MONOTONIC in ns (for scripts) and exit\n"
	      "  -v                  print every job and event\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "jitter-ms", required_argument, NULL, 'j' },
		{ "error-every", required_argument, NULL, 'e' },
		{ "fail-held", no_argument, NULL, 'B' },
		{ "reopen-after-held", no_argument, NULL, 'A' },
		{ "jobs", required_argument, NULL, 'n' },
		{ "run-ms", required_argument, NULL, 't' },
		{ "close-after", required_argument, NULL, 'C' },
		{ "exit-after", required_argument, NULL, 'X' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "reopen", no_argument, NULL, 'R' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "expect-all-gone", no_argument, NULL, 'g' },
		{ "expect-pending", required_argument, NULL, 'p' },
		{ "expect-open-error", required_argument, NULL, 'E' },
		{ "open-only", required_argument, NULL, 'O' },
		{ "now", no_argument, NULL, 'N' },
		{ "probe-faults", no_argument, NULL, 'P' },
		{ "uffd-hold", required_argument, NULL, 'Y' },
		{ "uffd-fail", no_argument, NULL, 'Z' },
		{ "app-aborts", no_argument, NULL, 'Q' },
		{ "uffd-pause", no_argument, NULL, 'K' },
		{ "pipeline", required_argument, NULL, 'L' },
		{ "expect-inflight", required_argument, NULL, 'I' },
		{ "lifo", no_argument, NULL, 'F' },
		{ "no-ref-fds", no_argument, NULL, 'f' },
		{ "no-owner", no_argument, NULL, 'U' },
		{ "cancel-delay-ms", required_argument, NULL, 'D' },
		{ "ignore-cancel", no_argument, NULL, 'G' },
		{ "seed", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *open_err = NULL;
	int open_only_ms = -1, fds_at_start = -1, fds_at_end = -1, reserved;
	uint64_t t_start, t_stop = 0;
	bool reopen_now = false;
	int c;

	while ((c = getopt_long(argc, argv, "v", lopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "ok"))
				opt.mode = MODE_OK;
			else if (!strcmp(optarg, "error"))
				opt.mode = MODE_ERROR;
			else if (!strcmp(optarg, "badid"))
				opt.mode = MODE_BADID;
			else if (!strcmp(optarg, "oversize"))
				opt.mode = MODE_OVERSIZE;
			else if (!strcmp(optarg, "hang"))
				opt.mode = MODE_HANG;
			else if (!strcmp(optarg, "chaos"))
				opt.mode = MODE_CHAOS;
			else
				usage();
			break;
		case 'd': opt.delay_ms = atoi(optarg); break;
		case 'j': opt.jitter_ms = atoi(optarg); break;
		case 'e': opt.error_every = atoi(optarg); break;
		case 'B': opt.fail_held = true; break;
		case 'A': opt.reopen_after_held = true; break;
		case 'n': opt.jobs_limit = atoi(optarg); break;
		case 't': opt.run_ms = atoi(optarg); break;
		case 'C': opt.close_after = atoi(optarg); break;
		case 'X': opt.exit_after = atoi(optarg); break;
		case 'H': opt.hold_ms = atoi(optarg); break;
		case 'R': opt.reopen = true; break;
		case 'r': opt.ready_file = optarg; break;
		case 'g': opt.expect_all_gone = true; break;
		case 'p': opt.expect_pending = atoi(optarg); break;
		case 'E': open_err = optarg; break;
		case 'O': open_only_ms = atoi(optarg); break;
		case 'P': opt.probe_faults = true; break;
		case 'Y': {
			char *end;

			opt.uffd_after = (unsigned int)strtoul(optarg, &end, 10);
			if (end == optarg || *end != ':' || !end[1])
				usage();
			opt.uffd_file = end + 1;
			break;
		}
		case 'Z': opt.uffd_fail = true; break;
		case 'Q': opt.app_aborts = true; break;
		case 'K': opt.uffd_pause = true; break;
		case 'L': opt.pipeline = atoi(optarg); break;
		case 'I': opt.expect_inflight = atoi(optarg); break;
		case 'F': opt.lifo = true; break;
		case 'f': opt.no_ref_fds = true; break;
		case 'U': opt.no_owner = true; break;
		case 'D': opt.cancel_delay_ms = atoi(optarg); break;
		case 'G': opt.ignore_cancel = true; break;
		case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'N':
			printf("%llu\n", (unsigned long long)dv_now_ns());
			return 0;
		case 'v': opt.verbose++; break;
		default: usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (open_err) {
		int want = dv_errno_from_name(open_err);
		int fd = open(DAEDALUS_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		int got = fd < 0 ? errno : 0;

		printf("dv-testpeer: open %s as uid %d: %s\n", DAEDALUS_DEVICE_PATH,
		       (int)getuid(), dv_errname(got));
		if (fd >= 0)
			close(fd);
		if (got != want) {
			printf("dv-testpeer: FAIL open gave %s, want %s\n", dv_errname(got),
			       open_err);
			return 1;
		}
		printf("dv-testpeer: PASS open failed with %s as expected\n", open_err);
		return 0;
	}

	if (open_only_ms >= 0) {
		/* Attached but never said HELLO: must count as no daemon. */
		bridge = open(DAEDALUS_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (bridge < 0) {
			printf("dv-testpeer: FAIL open: %s\n", dv_errname(errno));
			return 1;
		}
		if (opt.ready_file)
			dv_signal_create(opt.ready_file, "");
		printf("dv-testpeer: bridge open without HELLO for %d ms\n", open_only_ms);
		usleep(open_only_ms * 1000u);
		close(bridge);
		return 0;
	}

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (opt.uffd_file) {
		int r = dv_uffd_hold_init(&uhold, opt.uffd_file, opt.uffd_fail);

		if (r) {
			fprintf(stderr, "dv-testpeer: userfaultfd: %s (CONFIG_USERFAULTFD?)\n",
				dv_errname(-r));
			return 1;
		}
	}
	if (bridge_open_hello())
		return 1;
	write_ready_file();
	fds_at_start = count_fds();
	t_start = dv_now_ns();
	if (opt.mode == MODE_HANG)
		opt.delay_ms = 0;

	while (!stop) {
		struct pollfd pfd = { .fd = bridge, .events = POLLIN };
		uint64_t now = dv_now_ns(), next = UINT64_MAX;
		int timeout = 1000;

		if (opt.run_ms && now - t_start >= (uint64_t)opt.run_ms * 1000000ull)
			break;
		if (opt.jobs_limit && st.completed + st.late_rejected >= opt.jobs_limit &&
		    !st.pending)
			break;
		if (opt.close_after && st.pending >= opt.close_after) {
			hold_and_leave(false);
			if (!opt.reopen)
				break;
			drop_session_state();
			st.reopens++;
			opt.close_after = 0;
			opt.mode = MODE_OK;
			opt.delay_ms = 0;
			if (bridge_open_hello())
				return 1;
			continue;
		}
		if (opt.exit_after && st.pending >= opt.exit_after)
			hold_and_leave(true);
		/* chaos: now and then the daemon goes away with jobs in hand and comes back */
		if (opt.mode == MODE_CHAOS && st.pending && !chaos_rnd(400)) {
			hold_and_leave(false);
			drop_session_state();
			st.reopens++;
			if (bridge_open_hello())
				return 1;
			continue;
		}

		/* Waiting JOB_CANCELs answered late (--cancel-delay-ms), in any mode. */
		for (size_t k = 0; k < njobs; k++) {
			struct pjob *j = &jobs[k];

			if (j->finished || !j->cancel_due_ns)
				continue;
			if (j->cancel_due_ns <= now)
				job_finish(j);
			else if (j->cancel_due_ns < next)
				next = j->cancel_due_ns;
		}
		/* Answer what is due (never in hang mode); --lifo: newest first. */
		for (size_t k = 0; k < njobs && opt.mode != MODE_HANG && !reopen_now; k++) {
			struct pjob *j = &jobs[opt.lifo ? njobs - 1 - k : k];

			if (j->finished || j->cancelled || j->never || opt.close_after || opt.exit_after)
				continue;
			/* Newer jobs of its context are answered first. */
			if (opt.lifo && newer_pending(j))
				continue;
			if (j->due_ns <= now) {
				job_finish(j);
				reopen_now = opt.reopen_after_held && j->held && !j->fail;
			} else if (j->due_ns < next) {
				next = j->due_ns;
			}
		}
		/*
		 * --reopen-after-held: the piece was answered DONE, so this session's daemon
		 * holds it; a new session gets the rest of the picture and must be told it
		 * lacks that piece (DAEDALUS_JOB_FLAG_LOST_PIECE), which this peer ignores: the
		 * kernel must still return the picture with ERROR.
		 */
		if (reopen_now) {
			reopen_now = false;
			opt.reopen_after_held = false;
			hold_and_leave(false);
			drop_session_state();
			st.reopens++;
			if (bridge_open_hello())
				return 1;
			write_ready_file();
			continue;
		}
		if (next != UINT64_MAX) {
			uint64_t ms = (next - now) / 1000000ull + 1;

			timeout = ms < 1000 ? (int)ms : 1000;
		}
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			perror("poll");
			break;
		}
		if (pfd.revents & POLLIN)
			while (!stop && get_one() > 0)
				if (opt.close_after && st.pending >= opt.close_after)
					break;
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			fprintf(stderr, "dv-testpeer: poll revents %#x\n", pfd.revents);
			st.unexpected++;
			break;
		}
	}

	if (bridge >= 0 && opt.expect_all_gone) {
		t_stop = dv_now_ns();
		while (!all_gone() && dv_ms_since(t_stop) < opt.gone_wait_ms) {
			struct pollfd pfd = { .fd = bridge, .events = POLLIN };

			if (poll(&pfd, 1, 100) > 0)
				while (get_one() > 0)
					;
		}
		fds_at_end = count_fds();
		reserved = count_reserved_fds();
		if (reserved)
			VIOLATION("%d fd numbers reserved in this process and never installed",
				  reserved);
		if (all_gone() && fds_at_end != fds_at_start)
			VIOLATION("%d fds open at the start, %d at the end with every buffer gone",
				  fds_at_start, fds_at_end);
		if (!all_gone()) {
			size_t hl = 0, cl = 0;

			for (size_t i = 0; i < nhandles; i++)
				hl += !handles[i].gone;
			for (size_t i = 0; i < nctxs; i++)
				cl += !ctx_gone[i];
			VIOLATION("%zu buffers and %zu contexts never reported gone", hl, cl);
		}
	}
	if (bridge >= 0)
		while (get_one() > 0)
			;
	for (size_t i = 0; i < njobs; i++)
		if (jobs[i].raced && !jobs[i].cancelled) {
			st.unexpected++;
			fprintf(stderr, "dv-testpeer: UNEXPECTED: answer to job %llu got ENOENT"
				" and no JOB_CANCEL came\n", jobs[i].id);
		}
	if (opt.expect_pending && st.max_pending < opt.expect_pending) {
		printf("dv-testpeer: only %u jobs were in flight at once, want >= %u\n",
		       st.max_pending, opt.expect_pending);
		st.unexpected++;
	}
	printf("dv-testpeer: %s session=%u jobs=%u completed=%u errors_sent=%u "
	       "rejected_as_expected=%u late_rejected=%u cancels=%u cancel_answered=%u "
	       "cancel_crossed=%u ctx_gone=%u "
	       "buf_gone=%u fds_open=%u refs_found=%u refs_content_ok=%u ref_fds=%u "
	       "refs_unknown=%u "
	       "max_in_flight=%u probe_enospc=%u probe_efault=%u answers_raced=%u "
	       "granted_inflight=%u max_inflight_hint=%u max_queued_hint=%u "
	       "garbage=%u never_answered=%u reopens=%u held=%u lost_piece=%u "
	       "stream_starts=%u last_start_seq=%u uffd_held=%u uffd_efault=%u uffd_type=%d "
	       "wait_claimed=%u "
	       "unexpected=%u violations=%u ",
	       st.unexpected || st.violations ? "FAIL" : "PASS", session, st.jobs,
	       st.completed, st.errors_sent, st.rejected_ok, st.late_rejected,
	       st.cancels, st.cancel_answered, st.cancel_crossed, st.ctx_gone, st.buf_gone, st.fds, st.ref_found,
	       st.ref_checked_ok, st.ref_fds, st.ref_unknown, st.max_pending, st.probe_enospc, st.probe_efault,
	       st.raced, st.max_inflight, st.max_hint_inflight, st.max_queued,
	       st.garbage, st.never, st.reopens, st.held, st.lost_piece, st.stream_starts,
	       st.last_start_seq, st.uffd_held, st.uffd_efault, st.uffd_type,
	       st.wait_claimed, st.unexpected,
	       st.violations);
	print_owners(stdout);
	putchar('\n');
	if (bridge >= 0)
		close(bridge);
	return st.unexpected || st.violations ? 1 : 0;
}
