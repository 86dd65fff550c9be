/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daedalus-v4l2: a V4L2 stateless decoder whose decoding is done by a
 * userspace daemon. Shared definitions of the driver.
 */
#ifndef _DAEDALUS_H_
#define _DAEDALUS_H_

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/version.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <media/media-device.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/v4l2-fh.h>
#include <media/v4l2-mem2mem.h>
#include <media/videobuf2-v4l2.h>

#include <linux/daedalus-v4l2.h>

/*
 * The few differences between 6.12 (the target) and newer kernels; compare
 * with the version macros, not LINUX_VERSION_CODE, so that one test reads
 * the same everywhere.
 */
#define DAEDALUS_KERNEL_AT_LEAST(major, minor) \
	(LINUX_VERSION_MAJOR * 256 + LINUX_VERSION_PATCHLEVEL >= (major) * 256 + (minor))

#define DAEDALUS_NAME		"daedalus-v4l2"
#define DAEDALUS_BUS_INFO	"platform:" DAEDALUS_NAME

#define DAEDALUS_MIN_WIDTH	16U
#define DAEDALUS_MIN_HEIGHT	16U
#define DAEDALUS_MAX_WIDTH	4096U
#define DAEDALUS_MAX_HEIGHT	2304U
/* CAPTURE width and height are padded to this (see docs/protocol.md). */
#define DAEDALUS_CAP_ALIGN	64U

/*
 * Jobs in the device-wide table: at DAEDALUS_MAX_JOBS, job_ready holds the
 * contexts back until a job finishes. A few contexts that passed job_ready at
 * the same moment may still submit past it; only beyond the hard limit does a
 * job fail.
 */
#define DAEDALUS_MAX_JOBS	64U
#define DAEDALUS_MAX_JOBS_HARD	(2 * DAEDALUS_MAX_JOBS)
#define DAEDALUS_MAX_CTRL_BYTES	(64U * 1024U)
/* Upper bound of the max_inflight module parameter. */
#define DAEDALUS_MAX_INFLIGHT	8U

extern unsigned int daedalus_debug;
extern unsigned int daedalus_max_inflight;
extern unsigned int daedalus_job_timeout_ms;
extern unsigned int daedalus_default_codec;
extern bool daedalus_h264_slice_based;
extern bool daedalus_h264_no_start_code;

