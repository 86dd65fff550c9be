// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the daemon channel, /dev/daedalus-v4l2.
 *
 * One daemon at a time fetches jobs and events (GET_MSG) and completes jobs
 * (COMPLETE); see docs/protocol.md. The job table and the claims that decide
 * who finishes a job are in daedalus-job.c; a COMPLETE, a job that cannot be
 * delivered and the daemon's close claim jobs there. Nothing here takes a
 * V4L2 lock.
 */

#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "daedalus.h"

static struct daedalus_bridge *daedalus_file_to_bridge(struct file *file)
{
	return container_of(file->private_data, struct daedalus_bridge, misc);
}

/* handles */

struct daedalus_handle *daedalus_handle_new(struct daedalus_bridge *br,
					    struct dma_buf *dbuf, u32 length)
{
	struct daedalus_handle *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return NULL;
	kref_init(&h->ref);
	h->id = atomic64_inc_return(&br->next_handle_id);
	h->dbuf = dbuf;
	h->length = length;
	h->bridge = br;
	INIT_LIST_HEAD(&h->gone.entry);
	h->gone.type = DAEDALUS_MSG_BUF_GONE;
	h->gone.id = h->id;
	atomic_inc(&br->live_handles);
	return h;
}

static void daedalus_handle_release(struct kref *ref)
{
	struct daedalus_handle *h = container_of(ref, struct daedalus_handle, ref);
	struct daedalus_bridge *br = h->bridge;
	bool queued = false;

	dma_buf_put(h->dbuf);
	h->dbuf = NULL;
	atomic_dec(&br->live_handles);
	spin_lock(&br->lock);
	/* Only a daemon holding an fd for it needs to hear about it. */
	if (br->ready && READ_ONCE(h->installed) == br->session) {
		list_add_tail(&h->gone.entry, &br->fifo);
		queued = true;
	}
	spin_unlock(&br->lock);
	if (queued)
		wake_up_interruptible(&br->wq);
	else
		kfree(h);
}

void daedalus_handle_put(struct daedalus_handle *h)
{
	kref_put(&h->ref, daedalus_handle_release);
}

void daedalus_bridge_ctx_gone(struct daedalus_bridge *br, struct daedalus_ctx *ctx)
{
	struct daedalus_msgnode *gone = ctx->gone;

	ctx->gone = NULL;
	if (!gone)
		return;
	spin_lock(&br->lock);
	if (br->ready && ctx->session == br->session) {
		list_add_tail(&gone->entry, &br->fifo);
		gone = NULL;
	}
	spin_unlock(&br->lock);
	kfree(gone);
	if (!gone)
		wake_up_interruptible(&br->wq);
}

/* Free a message that was fetched or dropped. */
static void daedalus_msg_free(struct daedalus_msgnode *node)
{
	switch (node->type) {
	case DAEDALUS_MSG_BUF_GONE:
		kfree(container_of(node, struct daedalus_handle, gone));
		break;
	case DAEDALUS_MSG_CTX_GONE:
		kfree(node);
		break;
	case DAEDALUS_MSG_JOB_CANCEL:
		daedalus_job_put(container_of(node, struct daedalus_kjob, cancel));
		break;
	}
}

/* file operations */

static int daedalus_bridge_open(struct inode *inode, struct file *file)
{
	struct daedalus_bridge *br = daedalus_file_to_bridge(file);
	int ret = 0;

	/*
	 * Who may attach is the node's permission, nothing more: 0600 root from the module,
	 * root:daedalus-v4l2d 0660 with the packaged udev rule, so that the daemon can run
	 * as its own unprivileged user (User= in its unit) and no other user can attach.
	 */
	spin_lock(&br->lock);
	if (br->open) {
		ret = -EBUSY;
	} else {
		br->open = true;
		br->ready = false;
		/* 0 means "none" to the fds installed and the contexts: never reused */
		if (!++br->session)
			br->session = 1;
	}
	spin_unlock(&br->lock);
	if (!ret)
		stream_open(inode, file);
	return ret;
}

