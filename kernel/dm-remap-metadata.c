// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap metadata: two copies at the start of the spare area, each a
 * header block and a table with one slot per spare data block. A commit
 * writes the older copy (changed table pages, then the header with
 * PREFLUSH|FUA), so a torn commit leaves the newer copy intact.
 */
#include <linux/crc32c.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "dm-remap-internal.h"

#define REMAP_MAGIC	0x315041524d524d44ULL	/* "DMRMRAP1" */
#define REMAP_VERSION	1

struct remap_disk_header {
	__le64 magic;
	__le32 version;
	__le32 csum;		/* crc32c of the block with csum = 0 */
	__le64 generation;
	__le64 main_sectors;
	__le64 spare_sectors;
	__le64 spare_blocks;
	__le64 nr_entries;
	__le32 block_size;
	__le32 copy;
	__le32 table_csum;	/* crc32c of spare_blocks slots */
	__le32 pad;
} __packed;

int remap_md_io(struct remap_c *rc, struct block_device *bdev,
		sector_t sector, sector_t count, void *buf, bool vma,
		blk_opf_t opf)
{
	struct dm_io_region where = {
		.bdev = bdev, .sector = sector, .count = count,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.client = rc->io_client,
	};
	unsigned long error_bits = 0;

	if (vma) {
		req.mem.type = DM_IO_VMA;
		req.mem.ptr.vma = buf;
	} else {
		req.mem.type = DM_IO_KMEM;
		req.mem.ptr.addr = buf;
	}
	return dm_io(&req, 1, &where, &error_bits, IOPRIO_DEFAULT);
}

static size_t table_bytes(u64 n)
{
	return max_t(size_t, REMAP_MD_BLOCK,
		     round_up(n * sizeof(__le64), REMAP_MD_BLOCK));
}

static sector_t data_start(u64 n, sector_t block_sectors)
{
	sector_t copy = REMAP_MD_SECTORS + (table_bytes(n) >> SECTOR_SHIFT);

	return round_up(2 * copy, block_sectors);
}

static bool fits(u64 n, sector_t len, sector_t block_sectors)
{
	return data_start(n, block_sectors) + n * block_sectors <= len;
}

/* Largest number of data blocks that fit next to their metadata. */
int remap_md_geometry(struct remap_c *rc, char **error)
{
	sector_t bs = remap_block_sectors(rc);
	u64 n;

	n = div64_u64((u64)rc->spare_len << SECTOR_SHIFT,
		      ((u64)bs << SECTOR_SHIFT) + 2 * sizeof(__le64));
	while (n && !fits(n, rc->spare_len, bs))
		n--;
	while (fits(n + 1, rc->spare_len, bs))
		n++;
	if (!n) {
		*error = "Spare area too small for metadata and one block";
		return -EINVAL;
	}
	/* A lookup value names its spare block in 30 bits. */
	if (n > REMAP_MAX_SPARE) {
		*error = "Spare area too large: more than 1073741823 spare blocks";
		return -EINVAL;
	}
	rc->spare_blocks = n;
	rc->table_bytes = table_bytes(n);
	rc->copy_sectors = REMAP_MD_SECTORS + (rc->table_bytes >> SECTOR_SHIFT);
	rc->data_start = data_start(n, bs);
	return 0;
}

static u32 table_csum(struct remap_c *rc)
{
	return crc32c(0, rc->table, rc->spare_blocks * sizeof(__le64));
}

static unsigned int table_pages(struct remap_c *rc)
{
	return rc->table_bytes / REMAP_MD_BLOCK;
}

void remap_md_set_slot(struct remap_c *rc, u64 spare, u64 slot)
{
	unsigned long page = spare * sizeof(__le64) / REMAP_MD_BLOCK;

	rc->table[spare] = cpu_to_le64(slot);
	__set_bit(page, rc->dirty[0]);
	__set_bit(page, rc->dirty[1]);
}

static sector_t copy_base(struct remap_c *rc, unsigned int copy)
{
	return rc->spare_start + copy * rc->copy_sectors;
}