#define dd_dbg(level, dev, fmt, ...) \
	v4l2_dbg(level, daedalus_debug, &(dev)->v4l2_dev, fmt, ##__VA_ARGS__)

enum daedalus_codec {
	DAEDALUS_H264 = DAEDALUS_CODEC_H264,
	DAEDALUS_VP8 = DAEDALUS_CODEC_VP8,
	DAEDALUS_VP9 = DAEDALUS_CODEC_VP9,
	DAEDALUS_AV1 = DAEDALUS_CODEC_AV1,
	DAEDALUS_NUM_CODECS,
};

/**
 * struct daedalus_ctrl_desc - a control of one codec
 * @cfg:	control configuration (standard ids only need @cfg.id; the
 *		ops are set by daedalus_ctrls_init())
 * @need:	non-zero: every request of the codec carries this control or
 *		another of the codec with the same @need (H.264 names its
 *		pictures with DECODE_PARAMS in frame mode, SLICE_PARAMS in slice
 *		mode)
 * @def:	the default, when a module parameter chooses it (NULL: @cfg.def)
 * @validate:	try_ctrl: 0 if the daemon can decode what the value
 *		describes, else -EINVAL; accepts the control's default value
 *		(NULL: any value the V4L2 core accepts)
 * @depth:	the bit depth the value announces (8 for the default value),
 *		for the one control of the codec that announces it (NULL for
 *		the others)
 */
struct daedalus_ctrl_desc {
	struct v4l2_ctrl_config cfg;
	u8 need;
	s64 (*def)(void);
	int (*validate)(union v4l2_ctrl_ptr p);
	u32 (*depth)(union v4l2_ctrl_ptr p);
};

/**
 * struct daedalus_decoded_fmts - the CAPTURE formats of one bit depth
 * @depth:	bit depth of the stream
 * @fourccs:	the formats, the default first
 * @num_fourccs: entries of @fourccs
 */
struct daedalus_decoded_fmts {
	u32 depth;
	const u32 *fourccs;
	unsigned int num_fourccs;
};

/* Controls of one codec, and a NULL ending &daedalus_ctx.ctrls. */
#define DAEDALUS_MAX_CODEC_CTRLS	12

/* Bit depths a codec decodes (8 and 10). */
#define DAEDALUS_MAX_DEPTHS	2

/* daedalus-video.c, which knows their layouts */
extern const struct daedalus_decoded_fmts daedalus_decoded_8bit;
extern const struct daedalus_decoded_fmts daedalus_decoded_10bit;

/**
 * struct daedalus_coded_fmt - an OUTPUT (bitstream) format and its codec
 * @fourcc:	V4L2 pixel format
 * @codec:	codec of the jobs for this format
 * @frmsize:	size limits, reported by ENUM_FRAMESIZES and enforced by the
 *		controls' @validate
 * @subsystem_flags: vb2 flags of the OUTPUT queue (HOLD_CAPTURE_BUF)
 * @ctrls:	the codec's controls, in the order jobs carry them
 * @num_ctrls:	entries of @ctrls (at most DAEDALUS_MAX_CODEC_CTRLS - 1)
 * @decoded:	CAPTURE formats per bit depth, the 8-bit ones first; a
 *		depth without an entry is refused by try_ctrl
 * @ref_cid:	the control naming the reference pictures
 * @ref_size:	size of its payload
 * @num_refs:	reference slots of a job (at most DAEDALUS_MAX_REFS, which
 *		the codec's file asserts)
 * @ref_slots:	fill in the timestamp of each of the @num_refs slots from
 *		@ref_cid's payload, and whether the picture uses the slot
 *
 * Everything that differs between the codecs is here (compare rkvdec's
 * coded format descriptors); daedalus-video.c, -ctrls.c and -dec.c only
 * read it. One per codec, in daedalus-<codec>.c.
 */
struct daedalus_coded_fmt {
	u32 fourcc;
	enum daedalus_codec codec;
	struct v4l2_frmsize_stepwise frmsize;
	u32 subsystem_flags;
	const struct daedalus_ctrl_desc *ctrls;
	unsigned int num_ctrls;
	const struct daedalus_decoded_fmts *decoded[DAEDALUS_MAX_DEPTHS];
	u32 ref_cid;
	size_t ref_size;
	unsigned int num_refs;
	void (*ref_slots)(const void *p, u64 *ts, bool *used);
};

/* The size limits of every codec (docs/protocol.md: HELLO's max_width). */
#define DAEDALUS_FRMSIZE { \
	.min_width = DAEDALUS_MIN_WIDTH, .max_width = DAEDALUS_MAX_WIDTH, \
	.step_width = 1, .min_height = DAEDALUS_MIN_HEIGHT, \
	.max_height = DAEDALUS_MAX_HEIGHT, .step_height = 1, }

static inline bool daedalus_size_ok(const struct daedalus_coded_fmt *fmt,
				    u32 width, u32 height)
{
	return width <= fmt->frmsize.max_width &&
	       height <= fmt->frmsize.max_height;
}

/* daedalus-h264.c, -vp8.c, -vp9.c, -av1.c */
extern const struct daedalus_coded_fmt daedalus_h264_fmt;
extern const struct daedalus_coded_fmt daedalus_vp8_fmt;
extern const struct daedalus_coded_fmt daedalus_vp9_fmt;
extern const struct daedalus_coded_fmt daedalus_av1_fmt;

/**
 * struct daedalus_msgnode - an entry of the bridge's message FIFO
 * @entry:	link in &daedalus_bridge.fifo
 * @type:	DAEDALUS_MSG_*
 * @id:		event id (handle, ctx id or job id)
 * @flags:	event flags (JOB_CANCEL: DAEDALUS_CANCEL_FLAG_*)
 */
struct daedalus_msgnode {
	struct list_head entry;
	u32 type;
	u32 flags;
	u64 id;
};

/**
 * struct daedalus_handle - a dmabuf given to the daemon under a stable id
 * @ref:	references: the owning V4L2 buffer plane and every job naming it
 * @id:		the wire handle, unique for the module's lifetime
 * @dbuf:	the dmabuf (own reference)
 * @length:	usable bytes of the plane
 * @installed:	session in which an fd was installed into the daemon, 0 if none
 * @bridge:	where to report the end of the handle
 * @gone:	preallocated DAEDALUS_MSG_BUF_GONE message
 */
