// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: buffer memory.
 *
 * Buffers are written and read by CPUs only (the application, the daemon),
 * and possibly scanned out or sampled by a display or GPU that imports them
 * as dmabufs. So the memory is plain pages (no CMA, no contiguity), every CPU
 * mapping is cached, and cache maintenance is done for dmabuf importers only:
 * when they map the buffer, when a CPU user brackets its access with
 * DMA_BUF_IOCTL_SYNC, and when a CAPTURE buffer is dequeued. All of it runs
 * in process context with interrupts and preemption on: cleaning a 4K
 * picture takes milliseconds.
 * This uses no videobuf2 allocator module (the Raspberry Pi 5 kernel does not
 * build videobuf2-dma-sg), see docs/memory.md.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "daedalus.h"

/* Largest block tried first; smaller ones are used when memory is fragmented. */
#define DAEDALUS_MEM_MAX_ORDER	4

enum daedalus_mem_kind {
	DAEDALUS_MEM_PAGES,
	DAEDALUS_MEM_IMPORT,
};

/**
 * struct daedalus_mem - memory of one vb2 plane allocated by us
 * @kind:	DAEDALUS_MEM_PAGES
 * @size:	requested size
 * @pages:	the pages, each mapped separately
 * @num_pages:	entries of @pages
 * @refcount:	vb2, CPU mappings and exported dmabufs
 * @lock:	protects @vaddr
 * @att_lock:	protects @attachments and their directions
 * @attachments: dmabuf attachments (struct daedalus_mem_attach)
 * @vaddr:	kernel mapping, made on demand
 */
struct daedalus_mem {
	enum daedalus_mem_kind kind;
	unsigned long size;
	struct page **pages;
	unsigned int num_pages;
	refcount_t refcount;
	struct mutex lock;	/* see kernel-doc above */
	struct mutex att_lock;	/* see kernel-doc above */
	struct list_head attachments;
	void *vaddr;
};

/**
 * struct daedalus_mem_import - a dmabuf imported by vb2 (V4L2_MEMORY_DMABUF)
 * @kind:	DAEDALUS_MEM_IMPORT
 * @dbuf:	the dmabuf; vb2 holds the reference
 *
 * The driver never does DMA: the daemon imports the same dmabuf itself.
 */
struct daedalus_mem_import {
	enum daedalus_mem_kind kind;
	struct dma_buf *dbuf;
};

/**
 * struct daedalus_mem_attach - one importer of an exported buffer
 * @entry:	link in &daedalus_mem.attachments
 * @dev:	importing device
 * @sgt:	scatter list for @dev, mapped and synced by us
 * @imp:	copy of @sgt handed to the importer: with CONFIG_DMABUF_DEBUG the
 *		dmabuf core scrambles the page pointers of the table it passes
 *		on while it is mapped, so our syncs cannot use that one
 * @dir:	direction of the current mapping, DMA_NONE if unmapped
 */
struct daedalus_mem_attach {
	struct list_head entry;
	struct device *dev;
	struct sg_table sgt;
	struct sg_table imp;
	enum dma_data_direction dir;
};

static void daedalus_mem_release(struct daedalus_mem *mem)
{
	unsigned int i;

	if (mem->vaddr)
		vunmap(mem->vaddr);
	/* an allocation that failed part way left the rest NULL (kvcalloc) */
	for (i = 0; i < mem->num_pages && mem->pages[i]; i++)
		__free_page(mem->pages[i]);
	kvfree(mem->pages);
	mutex_destroy(&mem->att_lock);
	mutex_destroy(&mem->lock);
	kfree(mem);
}

static void daedalus_mem_get(struct daedalus_mem *mem)
{
	refcount_inc(&mem->refcount);
}

static void daedalus_mem_unref(struct daedalus_mem *mem)
{
	if (refcount_dec_and_test(&mem->refcount))
		daedalus_mem_release(mem);
}