int remap_md_commit(struct remap_c *rc)
{
	struct remap_disk_header *h = rc->hdr_buf;
	struct block_device *bdev = rc->spare_dev->bdev;
	unsigned int c = rc->cur_copy ^ 1, n = table_pages(rc);
	unsigned long s, e;
	int r;

	if (rc->md_failed)
		return -EIO;

	for (s = find_first_bit(rc->dirty[c], n); s < n;
	     s = find_next_bit(rc->dirty[c], n, e)) {
		e = find_next_zero_bit(rc->dirty[c], n, s);
		r = remap_md_io(rc, bdev, copy_base(rc, c) + REMAP_MD_SECTORS +
				s * REMAP_MD_SECTORS, (e - s) * REMAP_MD_SECTORS,
				(char *)rc->table + s * REMAP_MD_BLOCK, true,
				REQ_OP_WRITE | REQ_SYNC);
		if (r)
			goto fail;
	}

	memset(h, 0, REMAP_MD_BLOCK);
	h->magic = cpu_to_le64(REMAP_MAGIC);
	h->version = cpu_to_le32(REMAP_VERSION);
	h->generation = cpu_to_le64(rc->generation + 1);
	h->main_sectors = cpu_to_le64(rc->ti->len);
	h->spare_sectors = cpu_to_le64(rc->spare_len);
	h->spare_blocks = cpu_to_le64(rc->spare_blocks);
	h->nr_entries = cpu_to_le64(rc->nr_entries);
	h->block_size = cpu_to_le32(rc->block_size);
	h->copy = cpu_to_le32(c);
	h->table_csum = cpu_to_le32(table_csum(rc));
	h->csum = cpu_to_le32(crc32c(0, h, REMAP_MD_BLOCK));
	r = remap_md_io(rc, bdev, copy_base(rc, c), REMAP_MD_SECTORS, h, false,
			REQ_OP_WRITE | REQ_SYNC | REQ_PREFLUSH | REQ_FUA);
	if (r) {
		/* It may have landed: the caller cannot know which state holds. */
		rc->md_hdr_failed = true;
		goto fail;
	}

	bitmap_zero(rc->dirty[c], n);
	rc->cur_copy = c;
	rc->generation++;
	return 0;
fail:
	DMERR("%s: metadata write failed (%d): no more remaps until reload",
	      dev_name_of(rc), r);
	rc->md_failed = true;
	return -EIO;
}

enum hdr_state { HDR_VALID, HDR_ZERO, HDR_GARBAGE };

static int read_header(struct remap_c *rc, unsigned int c,
		       enum hdr_state *state, u64 *gen)
{
	struct remap_disk_header *h = rc->hdr_buf;
	u32 csum;
	int r;

	r = remap_md_io(rc, rc->spare_dev->bdev, copy_base(rc, c),
			REMAP_MD_SECTORS, h, false, REQ_OP_READ);
	if (r)
		return r;
	*state = HDR_GARBAGE;
	if (!memchr_inv(h, 0, REMAP_MD_BLOCK)) {
		*state = HDR_ZERO;
		return 0;
	}
	csum = le32_to_cpu(h->csum);
	h->csum = 0;
	if (le64_to_cpu(h->magic) != REMAP_MAGIC ||
	    le32_to_cpu(h->version) != REMAP_VERSION ||
	    le32_to_cpu(h->copy) != c ||
	    crc32c(0, h, REMAP_MD_BLOCK) != csum)
		return 0;
	*state = HDR_VALID;
	*gen = le64_to_cpu(h->generation);
	return 0;
}

static bool geometry_matches(struct remap_c *rc)
{
	struct remap_disk_header *h = rc->hdr_buf;

	return le64_to_cpu(h->main_sectors) == rc->ti->len &&
	       le64_to_cpu(h->spare_sectors) == rc->spare_len &&
	       le64_to_cpu(h->spare_blocks) == rc->spare_blocks &&
	       le32_to_cpu(h->block_size) == rc->block_size;
}

/* Read copy @c (header already validated) into rc->table. */
static int load_copy(struct remap_c *rc, unsigned int c, char **error)
{
	struct remap_disk_header *h = rc->hdr_buf;
	int r;

	r = read_header(rc, c, &(enum hdr_state){0}, &(u64){0});
	if (r)
		return r;
	if (!geometry_matches(rc)) {
		*error =
			"Metadata geometry mismatch (main length, spare length or block_size)";
		return -EINVAL;
	}
	rc->generation = le64_to_cpu(h->generation);
	r = remap_md_io(rc, rc->spare_dev->bdev,
			copy_base(rc, c) + REMAP_MD_SECTORS,
			rc->table_bytes >> SECTOR_SHIFT, rc->table, true,
			REQ_OP_READ);
	if (r)
		return r;
	if (table_csum(rc) != le32_to_cpu(h->table_csum))
		return -EBADMSG;
	rc->cur_copy = c;
	bitmap_zero(rc->dirty[c], table_pages(rc));
	bitmap_fill(rc->dirty[c ^ 1], table_pages(rc));
	return 0;
}

static int format(struct remap_c *rc)
{
	int r;

	memset(rc->table, 0, rc->table_bytes);
	bitmap_fill(rc->dirty[0], table_pages(rc));
	bitmap_fill(rc->dirty[1], table_pages(rc));
	rc->generation = 0;
	rc->cur_copy = 1;
	rc->nr_entries = 0;
	r = remap_md_commit(rc);
	if (!r)
		r = remap_md_commit(rc);
	return r;
}

