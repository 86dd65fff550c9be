// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the decoder instances each user has in use, and the limit
 * on them.
 *
 * Every instance that decodes costs the one daemon that serves all users:
 * a worker thread and a decoder's memory, an fd for each plane of each of
 * its buffers, slots of the device-wide job table. A limit per user on the
 * instances in use at once bounds what one user, in however many processes,
 * can take of each, so the others always keep a share (docs/security.md).
 *
 * An instance counts from its first buffer request that queue_setup accepts
 * (REQBUFS/CREATE_BUFS) until it is closed: opening the node to query it, as
 * device probes and registry scans do, costs the daemon nothing and is never
 * refused. The user is the opener's effective uid; inside user namespaces,
 * the user who made the outermost one, so that a user with subordinate uids
 * cannot be many users. Drivers of hardware with a fixed number of sessions
 * refuse one past them the same way, with EBUSY.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "daedalus.h"

static unsigned int daedalus_max_instances_per_user = 16;
module_param_named(max_instances_per_user, daedalus_max_instances_per_user, uint, 0644);
MODULE_PARM_DESC(max_instances_per_user,
		 "decoder instances with buffers one user may have at once, 0 = no limit (default 16); CAP_SYS_RESOURCE is exempt");

void daedalus_users_init(struct daedalus_dev *dev)
{
	mutex_init(&dev->users_lock);
	xa_init(&dev->users);
}

void daedalus_users_exit(struct daedalus_dev *dev)
{
	/* Every instance is closed by now: nothing is counted. */
	WARN_ON(!xa_empty(&dev->users));
	xa_destroy(&dev->users);
	mutex_destroy(&dev->users_lock);
}

static unsigned long daedalus_users_count(struct daedalus_dev *dev, kuid_t uid)
{
	void *entry = xa_load(&dev->users, __kuid_val(uid));

	return entry ? xa_to_value(entry) : 0;
}

/**
 * daedalus_user_of - the user an instance opened with @cred is counted for
 * @cred:	the opener's credentials (the file's)
 *
 * Return: the effective uid, or inside user namespaces the owner of the
 * outermost one below the initial namespace.
 */
kuid_t daedalus_user_of(const struct cred *cred)
{
	const struct user_namespace *ns = cred->user_ns;
	kuid_t uid = cred->euid;

	for (; ns != &init_user_ns; ns = ns->parent)
		uid = ns->owner;
	return uid;
}

/**
 * daedalus_user_charge - count the instance for its user, once
 * @ctx:	the instance, its queue lock held (from queue_setup)
 *
 * Return: 0, -EBUSY when the user is at the limit (and the caller has no
 * CAP_SYS_RESOURCE), or -ENOMEM.
 */
int daedalus_user_charge(struct daedalus_ctx *ctx)
{
	struct daedalus_dev *dev = ctx->dev;
	unsigned int limit = READ_ONCE(daedalus_max_instances_per_user);
	unsigned long n;
	int ret;

	lockdep_assert_held(&ctx->q_lock);
	if (ctx->charged)
		return 0;
	mutex_lock(&dev->users_lock);
	n = daedalus_users_count(dev, ctx->owner);
	/* capable() only at the limit: it marks the task as having used it. */
	if (limit && n >= limit && !capable(CAP_SYS_RESOURCE)) {
		ret = -EBUSY;
		goto out;
	}
	ret = xa_err(xa_store(&dev->users, __kuid_val(ctx->owner), xa_mk_value(n + 1),
			      GFP_KERNEL));
	ctx->charged = !ret;
out:
	mutex_unlock(&dev->users_lock);
	if (ret == -EBUSY)
		dev_warn_ratelimited(dev->v4l2_dev.dev,
				     "user %u has %lu decoder instances in use, refusing another (max_instances_per_user)\n",
				     from_kuid_munged(&init_user_ns, ctx->owner), n);
	return ret;
}

/**
 * daedalus_user_uncharge - the instance is closed: its count goes back
 * @ctx:	the instance
 */
void daedalus_user_uncharge(struct daedalus_ctx *ctx)
{
	struct daedalus_dev *dev = ctx->dev;
	unsigned long n;

	if (!ctx->charged)
		return;
	ctx->charged = false;
	mutex_lock(&dev->users_lock);
	n = daedalus_users_count(dev, ctx->owner);
	if (WARN_ON(!n))
		goto out;
	if (n == 1) {
		xa_erase(&dev->users, __kuid_val(ctx->owner));
	} else {
		/* The slot exists: replacing its value allocates nothing. */
		xa_store(&dev->users, __kuid_val(ctx->owner), xa_mk_value(n - 1),
			 GFP_KERNEL);
	}
out:
	mutex_unlock(&dev->users_lock);
}

/* debugfs: how many users have instances in use, and the most one has. */
void daedalus_users_show(struct seq_file *s, struct daedalus_dev *dev)
{
	unsigned long index, users = 0, most = 0;
	void *entry;

	mutex_lock(&dev->users_lock);
	xa_for_each(&dev->users, index, entry) {
		users++;
		most = max(most, xa_to_value(entry));
	}
	mutex_unlock(&dev->users_lock);
	seq_printf(s, "users: %lu with instances in use, at most %lu each, limit %u\n",
		   users, most, READ_ONCE(daedalus_max_instances_per_user));
}