static int daedalus_mem_alloc_pages(struct daedalus_mem *mem)
{
	unsigned int done = 0;

	while (done < mem->num_pages) {
		unsigned int order = min_t(unsigned int, DAEDALUS_MEM_MAX_ORDER,
					   ilog2(mem->num_pages - done));
		struct page *page = NULL;
		unsigned int i;

		/*
		 * Zeroed: the memory is mapped to userspace. Charged to the
		 * memory cgroup of the task allocating the buffers (REQBUFS,
		 * CREATE_BUFS: the application), so one client's buffers count
		 * against its own limit, not the machine's.
		 */
		for (; order > 0; order--) {
			page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NORETRY |
					   __GFP_NOWARN, order);
			if (page)
				break;
		}
		/*
		 * RETRY_MAYFAIL: at its memory cgroup's limit (or the machine's)
		 * the client gets ENOMEM from REQBUFS; without it the charge
		 * calls the OOM killer, which picks a task of the cgroup, not
		 * necessarily the one asking.
		 */
		if (!page)
			page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_RETRY_MAYFAIL |
					  __GFP_NOWARN);
		if (!page)
			return -ENOMEM;
		if (order)
			split_page(page, order);
		for (i = 0; i < (1U << order); i++)
			mem->pages[done++] = page + i;
	}
	return 0;
}

static void *daedalus_mem_alloc(struct vb2_buffer *vb, struct device *dev,
				unsigned long size)
{
	struct daedalus_mem *mem;

	if (!size)
		return ERR_PTR(-EINVAL);
	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem)
		return ERR_PTR(-ENOMEM);
	mem->kind = DAEDALUS_MEM_PAGES;
	mem->size = size;
	mem->num_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	mutex_init(&mem->lock);
	mutex_init(&mem->att_lock);
	INIT_LIST_HEAD(&mem->attachments);
	refcount_set(&mem->refcount, 1);
	mem->pages = kvcalloc(mem->num_pages, sizeof(*mem->pages), GFP_KERNEL_ACCOUNT);
	if (!mem->pages) {
		kfree(mem);
		return ERR_PTR(-ENOMEM);
	}
	if (daedalus_mem_alloc_pages(mem)) {
		daedalus_mem_release(mem);
		return ERR_PTR(-ENOMEM);
	}
	return mem;
}

static void daedalus_mem_put(void *buf_priv)
{
	daedalus_mem_unref(buf_priv);
}

static unsigned int daedalus_mem_num_users(void *buf_priv)
{
	struct daedalus_mem *mem = buf_priv;

	/* vb2 asks for imported planes too; they are not ours to count. */
	if (mem->kind != DAEDALUS_MEM_PAGES)
		return 1;
	return refcount_read(&mem->refcount);
}

static void *daedalus_mem_vaddr(struct vb2_buffer *vb, void *buf_priv)
{
	struct daedalus_mem *mem = buf_priv;
	void *vaddr;

	if (mem->kind != DAEDALUS_MEM_PAGES)
		return NULL;
	mutex_lock(&mem->lock);
	if (!mem->vaddr)
		mem->vaddr = vmap(mem->pages, mem->num_pages, VM_MAP, PAGE_KERNEL);
	vaddr = mem->vaddr;
	mutex_unlock(&mem->lock);
	return vaddr;
}

/*
 * The importers' view: clean the CPU caches so that a device reading through
 * an existing mapping sees what CPUs wrote. Never invalidates, so it cannot
 * drop data a CPU has not written back yet.
 */
static void daedalus_mem_sync_importers(struct daedalus_mem *mem)
{
	struct daedalus_mem_attach *a;

	mutex_lock(&mem->att_lock);
	list_for_each_entry(a, &mem->attachments, entry)
		if (a->dir != DMA_NONE)
			dma_sync_sgtable_for_device(a->dev, &a->sgt, a->dir);
	mutex_unlock(&mem->att_lock);
}

