/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference between the kernels dm-remap builds against (Debian 6.1
 * and 6.12) lives here, and only here.
 */
#ifndef DM_REMAP_COMPAT_H
#define DM_REMAP_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/err.h>

/*
 * Opening a block device by number for dm-remap-stress: read-only and
 * shared, or read-write and exclusive with @holder (so that a mounted or
 * otherwise claimed device fails with -EBUSY). *@handle is what
 * dmr_bdev_close() needs.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#include <linux/file.h>

static inline struct block_device *dmr_bdev_open(dev_t dev, bool write,
						 void *holder, void **handle)
{
	blk_mode_t mode = BLK_OPEN_READ | (write ? BLK_OPEN_WRITE : 0);
	struct file *f = bdev_file_open_by_dev(dev, mode, write ? holder : NULL,
					       NULL);

	if (IS_ERR(f))
		return ERR_CAST(f);
	*handle = f;
	return file_bdev(f);
}

/* Synchronous, so that the device is free (dmsetup remove) on return. */
static inline void dmr_bdev_close(void *handle, bool write)
{
	__fput_sync(handle);
}
#else
static inline struct block_device *dmr_bdev_open(dev_t dev, bool write,
						 void *holder, void **handle)
{
	fmode_t mode = FMODE_READ | (write ? FMODE_WRITE | FMODE_EXCL : 0);
	struct block_device *b = blkdev_get_by_dev(dev, mode, write ? holder : NULL);

	if (!IS_ERR(b))
		*handle = b;
	return b;
}

static inline void dmr_bdev_close(void *handle, bool write)
{
	blkdev_put(handle, FMODE_READ | (write ? FMODE_WRITE | FMODE_EXCL : 0));
}
#endif

#endif /* DM_REMAP_COMPAT_H */
