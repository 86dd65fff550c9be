// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: debugfs view of the daemon channel and the jobs in flight,
 * /sys/kernel/debug/daedalus-v4l2/state, and, in kernels built with
 * CONFIG_FAULT_INJECTION_DEBUG_FS, the module's fault points
 * (Documentation/fault-injection): fail-job-alloc fails the allocation of a
 * job, which a test uses to reach the path a real shortage would take, and
 * fail-sync-end fails the end of a CPU write to a buffer the module exported,
 * as an exporter that cannot make the write visible to its devices would, and
 * delay-m2m-finish makes the work that finishes a pipelined m2m job start
 * 300 ms late and keep the OUTPUT queue's HOLD_CAPTURE_BUF flag off 300 ms,
 * as a worker scheduled late and preempted there would (daedalus_finish_work()).
 */

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/jiffies.h>
#include <linux/seq_file.h>

#include "daedalus.h"

static const char * const daedalus_job_states[] = {
	[DAEDALUS_JOB_QUEUED] = "queued",
	[DAEDALUS_JOB_SENT] = "sent",
	[DAEDALUS_JOB_DONE] = "done",
};

static int daedalus_state_show(struct seq_file *s, void *unused)
{
	struct daedalus_dev *dev = s->private;
	struct daedalus_bridge *br = &dev->bridge;
	struct daedalus_kjob *job;

	spin_lock(&br->lock);
	seq_printf(s, "daemon: %s, session %u, jobs in flight %u, held back by a full table %lu\n",
		   br->ready ? "attached" : br->open ? "opened" : "none",
		   br->session, br->nr_jobs, READ_ONCE(br->table_waits));
	/* what a leak holds: a job, a handle (each pins a dmabuf), or neither */
	seq_printf(s, "live: jobs %d, handles %d\n", atomic_read(&br->live_jobs),
		   atomic_read(&br->live_handles));
	list_for_each_entry(job, &br->jobs, table)
		seq_printf(s, "job %llu ctx %u codec %u %s\n", job->msg.job_id,
			   job->msg.ctx_id, job->msg.codec,
			   daedalus_job_states[job->state]);
	spin_unlock(&br->lock);
	daedalus_users_show(s, dev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(daedalus_state);

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
/* Off (probability 0) until a test configures them. */
static DECLARE_FAULT_ATTR(daedalus_job_alloc_fault);
static DECLARE_FAULT_ATTR(daedalus_sync_end_fault);
static DECLARE_FAULT_ATTR(daedalus_m2m_finish_fault);

bool daedalus_fail_job_alloc(void)
{
	return should_fail(&daedalus_job_alloc_fault, 1);
}

bool daedalus_fail_sync_end(void)
{
	return should_fail(&daedalus_sync_end_fault, 1);
}

bool daedalus_delay_m2m_finish(void)
{
	return should_fail(&daedalus_m2m_finish_fault, 1);
}

static void daedalus_debugfs_faults(struct daedalus_dev *dev)
{
	fault_create_debugfs_attr("fail-job-alloc", dev->debugfs,
				  &daedalus_job_alloc_fault);
	fault_create_debugfs_attr("fail-sync-end", dev->debugfs,
				  &daedalus_sync_end_fault);
	fault_create_debugfs_attr("delay-m2m-finish", dev->debugfs,
				  &daedalus_m2m_finish_fault);
}
#else
static void daedalus_debugfs_faults(struct daedalus_dev *dev)
{
}
#endif

void daedalus_debugfs_init(struct daedalus_dev *dev)
{
	dev->debugfs = debugfs_create_dir(DAEDALUS_NAME, NULL);
	debugfs_create_file("state", 0400, dev->debugfs, dev, &daedalus_state_fops);
	daedalus_debugfs_faults(dev);
}

void daedalus_debugfs_exit(struct daedalus_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}