static int load(struct remap_c *rc, bool may_format, char **error)
{
	enum hdr_state st[2];
	u64 gen[2] = { 0, 0 };
	unsigned int c, first;
	int r;

	for (c = 0; c < 2; c++) {
		r = read_header(rc, c, &st[c], &gen[c]);
		if (r) {
			*error = "Cannot read the metadata headers";
			return r;
		}
	}
	if (st[0] != HDR_VALID && st[1] != HDR_VALID) {
		if (!may_format) {
			*error = "Metadata headers are gone";
			return -EINVAL;
		}
		if (!rc->format && (st[0] != HDR_ZERO || st[1] != HDR_ZERO)) {
			*error =
				"Spare area holds unknown data (the format feature overwrites it)";
			return -EINVAL;
		}
		r = format(rc);
		if (r)
			*error = "Cannot write the metadata";
		return r;
	}

	/*
	 * Newest valid copy first; a torn table falls back to the other.
	 * Either copy going unused means a torn commit or corruption: say so,
	 * as the next commit overwrites it.
	 */
	first = (st[1] == HDR_VALID && (st[0] != HDR_VALID || gen[1] > gen[0]));
	if (st[first ^ 1] != HDR_VALID)
		DMWARN("%s: metadata copy %u has no valid header: using copy %u",
		       dev_name_of(rc), first ^ 1, first);
	for (c = first; ; c = first ^ 1) {
		if (st[c] == HDR_VALID) {
			r = load_copy(rc, c, error);
			if (r != -EBADMSG)
				break;
			DMWARN("%s: metadata copy %u table checksum mismatch%s",
			       dev_name_of(rc), c, c == first && st[c ^ 1] == HDR_VALID ?
			       ": using the older copy" : "");
		}
		if (c != first) {
			*error = "Metadata is corrupt (no copy has a valid header and table)";
			return -EINVAL;
		}
	}
	if (r == -EIO)
		*error = "Cannot read the metadata table";
	return r;
}

void remap_md_free(struct remap_c *rc)
{
	vfree(rc->table);
	bitmap_free(rc->dirty[0]);
	bitmap_free(rc->dirty[1]);
	bitmap_free(rc->spare_used);
	kfree(rc->hdr_buf);
}

int remap_md_open(struct remap_c *rc, char **error)
{
	int r;

	rc->table = vzalloc(rc->table_bytes);
	rc->dirty[0] = bitmap_zalloc(table_pages(rc), GFP_KERNEL);
	rc->dirty[1] = bitmap_zalloc(table_pages(rc), GFP_KERNEL);
	rc->spare_used = bitmap_zalloc(rc->spare_blocks, GFP_KERNEL);
	rc->hdr_buf = kzalloc(REMAP_MD_BLOCK, GFP_KERNEL);
	if (!rc->table || !rc->dirty[0] || !rc->dirty[1] || !rc->spare_used ||
	    !rc->hdr_buf) {
		*error = "Cannot allocate the metadata";
		return -ENOMEM;
	}
	r = load(rc, true, error);
	if (r)
		return r;
	r = remap_build_map(rc);
	if (r)
		*error = r == -ENOMEM ? "Cannot allocate the remap map" :
					"Metadata table holds invalid entries";
	return r;
}

/*
 * Called from preresume: a table loaded while another one was live may
 * have read metadata that the old table changed since. Reload then. After
 * a failed reload, reload whatever the headers say: the table image,
 * generation and copy may be the new ones while the map is the old one.
 */
int remap_md_reload_if_changed(struct remap_c *rc)
{
	enum hdr_state st[2];
	u64 gen[2] = { 0, 0 };
	char *error = NULL;
	unsigned int c;
	int r;

	for (c = 0; c < 2; c++) {
		r = read_header(rc, c, &st[c], &gen[c]);
		if (r)
			return r;
	}
	if (rc->md_state != REMAP_MD_STALE &&
	    st[rc->cur_copy] == HDR_VALID && gen[rc->cur_copy] == rc->generation &&
	    (st[rc->cur_copy ^ 1] != HDR_VALID ||
	     gen[rc->cur_copy ^ 1] < rc->generation)) {
		rc->md_state = REMAP_MD_CURRENT;
		return 0;
	}

	rc->md_state = REMAP_MD_STALE;
	r = load(rc, false, &error);
	if (!r)
		r = remap_build_map(rc);
	if (r) {
		DMERR("%s: reloading changed metadata failed: %s",
		      dev_name_of(rc),
		      error ?: r == -ENOMEM ? "cannot allocate the remap map" :
					      "invalid entries");
		return r;
	}
	rc->md_state = REMAP_MD_CURRENT;
	return 0;
}

/*
 * Before a change: -EIO after a failed metadata write; a message may also
 * reach a new table between the swap and its first preresume, or after
 * that failed.
 */
int remap_md_current(struct remap_c *rc)
{
	if (rc->md_failed)
		return -EIO;
	return rc->md_state == REMAP_MD_CURRENT ? 0 : remap_md_reload_if_changed(rc);
}