/* The daemon is gone (closed, killed): fail everything it was given. */
static int daedalus_bridge_release(struct inode *inode, struct file *file)
{
	struct daedalus_bridge *br = daedalus_file_to_bridge(file);
	struct daedalus_kjob *job, *tmp;
	struct daedalus_msgnode *node, *ntmp;
	LIST_HEAD(jobs);
	LIST_HEAD(msgs);

	spin_lock(&br->lock);
	br->ready = false;
	list_for_each_entry_safe(job, tmp, &br->jobs, table) {
		list_del_init(&job->node.entry);
		if (daedalus_claim_locked(br, job, false))
			list_add_tail(&job->table, &jobs);
	}
	list_for_each_entry_safe(node, ntmp, &br->fifo, entry)
		if (node->type != DAEDALUS_MSG_JOB)
			list_move_tail(&node->entry, &msgs);
	INIT_LIST_HEAD(&br->fifo);
	spin_unlock(&br->lock);

	list_for_each_entry_safe(job, tmp, &jobs, table) {
		struct daedalus_ctx *ctx = job->ctx;

		list_del_init(&job->table);
		daedalus_disarm_watchdog(job);
		daedalus_job_complete(job, VB2_BUF_STATE_ERROR, NULL, 0);
		daedalus_bridge_finished(ctx);
		daedalus_job_put(job);
	}
	list_for_each_entry_safe(node, ntmp, &msgs, entry) {
		list_del_init(&node->entry);
		daedalus_msg_free(node);
	}

	spin_lock(&br->lock);
	br->open = false;
	br->max_inflight = 1;
	br->ref_fds = false;
	br->owners = false;
	spin_unlock(&br->lock);
	return 0;
}

static long daedalus_ioc_hello(struct daedalus_bridge *br, void __user *arg)
{
	struct daedalus_hello hello;
	u32 version, flags, inflight = 1;
	int ret = 0;

	if (copy_from_user(&hello, arg, sizeof(hello)))
		return -EFAULT;
	if ((hello.flags & ~DAEDALUS_HELLO_VALID_FLAGS) ||
	    (!(hello.flags & DAEDALUS_HELLO_FLAG_PIPELINE) && hello.max_inflight) ||
	    memchr_inv(hello.reserved, 0, sizeof(hello.reserved)))
		return -EINVAL;
	version = hello.version;
	flags = hello.flags;
	/* The daemon's wish, capped by the module parameter; at least 1. */
	if (flags & DAEDALUS_HELLO_FLAG_PIPELINE)
		inflight = clamp(min(hello.max_inflight, daedalus_max_inflight),
				 1U, DAEDALUS_MAX_INFLIGHT);
	memset(&hello, 0, sizeof(hello));
	hello.version = DAEDALUS_PROTOCOL_VERSION;
	if (version != DAEDALUS_PROTOCOL_VERSION) {
		ret = -EPROTONOSUPPORT;
		goto out;
	}
	hello.max_mem_planes = DAEDALUS_MAX_MEM_PLANES;
	hello.max_color_planes = DAEDALUS_MAX_COLOR_PLANES;
	hello.max_refs = DAEDALUS_MAX_REFS;
	hello.max_ctrls = DAEDALUS_MAX_CTRLS;
	hello.max_ctrl_bytes = DAEDALUS_MAX_CTRL_BYTES;
	hello.max_jobs = DAEDALUS_MAX_JOBS;
	hello.max_width = DAEDALUS_MAX_WIDTH;
	hello.max_height = DAEDALUS_MAX_HEIGHT;
	hello.job_timeout_ms = daedalus_job_timeout_ms;
	hello.flags = flags;
	hello.max_inflight = inflight;
	spin_lock(&br->lock);
	if (br->ready) {
		ret = -EALREADY;
	} else {
		br->max_inflight = inflight;
		br->ref_fds = flags & DAEDALUS_HELLO_FLAG_REF_FDS;
		br->owners = flags & DAEDALUS_HELLO_FLAG_OWNER;
	}
	br->ready = true;
	hello.session = br->session;
	spin_unlock(&br->lock);
out:
	if (copy_to_user(arg, &hello, sizeof(hello)))
		return -EFAULT;
	return ret;
}

