// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: a V4L2 memory-to-memory stateless decoder (H.264, VP8, VP9,
 * AV1) for machines without a hardware decoder. Applications use it like
 * rkvdec, hantro or cedrus (Request API, media controller); the decoding is
 * done by a userspace daemon attached to /dev/daedalus-v4l2.
 *
 * This file: module parameters, the platform device and driver, probe and
 * removal, and opening and closing the video node.
 */

#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "daedalus.h"

unsigned int daedalus_debug;
module_param_named(debug, daedalus_debug, uint, 0644);
MODULE_PARM_DESC(debug, "debug level (0-3)");

unsigned int daedalus_job_timeout_ms = 2000;
module_param_named(job_timeout_ms, daedalus_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "time the daemon has to complete a job before it fails (ms, default 2000)");

unsigned int daedalus_default_codec = DAEDALUS_CODEC_H264;
module_param_named(default_codec, daedalus_default_codec, uint, 0644);
MODULE_PARM_DESC(default_codec,
		 "OUTPUT format of a newly opened instance: 1 H.264, 2 VP8, 3 VP9, 4 AV1 (default 1)");

/*
 * Clients take the menu's current value (GStreamer) or its default (FFmpeg), so these
 * select the mode a client uses; tests use them to run the other modes with real clients.
 */
bool daedalus_h264_slice_based;
module_param_named(h264_slice_based, daedalus_h264_slice_based, bool, 0644);
MODULE_PARM_DESC(h264_slice_based,
		 "H.264 DECODE_MODE default of new instances: slice based (default: frame based)");

bool daedalus_h264_no_start_code;
module_param_named(h264_no_start_code, daedalus_h264_no_start_code, bool, 0644);
MODULE_PARM_DESC(h264_no_start_code,
		 "H.264 START_CODE default of new instances: none (default: Annex B)");

/*
 * More than 1 lets a daemon that asks for it (HELLO_FLAG_PIPELINE) decode
 * several frames of a stream at once; 1 keeps one job per context at a time
 * (the m2m job runs until the daemon completes it). 2 is the default because
 * it is what makes one stream use two cores: the daemon's frame threads need
 * a second job to work on, and a client that waits for each request still
 * gets one job at a time. See docs/frame-parallel.md and docs/performance.md.
 */
unsigned int daedalus_max_inflight = 2;
module_param_named(max_inflight, daedalus_max_inflight, uint, 0644);
MODULE_PARM_DESC(max_inflight,
		 "jobs of one context in flight at once, granted to a daemon that asks (1-8, default 2); read at the daemon's HELLO");

static int daedalus_video_nr = -1;
module_param_named(video_nr, daedalus_video_nr, int, 0444);
MODULE_PARM_DESC(video_nr, "number of the video node, -1 = first free");

/* Per-context m2m devices, see struct daedalus_m2m. */
static struct daedalus_m2m *daedalus_m2m_get(struct daedalus_dev *dev)
{
	struct daedalus_m2m *m;

	mutex_lock(&dev->pool_lock);
	m = list_first_entry_or_null(&dev->m2m_pool, struct daedalus_m2m, entry);
	if (m)
		list_del(&m->entry);
	mutex_unlock(&dev->pool_lock);
	if (m)
		return m;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->m2m_dev = v4l2_m2m_init(&daedalus_m2m_ops);
	if (IS_ERR(m->m2m_dev)) {
		struct daedalus_m2m *err = ERR_CAST(m->m2m_dev);

		kfree(m);
		return err;
	}
	return m;
}

static void daedalus_m2m_recycle(struct daedalus_dev *dev, struct daedalus_m2m *m)
{
	mutex_lock(&dev->pool_lock);
	list_add(&m->entry, &dev->m2m_pool);
	mutex_unlock(&dev->pool_lock);
}