/**
 * daedalus_mem_dequeued() - a CAPTURE plane goes back to the application
 * @buf_priv:	the plane's memory (vb2 mem_priv)
 *
 * Its picture is final: a display that imported it once must see it. Called
 * from the vb2 buf_finish op at DQBUF, in process context. vb2's finish
 * memop would run in vb2_buffer_done(), under the m2m core's spinlock with
 * interrupts off, for as long as cleaning the whole picture takes.
 */
void daedalus_mem_dequeued(void *buf_priv)
{
	struct daedalus_mem *mem = buf_priv;

	if (mem && mem->kind == DAEDALUS_MEM_PAGES)
		daedalus_mem_sync_importers(mem);
}

static void daedalus_vm_open(struct vm_area_struct *vma)
{
	daedalus_mem_get(vma->vm_private_data);
}

static void daedalus_vm_close(struct vm_area_struct *vma)
{
	daedalus_mem_unref(vma->vm_private_data);
}

static const struct vm_operations_struct daedalus_vm_ops = {
	.open = daedalus_vm_open,
	.close = daedalus_vm_close,
};

static int daedalus_mem_mmap(void *buf_priv, struct vm_area_struct *vma)
{
	struct daedalus_mem *mem = buf_priv;
	int ret;

	/*
	 * vb2 lists a new buffer before it allocates its memory, and mmap()
	 * takes only mmap_lock, which REQBUFS and CREATE_BUFS do not hold while
	 * allocating: an mmap() of that buffer's offset can get here first (as
	 * vb2's own allocators know).
	 */
	if (!mem || mem->kind != DAEDALUS_MEM_PAGES)
		return -EINVAL;
	/* Cached mapping: CPU decoders read reference pictures a lot. */
	ret = vm_map_pages(vma, mem->pages, mem->num_pages);
	if (ret)
		return ret;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = mem;
	vma->vm_ops = &daedalus_vm_ops;
	daedalus_vm_open(vma);
	return 0;
}

/* dmabuf exporter */

/*
 * Neighbouring page blocks are often contiguous, and would merge into
 * segments longer than the importer can map (DMA-API debug warns; a device
 * behind swiotlb cannot bounce them): no segment past what it supports.
 */
static unsigned int daedalus_max_segment(struct device *dev)
{
	size_t seg = min_t(size_t, dma_max_mapping_size(dev),
			   dma_get_max_seg_size(dev));

	seg = min_t(size_t, seg, UINT_MAX);
	return max_t(size_t, ALIGN_DOWN(seg, PAGE_SIZE), PAGE_SIZE);
}

static int daedalus_dmabuf_attach(struct dma_buf *dbuf,
				  struct dma_buf_attachment *dba)
{
	struct daedalus_mem *mem = dbuf->priv;
	struct daedalus_mem_attach *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = sg_alloc_table_from_pages_segment(&a->sgt, mem->pages,
						mem->num_pages, 0,
						(unsigned long)mem->num_pages << PAGE_SHIFT,
						daedalus_max_segment(dba->dev),
						GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	ret = sg_alloc_table(&a->imp, a->sgt.orig_nents, GFP_KERNEL);
	if (ret) {
		sg_free_table(&a->sgt);
		kfree(a);
		return ret;
	}
	a->dev = dba->dev;
	a->dir = DMA_NONE;
	dba->priv = a;
	mutex_lock(&mem->att_lock);
	list_add(&a->entry, &mem->attachments);
	mutex_unlock(&mem->att_lock);
	return 0;
}

/*
 * Unmapping syncs for the CPU by default, which on arm64 invalidates every
 * line of the buffer, whatever the direction but TO_DEVICE: a display that
 * drops its import (BIDIRECTIONAL, as DRM maps them) while the daemon writes
 * the buffer's next picture would discard lines not written back yet. As in
 * begin_cpu_access, only a DMA_FROM_DEVICE mapping counts as a device's write
 * the CPU must then see; the others skip the sync.
 */
static void daedalus_unmap_attach(struct daedalus_mem_attach *a,
				  enum dma_data_direction dir)
{
	dma_unmap_sgtable(a->dev, &a->sgt, dir,
			  dir == DMA_FROM_DEVICE ? 0 : DMA_ATTR_SKIP_CPU_SYNC);
}

static void daedalus_dmabuf_detach(struct dma_buf *dbuf,
				   struct dma_buf_attachment *dba)
{
	struct daedalus_mem *mem = dbuf->priv;
	struct daedalus_mem_attach *a = dba->priv;

