/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-remap internals shared by the target and its metadata code.
 */
#ifndef DM_REMAP_INTERNAL_H
#define DM_REMAP_INTERNAL_H

#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/bio.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/kref.h>
#include <linux/xarray.h>
#include <linux/workqueue.h>

#include "dm-remap.h"

#define DM_MSG_PREFIX "remap"

/* Fast path: one counter per region of 2^REMAP_REGION_SHIFT blocks. */
#define REMAP_REGION_SHIFT	10

/* Value of a lookup entry: spare block << 2 | flags. */
#define REMAP_LOST		1U	/* data unrecoverable: reads fail */
#define REMAP_BUSY		2U	/* being migrated: bios wait */
#define REMAP_FLAGS		3U
#define REMAP_SPARE(v)		((v) >> 2)
#define REMAP_MAX_SPARE		(U32_MAX >> 2)	/* spare blocks a value can name */

/* On-disk table slot, one per spare data block (little endian). */
#define REMAP_SLOT_VALID	BIT_ULL(63)
#define REMAP_SLOT_LOST		BIT_ULL(62)
#define REMAP_SLOT_BLOCK	(BIT_ULL(62) - 1)

#define REMAP_MD_BLOCK		4096	/* header size, table page size */
#define REMAP_MD_SECTORS	(REMAP_MD_BLOCK >> SECTOR_SHIFT)

struct remap_ent {
	u64 block;	/* logical block */
	u32 val;	/* REMAP_SPARE() and flags */
};

/* A region's remapped blocks as a bitmap, with the set bits before each word. */
struct remap_rbm {
	u64 bits[(1 << REMAP_REGION_SHIFT) / 64];
	u16 before[(1 << REMAP_REGION_SHIFT) / 64];
};

#define REMAP_RBM_WORDS	(sizeof(struct remap_rbm) / sizeof(u32))
static_assert(sizeof(struct remap_rbm) % sizeof(u64) == 0);

/*
 * Lookup index of a large map: region r's entries are first[r] up to
 * first[r + 1], and its values start at val[first[r] + (pad[r] >> 1)].
 * A region with many entries has a bitmap just before its values
 * (pad[r] & REMAP_PAD_RBM), so the position of a block is a popcount and
 * its value is near: a lookup there touches one spot of memory.
 */
struct remap_index {
	struct rcu_head rcu;
	u64 nr_regions;
	u64 *first;		/* nr_regions + 1 */
	u32 *pad;		/* nr_regions */
	u32 *pool;		/* values and bitmaps, 8-byte aligned */
};

#define REMAP_PAD_RBM	1U

/*
 * Sorted by block, replaced whole under RCU when entries come or go.
 * Values are read and changed in place with READ_ONCE/WRITE_ONCE.
 */
struct remap_map {
	struct rcu_head rcu;
	u64 nr;
	struct remap_index *idx;	/* NULL: small map (or no memory) */
	u32 *val;			/* idx->pool, or nr values after block[] */
	u64 block[];
};

/*
 * Blocks whose last change may or may not have reached the disk: its
 * commit failed on the header write, which may have landed all the same.
 * Writes to them fail until the table is reloaded, so that main and spare
 * keep the same data whichever header a reload finds. nr == 0: every block
 * (there was no memory for the list).
 */
struct remap_doubt {
	u64 nr;
	u64 block[];	/* sorted */
};

struct remap_pcpu {
	u64 reads, writes, spare_ios, fast_path, lookups;
	u64 read_errors, write_errors, auto_remaps;
	long inflight[2];
};

struct dm_remap_target {
	struct kref kref;
	struct rw_semaphore lock;	/* read: API call; write: dtr */
	struct remap_c *rc;		/* NULL once the target is destroyed */
	struct list_head node;
};

/*
 * What the in-memory metadata is worth. A table's constructor loads it,
 * but until its first preresume another table of the device may still
 * commit (a reload is live until the swap). A failed reload leaves it
 * half-read: only a full reload may follow.
 */