struct daedalus_handle {
	struct kref ref;
	u64 id;
	struct dma_buf *dbuf;
	u32 length;
	u32 installed;
	struct daedalus_bridge *bridge;
	struct daedalus_msgnode gone;
};

/**
 * struct daedalus_bridge - the daemon channel (/dev/daedalus-v4l2)
 * @misc:	the misc device
 * @lock:	protects every field below and the state of all jobs
 * @wq:		GET_MSG and poll() wait here
 * @open:	a file is open
 * @ready:	HELLO succeeded on the open file
 * @session:	number of the current (or last) session, never 0 (none)
 * @fifo:	messages not yet fetched: queued jobs and events
 * @jobs:	device-level job table: every job not finished yet
 * @nr_jobs:	entries of @jobs
 * @wait_lock:	protects @table_wait and @table_waits; irq-safe, since job_ready
 *		takes it under the m2m job spinlock (see daedalus_bridge_has_room())
 * @table_wait:	contexts job_ready held back because @jobs was full; each
 *		is rescheduled when a job leaves the table
 * @table_waits: how often a context was held back (debugfs)
 * @get_lock:	serialises GET_MSG, which installs fds
 * @next_job_id: job id counter
 * @next_handle_id: handle counter
 * @max_inflight: jobs of one context in flight at once, granted at HELLO
 *		(1: one job at a time, the m2m job runs until its COMPLETE)
 * @ref_fds:	the daemon asked for the fds of reference buffers
 *		(DAEDALUS_HELLO_FLAG_REF_FDS); read by GET_MSG of that session
 * @owners:	the daemon asked for each job's user (DAEDALUS_HELLO_FLAG_OWNER)
 * @wdq:	workqueue of the job watchdogs (flushed at removal)
 * @live_jobs:	jobs allocated and not yet released (debugfs)
 * @live_handles: handles still holding their dmabuf (debugfs): with
 *		@live_jobs, tells a leaked job or handle from a dmabuf held
 *		elsewhere when the module cannot be unloaded
 */
struct daedalus_bridge {
	struct miscdevice misc;
	spinlock_t lock;		/* see kernel-doc */
	wait_queue_head_t wq;
	bool open;
	bool ready;
	u32 session;
	struct list_head fifo;
	struct list_head jobs;
	unsigned int nr_jobs;
	spinlock_t wait_lock;		/* see kernel-doc */
	struct list_head table_wait;
	unsigned long table_waits;
	struct mutex get_lock;		/* see kernel-doc */
	atomic64_t next_job_id;
	atomic64_t next_handle_id;
	u32 max_inflight;
	bool ref_fds;
	bool owners;
	struct workqueue_struct *wdq;
	atomic_t live_jobs;
	atomic_t live_handles;
};

/**
 * struct daedalus_m2m - a pooled per-context m2m device
 * @entry:	link in &daedalus_dev.m2m_pool while unused
 * @m2m_dev:	the m2m device
 *
 * The m2m core schedules its job_work on the system workqueue after each
 * job and frees the m2m device without cancelling it, so per-context m2m
 * devices are recycled instead of freed until the driver goes away.
 */
struct daedalus_m2m {
	struct list_head entry;
	struct v4l2_m2m_dev *m2m_dev;
};

/**
 * struct daedalus_dev - the device
 * @v4l2_dev:	V4L2 device
 * @vfd:	the video node
 * @mdev:	media device
 * @mc_m2m_dev:	m2m device that only carries the media controller entities
 * @dev_mutex:	serialises the non-queue ioctls (vfd->lock)
 * @pool_lock:	protects @m2m_pool
 * @m2m_pool:	unused per-context m2m devices
 * @next_ctx_id: context id counter
 * @bridge:	the daemon channel
 * @users_lock:	protects @users
 * @users:	instances in use per user, indexed by kuid (daedalus-users.c)
 * @debugfs:	debugfs directory
 */
