// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: debugfs view of the daemon channel and the jobs in flight,
 * /sys/kernel/debug/daedalus-v4l2/state.
 */

#include <linux/debugfs.h>
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

void daedalus_debugfs_init(struct daedalus_dev *dev)
{
	dev->debugfs = debugfs_create_dir(DAEDALUS_NAME, NULL);
	debugfs_create_file("state", 0400, dev->debugfs, dev, &daedalus_state_fops);
}

void daedalus_debugfs_exit(struct daedalus_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}