/**
 * struct daedalus_fdinst - an fd being installed by one GET_MSG
 * @h:		its handle
 * @fd:		the reserved fd
 */
struct daedalus_fdinst {
	struct daedalus_handle *h;
	int fd;
};

#define DAEDALUS_MAX_NEW_FDS \
	(DAEDALUS_MAX_MEM_PLANES * (2 + DAEDALUS_MAX_REFS))

static int daedalus_reserve_fd(struct daedalus_bridge *br, struct daedalus_handle *h,
			       struct daedalus_mem_plane *mp,
			       struct daedalus_fdinst *fds, unsigned int *nfds)
{
	unsigned int i;
	int fd;

	if (!h)
		return 0;
	if (READ_ONCE(h->installed) == br->session)
		return 0;
	for (i = 0; i < *nfds; i++)
		if (fds[i].h == h)
			return 0;	/* first occurrence carries the fd */
	if (*nfds >= DAEDALUS_MAX_NEW_FDS)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	fds[*nfds].h = h;
	fds[*nfds].fd = fd;
	(*nfds)++;
	mp->fd = fd;
	return 0;
}

/*
 * Return: 0, or an error that leaves the job queued (the daemon's ctrl_data
 * area too small or faulting, no memory), or, with *@no_fd set, the error of
 * reserving an fd in the daemon's table (its RLIMIT_NOFILE reached): that
 * job fails, since retrying it would block every later message.
 */
static int daedalus_deliver_job(struct daedalus_bridge *br, struct daedalus_kjob *job,
				struct daedalus_msg *msg, void __user *arg, bool *no_fd)
{
	struct daedalus_fdinst *fds;
	struct daedalus_job *jm = &msg->u.job;
	bool ref_fds = READ_ONCE(br->ref_fds);
	unsigned int nfds = 0, i, p;
	int ret = 0;

	if (job->msg.ctrl_bytes > msg->ctrl_data_size)
		return -ENOSPC;
	if (copy_to_user(u64_to_user_ptr(msg->ctrl_data), job->ctrl_data,
			 job->msg.ctrl_bytes))
		return -EFAULT;
	fds = kcalloc(DAEDALUS_MAX_NEW_FDS, sizeof(*fds), GFP_KERNEL);
	if (!fds)
		return -ENOMEM;
	*jm = job->msg;
	for (p = 0; p < DAEDALUS_MAX_MEM_PLANES && !ret; p++)
		ret = daedalus_reserve_fd(br, job->out_h[p], &jm->output.mem[p],
					  fds, &nfds);
	for (p = 0; p < DAEDALUS_MAX_MEM_PLANES && !ret; p++)
		ret = daedalus_reserve_fd(br, job->cap_h[p], &jm->capture.mem[p],
					  fds, &nfds);
	/*
	 * A daemon that keeps its own reference pictures gets none of their
	 * fds: memory it never reads stays out of its fd table (fd -1, the
	 * handle not marked installed, so the buffer's fd comes with the job
	 * that writes it).
	 */
	for (i = 0; ref_fds && i < DAEDALUS_MAX_REFS && !ret; i++)
		for (p = 0; p < DAEDALUS_MAX_MEM_PLANES && !ret; p++)
			ret = daedalus_reserve_fd(br, job->ref_h[i][p],
						  &jm->refs[i].buf.mem[p], fds, &nfds);
	*no_fd = ret != 0;
	if (!ret && copy_to_user(arg, msg, sizeof(*msg)))
		ret = -EFAULT;
	for (i = 0; i < nfds; i++) {
		if (ret) {
			put_unused_fd(fds[i].fd);
			continue;
		}
		/* The fd table owns this reference from now on. */
		get_dma_buf(fds[i].h->dbuf);
		fd_install(fds[i].fd, fds[i].h->dbuf->file);
		WRITE_ONCE(fds[i].h->installed, br->session);
	}
	kfree(fds);
	return ret;
}