static int daedalus_open(struct file *file)
{
	struct daedalus_dev *dev = video_drvdata(file);
	struct daedalus_ctx *ctx;
	int ret;

	/* Charged to the opener's memory cgroup, as its buffers are. */
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	/* counted from its first buffers on (daedalus-users.c) */
	ctx->owner = daedalus_user_of(file->f_cred);
	ctx->gone = kzalloc(sizeof(*ctx->gone), GFP_KERNEL);
	if (!ctx->gone) {
		ret = -ENOMEM;
		goto err_free;
	}
	ctx->dev = dev;
	ctx->id = atomic_inc_return(&dev->next_ctx_id);
	ctx->gone->type = DAEDALUS_MSG_CTX_GONE;
	ctx->gone->id = ctx->id;
	INIT_LIST_HEAD(&ctx->gone->entry);
	mutex_init(&ctx->q_lock);
	mutex_init(&ctx->alloc_lock);
	spin_lock_init(&ctx->fmt_lock);
	spin_lock_init(&ctx->handle_lock);
	atomic_set(&ctx->finishing, 0);
	INIT_LIST_HEAD(&ctx->inflight);
	atomic_set(&ctx->nr_inflight, 0);
	mutex_init(&ctx->done_lock);
	INIT_WORK(&ctx->resched_work, daedalus_resched_work);
	INIT_LIST_HEAD(&ctx->table_wait);
	INIT_WORK(&ctx->finish_work, daedalus_finish_work);
	atomic_set(&ctx->finish_pending, 0);
	daedalus_set_default_formats(ctx);
	v4l2_fh_init(&ctx->fh, video_devdata(file));

	ret = daedalus_ctrls_init(ctx);
	if (ret)
		goto err_fh;

	ctx->m2m = daedalus_m2m_get(dev);
	if (IS_ERR(ctx->m2m)) {
		ret = PTR_ERR(ctx->m2m);
		goto err_ctrls;
	}
	ctx->fh.m2m_ctx = v4l2_m2m_ctx_init(ctx->m2m->m2m_dev, ctx,
					    daedalus_queue_init);
	if (IS_ERR(ctx->fh.m2m_ctx)) {
		ret = PTR_ERR(ctx->fh.m2m_ctx);
		goto err_m2m;
	}
#if DAEDALUS_KERNEL_AT_LEAST(6, 18)
	/* 6.18: the file handle helpers take the file and set private_data. */
	v4l2_fh_add(&ctx->fh, file);
#else
	file->private_data = &ctx->fh;
	v4l2_fh_add(&ctx->fh);
#endif
	dd_dbg(1, dev, "ctx %u opened\n", ctx->id);
	return 0;

err_m2m:
	daedalus_m2m_recycle(dev, ctx->m2m);
err_ctrls:
	v4l2_ctrl_handler_free(&ctx->hdl);
err_fh:
	v4l2_fh_exit(&ctx->fh);
	kfree(ctx->gone);
err_free:
	kfree(ctx);
	return ret;
}

static int daedalus_release(struct file *file)
{
	struct daedalus_dev *dev = video_drvdata(file);
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);

	dd_dbg(1, dev, "ctx %u closing\n", ctx->id);
	/*
	 * Stop the context's jobs first, while its m2m context still exists:
	 * a job that finishes (or that device_run() fails itself) wakes the
	 * m2m core's cancel before it is done with the m2m context, which
	 * v4l2_m2m_ctx_release() would then free under it. The streamoff
	 * fails the running job (job_abort, which also finishes a pipelined
	 * dispatch's m2m job inline) and, in stop_streaming, every job in
	 * flight, in order. With OUTPUT off no job starts again, and
	 * daedalus_bridge_ctx_dying() waits for every finisher
	 * (&daedalus_ctx.finishing) to be out.
	 */
	mutex_lock(&ctx->q_lock);
	v4l2_m2m_streamoff(file, ctx->fh.m2m_ctx, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE);
	v4l2_m2m_streamoff(file, ctx->fh.m2m_ctx, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
	mutex_unlock(&ctx->q_lock);
	daedalus_bridge_ctx_dying(&dev->bridge, ctx);
	if (ctx->nodaemon_fails)
		dev_info(dev->v4l2_dev.dev,
			 "ctx %u: %u frames failed without a decoding daemon\n",
			 ctx->id, ctx->nodaemon_fails);
	/*
	 * Both works use the m2m context. Nobody queues resched_work for a
	 * dying context (daedalus_return_done()), and finish_work only for a
	 * pipelined dispatch, which no longer happens with OUTPUT off (one
	 * that device_run() failed in order is queued before its count in
	 * finishing drops); job_abort finished any pending m2m job, so a
	 * queued finish_work has nothing left to do.
	 */
	cancel_work_sync(&ctx->resched_work);
	cancel_work_sync(&ctx->finish_work);
	mutex_lock(&ctx->q_lock);
	daedalus_queue_put_orphans(&ctx->fh.m2m_ctx->out_q_ctx.q);
	daedalus_queue_put_orphans(&ctx->fh.m2m_ctx->cap_q_ctx.q);
	v4l2_m2m_ctx_release(ctx->fh.m2m_ctx);
	mutex_unlock(&ctx->q_lock);
	daedalus_bridge_ctx_gone(&dev->bridge, ctx);
	daedalus_m2m_recycle(dev, ctx->m2m);
#if DAEDALUS_KERNEL_AT_LEAST(6, 18)
	v4l2_fh_del(&ctx->fh, file);
#else
	v4l2_fh_del(&ctx->fh);
#endif
	/*
	 * Before the controls go: v4l2_fh_exit() unsubscribes the file's
	 * control events, which looks the controls up in the handler.
	 */
	v4l2_fh_exit(&ctx->fh);
	/* After the m2m context: a running job may read the controls. */
	v4l2_ctrl_handler_free(&ctx->hdl);
	mutex_destroy(&ctx->done_lock);
	mutex_destroy(&ctx->alloc_lock);
	mutex_destroy(&ctx->q_lock);
	daedalus_user_uncharge(ctx);
	kfree(ctx);
	return 0;
}