	mutex_lock(&mem->att_lock);
	list_del(&a->entry);
	mutex_unlock(&mem->att_lock);
	if (a->dir != DMA_NONE)
		daedalus_unmap_attach(a, a->dir);
	sg_free_table(&a->imp);
	sg_free_table(&a->sgt);
	kfree(a);
}

/* The importer's copy of a mapped table: same pages, same DMA addresses. */
static void daedalus_copy_mapped(struct sg_table *dst, struct sg_table *src)
{
	struct scatterlist *d = dst->sgl, *s;
	unsigned int i;

	for_each_sgtable_sg(src, s, i) {
		sg_set_page(d, sg_page(s), s->length, s->offset);
		sg_dma_address(d) = sg_dma_address(s);
		sg_dma_len(d) = sg_dma_len(s);
#ifdef CONFIG_NEED_SG_DMA_FLAGS
		d->dma_flags = s->dma_flags;
#endif
		d = sg_next(d);
	}
	dst->nents = src->nents;
}

static struct sg_table *daedalus_dmabuf_map(struct dma_buf_attachment *dba,
					    enum dma_data_direction dir)
{
	struct daedalus_mem *mem = dba->dmabuf->priv;
	struct daedalus_mem_attach *a = dba->priv;
	struct sg_table *sgt = &a->sgt;
	enum dma_data_direction old = a->dir;
	int ret;

	/* The dmabuf core serialises the mapping calls of one attachment. */
	if (old == dir)
		return &a->imp;
	mutex_lock(&mem->att_lock);
	a->dir = DMA_NONE;
	mutex_unlock(&mem->att_lock);
	if (old != DMA_NONE)
		daedalus_unmap_attach(a, old);
	/* Mapping does the cache maintenance for the device. */
	ret = dma_map_sgtable(a->dev, sgt, dir, 0);
	if (ret)
		return ERR_PTR(ret);
	daedalus_copy_mapped(&a->imp, sgt);
	mutex_lock(&mem->att_lock);
	a->dir = dir;
	mutex_unlock(&mem->att_lock);
	return &a->imp;
}

static void daedalus_dmabuf_unmap(struct dma_buf_attachment *dba,
				  struct sg_table *sgt,
				  enum dma_data_direction dir)
{
	/* The mapping is kept until detach, as importers expect. */
}

/*
 * Invalidate only what a device may have written and a CPU is about to read.
 * The CPUs write these buffers and importers read them: DRM and GPU drivers
 * map every import DMA_BIDIRECTIONAL, also a display that never writes, so
 * only a DMA_FROM_DEVICE mapping (a V4L2 capture device writing into the
 * buffer) counts as a writer. Invalidating for the others would cost a whole
 * picture per frame and, on arm64, discard lines that a CPU wrote through
 * another mapping (the video node's mmap has no sync ioctl) and that were
 * not written back yet.
 */
static int daedalus_dmabuf_begin_cpu(struct dma_buf *dbuf,
				     enum dma_data_direction dir)
{
	struct daedalus_mem *mem = dbuf->priv;
	struct daedalus_mem_attach *a;