/*
 * A job claimed while its delivery failed, whose taking marked its context as
 * known to this session's daemon (@prev_session differs: no job of it was
 * delivered before): undo that, so that the daemon gets no CTX_GONE for a
 * context it never heard of. A context already released has queued its
 * CTX_GONE (taking the job set the session it is queued for): that goes back
 * off the FIFO, and the context is not touched. Otherwise @ctx, the job's
 * context when it was taken (job->ctx is cleared once the job is returned),
 * lives at least until its release takes the bridge lock, which is held here.
 *
 * Return: a CTX_GONE to free once the lock is dropped, or NULL.
 */
static struct daedalus_msgnode *
daedalus_unmark_ctx(struct daedalus_bridge *br, struct daedalus_kjob *job,
		    struct daedalus_ctx *ctx, u32 prev_session)
{
	struct daedalus_msgnode *node;

	if (prev_session == br->session)
		return NULL;
	list_for_each_entry(node, &br->fifo, entry) {
		if (node->type == DAEDALUS_MSG_CTX_GONE &&
		    node->id == job->msg.ctx_id) {
			list_del_init(&node->entry);
			return node;
		}
	}
	ctx->session = prev_session;
	return NULL;
}

/*
 * A job GET_MSG could not hand over because the daemon's fd table is full:
 * fail it as the daemon would have, so that this opener's request completes
 * with ERROR and the messages behind it (other openers' jobs, whose buffers
 * have their fds already) still flow. The daemon never saw it: no JOB_CANCEL.
 */
static void daedalus_fail_undeliverable(struct daedalus_bridge *br,
					struct daedalus_kjob *job,
					struct daedalus_ctx *taken_ctx,
					u32 prev_session, int err)
{
	struct daedalus_msgnode *gone = NULL;
	struct daedalus_ctx *ctx = NULL;
	bool claimed;

	spin_lock(&br->lock);
	job->delivering = false;
	/* Unless another path claimed it meanwhile: then job->ctx may be gone. */
	claimed = job->state == DAEDALUS_JOB_SENT;
	if (claimed) {
		ctx = job->ctx;
		ctx->session = prev_session;
		/* A dying context's job_abort claims it: as never sent. */
		job->state = DAEDALUS_JOB_QUEUED;
		claimed = daedalus_claim_locked(br, job, false);
	} else {
		daedalus_unqueue_cancel(job);
		gone = daedalus_unmark_ctx(br, job, taken_ctx, prev_session);
	}
	spin_unlock(&br->lock);
	if (gone)
		daedalus_msg_free(gone);
	if (!claimed)
		return;
	dev_warn_ratelimited(ctx->dev->v4l2_dev.dev,
			     "ctx %u: job %llu failed: no free fd in the daemon for its buffers (%d, the daemon's RLIMIT_NOFILE)\n",
			     ctx->id, job->msg.job_id, err);
	daedalus_disarm_watchdog(job);
	daedalus_job_complete(job, VB2_BUF_STATE_ERROR, NULL, 0);
	daedalus_bridge_finished(ctx);
	daedalus_job_put(job);	/* the table's reference */
}

