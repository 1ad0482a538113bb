/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In-kernel API of the dm-remap target, for dm-remap-stress.
 *
 * A handle refers to one "remap" target instance. It stays valid until
 * dm_remap_put(), but once the table holding the target is destroyed
 * (reload or remove) every call on it fails with -ENODEV or returns 0.
 */
#ifndef DM_REMAP_H
#define DM_REMAP_H

#include <linux/types.h>

struct dm_remap_target;

struct dm_remap_counters {
	u64 reads;		/* bios mapped for read */
	u64 writes;		/* bios mapped for write */
	u64 spare_ios;		/* bios sent to the spare area */
	u64 fast_path;		/* bios mapped without a lookup */
	u64 lookups;		/* bios that needed a lookup */
	u64 read_errors;
	u64 write_errors;
	u64 auto_remaps;
	u64 remapped;		/* live remap entries */
	u64 spare_blocks;	/* data blocks in the spare area */
	u64 lost;		/* entries whose data could not be recovered */
};

/*
 * The active remap target behind dm device @dev, which must map its whole
 * length with one "remap" target. Referenced; ERR_PTR(-EBUSY) if the
 * device is suspended, ERR_PTR(-ENODEV) otherwise.
 */
struct dm_remap_target *dm_remap_get(dev_t dev);
void dm_remap_put(struct dm_remap_target *rt);

/*
 * The device of the only dm device mapped whole by one "remap" target:
 * 0 and *@dev set; -ENODEV if there is none, -ENOTUNIQ if there are several.
 */
int dm_remap_find_only(dev_t *dev);

u32 dm_remap_block_size(struct dm_remap_target *rt);
u64 dm_remap_nr_blocks(struct dm_remap_target *rt);

/*
 * Remap (or unremap) @n logical blocks, migrating their data; the metadata
 * is durable when these return. *@done is set to the number of blocks
 * handled before an error (on -EINVAL, blocks[*done] is the offending
 * block). Blocks already remapped (not remapped) are left alone. @added, if not NULL, is
 * a bitmap of @n bits: bit k is set when this call remapped blocks[k]
 * (k < *done), so that a caller undoes only its own remaps, never ones
 * made meanwhile by a message or an automatic remap. -ENOSPC: spare area
 * full; -ENODEV: the target is gone; -EBUSY: the device is suspended;
 * -EINVAL: a block beyond the device or, to unremap, a block whose data
 * was lost (it must be rewritten first). May sleep.
 */
int dm_remap_add_blocks(struct dm_remap_target *rt, const u64 *blocks,
			unsigned int n, unsigned int *done, unsigned long *added);
int dm_remap_remove_blocks(struct dm_remap_target *rt, const u64 *blocks,
			   unsigned int n, unsigned int *done);

bool dm_remap_block_is_remapped(struct dm_remap_target *rt, u64 block);
void dm_remap_get_counters(struct dm_remap_target *rt,
			   struct dm_remap_counters *c);

#endif /* DM_REMAP_H */
