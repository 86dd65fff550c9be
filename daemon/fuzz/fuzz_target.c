/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's untrusted boundary as a libFuzzer target, one build per codec (FUZZ_CODEC):
 * a fuzz input (fuzz_input.h) is one stream of jobs a hostile client could cause. Each job
 * becomes the protocol message the kernel would send (struct daedalus_job, its control table
 * and payload area, dmabufs for the OUTPUT and CAPTURE buffers) and takes the daemon's own
 * path: dm_job_new() and dm_job_to_engine() (daemon/process/job.c, with the real buffer cache
 * over memfds), then the engine: dd_stream_decode(), or dd_stream_submit()/collect() with
 * several jobs in flight, STREAM_START flushes, HOLD/NEW_FRAME pieces of one picture.
 *
 * Besides ASan/UBSan, the target checks what the engine promises (engine.h): a failure
 * always says why, jobs are collected in submission order, nothing is written outside the
 * CAPTURE planes (a canary page after each) and the OUTPUT buffer is never written (it is
 * mapped read-only, as the kernel's are). A broken promise aborts, which libFuzzer reports
 * as a crash.
 *
 * Built with -fsanitize=fuzzer (clang) it is a libFuzzer binary; without, fuzz_replay.c
 * supplies main() and runs files through it (the regression tests, the seed check).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "error.h"
#include "ffmpeg_lib.h"
#ifdef DD_HAVE_DAV1D
#include "dav1d_lib.h"
#endif
#include "fuzz_input.h"
#include "fuzz_target.h"
#include "job.h"
#include "log.h"

#if !defined(FUZZ_CODEC) || !defined(FUZZ_NAME)
#error "FUZZ_CODEC (a DD_CODEC_*) and FUZZ_NAME (its target's name) must be defined"
#endif

#define POOL 8          /* CAPTURE buffers, more than jobs in flight */
#define MAX_INFLIGHT 4
#define CANARY 4096     /* bytes after each CAPTURE plane that nothing may write */
#define CANARY_BYTE 0xa5

struct fz_stats fz_stats;

/* job.c and bufcache.c log through the daemon's log; here it is quiet unless asked. */
static bool verbose;

void dm_log(enum dd_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "daemon %d: ", (int)level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void engine_log(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	if (verbose)
		fprintf(stderr, "engine %d: %s\n", (int)level, msg);
}

/* [0]: one thread, one job at a time; [1]: two threads, jobs in flight (dav1d frame threads) */
static struct dd_engine *engines[2];

static void fatal(const char *what)
{
	fprintf(stderr, "fuzz_%s: %s\n", dd_codec_name(FUZZ_CODEC), what);
	abort();
}

/*
 * FUZZ_LIB_DIR (scripts/fuzz --instrumented-libs): the decoders come from that directory,
 * FFmpeg and dav1d built with coverage and ASan (scripts/fuzz-libs), so that libFuzzer
 * steers by their branches too. A run that meant to use them and got the system's
 * libraries instead would look the same from outside, only blind: the libraries mapped
 * after the engines opened them are checked, and any other copy aborts the run.
 */
static const char *const lib_names[] = {
	DD_AVCODEC_SONAME, DD_AVUTIL_SONAME,
#ifdef DD_HAVE_DAV1D
	DD_DAV1D_SONAME,
#endif
};
static char lib_paths[sizeof(lib_names) / sizeof(lib_names[0])][4096];

static void use_lib_dir(struct dd_engine_config *c, const char *dir)
{
	for (size_t i = 0; i < sizeof(lib_names) / sizeof(lib_names[0]); i++)
		if (snprintf(lib_paths[i], sizeof(lib_paths[i]), "%s/%s", dir, lib_names[i]) >=
		    (int)sizeof(lib_paths[i]))
			fatal("FUZZ_LIB_DIR is too long");
	c->ffmpeg_avcodec_path = lib_paths[0];
	c->ffmpeg_avutil_path = lib_paths[1];
#ifdef DD_HAVE_DAV1D
	c->dav1d_path = lib_paths[2];
#endif
}

/* Every mapped libavcodec, libavutil and libdav1d lies in dir, and this codec's is there. */
static void check_lib_dir(const char *dir)
{
	const char *want = FUZZ_CODEC == DD_CODEC_AV1 ? "/libdav1d.so" : "/libavcodec.so";
	char line[4608], real_dir[4096];
	bool found = false;
	FILE *maps;

	if (!realpath(dir, real_dir))
		fatal("FUZZ_LIB_DIR does not exist");
	maps = fopen("/proc/self/maps", "r");
	if (!maps)
		fatal("cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');

		if (!path || !(strstr(path, "/libavcodec.so") || strstr(path, "/libavutil.so") ||
			       strstr(path, "/libdav1d.so")))
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strncmp(path, real_dir, strlen(real_dir)) || path[strlen(real_dir)] != '/') {
			fprintf(stderr, "fuzz_%s: %s is mapped, not the copy in %s\n",
				dd_codec_name(FUZZ_CODEC), path, real_dir);
			fatal("a decoder library from outside FUZZ_LIB_DIR");
		}
		found |= strstr(path, want) != NULL;
	}
	fclose(maps);
	if (!found)
		fatal("the codec's library from FUZZ_LIB_DIR is not mapped");
	/* scripts/fuzz looks for this line; it is not of the form of an error ("fuzz_CODEC: ") */
	fprintf(stderr, "fuzz_%s uses the decoders in %s\n", FUZZ_NAME, real_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dd_engine_config one = { .threads = 1, .log = engine_log };
	struct dd_engine_config many = { .threads = 2, .frame_delay = MAX_INFLIGHT,
					 .log = engine_log };
	const char *lib_dir = getenv("FUZZ_LIB_DIR");
	struct dd_error why;

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (lib_dir && *lib_dir) {
		use_lib_dir(&one, lib_dir);
		use_lib_dir(&many, lib_dir);
	}
	engines[0] = dd_engine_new(&one);
	engines[1] = dd_engine_new(&many);
	if (!engines[0] || !engines[1])
		fatal("no engine");
	/* a target that cannot decode its codec at all would fuzz nothing but job.c */
	if (!dd_engine_supports(engines[0], FUZZ_CODEC, V4L2_PIX_FMT_NV12, 8, NULL, &why)) {
		fprintf(stderr, "fuzz_%s: %s\n", dd_codec_name(FUZZ_CODEC), why.msg);
		fatal("this engine cannot decode the codec");
	}
	if (lib_dir && *lib_dir)
		check_lib_dir(lib_dir);
	return 0;
}

/* The CAPTURE layout the kernel computes (daedalus_fill_picture) for the stream's format. */
struct layout {
	uint32_t fourcc;
	struct daedalus_picture pic;
	unsigned int num_mem;
	uint32_t mem_len[DAEDALUS_MAX_MEM_PLANES];
};

static uint32_t clamp_align(uint32_t v, uint32_t max)
{
	v = (v + 15) & ~15u;
	return v < 16 ? 16 : v > max ? max : v;
}

static void make_layout(const struct fz_stream *s, struct layout *l)
{
	static const uint32_t fourccs[FZ_FORMAT_COUNT] = {
		V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_P010, V4L2_PIX_FMT_YUV420M };
	enum fz_format f = (enum fz_format)(s->format % FZ_FORMAT_COUNT);
	uint32_t w = clamp_align(s->width, FZ_MAX_WIDTH), h = clamp_align(s->height, FZ_MAX_HEIGHT);
	uint32_t stride = w * (f == FZ_FORMAT_P010 ? 2 : 1);
	uint32_t luma;

	if (s->flags & FZ_STREAM_WIDE_STRIDE)
		stride = (stride + 64 + 63) & ~63u;
	luma = stride * h;
	memset(l, 0, sizeof(*l));
	l->fourcc = fourccs[f];
	l->pic = (struct daedalus_picture){ .fourcc = l->fourcc, .width = w, .height = h,
					    .coded_width = w, .coded_height = h };
	l->pic.plane[0] = (struct daedalus_color_plane){ 0, 0, stride, luma };
	if (f == FZ_FORMAT_YUV420M) {
		l->pic.num_color_planes = 3;
		l->pic.plane[1] = (struct daedalus_color_plane){ 1, 0, stride / 2, luma / 4 };
		l->pic.plane[2] = (struct daedalus_color_plane){ 2, 0, stride / 2, luma / 4 };
		l->num_mem = 3;
		l->mem_len[0] = luma;
		l->mem_len[1] = l->mem_len[2] = luma / 4;
	} else {
		l->pic.num_color_planes = 2;
		l->pic.plane[1] = (struct daedalus_color_plane){ 0, luma, stride, luma / 2 };
		l->num_mem = 1;
		l->mem_len[0] = luma + luma / 2;
	}
}

/* A memfd of len bytes (at least one) holding data; sealed against writes if read_only. */
static int make_memfd(const void *data, size_t len, size_t fill_len, bool read_only)
{
	int fd = memfd_create("fuzz-dmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)(len ? len : 1)) < 0)
		fatal("memfd");
	if (data && len && pwrite(fd, data, len, 0) != (ssize_t)len)
		fatal("memfd write");
	if (fill_len) {
		uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (m == MAP_FAILED)
			fatal("memfd mmap");
		memset(m, CANARY_BYTE, fill_len);
		munmap(m, len);
	}
	/* the bufcache then maps it read-only (mmap PROT_WRITE | MAP_SHARED fails with EPERM) */
	if (read_only && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		fatal("memfd seal");
	return fd;
}

struct slot {
	struct dm_job *job;
	union dm_job_ctrls ctrl;
	struct dd_picture pic;
	struct dd_job dj;
	unsigned int capture; /* its CAPTURE buffer */
};

struct run {
	struct dm_bufcache cache;
	struct layout lay;
	uint64_t capture_handle[POOL][DAEDALUS_MAX_MEM_PLANES];
	uint64_t next_handle;
	struct dd_stream *stream;
	struct slot *slots; /* ring of MAX_INFLIGHT */
	unsigned int head, count, lookahead;
	uint64_t next_cookie;
};

/* Nothing outside a CAPTURE buffer's planes was written: the canary after it is intact. */
static void check_canaries(struct run *r, unsigned int buf)
{
	for (unsigned int i = 0; i < r->lay.num_mem; i++) {
		struct dm_mapping *m = dm_bufcache_get(&r->cache, r->capture_handle[buf][i]);

		if (!m)
			fatal("CAPTURE buffer vanished");
		for (size_t k = r->lay.mem_len[i]; k < m->len; k++)
			if (m->addr[k] != CANARY_BYTE)
				fatal("the engine wrote past a CAPTURE plane");
		dm_bufcache_put(&r->cache, m);
	}
}

static void job_done(struct run *r, struct slot *s, bool ok, const struct dd_error *err)
{
	if (ok) {
		fz_stats.decoded++;
	} else {
		fz_stats.failed++;
		if (!err->msg[0])
			fatal("a job failed without a reason");
		if (verbose)
			fprintf(stderr, "job failed: %s\n", err->msg);
	}
	check_canaries(r, s->capture);
	/* the kernel's BUF_GONE for the OUTPUT buffer: the job's reference keeps it mapped */
	dm_bufcache_gone(&r->cache, s->job->output->handle);
	dm_job_free(s->job, &r->cache);
	s->job = NULL;
}

static void collect(struct run *r, bool wait)
{
	while (r->count) {
		struct slot *s = &r->slots[r->head];
		struct dd_error err = { "", DD_ERR_DATA };
		uint64_t cookie;
		enum dd_collect c = dd_stream_collect(r->stream, wait, &cookie, &err);

		if (c == DD_COLLECT_NONE) {
			if (wait)
				fatal("collect with wait returned nothing while jobs were pending");
			return;
		}
		if (cookie != r->next_cookie - r->count)
			fatal("jobs collected out of submission order");
		job_done(r, s, c == DD_COLLECT_OK, &err);
		r->head = (r->head + 1) % MAX_INFLIGHT;
		r->count--;
	}
}

static bool add_buffer(struct run *r, uint64_t handle, int fd, uint32_t len)
{
	/* dm_bufcache_add takes the fd; a failed mapping is the daemon's "never sent" case */
	return dm_bufcache_add(&r->cache, handle, fd, len) == 0;
}

/* The sticky control values and the table the kernel would send for one job. */
struct ctrls {
	const struct fz_ctrl_desc *desc;
	unsigned int n;
	uint8_t *value[FZ_MAX_CTRLS];
	uint32_t elems[FZ_MAX_CTRLS];
};

static bool read_job(struct fz_reader *rd, struct ctrls *c, struct fz_job_head *head,
		     struct fz_mangle *mangles)
{
	if (!fz_read(rd, head, sizeof(*head)))
		return false;
	head->num_mangles %= FZ_MAX_MANGLES + 1;
	for (unsigned int i = 0; i < head->num_mangles; i++)
		fz_read(rd, &mangles[i], sizeof(mangles[i]));
	for (unsigned int i = 0; i < c->n; i++) {
		uint32_t elems = 1;

		if (!(head->set & (1u << i)))
			continue;
		if (c->desc[i].max_elems > 1) {
			uint16_t n;

			fz_read(rd, &n, sizeof(n));
			elems = n > c->desc[i].max_elems ? c->desc[i].max_elems : n;
		}
		c->elems[i] = elems;
		fz_read(rd, c->value[i], (size_t)elems * c->desc[i].elem_size);
	}
	return true;
}

static uint32_t build_table(const struct ctrls *c, uint8_t set, struct daedalus_job *msg,
			    uint8_t *data)
{
	uint32_t total = 0;

	for (unsigned int i = 0; i < c->n; i++) {
		uint32_t size = c->elems[i] * c->desc[i].elem_size;

		total = (total + 7) & ~7u;
		msg->ctrls[i] = (struct daedalus_ctrl){
			.id = c->desc[i].id, .elem_size = c->desc[i].elem_size,
			.elems = c->elems[i], .offset = total, .size = size,
			.flags = set & (1u << i) ? DAEDALUS_CTRL_FLAG_IN_REQUEST : 0 };
		memcpy(data + total, c->value[i], size);
		total += size;
	}
	msg->num_ctrls = c->n;
	msg->ctrl_bytes = total;
	return total;
}

static void mangle(struct daedalus_job *msg, const struct fz_mangle *m)
{
	/* any entry, also past the codec's controls (num_ctrls may be mangled too) */
	struct daedalus_ctrl *c = &msg->ctrls[m->ctrl % DAEDALUS_MAX_CTRLS];

	switch ((enum fz_field)(m->field % FZ_FIELD_COUNT)) {
	case FZ_FIELD_ID:
		c->id = m->value;
		break;
	case FZ_FIELD_ELEM_SIZE:
		c->elem_size = m->value;
		break;
	case FZ_FIELD_ELEMS:
		c->elems = m->value;
		break;
	case FZ_FIELD_OFFSET:
		c->offset = m->value;
		break;
	case FZ_FIELD_SIZE:
		c->size = m->value;
		break;
	case FZ_FIELD_FLAGS:
		c->flags = m->value;
		break;
	case FZ_FIELD_NUM_CTRLS:
		msg->num_ctrls = m->value;
		break;
	case FZ_FIELD_CTRL_BYTES:
		/* more than the payload area (GET_MSG's size): dm_job_new() must refuse it */
		msg->ctrl_bytes = m->value;
		break;
	default:
		break;
	}
}

/* The payload area, as GET_MSG's: the tables and every control's payload fit. */
#define CTRL_AREA_SIZE (FZ_MAX_CTRLS * 8 + sizeof(union dm_job_ctrls) + 64)

/* One job through the daemon's path; false when the input is used up. */
static bool one_job(struct run *r, struct fz_reader *rd, struct ctrls *c, uint8_t *ctrl_data,
		    unsigned int *capture, bool *held)
{
	static struct daedalus_job msg; /* 5 KiB: not on the (ASan-enlarged) stack */
	struct fz_mangle mangles[FZ_MAX_MANGLES];
	struct fz_job_head head;
	struct dm_failure fail = { DAEDALUS_REASON_NONE, { "", DD_ERR_DATA } };
	const uint8_t *bits;
	size_t bits_len;
	struct slot *s;
	uint64_t out_handle;
	uint32_t w, h;

	if (fz_at_end(rd) || !read_job(rd, c, &head, mangles))
		return false;
	bits = fz_take(rd, head.bitstream_size, &bits_len);

	memset(&msg, 0, sizeof(msg));
	msg.job_id = fz_stats.jobs++;
	msg.ctx_id = 1;
	msg.codec = FUZZ_CODEC == DD_CODEC_H264 ? DAEDALUS_CODEC_H264 :
		    FUZZ_CODEC == DD_CODEC_VP8 ? DAEDALUS_CODEC_VP8 :
		    FUZZ_CODEC == DD_CODEC_VP9 ? DAEDALUS_CODEC_VP9 : DAEDALUS_CODEC_AV1;
	msg.flags = (head.flags & FZ_JOB_NEW_FRAME ? DAEDALUS_JOB_FLAG_NEW_FRAME : 0) |
		    (head.flags & FZ_JOB_HOLD ? DAEDALUS_JOB_FLAG_HOLD : 0) |
		    (head.flags & FZ_JOB_STREAM_START ? DAEDALUS_JOB_FLAG_STREAM_START : 0) |
		    (head.flags & FZ_JOB_LOST_PIECE ? DAEDALUS_JOB_FLAG_LOST_PIECE : 0);
	msg.sequence = (uint32_t)msg.job_id;
	build_table(c, head.set, &msg, ctrl_data);
	for (unsigned int i = 0; i < head.num_mangles; i++)
		mangle(&msg, &mangles[i]);
	msg.picture = r->lay.pic;

	/* a fresh OUTPUT buffer per job (jobs in flight keep theirs), read-only like the kernel's */
	out_handle = r->next_handle++;
	if (!add_buffer(r, out_handle, make_memfd(bits, bits_len, 0, true),
			(uint32_t)(bits_len ? bits_len : 1)))
		fatal("cannot map the OUTPUT memfd");
	msg.output = (struct daedalus_buffer){ .timestamp = head.timestamp, .num_mem_planes = 1 };
	msg.output.mem[0] = (struct daedalus_mem_plane){ .handle = out_handle, .fd = -1,
		.length = (uint32_t)(bits_len ? bits_len : 1), .bytesused = (uint32_t)bits_len };

	/* the kernel keeps a held CAPTURE buffer for the job after a HOLD one of the same frame */
	if (!*held || (head.flags & FZ_JOB_NEW_FRAME))
		*capture = (*capture + 1) % POOL;
	*held = head.flags & FZ_JOB_HOLD;
	msg.capture = (struct daedalus_buffer){ .timestamp = head.timestamp,
						.num_mem_planes = r->lay.num_mem };
	for (unsigned int i = 0; i < r->lay.num_mem; i++)
		msg.capture.mem[i] = (struct daedalus_mem_plane){
			.handle = r->capture_handle[*capture][i], .fd = -1,
			.length = r->lay.mem_len[i] };

	/* a client with lookahead requests queued: the oldest must be done first */
	if (r->count >= r->lookahead)
		collect(r, true);
	s = &r->slots[(r->head + r->count) % MAX_INFLIGHT];
	s->capture = *capture;
	s->job = dm_job_new(&msg, ctrl_data, CTRL_AREA_SIZE, &r->cache, &fail);
	if (msg.ctrl_bytes > CTRL_AREA_SIZE) {
		if (s->job)
			fatal("dm_job_new took a payload larger than the area it was read into");
		fz_stats.refused++;
		dm_bufcache_gone(&r->cache, out_handle);
		return true;
	}
	if (!s->job)
		fatal("dm_job_new refused a well-formed message");
	if (dm_job_to_engine(s->job, &s->ctrl, &s->pic, &s->dj, &fail)) {
		if (!fail.why.msg[0])
			fatal("dm_job_to_engine failed without a reason");
		fz_stats.refused++;
		dm_bufcache_gone(&r->cache, out_handle);
		dm_job_free(s->job, &r->cache);
		s->job = NULL;
		return true;
	}
	/* what the daemon logs for a new format must not read outside the controls */
	dd_job_coded_size(&s->dj, &w, &h);
	/* as the daemon's open_stream(): a stream the engine refuses fails the job, and the
	 * next job tries again */
	if (!r->stream) {
		r->stream = dd_stream_open(engines[r->lookahead > 1], FUZZ_CODEC, r->lay.fourcc,
					   &fail.why);
		if (!r->stream) {
			job_done(r, s, false, &fail.why);
			return true;
		}
	}
	if (msg.flags & DAEDALUS_JOB_FLAG_STREAM_START)
		dd_stream_flush(r->stream);
	if (r->lookahead == 1) {
		bool ok = dd_stream_decode(r->stream, &s->dj, &fail.why) == 0;

		job_done(r, s, ok, &fail.why);
	} else if (dd_stream_submit(r->stream, &s->dj, r->next_cookie, &fail.why)) {
		/* failed at once: never pending */
		job_done(r, s, false, &fail.why);
	} else {
		r->next_cookie++;
		r->count++;
		collect(r, false);
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ctrl_data[CTRL_AREA_SIZE];
	struct fz_reader rd = { data, size, 0 };
	struct fz_stream hdr;
	struct ctrls c = { 0 };
	struct run *r;
	unsigned int capture = 0;
	bool held = false;

	if (!engines[0])
		LLVMFuzzerInitialize(NULL, NULL);
	if (!fz_read(&rd, &hdr, sizeof(hdr)))
		return 0;
	fz_stats.inputs++;
	r = calloc(1, sizeof(*r));
	if (!r)
		fatal("out of memory");
	r->slots = calloc(MAX_INFLIGHT, sizeof(*r->slots));
	c.n = fz_codec_ctrls(FUZZ_CODEC, &c.desc);
	for (unsigned int i = 0; i < c.n; i++) {
		c.value[i] = calloc(c.desc[i].max_elems, c.desc[i].elem_size);
		if (!c.value[i])
			fatal("out of memory");
		/* the kernel's defaults that matter: frame-based Annex B (daedalus-ctrls.c) */
		if (c.desc[i].id == V4L2_CID_STATELESS_H264_START_CODE)
			*(uint32_t *)c.value[i] = V4L2_STATELESS_H264_START_CODE_ANNEX_B;
		/* a dynamic array starts with one (zero) element, as V4L2 makes it */
		c.elems[i] = 1;
	}
	if (!r->slots)
		fatal("out of memory");
	r->lookahead = hdr.flags & FZ_STREAM_SUBMIT ? 1 + hdr.lookahead % MAX_INFLIGHT : 1;
	dm_bufcache_init(&r->cache);
	make_layout(&hdr, &r->lay);
	r->next_handle = 1;
	for (unsigned int b = 0; b < POOL; b++)
		for (unsigned int i = 0; i < r->lay.num_mem; i++) {
			size_t len = r->lay.mem_len[i] + CANARY;

			r->capture_handle[b][i] = r->next_handle++;
			if (!add_buffer(r, r->capture_handle[b][i], make_memfd(NULL, len, len, false),
					(uint32_t)len))
				fatal("cannot map a CAPTURE memfd");
		}

	while (one_job(r, &rd, &c, ctrl_data, &capture, &held))
		;

	if (r->stream) {
		dd_stream_sync(r->stream);
		collect(r, false);
		if (r->count || dd_stream_pending(r->stream))
			fatal("jobs still pending after dd_stream_sync");
		dd_stream_close(r->stream);
	}
	for (unsigned int b = 0; b < POOL; b++)
		check_canaries(r, b);
	dm_bufcache_fini(&r->cache);
	for (unsigned int i = 0; i < c.n; i++)
		free(c.value[i]);
	free(r->slots);
	free(r);
	return 0;
}