static long daedalus_ioc_get_msg(struct daedalus_bridge *br, struct file *file,
				 void __user *arg)
{
	const size_t in_size = offsetof(struct daedalus_msg, u);
	struct daedalus_msgnode *node;
	struct daedalus_kjob *job;
	struct daedalus_msg *msg;
	struct daedalus_ctx *taken_ctx;
	u32 prev_session;
	bool no_fd;
	long ret;

	msg = kzalloc(sizeof(*msg), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	if (copy_from_user(msg, arg, in_size)) {
		ret = -EFAULT;
		goto out_free;
	}
	if ((msg->flags & ~DAEDALUS_GET_FLAG_NONBLOCK) ||
	    memchr_inv(msg->reserved, 0, sizeof(msg->reserved))) {
		ret = -EINVAL;
		goto out_free;
	}
	if (mutex_lock_interruptible(&br->get_lock)) {
		ret = -ERESTARTSYS;
		goto out_free;
	}
next:
	job = NULL;
	taken_ctx = NULL;
	prev_session = 0;
	no_fd = false;
	memset(&msg->u, 0, sizeof(msg->u));
	for (;;) {
		spin_lock(&br->lock);
		if (!br->ready) {
			spin_unlock(&br->lock);
			ret = -EPROTO;
			goto out_unlock;
		}
		node = list_first_entry_or_null(&br->fifo, struct daedalus_msgnode,
						entry);
		if (node)
			break;
		spin_unlock(&br->lock);
		if ((msg->flags & DAEDALUS_GET_FLAG_NONBLOCK) ||
		    (file->f_flags & O_NONBLOCK)) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		if (wait_event_interruptible(br->wq, !list_empty(&br->fifo))) {
			ret = -ERESTARTSYS;
			goto out_unlock;
		}
	}
	list_del_init(&node->entry);
	if (node->type == DAEDALUS_MSG_JOB) {
		job = container_of(node, struct daedalus_kjob, node);
		job->state = DAEDALUS_JOB_SENT;
		job->delivering = true;
		kref_get(&job->ref);
		/*
		 * The daemon learns of a context from its first job, so only a
		 * context with a delivered job is worth a CTX_GONE: a job
		 * cancelled while still queued never reaches the daemon.
		 */
		taken_ctx = job->ctx;
		prev_session = job->ctx->session;
		job->ctx->session = br->session;
	}
	msg->session = br->session;
	spin_unlock(&br->lock);

	msg->type = node->type;
	if (job) {
		ret = daedalus_deliver_job(br, job, msg, arg, &no_fd);
	} else {
		msg->u.event.id = node->id;
		msg->u.event.flags = node->flags;
		ret = copy_to_user(arg, msg, sizeof(*msg)) ? -EFAULT : 0;
	}

	if (no_fd) {
		daedalus_fail_undeliverable(br, job, taken_ctx, prev_session, ret);
		daedalus_job_put(job);
		goto next;
	}
	if (ret) {
		struct daedalus_msgnode *gone = NULL;

		/* Nothing is lost: the message goes back to the head. */
		spin_lock(&br->lock);
		if (job)
			job->delivering = false;
		if (!job || job->state == DAEDALUS_JOB_SENT) {
			if (job) {
				job->state = DAEDALUS_JOB_QUEUED;
				job->ctx->session = prev_session;
			}
			list_add(&node->entry, &br->fifo);
			node = NULL;
		} else {
			daedalus_unqueue_cancel(job);
			gone = daedalus_unmark_ctx(br, job, taken_ctx,
						   prev_session);
		}
		spin_unlock(&br->lock);
		if (gone)
			daedalus_msg_free(gone);
	} else if (!job) {
		daedalus_msg_free(node);
	} else {
		spin_lock(&br->lock);
		job->delivering = false;
		spin_unlock(&br->lock);
	}
	if (job)
		daedalus_job_put(job);
out_unlock:
	mutex_unlock(&br->get_lock);
out_free:
	kfree(msg);
	return ret;
}

static long daedalus_ioc_complete(struct daedalus_bridge *br, void __user *arg)
{
	struct daedalus_complete c;
	struct daedalus_kjob *job, *found = NULL;
	struct daedalus_ctx *ctx;
	bool timed_out = false;
	unsigned int i;
	long ret = 0;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (memchr_inv(c.reserved, 0, sizeof(c.reserved)) ||
	    c.status > DAEDALUS_STATUS_ERROR ||
	    c.reason > DAEDALUS_REASON_CANCELLED ||
	    (c.status == DAEDALUS_STATUS_OK && c.reason) ||
	    c.num_mem_planes > DAEDALUS_MAX_MEM_PLANES)
		return -EINVAL;

	spin_lock(&br->lock);
	if (!br->ready) {
		ret = -EPROTO;
		goto out;
	}
	list_for_each_entry(job, &br->jobs, table) {
		if (job->msg.job_id == c.job_id) {
			found = job;
			break;
		}
	}
	if (!found || found->state != DAEDALUS_JOB_SENT ||
	    found->session != br->session || found->ctx->dying) {
		ret = -ENOENT;
		goto out;
	}
	if (found->msg.ctx_id != c.ctx_id) {
		ret = -EINVAL;
		goto out;
	}
	if (c.num_mem_planes &&
	    c.num_mem_planes != found->msg.capture.num_mem_planes) {
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < c.num_mem_planes; i++) {
		if (c.bytesused[i] > found->msg.capture.mem[i].length ||
		    c.bytesused[i] > vb2_plane_size(&found->dst->vb2_buf, i)) {
			ret = -ERANGE;
			goto out;
		}
	}
	daedalus_claim_locked(br, found, false);
	timed_out = found->timed_out;
out:
	spin_unlock(&br->lock);
	if (ret)
		return ret;

	ctx = found->ctx;
	daedalus_disarm_watchdog(found);
	/* A job that timed out fails: the daemon answers it to let go of it. */
	daedalus_job_complete(found, c.status == DAEDALUS_STATUS_OK && !timed_out ?
			      VB2_BUF_STATE_DONE : VB2_BUF_STATE_ERROR,
			      c.bytesused, c.num_mem_planes);
	daedalus_bridge_finished(ctx);
	daedalus_job_put(found);
	return 0;
}

static long daedalus_bridge_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct daedalus_bridge *br = daedalus_file_to_bridge(file);
	void __user *uarg = (void __user *)arg;
	bool ready;

	if (cmd == DAEDALUS_IOC_HELLO)
		return daedalus_ioc_hello(br, uarg);
	if (cmd != DAEDALUS_IOC_GET_MSG && cmd != DAEDALUS_IOC_COMPLETE)
		return -ENOTTY;
	spin_lock(&br->lock);
	ready = br->ready;
	spin_unlock(&br->lock);
	if (!ready)
		return -EPROTO;
	if (cmd == DAEDALUS_IOC_GET_MSG)
		return daedalus_ioc_get_msg(br, file, uarg);
	return daedalus_ioc_complete(br, uarg);
}