/*
 * Not while a REQBUFS or CREATE_BUFS allocates: see &daedalus_ctx.alloc_lock.
 * Interruptible: a large allocation can take a while, and the caller holds
 * its mm's mmap_lock for writing meanwhile.
 */
static int daedalus_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	int ret;

	if (mutex_lock_interruptible(&ctx->alloc_lock))
		return -ERESTARTSYS;
	ret = v4l2_m2m_fop_mmap(file, vma);
	mutex_unlock(&ctx->alloc_lock);
	return ret;
}

static const struct v4l2_file_operations daedalus_fops = {
	.owner = THIS_MODULE,
	.open = daedalus_open,
	.release = daedalus_release,
	.poll = v4l2_m2m_fop_poll,
	.unlocked_ioctl = video_ioctl2,
	.mmap = daedalus_mmap,
};

static const struct media_device_ops daedalus_media_ops = {
	.req_validate = daedalus_request_validate,
	.req_queue = v4l2_m2m_request_queue,
};

static void daedalus_device_release(struct video_device *vdev)
{
	struct daedalus_dev *dev = container_of(vdev, struct daedalus_dev, vfd);
	struct daedalus_m2m *m, *tmp;

	/*
	 * The m2m core leaves its job_work queued on the system workqueue
	 * after a job and has no call to cancel it, so wait for it before
	 * freeing the per-context m2m devices. Only at unbind.
	 */
	__flush_workqueue(system_wq);
	list_for_each_entry_safe(m, tmp, &dev->m2m_pool, entry) {
		v4l2_m2m_release(m->m2m_dev);
		kfree(m);
	}
	v4l2_m2m_release(dev->mc_m2m_dev);
	media_device_cleanup(&dev->mdev);
	v4l2_device_unregister(&dev->v4l2_dev);
	destroy_workqueue(dev->bridge.wdq);
	daedalus_users_exit(dev);
	mutex_destroy(&dev->pool_lock);
	mutex_destroy(&dev->dev_mutex);
	kfree(dev);
}