enum remap_md_state {
	REMAP_MD_LOADED,	/* as read by the constructor */
	REMAP_MD_CURRENT,	/* checked against the disk since the swap */
	REMAP_MD_STALE,		/* a reload failed: reload before any use */
};

struct remap_c {
	struct dm_target *ti;
	struct dm_dev *main_dev;
	struct dm_dev *spare_dev;
	sector_t spare_start;
	sector_t spare_len;
	u32 block_size;			/* bytes */
	unsigned int block_shift;	/* log2(sectors per block) */
	u64 nr_blocks;			/* logical blocks */
	bool auto_remap;
	bool format;
	bool active;

	/* Lookup (read side lock-free) */
	struct remap_map __rcu *map;
	u32 *region_cnt;
	u64 nr_regions;
	unsigned int epoch;
	struct remap_pcpu __percpu *pcpu;

	/* Reads that failed: the next write there is remapped. */
	struct xarray suspect;
	atomic_t nr_suspect;
	/* A metadata write failed (set under lock, read in the I/O path). */
	bool md_failed;

	/* Everything below is under lock: take it with remap_lock(). */
	struct mutex lock;
	unsigned int lock_noio;		/* memalloc_noio_save() of the holder */
	u64 spare_blocks;		/* data blocks in the spare area */
	sector_t data_start;		/* first data sector, relative */
	sector_t copy_sectors;		/* header + table of one copy */
	__le64 *table;			/* vmalloc, on-disk image */
	size_t table_bytes;		/* rounded up to REMAP_MD_BLOCK */
	unsigned long *spare_used;
	unsigned long *dirty[2];	/* table pages to write per copy */
	u64 alloc_hint;
	u64 nr_lost;
	u64 nr_entries;
	u64 generation;
	unsigned int cur_copy;		/* copy holding @generation */
	enum remap_md_state md_state;
	bool md_hdr_failed;		/* the failed write was a header's */
	struct remap_doubt *doubt;	/* set once, after md_hdr_failed */
	void *hdr_buf;			/* REMAP_MD_BLOCK bytes */
	struct dm_io_client *io_client;

	/* Deferred work */
	spinlock_t defer_lock;
	struct bio_list waiting;	/* bios on a BUSY block */
	struct bio_list failed_writes;	/* to remap and retry */
	struct bio_list clear_lost;	/* rewrote a lost block */
	struct workqueue_struct *wq;
	struct work_struct worker;
	struct bio_set bs;

	struct dm_remap_target *handle;
};

/* dm-remap-metadata.c */
int remap_md_geometry(struct remap_c *rc, char **error);
int remap_md_open(struct remap_c *rc, char **error);
int remap_md_reload_if_changed(struct remap_c *rc);
int remap_md_current(struct remap_c *rc);
int remap_md_commit(struct remap_c *rc);
void remap_md_free(struct remap_c *rc);
void remap_md_set_slot(struct remap_c *rc, u64 spare, u64 slot);
int remap_md_io(struct remap_c *rc, struct block_device *bdev,
		sector_t sector, sector_t count, void *buf, bool vma,
		blk_opf_t opf);

/* dm-remap-target.c: rebuild the lookup state from rc->table. */
int remap_build_map(struct remap_c *rc);

/* The dm device's name, for messages. */
static inline const char *dev_name_of(struct remap_c *rc)
{
	return dm_device_name(dm_table_get_md(rc->ti->table));
}

static inline u64 remap_block(struct remap_c *rc, sector_t sector)
{
	return sector >> rc->block_shift;
}

static inline sector_t remap_block_sectors(struct remap_c *rc)
{
	return (sector_t)1 << rc->block_shift;
}

static inline sector_t remap_spare_sector(struct remap_c *rc, u64 spare)
{
	return rc->spare_start + rc->data_start + (spare << rc->block_shift);
}

#endif /* DM_REMAP_INTERNAL_H */