static __poll_t daedalus_bridge_poll(struct file *file, poll_table *wait)
{
	struct daedalus_bridge *br = daedalus_file_to_bridge(file);
	__poll_t mask = 0;

	poll_wait(file, &br->wq, wait);
	spin_lock(&br->lock);
	if (br->ready && !list_empty(&br->fifo))
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock(&br->lock);
	return mask;
}

static const struct file_operations daedalus_bridge_fops = {
	.owner = THIS_MODULE,
	.open = daedalus_bridge_open,
	.release = daedalus_bridge_release,
	.unlocked_ioctl = daedalus_bridge_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = daedalus_bridge_poll,
};

int daedalus_bridge_register(struct daedalus_dev *dev)
{
	struct daedalus_bridge *br = &dev->bridge;

	spin_lock_init(&br->lock);
	init_waitqueue_head(&br->wq);
	INIT_LIST_HEAD(&br->fifo);
	INIT_LIST_HEAD(&br->jobs);
	spin_lock_init(&br->wait_lock);
	INIT_LIST_HEAD(&br->table_wait);
	mutex_init(&br->get_lock);
	atomic64_set(&br->next_job_id, 0);
	atomic64_set(&br->next_handle_id, 0);
	atomic_set(&br->live_jobs, 0);
	atomic_set(&br->live_handles, 0);
	br->max_inflight = 1;
	br->misc.minor = MISC_DYNAMIC_MINOR;
	br->misc.name = DAEDALUS_NAME;
	br->misc.fops = &daedalus_bridge_fops;
	br->misc.mode = 0600;
	return misc_register(&br->misc);
}

void daedalus_bridge_unregister(struct daedalus_dev *dev)
{
	misc_deregister(&dev->bridge.misc);
}