static int daedalus_probe(struct platform_device *pdev)
{
	struct daedalus_dev *dev;
	struct video_device *vfd;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->dev_mutex);
	mutex_init(&dev->pool_lock);
	INIT_LIST_HEAD(&dev->m2m_pool);
	daedalus_users_init(dev);

	dev->bridge.wdq = alloc_workqueue(DAEDALUS_NAME, WQ_UNBOUND, 0);
	if (!dev->bridge.wdq) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = v4l2_device_register(&pdev->dev, &dev->v4l2_dev);
	if (ret)
		goto err_wq;

	dev->mc_m2m_dev = v4l2_m2m_init(&daedalus_m2m_ops);
	if (IS_ERR(dev->mc_m2m_dev)) {
		ret = PTR_ERR(dev->mc_m2m_dev);
		goto err_v4l2;
	}

	dev->mdev.dev = &pdev->dev;
	strscpy(dev->mdev.driver_name, DAEDALUS_NAME, sizeof(dev->mdev.driver_name));
	strscpy(dev->mdev.model, DAEDALUS_NAME, sizeof(dev->mdev.model));
	strscpy(dev->mdev.bus_info, DAEDALUS_BUS_INFO, sizeof(dev->mdev.bus_info));
	media_device_init(&dev->mdev);
	dev->mdev.ops = &daedalus_media_ops;
	dev->v4l2_dev.mdev = &dev->mdev;

	vfd = &dev->vfd;
	strscpy(vfd->name, DAEDALUS_NAME, sizeof(vfd->name));
	vfd->vfl_dir = VFL_DIR_M2M;
	vfd->fops = &daedalus_fops;
	vfd->ioctl_ops = &daedalus_ioctl_ops;
	vfd->device_caps = V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING;
	vfd->minor = -1;
	vfd->release = daedalus_device_release;
	vfd->lock = &dev->dev_mutex;
	vfd->v4l2_dev = &dev->v4l2_dev;
	video_set_drvdata(vfd, dev);
	platform_set_drvdata(pdev, dev);

	ret = daedalus_bridge_register(dev);
	if (ret)
		goto err_mc_m2m;

	ret = video_register_device(vfd, VFL_TYPE_VIDEO, daedalus_video_nr);
	if (ret)
		goto err_bridge;

	ret = v4l2_m2m_register_media_controller(dev->mc_m2m_dev, vfd,
						 MEDIA_ENT_F_PROC_VIDEO_DECODER);
	if (ret)
		goto err_video;

	ret = media_device_register(&dev->mdev);
	if (ret)
		goto err_m2m_mc;

	daedalus_debugfs_init(dev);
	v4l2_info(&dev->v4l2_dev, "decoder /dev/video%d, daemon channel /dev/%s\n",
		  vfd->num, DAEDALUS_NAME);
	return 0;

err_m2m_mc:
	v4l2_m2m_unregister_media_controller(dev->mc_m2m_dev);
err_video:
	daedalus_bridge_unregister(dev);
	/* daedalus_device_release() frees the rest. */
	video_unregister_device(vfd);
	return ret;
err_bridge:
	daedalus_bridge_unregister(dev);
err_mc_m2m:
	v4l2_m2m_release(dev->mc_m2m_dev);
err_v4l2:
	media_device_cleanup(&dev->mdev);
	v4l2_device_unregister(&dev->v4l2_dev);
err_wq:
	destroy_workqueue(dev->bridge.wdq);
err_free:
	daedalus_users_exit(dev);
	kfree(dev);
	return ret;
}

static void daedalus_remove(struct platform_device *pdev)
{
	struct daedalus_dev *dev = platform_get_drvdata(pdev);

	daedalus_debugfs_exit(dev);
	media_device_unregister(&dev->mdev);
	v4l2_m2m_unregister_media_controller(dev->mc_m2m_dev);
	daedalus_bridge_unregister(dev);
	video_unregister_device(&dev->vfd);
}

static struct platform_driver daedalus_pdrv = {
	.probe = daedalus_probe,
	.remove = daedalus_remove,
	.driver = {
		.name = DAEDALUS_NAME,
		/* The daemon channel lives in the device: no unbind via sysfs. */
		.suppress_bind_attrs = true,
	},
};

static struct platform_device *daedalus_pdev;

static int __init daedalus_init(void)
{
	int ret;

	if (!daedalus_job_timeout_ms)
		daedalus_job_timeout_ms = 1;
	ret = platform_driver_register(&daedalus_pdrv);
	if (ret)
		return ret;
	daedalus_pdev = platform_device_register_simple(DAEDALUS_NAME,
							PLATFORM_DEVID_NONE,
							NULL, 0);
	if (IS_ERR(daedalus_pdev)) {
		platform_driver_unregister(&daedalus_pdrv);
		return PTR_ERR(daedalus_pdev);
	}
	return 0;
}

static void __exit daedalus_exit(void)
{
	platform_device_unregister(daedalus_pdev);
	platform_driver_unregister(&daedalus_pdrv);
}

module_init(daedalus_init);
module_exit(daedalus_exit);

/* 6.13 turned the namespace argument into a string. */
#if DAEDALUS_KERNEL_AT_LEAST(6, 13)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif
MODULE_DESCRIPTION("V4L2 stateless decoder backed by a userspace daemon");
MODULE_AUTHOR("daedalus-v4l2 developers");
MODULE_LICENSE("GPL");