	if (dir == DMA_TO_DEVICE)
		return 0;	/* the CPU only writes */
	mutex_lock(&mem->att_lock);
	list_for_each_entry(a, &mem->attachments, entry)
		if (a->dir == DMA_FROM_DEVICE)
			dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
	mutex_unlock(&mem->att_lock);
	return 0;
}

static int daedalus_dmabuf_end_cpu(struct dma_buf *dbuf,
				   enum dma_data_direction dir)
{
	/* A CPU that only read left nothing to write back. */
	if (dir == DMA_FROM_DEVICE)
		return 0;
	/* the debug kernel's stand-in for an exporter whose maintenance fails */
	if (daedalus_fail_sync_end())
		return -EIO;
	daedalus_mem_sync_importers(dbuf->priv);
	return 0;
}

static int daedalus_dmabuf_mmap(struct dma_buf *dbuf, struct vm_area_struct *vma)
{
	return daedalus_mem_mmap(dbuf->priv, vma);
}

static int daedalus_dmabuf_vmap(struct dma_buf *dbuf, struct iosys_map *map)
{
	void *vaddr = daedalus_mem_vaddr(NULL, dbuf->priv);

	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void daedalus_dmabuf_release(struct dma_buf *dbuf)
{
	daedalus_mem_unref(dbuf->priv);
}

static const struct dma_buf_ops daedalus_dmabuf_ops = {
	.attach = daedalus_dmabuf_attach,
	.detach = daedalus_dmabuf_detach,
	.map_dma_buf = daedalus_dmabuf_map,
	.unmap_dma_buf = daedalus_dmabuf_unmap,
	.begin_cpu_access = daedalus_dmabuf_begin_cpu,
	.end_cpu_access = daedalus_dmabuf_end_cpu,
	.mmap = daedalus_dmabuf_mmap,
	.vmap = daedalus_dmabuf_vmap,
	.release = daedalus_dmabuf_release,
};

static struct dma_buf *daedalus_mem_get_dmabuf(struct vb2_buffer *vb,
					       void *buf_priv,
					       unsigned long flags)
{
	struct daedalus_mem *mem = buf_priv;
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct dma_buf *dbuf;

	if (mem->kind != DAEDALUS_MEM_PAGES)
		return NULL;
	exp.ops = &daedalus_dmabuf_ops;
	exp.size = (size_t)mem->num_pages << PAGE_SHIFT;
	exp.flags = flags;
	exp.priv = mem;
	daedalus_mem_get(mem);
	dbuf = dma_buf_export(&exp);
	if (IS_ERR(dbuf)) {
		daedalus_mem_unref(mem);
		return NULL;
	}
	return dbuf;
}

/* dmabuf importer: vb2 keeps the dmabuf, we only remember it */

/*
 * Never fails for a dmabuf smaller than the plane length the application
 * claims: daedalus_buf_init() refuses it. When attach_dmabuf fails, vb2
 * (__prepare_dmabuf, 6.12) drops only the planes attached so far and leaks
 * its reference to this plane's dmabuf and to every later one's: an
 * application could pin any dmabuf, and one exported by this module would
 * pin the module, with one QBUF whose plane length is too large.
 */
static void *daedalus_mem_attach_dmabuf(struct vb2_buffer *vb,
					struct device *dev,
					struct dma_buf *dbuf,
					unsigned long size)
{
	struct daedalus_mem_import *imp;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return ERR_PTR(-ENOMEM);
	imp->kind = DAEDALUS_MEM_IMPORT;
	imp->dbuf = dbuf;
	return imp;
}

static void daedalus_mem_detach_dmabuf(void *buf_priv)
{
	kfree(buf_priv);
}

static int daedalus_mem_map_dmabuf(void *buf_priv)
{
	return 0;
}

static void daedalus_mem_unmap_dmabuf(void *buf_priv)
{
}

const struct vb2_mem_ops daedalus_mem_ops = {
	.alloc = daedalus_mem_alloc,
	.put = daedalus_mem_put,
	.get_dmabuf = daedalus_mem_get_dmabuf,
	.attach_dmabuf = daedalus_mem_attach_dmabuf,
	.detach_dmabuf = daedalus_mem_detach_dmabuf,
	.map_dmabuf = daedalus_mem_map_dmabuf,
	.unmap_dmabuf = daedalus_mem_unmap_dmabuf,
	.vaddr = daedalus_mem_vaddr,
	.num_users = daedalus_mem_num_users,
	.mmap = daedalus_mem_mmap,
};