struct daedalus_dev {
	struct v4l2_device v4l2_dev;
	struct video_device vfd;
	struct media_device mdev;
	struct v4l2_m2m_dev *mc_m2m_dev;
	struct mutex dev_mutex;		/* see kernel-doc */
	struct mutex pool_lock;		/* see kernel-doc */
	struct list_head m2m_pool;
	atomic_t next_ctx_id;
	struct daedalus_bridge bridge;
	struct mutex users_lock;	/* see kernel-doc */
	struct xarray users;
	struct dentry *debugfs;
};

/**
 * struct daedalus_ctx - one open file of the video node (decoder instance)
 * @fh:		V4L2 file handle, holds the m2m context
 * @dev:	the device
 * @m2m:	this context's own m2m device (jobs of contexts run in parallel)
 * @hdl:	control handler
 * @ctrls:	controls of each codec, NULL terminated
 * @q_lock:	lock of both vb2 queues
 * @alloc_lock: held by REQBUFS and CREATE_BUFS around vb2's allocation and by
 *		mmap(): vb2 (6.12) publishes a buffer and each plane before the
 *		allocation is complete and frees them on a failure (a plane past
 *		the memory cgroup's limit, buf_init) without q->mmap_lock, so an
 *		mmap() of the buffer in between would map freed pages
 * @coded:	current OUTPUT format description
 * @fmt_lock:	guards @out_fmt and @cap_fmt against a torn read: the format
 *		ioctls hold the device's lock, the queue ioctls only @q_lock
 * @out_fmt:	OUTPUT format
 * @cap_fmt:	CAPTURE format
 * @bit_depth:	bit depth from the last SPS / frame / sequence control (8, 10)
 * @id:		context id sent to the daemon
 * @owner:	the user this instance is counted for (daedalus-users.c)
 * @charged:	counted for @owner: from the first queue_setup until release
 *		(under q_lock, or at release with no other user of the context)
 * @out_seq:	OUTPUT sequence counter
 * @cap_seq:	CAPTURE sequence counter
 * @handle_lock: protects the handles of this context's buffers
 * @job:	running job of the one-at-a-time path (under the bridge lock)
 * @inflight:	jobs of the pipelined path whose buffers are not returned
 *		yet, in dispatch order (under the bridge lock)
 * @nr_inflight: entries of @inflight (read by job_ready without a lock)
 * @done_lock:	serialises returning the buffers of @inflight, so that they
 *		go back in order
 * @resched_work: asks m2m for the next job once @nr_inflight went down or
 *		the job table has room again
 * @table_wait:	link in &daedalus_bridge.table_wait (its wait_lock)
 * @finish_work: finishes the m2m job of a pipelined dispatch under @q_lock
 * @finish_pending: device_run() left its m2m job for @finish_work (or
 *		job_abort) to finish
 * @session:	last bridge session a job of this context was delivered in
 * @dying:	being released: only job_abort may finish its job (bridge lock)
 * @abort_requested: job_abort found no job to claim and no pipelined dispatch:
 *		device_run() fails its job if it has not submitted yet;
 *		cleared by STREAMON (bridge lock)
 * @stream_start: the OUTPUT queue started streaming and no job since has been
 *		queued to the daemon: the next one queued carries STREAM_START
 *		(bridge lock)
 * @finishing:	claimed jobs whose finishing is still in progress, and jobs
 *		device_run() is failing itself
 * @nodaemon_fails: jobs failed because no daemon was attached (device_run)
 * @gone:	preallocated DAEDALUS_MSG_CTX_GONE message
 */
struct daedalus_ctx {
	struct v4l2_fh fh;
	struct daedalus_dev *dev;
	struct daedalus_m2m *m2m;
	struct v4l2_ctrl_handler hdl;
	struct v4l2_ctrl *ctrls[DAEDALUS_NUM_CODECS][DAEDALUS_MAX_CODEC_CTRLS];
	struct mutex q_lock;		/* see kernel-doc */
	struct mutex alloc_lock;	/* see kernel-doc */
	spinlock_t fmt_lock;
	const struct daedalus_coded_fmt *coded;
	struct v4l2_format out_fmt;
	struct v4l2_format cap_fmt;
	u32 bit_depth;
	u32 id;
	kuid_t owner;
	bool charged;
	u32 out_seq;
	u32 cap_seq;
	spinlock_t handle_lock;		/* see kernel-doc */
	struct daedalus_kjob *job;
	struct list_head inflight;
	atomic_t nr_inflight;
	struct mutex done_lock;		/* see kernel-doc */
	struct work_struct resched_work;
	struct list_head table_wait;
	struct work_struct finish_work;
	atomic_t finish_pending;
	u32 session;
	bool dying;
	bool abort_requested;
	bool stream_start;
	atomic_t finishing;
	unsigned int nodaemon_fails;
	struct daedalus_msgnode *gone;
};

/**
 * struct daedalus_buf - a vb2 buffer of either queue
 * @m2m:	m2m buffer, must be first
 * @handle:	dmabuf handle of each plane (under ctx->handle_lock)
 * @error:	this CAPTURE buffer holds no correct picture: a job of its
 *		picture failed, or its last job only gave the daemon pieces to
 *		hold (HOLD_CAPTURE_BUF). Cleared by the job that starts a new
 *		picture in it (NEW_FRAME) and by the submit of the job that
 *		completes one (daedalus_cap_in_flight()): a job in flight beside
 *		it that names it as a reference must not see the verdict on the
 *		buffer's previous picture, nor on its held pieces. Set at once
 *		when a pipelined job fails (daedalus_cap_failed()). Written by
 *		the job builder and submit and by
 *		whoever fails or finishes the job, read by DQBUF and by jobs
 *		naming the buffer as a reference, which hold no common lock:
 *		READ_ONCE/WRITE_ONCE
 * @lost:	a job of the picture in this CAPTURE buffer failed: set by the
 *		job's finisher, kept across the later pieces of the picture,
 *		cleared when the buffer is queued for a new picture (buf_queue;
 *		daedalus_cap_done() says why there) or when the OUTPUT stream
 *		restarts (daedalus_job_fill()); also set when a piece goes to
 *		another daemon session than the earlier ones (@session)
 * @fresh:	queued since its last job: the next job starts a new picture in
 *		it and says so (NEW_FRAME), even when device_run()'s timestamp
 *		test says otherwise because the client queued it again with the
 *		old timestamp (Chromium does), so that the daemon never adds
 *		that picture's slices to pieces it still holds from the buffer's
 *		last picture.
 *		Set by buf_queue, cleared by device_run for the job that takes
 *		the buffer, built or not; both run while no job holds the buffer,
 *		ordered by the m2m core's lock
 * @session:	bridge session the buffer's last job was queued to: only the
 *		daemon of that session can hold the pieces of the picture given so
 *		far (a failed one set @lost). A later piece queued to another
 *		session sets @lost
 *		(daedalus_note_session()). Written and read by the submit of the
 *		buffer's jobs, under the bridge lock
 * @job:	OUTPUT: the job the buffer's next device_run() fills, allocated
 *		when the buffer is prepared (daedalus_job_reserve()); taken by
 *		device_run(), freed by buf_finish or buf_cleanup when the buffer
 *		goes back without running. vb2's buffer states order the three
 */
struct daedalus_buf {
	struct v4l2_m2m_buffer m2m;
	struct daedalus_handle *handle[VIDEO_MAX_PLANES];
	bool error;
	bool lost;
	bool fresh;
	u32 session;
	struct daedalus_kjob *job;
};

enum daedalus_job_state {
	DAEDALUS_JOB_QUEUED,	/* in the FIFO, not fetched */
	DAEDALUS_JOB_SENT,	/* fetched by the daemon */
	DAEDALUS_JOB_DONE,	/* finished: claimed by exactly one path */
};

/**
 * struct daedalus_kjob - the kernel side of one decode job
 * @ref:	references (table, watchdog, GET_MSG in progress, cancel msg)
 * @table:	link in &daedalus_bridge.jobs while not DONE
 * @node:	the job message in the FIFO
 * @cancel:	the JOB_CANCEL message
 * @state:	enum daedalus_job_state, under the bridge lock
 * @session:	session it was queued to
 * @ctx:	owning context; valid until the job is finished
 * @dst:	the CAPTURE buffer
 * @src:	the OUTPUT buffer, set only for a pipelined job (its m2m job
 *		finished at dispatch; the buffers go back in daedalus_return_done())
 * @ctx_node:	link in &daedalus_ctx.inflight (pipelined jobs)
 * @done:	pipelined job finished, buffers waiting for the older jobs
 *		(under the bridge lock)
 * @result:	buffer state of a pipelined job once @done
 * @bytesused:	CAPTURE payloads of a pipelined job once @done
 * @watchdog:	fails the job when the daemon is too slow (first asking it to
 *		let go of the buffers: @timed_out)
 * @timed_out:	the watchdog expired once and sent a JOB_CANCEL with
 *		DAEDALUS_CANCEL_FLAG_WAIT; the buffers wait for the daemon's
 *		COMPLETE (under the bridge lock)
 * @delivering:	taken by GET_MSG, which is still handing it over: a claim
 *		meanwhile may yet see the delivery fail (under the bridge lock)
 * @bridge:	the bridge
 * @out_h:	handles of the OUTPUT planes
 * @cap_h:	handles of the CAPTURE planes
 * @ref_h:	handles of the reference planes
 * @msg:	the wire message, immutable once fetched (a queued job's flags
 *		may gain STREAM_START, under the bridge lock)
 * @ctrl_data:	control payloads (@msg.ctrl_bytes bytes)
 */
struct daedalus_kjob {
	struct kref ref;
	struct list_head table;
	struct daedalus_msgnode node;
	struct daedalus_msgnode cancel;
	enum daedalus_job_state state;
	u32 session;
	struct daedalus_ctx *ctx;
	struct vb2_v4l2_buffer *dst;
	struct vb2_v4l2_buffer *src;
	struct list_head ctx_node;
	bool done;
	enum vb2_buffer_state result;
	u32 bytesused[DAEDALUS_MAX_MEM_PLANES];
	struct delayed_work watchdog;
	bool timed_out;
	bool delivering;
	struct daedalus_bridge *bridge;
	struct daedalus_handle *out_h[DAEDALUS_MAX_MEM_PLANES];
	struct daedalus_handle *cap_h[DAEDALUS_MAX_MEM_PLANES];
	struct daedalus_handle *ref_h[DAEDALUS_MAX_REFS][DAEDALUS_MAX_MEM_PLANES];
	struct daedalus_job msg;
	void *ctrl_data;
};

static inline struct daedalus_ctx *daedalus_file_to_ctx(struct file *file)
{
	return container_of(file->private_data, struct daedalus_ctx, fh);
}

static inline struct daedalus_buf *daedalus_vb_to_buf(struct vb2_buffer *vb)
{
	return container_of(to_vb2_v4l2_buffer(vb), struct daedalus_buf, m2m.vb);
}

/* daedalus-video.c */
extern const struct v4l2_ioctl_ops daedalus_ioctl_ops;
int daedalus_queue_init(void *priv, struct vb2_queue *src_vq,
			struct vb2_queue *dst_vq);
void daedalus_set_default_formats(struct daedalus_ctx *ctx);
void daedalus_reset_cap_format(struct daedalus_ctx *ctx);
void daedalus_queue_put_orphans(struct vb2_queue *q);
const struct daedalus_coded_fmt *daedalus_find_coded(u32 fourcc);
const struct daedalus_coded_fmt *daedalus_coded_fmt(unsigned int index);
const struct daedalus_decoded_fmts *
daedalus_decoded_fmts(const struct daedalus_coded_fmt *fmt, u32 depth);

/* daedalus-ctrls.c */
int daedalus_ctrls_init(struct daedalus_ctx *ctx);
int daedalus_request_validate(struct media_request *req);
void daedalus_ctrls_update_depth(struct daedalus_ctx *ctx);

/* daedalus-dec.c */
extern const struct v4l2_m2m_ops daedalus_m2m_ops;

/* daedalus-job.c */
int daedalus_job_reserve(struct daedalus_buf *buf);
void daedalus_job_unreserve(struct daedalus_buf *buf);
struct daedalus_kjob *daedalus_job_take_reserved(struct daedalus_buf *buf);
void daedalus_job_put(struct daedalus_kjob *job);
/* What daedalus_bridge_submit() did with a job. */
enum daedalus_submit {
	DAEDALUS_SUBMITTED,
	DAEDALUS_SUBMIT_FAILED,
	DAEDALUS_SUBMIT_FAILED_IN_ORDER,
};

enum daedalus_submit daedalus_bridge_submit(struct daedalus_bridge *br,
					    struct daedalus_ctx *ctx,
					    struct daedalus_kjob *job, int err,
					    bool pipelined, int *why);
bool daedalus_bridge_has_room(struct daedalus_bridge *br, struct daedalus_ctx *ctx);
void daedalus_disarm_watchdog(struct daedalus_kjob *job);
bool daedalus_claim_locked(struct daedalus_bridge *br,
			   struct daedalus_kjob *job, bool notify);
void daedalus_bridge_mark_done(struct daedalus_bridge *br, struct daedalus_kjob *job,
			       enum vb2_buffer_state state);
unsigned int daedalus_bridge_cancel_inflight(struct daedalus_bridge *br,
					     struct daedalus_ctx *ctx);
struct daedalus_kjob *daedalus_bridge_pop_done(struct daedalus_bridge *br,
					       struct daedalus_ctx *ctx);
/* What the first or second expiry of a job's watchdog did. */
enum daedalus_timeout {
	DAEDALUS_TIMEOUT_NONE,		/* another path finishes the job */
	DAEDALUS_TIMEOUT_WAIT,		/* the daemon was asked to let go */
	DAEDALUS_TIMEOUT_CLAIMED,	/* the watchdog finishes the job */
};

enum daedalus_timeout daedalus_bridge_timeout(struct daedalus_bridge *br,
					      struct daedalus_kjob *job, u32 *ctx_id);
void daedalus_bridge_finished(struct daedalus_ctx *ctx);
struct daedalus_kjob *daedalus_bridge_abort(struct daedalus_bridge *br,
					    struct daedalus_ctx *ctx);
void daedalus_bridge_ctx_dying(struct daedalus_bridge *br, struct daedalus_ctx *ctx);
void daedalus_cap_failed(struct vb2_buffer *vb);
void daedalus_cap_done(struct vb2_buffer *vb, bool failed, bool hold);
void daedalus_job_finish(struct daedalus_kjob *job, enum vb2_buffer_state state,
			 const u32 *bytesused, unsigned int num_planes);
void daedalus_finish_m2m_job(struct daedalus_ctx *ctx);
void daedalus_job_complete(struct daedalus_kjob *job, enum vb2_buffer_state state,
			   const u32 *bytesused, unsigned int num_planes);
void daedalus_return_done(struct daedalus_ctx *ctx);
void daedalus_fail_inflight(struct daedalus_ctx *ctx);
void daedalus_unqueue_cancel(struct daedalus_kjob *job);
void daedalus_resched_work(struct work_struct *work);
void daedalus_finish_work(struct work_struct *work);
void daedalus_watchdog_work(struct work_struct *work);

/* daedalus-bridge.c */
int daedalus_bridge_register(struct daedalus_dev *dev);
void daedalus_bridge_unregister(struct daedalus_dev *dev);
void daedalus_bridge_ctx_gone(struct daedalus_bridge *br, struct daedalus_ctx *ctx);
struct daedalus_handle *daedalus_handle_new(struct daedalus_bridge *br,
					    struct dma_buf *dbuf, u32 length);
void daedalus_handle_put(struct daedalus_handle *h);

/* daedalus-mem.c */
extern const struct vb2_mem_ops daedalus_mem_ops;
void daedalus_mem_dequeued(void *buf_priv);

/* daedalus-users.c */
struct cred;
struct seq_file;
void daedalus_users_init(struct daedalus_dev *dev);
void daedalus_users_exit(struct daedalus_dev *dev);
kuid_t daedalus_user_of(const struct cred *cred);
int daedalus_user_charge(struct daedalus_ctx *ctx);
void daedalus_user_uncharge(struct daedalus_ctx *ctx);
void daedalus_users_show(struct seq_file *s, struct daedalus_dev *dev);

/* daedalus-debugfs.c */
void daedalus_debugfs_init(struct daedalus_dev *dev);
void daedalus_debugfs_exit(struct daedalus_dev *dev);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
bool daedalus_fail_job_alloc(void);
bool daedalus_fail_sync_end(void);
bool daedalus_delay_m2m_finish(void);
#else
static inline bool daedalus_fail_job_alloc(void)
{
	return false;
}

static inline bool daedalus_fail_sync_end(void)
{
	return false;
}

static inline bool daedalus_delay_m2m_finish(void)
{
	return false;
}
#endif

#endif /* _DAEDALUS_H_ */
