// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: keep a failing disk in service by redirecting its bad blocks
 * to a spare area.
 *
 * Reads and writes look up their block in a sorted array published under
 * RCU; a per-region counter lets bios in regions without remaps skip even
 * that. Remapping a block marks it busy (bios to it wait), drains the bios
 * already in flight (two per-CPU in-flight counters flipped like an epoch),
 * copies the data and commits the metadata before anyone is told.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/bsearch.h>
#include <linux/sort.h>
#include <linux/delay.h>
#include <linux/blkdev.h>
#include <linux/sched/mm.h>

#include "dm-remap-internal.h"
#include "compat.h"

#define REMAP_DEFAULT_BLOCK	4096
#define REMAP_BATCH		65536	/* blocks per migration and commit */
#define REMAP_COPY_BYTES	SZ_1M
#define REMAP_MAX_SUSPECT	65536
#define REMAP_LIST_DEFAULT	64
#define REMAP_LIST_MAX		4096
#define REMAP_INDEX_MIN		4096	/* entries from which maps get an index */
#define REMAP_RBM_MIN		64	/* entries from which a region gets a bitmap */
#define REMAP_REGION_BLOCKS	BIT(REMAP_REGION_SHIFT)

/* Per-bio state. */
struct remap_io {
	struct bvec_iter iter;	/* logical sector and size, for the worker */
	u8 epoch;
	u8 flags;
};

#define PB_COUNTED	1	/* counted in inflight[epoch] */
#define PB_MAIN		2
#define PB_SPARE	4
#define PB_CLEAR_LOST	8	/* rewrote a whole lost block */
#define PB_DONE		16	/* end_io already handled it */
#define PB_UNTRIED	32	/* deferred before it was tried on main */
#define PB_NO_SUSPECT	64	/* to main even if a read failed there */

static LIST_HEAD(remap_targets);
static DEFINE_MUTEX(remap_targets_lock);

/* ------------------------------------------------------------------ */
/* Lookup */

/*
 * Region @r's values in an indexed map. A region with a bitmap has it
 * right before them, so that a lookup there reads one spot of memory.
 */
static u32 *region_vals(struct remap_map *map, u64 r)
{
	return &map->val[map->idx->first[r] + (map->idx->pad[r] >> 1)];
}

static struct remap_rbm *region_rbm(u32 *vals)
{
	return (struct remap_rbm *)(vals - REMAP_RBM_WORDS);
}

/* Index of the first of sorted @a[@lo..@hi) that is >= @key, or @hi. */
static __always_inline u64 lower_bound(const u64 *a, u64 lo, u64 hi, u64 key)
{
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Search @map for @block: the value's address if it is there, else NULL.
 * *@pos is the index of the first entry with block >= @block. A region
 * bitmap answers without touching the blocks. Inline in the I/O path,
 * map_search() elsewhere.
 */
static __always_inline u32 *__map_search(struct remap_map *map, u64 block,
					 u64 *pos)
{
	struct remap_index *idx = map->idx;
	u64 lo = 0, hi = map->nr, r;
	u32 pad = 0;

	if (idx) {
		r = block >> REMAP_REGION_SHIFT;
		if (r >= idx->nr_regions) {
			*pos = map->nr;
			return NULL;
		}
		lo = idx->first[r];
		hi = idx->first[r + 1];
		pad = idx->pad[r];
		if (pad & REMAP_PAD_RBM) {
			u32 *v = region_vals(map, r);
			struct remap_rbm *m = region_rbm(v);
			unsigned int off = block & (REMAP_REGION_BLOCKS - 1);
			u64 bits = m->bits[off / 64];
			unsigned int rank = m->before[off / 64] +
					    hweight64(bits & (BIT_ULL(off % 64) - 1));

			*pos = lo + rank;
			return bits & BIT_ULL(off % 64) ? v + rank : NULL;
		}
	}
	lo = lower_bound(map->block, lo, hi, block);
	*pos = lo;
	return lo < map->nr && map->block[lo] == block ?
	       &map->val[lo + (pad >> 1)] : NULL;
}

static u32 *map_search(struct remap_map *map, u64 block, u64 *pos)
{
	return __map_search(map, block, pos);
}

static u32 *map_find(struct remap_map *map, u64 block)
{
	u64 pos;

	return map_search(map, block, &pos);
}

/* Address of entry @i's value (its block is in place). */
static u32 *map_valp(struct remap_map *map, u64 i)
{
	struct remap_index *idx = map->idx;
	u32 pad = idx ? idx->pad[map->block[i] >> REMAP_REGION_SHIFT] : 0;

	return &map->val[i + (pad >> 1)];
}

static void map_set(struct remap_map *map, u64 i, u64 block, u32 val)
{
	map->block[i] = block;
	*map_valp(map, i) = val;
}

/*
 * rc->lock is needed by resume (preresume reloads the map), and its
 * holders allocate: a message may come while the device is suspended and
 * the worker runs while writes wait. Reclaim that wrote to this device
 * would then wait for us, so the holder allocates without I/O (as
 * dm-ioctl does around its own allocations).
 */
static void remap_lock(struct remap_c *rc)
{
	unsigned int noio = memalloc_noio_save();

	mutex_lock(&rc->lock);
	rc->lock_noio = noio;
}

static void remap_unlock(struct remap_c *rc)
{
	unsigned int noio = rc->lock_noio;

	mutex_unlock(&rc->lock);
	memalloc_noio_restore(noio);
}

static struct remap_map *map_locked(struct remap_c *rc)
{
	return rcu_dereference_protected(rc->map, lockdep_is_held(&rc->lock));
}

/*
 * Entries of region @r in the map being built: its count now, changed by
 * @delta for each entry of @chg (sorted by block) there. Called for
 * ascending regions, *@j walks @chg.
 */
static u64 region_next(struct remap_c *rc, u64 r, const struct remap_ent *chg,
		       u64 n, int delta, u64 *j)
{
	u64 cnt = rc->region_cnt[r];

	for (; *j < n && chg[*j].block >> REMAP_REGION_SHIFT == r; (*j)++)
		cnt += delta;
	return cnt;
}

/*
 * The lookup index of a map of @nr entries: the current one with @chg
 * added (@delta 1) or removed (-1). Bitmaps only for regions with at
 * least REMAP_RBM_MIN entries: they cost at most 2.6 bytes per entry
 * there. Without memory the map is searched whole, only slower.
 */
static struct remap_index *map_index_alloc(struct remap_c *rc, u64 nr,
					   const struct remap_ent *chg, u64 n,
					   int delta)
{
	u64 nr_regions = rc->nr_regions, nr_rbm = 0, i = 0, pos = 0, j = 0, r, cnt;
	struct remap_index *idx;
	size_t size;

	if (nr < REMAP_INDEX_MIN)
		return NULL;
	for (r = 0; r < nr_regions; r++)
		nr_rbm += region_next(rc, r, chg, n, delta, &j) >= REMAP_RBM_MIN;
	size = size_add(sizeof(*idx), array_size(nr_regions + 1, sizeof(u64)));
	size = size_add(size, array_size(round_up(nr_regions, 2), sizeof(u32)));
	size = size_add(size, array_size(size_add(nr, nr_rbm * (REMAP_RBM_WORDS + 1)),
					 sizeof(u32)));
	idx = kvzalloc(size, GFP_KERNEL);
	if (!idx)
		return NULL;
	idx->nr_regions = nr_regions;
	idx->first = (u64 *)(idx + 1);
	idx->pad = (u32 *)(idx->first + nr_regions + 1);
	idx->pool = idx->pad + round_up(nr_regions, 2);

	for (r = 0, j = 0; r < nr_regions; r++, i += cnt) {
		cnt = region_next(rc, r, chg, n, delta, &j);
		idx->first[r] = i;
		if (cnt >= REMAP_RBM_MIN) {
			/* The bitmap's u64 words need 8-byte alignment. */
			pos = round_up(pos, 2) + REMAP_RBM_WORDS;
			idx->pad[r] = (pos - i) << 1 | REMAP_PAD_RBM;
		} else {
			idx->pad[r] = (pos - i) << 1;
		}
		pos += cnt;
	}
	idx->first[nr_regions] = i;
	if (WARN_ON_ONCE(i != nr)) {
		kvfree(idx);
		return NULL;
	}
	return idx;
}

/* Fill the region bitmaps once the blocks are in place (before publishing). */
static void map_index_fill(struct remap_map *map)
{
	struct remap_index *idx = map->idx;
	u64 r, i;
	int k;

	for (r = 0; idx && r < idx->nr_regions; r++) {
		struct remap_rbm *m;

		if (!(idx->pad[r] & REMAP_PAD_RBM))
			continue;
		m = region_rbm(region_vals(map, r));
		for (i = idx->first[r]; i < idx->first[r + 1]; i++) {
			unsigned int off = map->block[i] & (REMAP_REGION_BLOCKS - 1);

			m->bits[off / 64] |= BIT_ULL(off % 64);
		}
		for (k = 1; k < ARRAY_SIZE(m->bits); k++)
			m->before[k] = m->before[k - 1] + hweight64(m->bits[k - 1]);
	}
}

/* A map for the current entries with @chg added (@delta 1) or removed (-1). */
static struct remap_map *map_alloc(struct remap_c *rc, u64 nr,
				   const struct remap_ent *chg, u64 n, int delta)
{
	struct remap_index *idx = map_index_alloc(rc, nr, chg, n, delta);
	struct remap_map *map;
	size_t size = struct_size(map, block, nr);

	if (!idx)
		size = size_add(size, array_size(nr, sizeof(u32)));
	map = kvmalloc(size, GFP_KERNEL);
	if (!map) {
		kvfree(idx);
		return NULL;
	}
	map->nr = nr;
	map->idx = idx;
	map->val = idx ? idx->pool : (u32 *)&map->block[nr];
	return map;
}

static void map_free(struct remap_map *map)
{
	if (map) {
		kvfree(map->idx);
		kvfree(map);
	}
}

/* Free a map that readers may still hold. */
static void map_retire(struct remap_map *map)
{
	if (map) {
		if (map->idx)
			kvfree_rcu(map->idx, rcu);
		kvfree_rcu(map, rcu);
	}
}

/* Make @map the live one; the caller retires or keeps the old one. */
static struct remap_map *map_publish(struct remap_c *rc, struct remap_map *map)
{
	return rcu_replace_pointer(rc->map, map, lockdep_is_held(&rc->lock));
}

static void region_add(struct remap_c *rc, const struct remap_ent *ents,
		       u64 n, int delta)
{
	u64 i;

	for (i = 0; i < n; i++) {
		u32 *cnt = &rc->region_cnt[ents[i].block >> REMAP_REGION_SHIFT];

		WRITE_ONCE(*cnt, *cnt + delta);
	}
}

/*
 * A new map (not yet live) of the live entries with @chg (sorted by
 * block) added, @delta 1 (none present yet), or removed, -1 (all
 * present). NULL without memory. Values only change under rc->lock, so
 * it stays a faithful copy while the caller holds it.
 */
static struct remap_map *map_build(struct remap_c *rc,
				   const struct remap_ent *chg, u64 n, int delta)
{
	struct remap_map *old = map_locked(rc), *map;
	u64 i = 0, j = 0, k = 0;

	map = map_alloc(rc, delta > 0 ? old->nr + n : old->nr - n, chg, n, delta);
	if (!map)
		return NULL;
	while (i < old->nr || (delta > 0 && j < n)) {
		if (delta < 0 && j < n && old->block[i] == chg[j].block) {
			i++;
			j++;
		} else if (delta < 0 || j == n ||
			   (i < old->nr && old->block[i] < chg[j].block)) {
			map_set(map, k++, old->block[i], *map_valp(old, i));
			i++;
		} else {
			map_set(map, k++, chg[j].block, chg[j].val);
			j++;
		}
	}
	map_index_fill(map);
	return map;
}

/* Make @map from map_build(rc, @chg, @n, @delta) live; returns the old map. */
static struct remap_map *map_install(struct remap_c *rc, struct remap_map *map,
				     const struct remap_ent *chg, u64 n,
				     int delta)
{
	region_add(rc, chg, n, delta);
	return map_publish(rc, map);
}

static int ent_cmp(const void *a, const void *b)
{
	const struct remap_ent *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

/* Rebuild spare_used, counts and the lookup map from rc->table. */
int remap_build_map(struct remap_c *rc)
{
	struct remap_ent *ents;
	struct remap_map *map;
	u64 s, n = 0, lost = 0;
	int r = -EINVAL;

	bitmap_zero(rc->spare_used, rc->spare_blocks);
	for (s = 0; s < rc->spare_blocks; s++)
		if (le64_to_cpu(rc->table[s]) & REMAP_SLOT_VALID)
			n++;
	ents = kvmalloc_array(n, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;
	n = 0;
	for (s = 0; s < rc->spare_blocks; s++) {
		u64 slot = le64_to_cpu(rc->table[s]);

		if (!(slot & REMAP_SLOT_VALID))
			continue;
		if ((slot & REMAP_SLOT_BLOCK) >= rc->nr_blocks)
			goto out;
		ents[n].block = slot & REMAP_SLOT_BLOCK;
		ents[n].val = s << 2;
		if (slot & REMAP_SLOT_LOST) {
			ents[n].val |= REMAP_LOST;
			lost++;
		}
		__set_bit(s, rc->spare_used);
		n++;
		if (!(n & 65535))
			cond_resched();
	}
	sort(ents, n, sizeof(ents[0]), ent_cmp, NULL);
	for (s = 1; s < n; s++)
		if (ents[s].block == ents[s - 1].block)
			goto out;

	/* The index is laid out by the new counts; without memory, the old. */
	memset(rc->region_cnt, 0, rc->nr_regions * sizeof(u32));
	region_add(rc, ents, n, 1);
	r = -ENOMEM;
	map = map_alloc(rc, n, NULL, 0, 0);
	if (!map) {
		map = map_locked(rc);
		memset(rc->region_cnt, 0, rc->nr_regions * sizeof(u32));
		for (s = 0; map && s < map->nr; s++)
			rc->region_cnt[map->block[s] >> REMAP_REGION_SHIFT]++;
		goto out;
	}
	for (s = 0; s < n; s++)
		map_set(map, s, ents[s].block, ents[s].val);
	map_index_fill(map);
	rc->nr_entries = n;
	rc->nr_lost = lost;
	rc->alloc_hint = 0;
	map_retire(map_publish(rc, map));
	r = 0;
out:
	kvfree(ents);
	return r;
}

/* ------------------------------------------------------------------ */
/* In-flight tracking */

static long inflight(struct remap_c *rc, unsigned int epoch)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(rc->pcpu, cpu)->inflight[epoch]);
	return sum;
}

/*
 * Wait for every bio mapped before the caller published its busy entries.
 * A mapper reads the epoch, counts itself there and looks at the map in
 * one RCU-sched read section (preemption off: cheaper than rcu_read_lock()
 * on preemptible kernels), with no barrier of its own: synchronize_rcu()
 * orders it. A section that ends before the grace period does has its
 * count seen below; one that starts after the grace period began sees the
 * new epoch and, through its acquire load, the new entries.
 */
static void remap_drain(struct remap_c *rc)
{
	unsigned int old = rc->epoch & 1;

	/* Busy entries and region counts before the new epoch. */
	smp_mb();
	WRITE_ONCE(rc->epoch, rc->epoch + 1);
	synchronize_rcu();
	while (inflight(rc, old))
		usleep_range(200, 1000);
}

/* ------------------------------------------------------------------ */
/* Bio routing */

/* remap_route()'s results; ROUTE_AGAIN and ROUTE_DISCARD stay inside it. */
enum { ROUTE_REMAPPED, ROUTE_HELD, ROUTE_KILL, ROUTE_AGAIN, ROUTE_DISCARD };

static bool region_clear(struct remap_c *rc, u64 first, u64 last)
{
	u64 r;

	for (r = first >> REMAP_REGION_SHIFT; r <= last >> REMAP_REGION_SHIFT; r++)
		if (READ_ONCE(rc->region_cnt[r]))
			return false;
	return true;
}

/* Did a read fail on a block in *@first..@last? *@first: the first such. */
static bool is_suspect(struct remap_c *rc, unsigned long *first, u64 last)
{
	return atomic_read(&rc->nr_suspect) &&
	       xa_find(&rc->suspect, first, last, XA_PRESENT);
}

static void defer_bio(struct remap_c *rc, struct bio_list *list, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&rc->defer_lock, flags);
	bio_list_add(list, bio);
	spin_unlock_irqrestore(&rc->defer_lock, flags);
	queue_work(rc->wq, &rc->worker);
}

static struct remap_doubt doubt_all;	/* nr 0: every block */

/*
 * After a failed header write (remap_md_commit()): the blocks of the batch
 * it was committing, @ents[0..@n) (sorted by block), are in doubt. Called
 * before their bios are released; without memory every block is.
 */
static void doubt_batch(struct remap_c *rc, const struct remap_ent *ents, u64 n)
{
	struct remap_doubt *d;
	u64 i;

	if (!rc->md_hdr_failed || rc->doubt || !n)
		return;
	/* Under remap_lock(), which allocates without I/O. */
	d = kvmalloc(struct_size(d, block, n), GFP_KERNEL);
	if (!d) {
		d = &doubt_all;
	} else {
		d->nr = n;
		for (i = 0; i < n; i++)
			d->block[i] = ents[i].block;
	}
	DMERR("%s: header write failed: %llu block(s) refuse writes until reload",
	      dev_name_of(rc), d->nr ? d->nr : rc->nr_blocks);
	/* Pairs with write_in_doubt(). */
	smp_store_release(&rc->doubt, d);
}

/*
 * Is @bio a write to a block in doubt (doubt_batch()) among @first..@last?
 * Reads go on: main and spare hold the same data there. Discards only
 * hint, so they go on too.
 */
static noinline bool write_in_doubt(struct remap_c *rc, struct bio *bio,
				    u64 first, u64 last)
{
	/* Pairs with doubt_batch(): the list is complete once seen. */
	const struct remap_doubt *d = smp_load_acquire(&rc->doubt);
	u64 lo = 0;

	if (!d || !op_is_write(bio_op(bio)) || bio_op(bio) == REQ_OP_DISCARD ||
	    !bio_sectors(bio))
		return false;
	if (d->nr) {
		lo = lower_bound(d->block, 0, d->nr, first);
		if (lo == d->nr || d->block[lo] > last)
			return false;
	}
	DMERR_LIMIT("%s: write to block %llu refused: metadata state unknown, reload the table",
		    dev_name_of(rc), d->nr ? d->block[lo] : first);
	return true;
}

/* Park @bio until block @block is no longer busy; false if it is not. */
static bool hold_if_busy(struct remap_c *rc, struct bio *bio, u64 block)
{
	u32 *vp;
	unsigned long flags;
	bool held = false;

	spin_lock_irqsave(&rc->defer_lock, flags);
	vp = map_find(rcu_dereference_sched(rc->map), block);
	if (vp && (READ_ONCE(*vp) & REMAP_BUSY)) {
		bio_list_add(&rc->waiting, bio);
		held = true;
	}
	spin_unlock_irqrestore(&rc->defer_lock, flags);
	return held;
}

static void uncount(struct remap_c *rc, struct remap_io *pb)
{
	if (pb->flags & PB_COUNTED) {
		this_cpu_dec(rc->pcpu->inflight[pb->epoch]);
		pb->flags &= ~PB_COUNTED;
	}
}

static bool may_auto_remap(struct remap_c *rc)
{
	return rc->auto_remap && !READ_ONCE(rc->md_failed);
}

static sector_t main_sector(struct remap_c *rc, u64 block)
{
	return block << rc->block_shift;
}

/* Sectors of @block inside the target (the last block may be short). */
static sector_t block_len(struct remap_c *rc, u64 block)
{
	return min_t(sector_t, remap_block_sectors(rc),
		     rc->ti->len - main_sector(rc, block));
}

/* Do sectors @s..@s + @len cover all of @block? */
static bool covers(struct remap_c *rc, u64 block, sector_t s, sector_t len)
{
	return s <= main_sector(rc, block) &&
	       s + len >= main_sector(rc, block) + block_len(rc, block);
}

/*
 * The rare cases of a bio at @sector, in block @block whose entry has value
 * @v: migrating (park it, or route it again), a discard (end it) or lost.
 * Returns ROUTE_REMAPPED to send it to the spare block or ROUTE_AGAIN to
 * route it again; after ROUTE_HELD, ROUTE_DISCARD and ROUTE_KILL it no
 * longer counts in flight.
 */
static noinline int route_entry(struct remap_c *rc, struct bio *bio,
				struct remap_io *pb, u32 v, sector_t sector,
				u64 block)
{
	if (v & REMAP_BUSY) {
		uncount(rc, pb);
		return hold_if_busy(rc, bio, block) ? ROUTE_HELD : ROUTE_AGAIN;
	}
	if (bio_op(bio) == REQ_OP_DISCARD) {
		uncount(rc, pb);
		return ROUTE_DISCARD;
	}
	if (v & REMAP_LOST) {
		if (!op_is_write(bio_op(bio))) {
			uncount(rc, pb);
			return ROUTE_KILL;
		}
		/* The target's last block may be short. */
		if (covers(rc, block, sector, bio_sectors(bio)))
			pb->flags |= PB_CLEAR_LOST;
	}
	return ROUTE_REMAPPED;
}

/*
 * A write at @sector to main of blocks @first..@last: remap first if a read
 * failed on one of them. Only a bio of one block is deferred: when the
 * worker routes it again (reroute(), which cannot cut a bio) another of
 * its blocks may have been remapped. With @may_split, blocks before the
 * first such block go to main now, and a bio that starts on one is cut
 * after it; dm maps the rest again. Rerouted bios are of one block.
 */
static noinline bool defer_suspect(struct remap_c *rc, struct bio *bio,
				   struct remap_io *pb, sector_t sector,
				   u64 first, u64 last, bool may_split)
{
	unsigned long b = first;

	if (!may_auto_remap(rc) || !is_suspect(rc, &b, last))
		return false;
	if (may_split && last > first) {
		dm_accept_partial_bio(bio, (max_t(u64, b, first + 1) << rc->block_shift) - sector);
		pb->iter.bi_size = bio->bi_iter.bi_size;
		if (b > first)
			return false;
	}
	/*
	 * A read failed here: remap before writing. If that fails,
	 * remap_worker() sends the write to main after all.
	 */
	uncount(rc, pb);
	pb->flags |= PB_UNTRIED;
	defer_bio(rc, &rc->failed_writes, bio);
	return true;
}

/*
 * Send @bio to main or to its spare block. With @may_split, a bio that
 * crosses into a remapped block is cut there (dm resubmits the rest).
 * Inline and kept small for the common cases (a region without entries,
 * a block without one, a plain remapped block); the rest is out of line.
 */
static __always_inline int remap_route(struct remap_c *rc, struct bio *bio,
				       struct remap_io *pb, bool may_split)
{
	sector_t sector = dm_target_offset(rc->ti, bio->bi_iter.bi_sector);
	u64 first = remap_block(rc, sector), last, i;
	struct remap_map *map;
	u32 *vp, v;
	int ret;

	last = remap_block(rc, sector + max(bio_sectors(bio), 1U) - 1);
	rcu_read_lock_sched();
again:
	if (unlikely(READ_ONCE(rc->md_failed)) && write_in_doubt(rc, bio, first, last)) {
		rcu_read_unlock_sched();
		return ROUTE_KILL;
	}
	/* Pairs with remap_drain(): entries published before the epoch. */
	pb->epoch = smp_load_acquire(&rc->epoch) & 1;
	this_cpu_inc(rc->pcpu->inflight[pb->epoch]);
	pb->flags |= PB_COUNTED;

	if (region_clear(rc, first, last)) {
		this_cpu_inc(rc->pcpu->fast_path);
		goto to_main;
	}
	this_cpu_inc(rc->pcpu->lookups);
	map = rcu_dereference_sched(rc->map);
	vp = __map_search(map, first, &i);
	if (!vp) {
		/* Only a bio of several blocks needs the next entry. */
		if (unlikely(last > first)) {
			u64 next = i < map->nr ? map->block[i] : U64_MAX;

			if (next <= last && may_split) {
				dm_accept_partial_bio(bio, (next << rc->block_shift) - sector);
				last = next - 1;
			}
		}
		goto to_main;
	}

	if (unlikely(last > first) && may_split) {
		dm_accept_partial_bio(bio, ((first + 1) << rc->block_shift) - sector);
		last = first;
	}
	v = READ_ONCE(*vp);
	if (unlikely((v & (REMAP_BUSY | REMAP_LOST)) || bio_op(bio) == REQ_OP_DISCARD)) {
		ret = route_entry(rc, bio, pb, v, sector, first);
		if (ret == ROUTE_AGAIN)
			goto again;
		if (ret == ROUTE_DISCARD) {
			/* The spare block keeps its data; discards are only hints. */
			rcu_read_unlock_sched();
			bio_endio(bio);
			return ROUTE_HELD;
		}
		if (ret != ROUTE_REMAPPED) {
			rcu_read_unlock_sched();
			return ret;
		}
	}
	rcu_read_unlock_sched();
	pb->iter = bio->bi_iter;
	pb->iter.bi_sector = sector;
	this_cpu_inc(rc->pcpu->spare_ios);
	bio_set_dev(bio, rc->spare_dev->bdev);
	bio->bi_iter.bi_sector = remap_spare_sector(rc, REMAP_SPARE(v)) +
				 (sector & (remap_block_sectors(rc) - 1));
	pb->flags |= PB_SPARE;
	return ROUTE_REMAPPED;

to_main:
	rcu_read_unlock_sched();
	bio_set_dev(bio, rc->main_dev->bdev);
	bio->bi_iter.bi_sector = sector;
	pb->iter = bio->bi_iter;
	if (unlikely(atomic_read(&rc->nr_suspect)) && op_is_write(bio_op(bio)) &&
	    bio_op(bio) != REQ_OP_DISCARD && !(pb->flags & PB_NO_SUSPECT) &&
	    defer_suspect(rc, bio, pb, sector, first, last, may_split))
		return ROUTE_HELD;
	pb->flags |= PB_MAIN;
	return ROUTE_REMAPPED;
}

/* Never sleeps: bios that must wait are parked (DM_TARGET_NOWAIT). */
static int remap_map(struct dm_target *ti, struct bio *bio)
{
	struct remap_c *rc = ti->private;
	struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));

	pb->flags = 0;
	if (bio->bi_opf & REQ_PREFLUSH && !bio_sectors(bio)) {
		bio_set_dev(bio, dm_bio_get_target_bio_nr(bio) ?
			    rc->spare_dev->bdev : rc->main_dev->bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (op_is_write(bio_op(bio)))
		this_cpu_inc(rc->pcpu->writes);
	else
		this_cpu_inc(rc->pcpu->reads);

	switch (remap_route(rc, bio, pb, true)) {
	case ROUTE_REMAPPED:
		return DM_MAPIO_REMAPPED;
	case ROUTE_KILL:
		return DM_MAPIO_KILL;
	default:
		return DM_MAPIO_SUBMITTED;
	}
}

/* Map @bio, whose sector is the dm device's, once more and send it on. */
static void reroute(struct remap_c *rc, struct bio *bio, u8 flags)
{
	struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));
	sector_t s = dm_target_offset(rc->ti, bio->bi_iter.bi_sector);

	/* It cannot be cut here: only bios of one block wait (defer_suspect()). */
	WARN_ON_ONCE(bio_sectors(bio) &&
		     remap_block(rc, s) != remap_block(rc, s + bio_sectors(bio) - 1));
	pb->flags = flags;
	switch (remap_route(rc, bio, pb, false)) {
	case ROUTE_REMAPPED:
		submit_bio_noacct(bio);
		break;
	case ROUTE_KILL:
		bio_io_error(bio);
		break;
	}
}

/* Bios that waited for a migration go through the routing again. */
static void release_waiting(struct remap_c *rc)
{
	struct bio_list list;
	struct bio *bio;
	unsigned long flags;

	spin_lock_irqsave(&rc->defer_lock, flags);
	list = rc->waiting;
	bio_list_init(&rc->waiting);
	spin_unlock_irqrestore(&rc->defer_lock, flags);

	while ((bio = bio_list_pop(&list)))
		reroute(rc, bio, 0);
}

static bool is_media_error(blk_status_t s)
{
	return s == BLK_STS_IOERR || s == BLK_STS_MEDIUM || s == BLK_STS_TARGET;
}

static void remember_suspect(struct remap_c *rc, struct bvec_iter *it)
{
	u64 first = remap_block(rc, it->bi_sector), b, last;
	unsigned long flags;

	last = remap_block(rc, it->bi_sector + max(it->bi_size >> SECTOR_SHIFT, 1U) - 1);
	last = min(last, first + 63);
	xa_lock_irqsave(&rc->suspect, flags);
	for (b = first; b <= last; b++) {
		if (atomic_read(&rc->nr_suspect) >= REMAP_MAX_SUSPECT)
			break;
		if (!__xa_insert(&rc->suspect, b, xa_mk_value(1), GFP_ATOMIC))
			atomic_inc(&rc->nr_suspect);
	}
	xa_unlock_irqrestore(&rc->suspect, flags);
}

static void forget_suspect(struct remap_c *rc, u64 block)
{
	if (atomic_read(&rc->nr_suspect) && xa_erase_irq(&rc->suspect, block))
		atomic_dec(&rc->nr_suspect);
}

static noinline int end_io_slow(struct remap_c *rc, struct bio *bio,
				struct remap_io *pb, blk_status_t *error)
{
	enum req_op op = bio_op(bio);
	bool media = *error && !(pb->flags & PB_DONE) &&
		     (pb->flags & (PB_MAIN | PB_SPARE)) && is_media_error(*error);

	/*
	 * A failed read of main is remembered while the bio still counts as
	 * in flight: a remap of its block drains it first, so that remap's
	 * forget_suspect() comes after, not before. Without auto-remapping
	 * nothing would use them.
	 */
	if (media && op == REQ_OP_READ && (pb->flags & PB_MAIN) && rc->auto_remap)
		remember_suspect(rc, &pb->iter);
	uncount(rc, pb);
	if (pb->flags & PB_DONE)
		return DM_ENDIO_DONE;
	if (!*error) {
		if (pb->flags & PB_CLEAR_LOST) {
			defer_bio(rc, &rc->clear_lost, bio);
			return DM_ENDIO_INCOMPLETE;
		}
		return DM_ENDIO_DONE;
	}
	if (!media)
		return DM_ENDIO_DONE;

	if (op == REQ_OP_WRITE) {
		this_cpu_inc(rc->pcpu->write_errors);
		if ((pb->flags & PB_MAIN) && may_auto_remap(rc)) {
			defer_bio(rc, &rc->failed_writes, bio);
			return DM_ENDIO_INCOMPLETE;
		}
	} else if (op == REQ_OP_READ) {
		this_cpu_inc(rc->pcpu->read_errors);
	}
	return DM_ENDIO_DONE;
}

static int remap_end_io(struct dm_target *ti, struct bio *bio,
			blk_status_t *error)
{
	struct remap_c *rc = ti->private;
	struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));

	/* The common case, kept small: a bio that succeeded. */
	if (likely(!*error && !(pb->flags & PB_CLEAR_LOST))) {
		uncount(rc, pb);
		return DM_ENDIO_DONE;
	}
	return end_io_slow(rc, bio, pb, error);
}

/* ------------------------------------------------------------------ */
/* Migration (everything below runs under rc->lock) */

static bool alloc_spare(struct remap_c *rc, u64 *spare)
{
	u64 s = find_next_zero_bit(rc->spare_used, rc->spare_blocks, rc->alloc_hint);

	if (s >= rc->spare_blocks)
		s = find_first_zero_bit(rc->spare_used, rc->spare_blocks);
	if (s >= rc->spare_blocks)
		return false;
	__set_bit(s, rc->spare_used);
	rc->alloc_hint = s + 1;
	*spare = s;
	return true;
}

/*
 * Copy @n entries' data between main and spare (@to_spare), coalescing
 * runs that are contiguous on both sides. A block that cannot be read
 * from main is marked REMAP_LOST; any other failure is returned.
 */
static int copy_blocks(struct remap_c *rc, struct remap_ent *ents, u64 n,
		       bool to_spare, void *buf)
{
	struct block_device *main = rc->main_dev->bdev, *spare = rc->spare_dev->bdev;
	u64 max = REMAP_COPY_BYTES >> (rc->block_shift + SECTOR_SHIFT);
	u64 i = 0, j, k;
	int r;

	while (i < n) {
		sector_t len, m, s;

		if (!to_spare && (ents[i].val & REMAP_LOST)) {
			i++;
			continue;
		}
		for (j = i + 1; j < n && j - i < max &&
		     ents[j].block == ents[j - 1].block + 1 &&
		     REMAP_SPARE(ents[j].val) == REMAP_SPARE(ents[j - 1].val) + 1 &&
		     !(ents[j].val & REMAP_LOST); j++)
			;
		m = main_sector(rc, ents[i].block);
		s = remap_spare_sector(rc, REMAP_SPARE(ents[i].val));
		len = main_sector(rc, ents[j - 1].block) - m + block_len(rc, ents[j - 1].block);
		if (to_spare) {
			r = remap_md_io(rc, main, m, len, buf, true, REQ_OP_READ);
			if (r) {
				/* Find the unreadable blocks one by one. */
				for (k = i; k < j; k++) {
					sector_t off = main_sector(rc, ents[k].block) - m;

					if (remap_md_io(rc, main, m + off,
							block_len(rc, ents[k].block),
							buf + (off << SECTOR_SHIFT),
							true, REQ_OP_READ))
						ents[k].val |= REMAP_LOST;
				}
			}
			r = remap_md_io(rc, spare, s, len, buf, true, REQ_OP_WRITE);
		} else {
			r = remap_md_io(rc, spare, s, len, buf, true, REQ_OP_READ);
			if (!r)
				r = remap_md_io(rc, main, m, len, buf, true,
						REQ_OP_WRITE | REQ_FUA);
		}
		if (r)
			return r;
		i = j;
		cond_resched();
	}
	return 0;
}

static void set_val(struct remap_c *rc, u64 block, u32 val)
{
	WRITE_ONCE(*map_find(map_locked(rc), block), val);
}

static void record_slots(struct remap_c *rc, struct remap_ent *ents, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++) {
		u64 slot = REMAP_SLOT_VALID | ents[i].block;

		if (ents[i].val & REMAP_LOST)
			slot |= REMAP_SLOT_LOST;
		remap_md_set_slot(rc, REMAP_SPARE(ents[i].val), slot);
	}
}

/*
 * Give up new entries @ents: their slots and spare blocks, and, when they
 * were published, the map: @undo is the map from before, made live again
 * (it needs no memory, so this cannot fail).
 */
static void drop_new(struct remap_c *rc, struct remap_ent *ents, u64 n,
		     struct remap_map *undo)
{
	u64 i;

	for (i = 0; i < n; i++) {
		remap_md_set_slot(rc, REMAP_SPARE(ents[i].val), 0);
		__clear_bit(REMAP_SPARE(ents[i].val), rc->spare_used);
	}
	if (undo)
		map_retire(map_install(rc, undo, ents, n, -1));
}

/* Publish new entries @ents busy; the old map is kept for drop_new(). */
static int publish_new(struct remap_c *rc, struct remap_ent *ents, u64 n,
		       struct remap_map **undo)
{
	struct remap_map *map = map_build(rc, ents, n, 1);

	if (!map) {
		drop_new(rc, ents, n, NULL);
		return -ENOMEM;
	}
	*undo = map_install(rc, map, ents, n, 1);
	remap_drain(rc);
	return 0;
}

/*
 * Make new entries @ents (sorted, busy, spares allocated) live: publish
 * them busy, drain, copy main -> spare, commit, unbusy.
 */
static int commit_new(struct remap_c *rc, struct remap_ent *ents, u64 n,
		      void *buf)
{
	struct remap_map *undo;
	u64 i, lost = 0;
	int r;

	r = publish_new(rc, ents, n, &undo);
	if (r)
		return r;
	r = copy_blocks(rc, ents, n, true, buf);
	if (!r) {
		record_slots(rc, ents, n);
		rc->nr_entries += n;
		r = remap_md_commit(rc);
		if (r)
			rc->nr_entries -= n;
	}
	if (r) {
		doubt_batch(rc, ents, n);
		drop_new(rc, ents, n, undo);
		return r;
	}
	map_retire(undo);
	for (i = 0; i < n; i++) {
		lost += !!(ents[i].val & REMAP_LOST);
		set_val(rc, ents[i].block, ents[i].val & ~REMAP_BUSY);
		forget_suspect(rc, ents[i].block);
	}
	rc->nr_lost += lost;
	if (lost)
		DMWARN("%s: %llu block(s) unreadable while remapping: marked lost",
		       dev_name_of(rc), lost);
	return 0;
}

/*
 * Sort the new entries @ents[0..*@n) and drop blocks given twice, freeing
 * the spare blocks of the copies. True if @block is among them.
 */
static bool dedup_new(struct remap_c *rc, struct remap_ent *ents, u64 *n,
		      u64 block)
{
	struct remap_ent key = { .block = block };
	u64 k, d;

	sort(ents, *n, sizeof(*ents), ent_cmp, NULL);
	for (k = 1, d = *n ? 1 : 0; k < *n; k++) {
		if (ents[k].block == ents[d - 1].block)
			__clear_bit(REMAP_SPARE(ents[k].val), rc->spare_used);
		else
			ents[d++] = ents[k];
	}
	*n = d;
	return bsearch(&key, ents, d, sizeof(*ents), ent_cmp);
}

/*
 * Remap blocks @blocks[0..count) (or start..start+count when @blocks is
 * NULL). Blocks already remapped are left alone. *@done counts the input
 * blocks handled before an error.
 */
static int remap_add(struct remap_c *rc, const u64 *blocks, u64 start,
		     u64 count, u64 *done, unsigned long *added)
{
	struct remap_ent *ents;
	void *buf;
	u64 i = 0, n;
	int r = 0;

	*done = 0;
	if (added)
		bitmap_zero(added, count);
	r = remap_md_current(rc);
	if (r)
		return r;
	ents = kvmalloc_array(min_t(u64, count, REMAP_BATCH), sizeof(*ents), GFP_KERNEL);
	buf = vmalloc(REMAP_COPY_BYTES);
	if (!ents || !buf) {
		r = -ENOMEM;
		goto out;
	}
	while (i < count && !r) {
		for (n = 0; i < count && n < REMAP_BATCH; i++) {
			u64 b = blocks ? blocks[i] : start + i, s;

			cond_resched();

			if (b >= rc->nr_blocks) {
				r = -EINVAL;
				break;
			}
			if (map_find(map_locked(rc), b))
				continue;
			if (!alloc_spare(rc, &s)) {
				/* Blocks given twice hold a spare block per copy. */
				if (dedup_new(rc, ents, &n, b))
					continue;
				if (!alloc_spare(rc, &s)) {
					r = -ENOSPC;
					break;
				}
			}
			ents[n].block = b;
			ents[n].val = (s << 2) | REMAP_BUSY;
			n++;
			if (added)
				__set_bit(i, added);
		}
		dedup_new(rc, ents, &n, U64_MAX);
		if (n) {
			int e = commit_new(rc, ents, n, buf);

			if (e) {
				r = e;
				break;
			}
		}
		*done = i;
		release_waiting(rc);
	}
out:
	release_waiting(rc);
	kvfree(ents);
	vfree(buf);
	return r;
}

/* Unremap blocks; data goes back to main first, then the metadata. */
static int remap_remove(struct remap_c *rc, const u64 *blocks, u64 start,
			u64 count, u64 *done)
{
	struct remap_ent *ents;
	struct remap_map *map, *cur;
	u32 *vp;
	void *buf;
	u64 i = 0, n, k, pos, next;
	int r, err = 0;	/* err: a block that stops the loop after its batch */

	*done = 0;
	r = remap_md_current(rc);
	if (r)
		return r;
	ents = kvmalloc_array(min_t(u64, count, REMAP_BATCH), sizeof(*ents), GFP_KERNEL);
	buf = vmalloc(REMAP_COPY_BYTES);
	if (!ents || !buf) {
		r = -ENOMEM;
		goto out;
	}
	while (i < count && !r && !err) {
		for (n = 0; i < count && n < REMAP_BATCH; i++) {
			u64 b = blocks ? blocks[i] : start + i;

			cond_resched();

			if (b >= rc->nr_blocks) {
				err = -EINVAL;
				break;
			}
			cur = map_locked(rc);
			vp = map_search(cur, b, &pos);
			if (!vp && !blocks) {
				/* A range: on to its next entry (the loop adds 1). */
				next = pos < cur->nr ? cur->block[pos] : U64_MAX;
				i = min(count, next - start) - 1;
				continue;
			}
			if (!vp || (*vp & REMAP_BUSY))
				continue;
			if (*vp & REMAP_LOST) {
				DMWARN("block %llu holds lost data: rewrite it before unremapping",
				       b);
				err = -EINVAL;
				break;
			}
			ents[n].block = b;
			ents[n++].val = *vp;
			WRITE_ONCE(*vp, *vp | REMAP_BUSY);
		}
		if (!n) {
			*done = i;
			break;
		}
		sort(ents, n, sizeof(*ents), ent_cmp, NULL);
		/* The smaller map first: after the commit nothing may fail. */
		map = map_build(rc, ents, n, -1);
		r = map ? 0 : -ENOMEM;
		if (!r) {
			remap_drain(rc);
			r = copy_blocks(rc, ents, n, false, buf);
		}
		if (!r) {
			for (k = 0; k < n; k++)
				remap_md_set_slot(rc, REMAP_SPARE(ents[k].val), 0);
			rc->nr_entries -= n;
			r = remap_md_commit(rc);
			if (r) {
				doubt_batch(rc, ents, n);
				rc->nr_entries += n;
				record_slots(rc, ents, n);
			}
		}
		if (!r)
			map_retire(map_install(rc, map, ents, n, -1));
		if (r) {
			map_free(map);
			for (k = 0; k < n; k++)
				set_val(rc, ents[k].block, ents[k].val);
			release_waiting(rc);
			break;
		}
		for (k = 0; k < n; k++)
			__clear_bit(REMAP_SPARE(ents[k].val), rc->spare_used);
		*done = i;
		release_waiting(rc);
	}
out:
	kvfree(ents);
	vfree(buf);
	return r ?: err;
}

/* ------------------------------------------------------------------ */
/* Deferred bios: failed writes, suspect writes, rewritten lost blocks */

static int write_clone(struct remap_c *rc, struct bio *bio, u64 block,
		       sector_t first_sector)
{
	sector_t start = max(main_sector(rc, block), first_sector);
	sector_t end = min(main_sector(rc, block) + remap_block_sectors(rc),
			   first_sector + bio_sectors(bio));
	u32 *vp = map_find(map_locked(rc), block);
	struct bio *clone;
	int r;

	clone = bio_alloc_clone(rc->spare_dev->bdev, bio, GFP_NOIO, &rc->bs);
	if (!clone)
		return -ENOMEM;
	bio_trim(clone, start - first_sector, end - start);
	clone->bi_iter.bi_sector = remap_spare_sector(rc, REMAP_SPARE(*vp)) +
				   (start - main_sector(rc, block));
	clone->bi_opf = REQ_OP_WRITE | REQ_SYNC | (bio->bi_opf & REQ_FUA);
	r = submit_bio_wait(clone);
	bio_put(clone);
	this_cpu_inc(rc->pcpu->spare_ios);
	return r;
}

/* A write failed on main (or hit a block whose read failed): remap it. */
static blk_status_t fix_write(struct remap_c *rc, struct bio *bio, void *buf)
{
	struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));
	sector_t s = pb->iter.bi_sector, len = pb->iter.bi_size >> SECTOR_SHIFT;
	u64 first = remap_block(rc, s), last = remap_block(rc, s + len - 1);
	struct remap_ent *ents;
	u32 *vp;
	struct remap_map *undo = NULL;
	u64 b, n = 0, spare, lost_fixed = 0;
	int r = 0;

	bio->bi_iter = pb->iter;
	ents = kvmalloc_array(last - first + 1, sizeof(*ents), GFP_NOIO);
	if (!ents || !buf)
		goto fail;
	remap_lock(rc);
	if (rc->md_failed)
		goto fail_unlock;
	for (b = first; b <= last; b++) {
		if (map_find(map_locked(rc), b))
			continue;
		if (!alloc_spare(rc, &spare)) {
			if (!(pb->flags & PB_UNTRIED))
				DMWARN("%s: spare area full: write error at block %llu returned",
				       dev_name_of(rc), b);
			drop_new(rc, ents, n, NULL);
			goto fail_unlock;
		}
		ents[n].block = b;
		ents[n].val = (spare << 2) | REMAP_BUSY;
		n++;
	}
	if (n && publish_new(rc, ents, n, &undo))
		goto fail_unlock;
	/* Old contents of partly written new blocks, then the new data. */
	for (b = 0; b < n && !r; b++)
		if (!covers(rc, ents[b].block, s, len))
			r = copy_blocks(rc, &ents[b], 1, true, buf);
	for (b = first; b <= last && !r; b++)
		r = write_clone(rc, bio, b, s);
	if (!r && n) {
		record_slots(rc, ents, n);
		rc->nr_entries += n;
	}
	/* A whole rewrite of a lost block makes it good again. */
	for (b = first; b <= last && !r; b++) {
		vp = map_find(map_locked(rc), b);
		if ((*vp & REMAP_LOST) && !(*vp & REMAP_BUSY) &&
		    covers(rc, b, s, len)) {
			remap_md_set_slot(rc, REMAP_SPARE(*vp),
					  REMAP_SLOT_VALID | b);
			lost_fixed++;
		}
	}
	if (!r && (n || lost_fixed)) {
		r = remap_md_commit(rc);
		if (r) {
			doubt_batch(rc, ents, n);
			rc->nr_entries -= n;
		}
	}
	if (r) {
		drop_new(rc, ents, n, undo);
		goto fail_unlock;
	}
	map_retire(undo);
	for (b = first; b <= last; b++) {
		vp = map_find(map_locked(rc), b);
		if (lost_fixed && covers(rc, b, s, len) && (*vp & REMAP_LOST) &&
		    !(*vp & REMAP_BUSY)) {
			WRITE_ONCE(*vp, *vp & ~REMAP_LOST);
			rc->nr_lost--;
		}
		forget_suspect(rc, b);
	}
	for (b = 0; b < n; b++) {
		if (ents[b].val & REMAP_LOST)
			rc->nr_lost++;
		set_val(rc, ents[b].block, ents[b].val & ~REMAP_BUSY);
	}
	this_cpu_add(rc->pcpu->auto_remaps, n);
	remap_unlock(rc);
	release_waiting(rc);
	kvfree(ents);
	return BLK_STS_OK;

fail_unlock:
	remap_unlock(rc);
	release_waiting(rc);
fail:
	kvfree(ents);
	return BLK_STS_IOERR;
}

/* A write covered a whole lost block on the spare: clear the mark. */
static blk_status_t clear_lost(struct remap_c *rc, struct bio *bio)
{
	struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));
	u64 block = remap_block(rc, pb->iter.bi_sector);
	u32 *vp;
	blk_status_t st = BLK_STS_OK;

	remap_lock(rc);
	vp = map_find(map_locked(rc), block);
	if (vp && (*vp & REMAP_LOST)) {
		remap_md_set_slot(rc, REMAP_SPARE(*vp), REMAP_SLOT_VALID | block);
		if (remap_md_commit(rc)) {
			st = BLK_STS_IOERR;
		} else {
			WRITE_ONCE(*vp, *vp & ~REMAP_LOST);
			rc->nr_lost--;
		}
	}
	remap_unlock(rc);
	return st;
}

static void finish(struct bio *bio, blk_status_t st)
{
	struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));

	pb->flags |= PB_DONE;
	bio->bi_status = st;
	bio_endio(bio);
}

static void remap_worker(struct work_struct *work)
{
	struct remap_c *rc = container_of(work, struct remap_c, worker);
	struct bio_list fw, cl;
	unsigned long flags;
	unsigned int noio;
	struct bio *bio;
	void *buf;

	/* Writes wait for us: no allocation here may wait for writeback. */
	noio = memalloc_noio_save();
	spin_lock_irqsave(&rc->defer_lock, flags);
	fw = rc->failed_writes;
	cl = rc->clear_lost;
	bio_list_init(&rc->failed_writes);
	bio_list_init(&rc->clear_lost);
	spin_unlock_irqrestore(&rc->defer_lock, flags);

	buf = bio_list_empty(&fw) ? NULL : __vmalloc(REMAP_COPY_BYTES, GFP_NOIO);
	while ((bio = bio_list_pop(&fw))) {
		struct remap_io *pb = dm_per_bio_data(bio, sizeof(*pb));
		blk_status_t st = fix_write(rc, bio, buf);

		/* Not remapped, never tried on main: try it there. */
		if (st && (pb->flags & PB_UNTRIED)) {
			bio->bi_iter.bi_sector += rc->ti->begin;
			reroute(rc, bio, PB_NO_SUSPECT);
		} else {
			finish(bio, st);
		}
	}
	vfree(buf);
	while ((bio = bio_list_pop(&cl)))
		finish(bio, clear_lost(rc, bio));
	memalloc_noio_restore(noio);
}

/* ------------------------------------------------------------------ */
/* Counters, status, messages */

static void sum_counters(struct remap_c *rc, struct dm_remap_counters *c)
{
	int cpu;

	memset(c, 0, sizeof(*c));
	for_each_possible_cpu(cpu) {
		struct remap_pcpu *p = per_cpu_ptr(rc->pcpu, cpu);

		c->reads += READ_ONCE(p->reads);
		c->writes += READ_ONCE(p->writes);
		c->spare_ios += READ_ONCE(p->spare_ios);
		c->fast_path += READ_ONCE(p->fast_path);
		c->lookups += READ_ONCE(p->lookups);
		c->read_errors += READ_ONCE(p->read_errors);
		c->write_errors += READ_ONCE(p->write_errors);
		c->auto_remaps += READ_ONCE(p->auto_remaps);
	}
	c->remapped = READ_ONCE(rc->nr_entries);
	c->spare_blocks = rc->spare_blocks;
	c->lost = READ_ONCE(rc->nr_lost);
}

static void clear_counters(struct remap_c *rc)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct remap_pcpu *p = per_cpu_ptr(rc->pcpu, cpu);

		/* Racy against concurrent bios, like any statistics reset. */
		memset(p, 0, offsetof(struct remap_pcpu, inflight));
	}
}

static void remap_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result,
			 unsigned int maxlen)
{
	struct remap_c *rc = ti->private;
	struct dm_remap_counters c;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		sum_counters(rc, &c);
		DMEMIT("%llu/%llu %llu %llu %llu %llu %s",
		       c.remapped, c.spare_blocks, c.lost, c.auto_remaps,
		       c.read_errors, c.write_errors,
		       READ_ONCE(rc->md_failed) ? "failed" : "ok");
		DMEMIT(" reads=%llu writes=%llu spare_ios=%llu fast_path=%llu lookups=%llu",
		       c.reads, c.writes, c.spare_ios, c.fast_path, c.lookups);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %llu %llu", rc->main_dev->name, rc->spare_dev->name,
		       (unsigned long long)rc->spare_start,
		       (unsigned long long)rc->spare_len);
		if (rc->block_size != REMAP_DEFAULT_BLOCK || !rc->auto_remap) {
			DMEMIT(" %u", (rc->block_size != REMAP_DEFAULT_BLOCK ? 2 : 0) +
			       !rc->auto_remap);
			if (rc->block_size != REMAP_DEFAULT_BLOCK)
				DMEMIT(" block_size %u", rc->block_size);
			if (!rc->auto_remap)
				DMEMIT(" no_auto_remap");
		}
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",main_device=%s,spare_device=%s,spare_start=%llu",
		       rc->main_dev->name, rc->spare_dev->name,
		       (unsigned long long)rc->spare_start);
		DMEMIT(",spare_len=%llu,block_size=%u,auto_remap=%c;",
		       (unsigned long long)rc->spare_len, rc->block_size,
		       rc->auto_remap ? 'y' : 'n');
		break;
	}
}

/* remap|unremap <sector> [<count>] */
static int msg_remap(struct remap_c *rc, unsigned int argc, char **argv)
{
	bool add = !strcasecmp(argv[0], "remap");
	unsigned long long sector, count = 1;
	u64 first, done;
	int r;

	if (argc < 2 || argc > 3) {
		DMWARN("%s: usage: %s <sector> [<count>]", dev_name_of(rc), argv[0]);
		return -EINVAL;
	}
	if (kstrtoull(argv[1], 10, &sector) ||
	    (argc == 3 && (kstrtoull(argv[2], 10, &count) || !count))) {
		DMWARN("%s: %s: invalid sector or count", dev_name_of(rc), argv[0]);
		return -EINVAL;
	}
	first = sector >> rc->block_shift;
	if (sector >= rc->ti->len || count > rc->nr_blocks - first) {
		DMWARN("%s: %s: sector %llu count %llu is beyond the device (%llu blocks)",
		       dev_name_of(rc), argv[0], sector, count, rc->nr_blocks);
		return -EINVAL;
	}
	remap_lock(rc);
	r = add ? remap_add(rc, NULL, first, count, &done, NULL) :
		  remap_remove(rc, NULL, first, count, &done);
	remap_unlock(rc);
	if (r == -ENOSPC)
		DMWARN("%s: remap: spare area full after %llu of %llu blocks",
		       dev_name_of(rc), done, count);
	else if (r && r != -EINVAL)
		DMWARN("%s: %s failed after %llu of %llu blocks: %d",
		       dev_name_of(rc), argv[0], done, count, r);
	return r;
}

/* list [<start_block> [<max>]] */
static int msg_list(struct remap_c *rc, unsigned int argc, char **argv,
		    char *result, unsigned int maxlen)
{
	unsigned long long start = 0, max = REMAP_LIST_DEFAULT;
	struct remap_map *map;
	unsigned int sz = 0;
	u64 i, shown = 0;

	if (argc > 3 || (argc > 1 && kstrtoull(argv[1], 10, &start)) ||
	    (argc > 2 && (kstrtoull(argv[2], 10, &max) || !max ||
			  max > REMAP_LIST_MAX))) {
		DMWARN("%s: usage: list [<start_block> [<max> (1..%u)]]",
		       dev_name_of(rc), REMAP_LIST_MAX);
		return -EINVAL;
	}
	rcu_read_lock();
	map = rcu_dereference(rc->map);
	map_search(map, start, &i);
	for (; i < map->nr; i++) {
		u32 v = READ_ONCE(*map_valp(map, i));

		if (shown == max || sz + 64 >= maxlen) {
			DMEMIT("more %llu\n", map->block[i]);
			break;
		}
		DMEMIT("%llu %u %s\n", map->block[i], REMAP_SPARE(v),
		       v & REMAP_BUSY ? "busy" : v & REMAP_LOST ? "lost" : "remapped");
		shown++;
	}
	rcu_read_unlock();
	return 1;
}

static int remap_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct remap_c *rc = ti->private;
	struct dm_remap_counters c;
	unsigned int sz = 0;

	if (!strcasecmp(argv[0], "remap") || !strcasecmp(argv[0], "unremap"))
		return msg_remap(rc, argc, argv);
	if (!strcasecmp(argv[0], "list"))
		return msg_list(rc, argc, argv, result, maxlen);
	if (!strcasecmp(argv[0], "stats") && argc == 1) {
		sum_counters(rc, &c);
		DMEMIT("reads %llu\nwrites %llu\nspare_ios %llu\nfast_path %llu\nlookups %llu\n",
		       c.reads, c.writes, c.spare_ios, c.fast_path, c.lookups);
		DMEMIT("read_errors %llu\nwrite_errors %llu\nauto_remaps %llu\n",
		       c.read_errors, c.write_errors, c.auto_remaps);
		DMEMIT("remapped %llu\nspare_blocks %llu\nlost %llu\n",
		       c.remapped, c.spare_blocks, c.lost);
		return 1;
	}
	if (!strcasecmp(argv[0], "clear_stats") && argc == 1) {
		clear_counters(rc);
		return 0;
	}
	DMWARN("%s: unrecognised message '%s' with %u argument(s)",
	       dev_name_of(rc), argv[0], argc - 1);
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Construction */

static int parse_features(struct remap_c *rc, struct dm_arg_set *as)
{
	static const struct dm_arg _args[] = {
		{0, 4, "Invalid number of feature arguments"},
	};
	struct dm_target *ti = rc->ti;
	unsigned int nf;
	const char *name;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &nf, &ti->error);
	if (r)
		return r;
	if (as->argc != nf) {
		ti->error = "Arguments after the feature arguments";
		return -EINVAL;
	}
	while (nf--) {
		name = dm_shift_arg(as);
		if (!strcasecmp(name, "block_size") && nf) {
			nf--;
			if (kstrtouint(dm_shift_arg(as), 10, &rc->block_size)) {
				ti->error = "Invalid block_size";
				return -EINVAL;
			}
		} else if (!strcasecmp(name, "no_auto_remap")) {
			rc->auto_remap = false;
		} else if (!strcasecmp(name, "format")) {
			rc->format = true;
		} else {
			ti->error =
				"Unknown feature (block_size <bytes>, no_auto_remap, format)";
			return -EINVAL;
		}
	}
	return 0;
}

static int check_geometry(struct remap_c *rc)
{
	struct dm_target *ti = rc->ti;
	struct block_device *main = rc->main_dev->bdev, *spare = rc->spare_dev->bdev;
	unsigned int lbs = max(bdev_logical_block_size(main),
			       bdev_logical_block_size(spare));
	sector_t spare_lbs = bdev_logical_block_size(spare) >> SECTOR_SHIFT;

	if (!is_power_of_2(rc->block_size) || rc->block_size < 512 ||
	    rc->block_size > 65536 || rc->block_size % lbs) {
		ti->error =
			"Invalid block_size: power of two 512..65536, multiple of the LBS";
		return -EINVAL;
	}
	if (ti->len > bdev_nr_sectors(main)) {
		ti->error = "Main device smaller than the target length";
		return -EINVAL;
	}
	if (!rc->spare_len || rc->spare_start + rc->spare_len < rc->spare_start ||
	    rc->spare_start + rc->spare_len > bdev_nr_sectors(spare)) {
		ti->error = "Spare area empty or beyond the end of the spare device";
		return -EINVAL;
	}
	if ((rc->spare_start | rc->spare_len) & (spare_lbs - 1)) {
		ti->error =
			"spare_start/spare_len not multiples of the spare logical block size";
		return -EINVAL;
	}
	if (main == spare && rc->spare_start < ti->len) {
		ti->error = "Spare area overlaps the mapped range of the main device";
		return -EINVAL;
	}
	return 0;
}

static void remap_free(struct remap_c *rc)
{
	if (rc->wq)
		destroy_workqueue(rc->wq);
	bioset_exit(&rc->bs);
	if (rc->io_client)
		dm_io_client_destroy(rc->io_client);
	map_free(rcu_dereference_protected(rc->map, 1));
	if (rc->doubt != &doubt_all)
		kvfree(rc->doubt);
	kvfree(rc->region_cnt);
	free_percpu(rc->pcpu);
	remap_md_free(rc);
	xa_destroy(&rc->suspect);
	if (rc->spare_dev)
		dm_put_device(rc->ti, rc->spare_dev);
	if (rc->main_dev)
		dm_put_device(rc->ti, rc->main_dev);
	kfree(rc);
}

static int remap_alloc_state(struct remap_c *rc)
{
	struct dm_target *ti = rc->ti;

	rc->block_shift = ilog2(rc->block_size >> SECTOR_SHIFT);
	rc->nr_blocks = DIV_ROUND_UP_ULL((u64)ti->len, remap_block_sectors(rc));
	rc->nr_regions = DIV_ROUND_UP_ULL(rc->nr_blocks, 1ULL << REMAP_REGION_SHIFT);
	rc->region_cnt = kvcalloc(rc->nr_regions, sizeof(u32), GFP_KERNEL);
	rc->pcpu = alloc_percpu(struct remap_pcpu);
	rc->io_client = dm_io_client_create();
	if (IS_ERR(rc->io_client))
		rc->io_client = NULL;
	rc->wq = alloc_workqueue("dm-remap", WQ_MEM_RECLAIM, 0);
	if (!rc->region_cnt || !rc->pcpu || !rc->io_client || !rc->wq ||
	    bioset_init(&rc->bs, 16, 0, 0)) {
		ti->error = "Cannot allocate the target";
		return -ENOMEM;
	}
	return 0;
}

/*
 * <main_dev> <spare_dev> <spare_start> <spare_len>
 *	[<#features> [block_size <bytes>] [no_auto_remap] [format]]
 */
static int remap_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_remap_target *h;
	struct dm_arg_set as;
	struct remap_c *rc;
	unsigned long long tmp;
	int r;

	if (argc < 4) {
		ti->error =
			"Invalid argument count: <main> <spare> <start> <len> [features]";
		return -EINVAL;
	}
	rc = kzalloc(sizeof(*rc), GFP_KERNEL);
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!rc || !h) {
		kfree(rc);
		kfree(h);
		ti->error = "Cannot allocate the target";
		return -ENOMEM;
	}
	rc->ti = ti;
	rc->block_size = REMAP_DEFAULT_BLOCK;
	rc->auto_remap = true;
	mutex_init(&rc->lock);
	spin_lock_init(&rc->defer_lock);
	bio_list_init(&rc->waiting);
	bio_list_init(&rc->failed_writes);
	bio_list_init(&rc->clear_lost);
	INIT_WORK(&rc->worker, remap_worker);
	xa_init_flags(&rc->suspect, XA_FLAGS_LOCK_IRQ);
	ti->private = rc;

	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &rc->main_dev);
	if (r) {
		ti->error = "Main device lookup failed";
		goto bad;
	}
	r = dm_get_device(ti, argv[1], dm_table_get_mode(ti->table), &rc->spare_dev);
	if (r) {
		ti->error = "Spare device lookup failed";
		goto bad;
	}
	r = -EINVAL;
	if (kstrtoull(argv[2], 10, &tmp) || tmp != (sector_t)tmp) {
		ti->error = "Invalid spare_start";
		goto bad;
	}
	rc->spare_start = tmp;
	if (kstrtoull(argv[3], 10, &tmp) || tmp != (sector_t)tmp) {
		ti->error = "Invalid spare_len";
		goto bad;
	}
	rc->spare_len = tmp;
	as.argc = argc - 4;
	as.argv = argv + 4;
	r = parse_features(rc, &as);
	if (!r)
		r = check_geometry(rc);
	if (!r)
		r = remap_alloc_state(rc);
	if (!r)
		r = remap_md_geometry(rc, &ti->error);
	if (!r) {
		remap_lock(rc);
		r = remap_md_open(rc, &ti->error);
		remap_unlock(rc);
	}
	if (r)
		goto bad;

	kref_init(&h->kref);
	init_rwsem(&h->lock);
	h->rc = rc;
	rc->handle = h;
	mutex_lock(&remap_targets_lock);
	list_add(&h->node, &remap_targets);
	mutex_unlock(&remap_targets_lock);

	ti->num_flush_bios = rc->main_dev->bdev == rc->spare_dev->bdev ? 1 : 2;
	ti->num_discard_bios = 1;
	ti->per_io_data_size = sizeof(struct remap_io);
	return 0;
bad:
	kfree(h);
	remap_free(rc);
	return r;
}

static void handle_release(struct kref *kref)
{
	kfree(container_of(kref, struct dm_remap_target, kref));
}

static void remap_dtr(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;
	struct dm_remap_target *h = rc->handle;

	mutex_lock(&remap_targets_lock);
	list_del(&h->node);
	mutex_unlock(&remap_targets_lock);
	down_write(&h->lock);
	h->rc = NULL;
	up_write(&h->lock);
	kref_put(&h->kref, handle_release);

	flush_workqueue(rc->wq);
	remap_free(rc);
}

static int remap_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct remap_c *rc = ti->private;
	int r;

	r = fn(ti, rc->main_dev, 0, ti->len, data);
	if (!r)
		r = fn(ti, rc->spare_dev, rc->spare_start, rc->spare_len, data);
	return r;
}

static void remap_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct remap_c *rc = ti->private;

	/* Smaller writes to a failing block need a read-modify-write. */
	limits->io_min = max_t(unsigned int, limits->io_min, rc->block_size);
}

/*
 * In-kernel API changes stop here (see api_change()): after a reload, the
 * new table checks the metadata in its preresume, and nothing of the old
 * table may commit after that. The API call under way, if any, finishes
 * first; messages need no wait, as the swap waits for them.
 */
static void remap_presuspend(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	WRITE_ONCE(rc->active, false);
	down_write(&rc->handle->lock);
	up_write(&rc->handle->lock);
}

/* The suspend did not happen (interrupted, or freezing the fs failed). */
static void remap_presuspend_undo(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	WRITE_ONCE(rc->active, true);
}

static void remap_postsuspend(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	flush_workqueue(rc->wq);
}

/* The device is suspended: see remap_lock() on allocating here. */
static int remap_preresume(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;
	int r;

	remap_lock(rc);
	r = remap_md_reload_if_changed(rc);
	remap_unlock(rc);
	return r;
}

static void remap_resume(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	WRITE_ONCE(rc->active, true);
}

static struct target_type remap_target = {
	.name		 = "remap",
	.version	 = {1, 0, 0},
	.features	 = DM_TARGET_NOWAIT,
	.module		 = THIS_MODULE,
	.ctr		 = remap_ctr,
	.dtr		 = remap_dtr,
	.map		 = remap_map,
	.end_io		 = remap_end_io,
	.status		 = remap_status,
	.message	 = remap_message,
	.iterate_devices = remap_iterate_devices,
	.io_hints	 = remap_io_hints,
	.presuspend	 = remap_presuspend,
	.presuspend_undo = remap_presuspend_undo,
	.postsuspend	 = remap_postsuspend,
	.preresume	 = remap_preresume,
	.resume		 = remap_resume,
};

/* ------------------------------------------------------------------ */
/* In-kernel API (dm-remap.h) */

/* The dm device @h maps whole (live or not), or 0 if it maps only a part. */
static dev_t handle_whole_devt(struct dm_remap_target *h)
{
	struct remap_c *rc = h->rc;
	struct gendisk *disk = dm_disk(dm_table_get_md(rc->ti->table));

	if (rc->ti->begin == 0 && rc->ti->len == get_capacity(disk))
		return disk_devt(disk);
	return 0;
}

/*
 * The live target of @dev. A device may have two tables (a reload not yet
 * resumed); one not active means a suspended device, or a table that has
 * not been resumed yet.
 */
struct dm_remap_target *dm_remap_get(dev_t dev)
{
	struct dm_remap_target *h, *found = ERR_PTR(-ENODEV);

	mutex_lock(&remap_targets_lock);
	list_for_each_entry(h, &remap_targets, node) {
		if (!dev || handle_whole_devt(h) != dev)
			continue;
		if (READ_ONCE(h->rc->active)) {
			kref_get(&h->kref);
			found = h;
			break;
		}
		found = ERR_PTR(-EBUSY);
	}
	mutex_unlock(&remap_targets_lock);
	return found;
}
EXPORT_SYMBOL_GPL(dm_remap_get);

int dm_remap_find_only(dev_t *dev)
{
	struct dm_remap_target *h;
	unsigned int n = 0;
	dev_t d;

	mutex_lock(&remap_targets_lock);
	list_for_each_entry(h, &remap_targets, node) {
		d = handle_whole_devt(h);
		if (d && (!n || d != *dev)) {
			*dev = d;
			n++;
		}
	}
	mutex_unlock(&remap_targets_lock);
	if (!n)
		return -ENODEV;
	return n == 1 ? 0 : -ENOTUNIQ;
}
EXPORT_SYMBOL_GPL(dm_remap_find_only);

void dm_remap_put(struct dm_remap_target *h)
{
	kref_put(&h->kref, handle_release);
}
EXPORT_SYMBOL_GPL(dm_remap_put);

static struct remap_c *api_begin(struct dm_remap_target *h)
{
	down_read(&h->lock);
	if (!h->rc)
		up_read(&h->lock);
	return h->rc;
}

u32 dm_remap_block_size(struct dm_remap_target *h)
{
	struct remap_c *rc = api_begin(h);
	u32 bs = 0;

	if (rc) {
		bs = rc->block_size;
		up_read(&h->lock);
	}
	return bs;
}
EXPORT_SYMBOL_GPL(dm_remap_block_size);

u64 dm_remap_nr_blocks(struct dm_remap_target *h)
{
	struct remap_c *rc = api_begin(h);
	u64 n = 0;

	if (rc) {
		n = rc->nr_blocks;
		up_read(&h->lock);
	}
	return n;
}
EXPORT_SYMBOL_GPL(dm_remap_nr_blocks);

static int api_change(struct dm_remap_target *h, const u64 *blocks,
		      unsigned int n, unsigned int *done, unsigned long *added,
		      bool add)
{
	struct remap_c *rc = api_begin(h);
	u64 d = 0;
	int r;

	if (!rc) {
		*done = 0;
		return -ENODEV;
	}
	if (READ_ONCE(rc->active)) {
		remap_lock(rc);
		r = add ? remap_add(rc, blocks, 0, n, &d, added) :
			  remap_remove(rc, blocks, 0, n, &d);
		remap_unlock(rc);
	} else {
		r = -EBUSY;	/* suspended: see remap_presuspend() */
	}
	up_read(&h->lock);
	*done = d;
	return r;
}

int dm_remap_add_blocks(struct dm_remap_target *h, const u64 *blocks,
			unsigned int n, unsigned int *done, unsigned long *added)
{
	return api_change(h, blocks, n, done, added, true);
}
EXPORT_SYMBOL_GPL(dm_remap_add_blocks);

int dm_remap_remove_blocks(struct dm_remap_target *h, const u64 *blocks,
			   unsigned int n, unsigned int *done)
{
	return api_change(h, blocks, n, done, NULL, false);
}
EXPORT_SYMBOL_GPL(dm_remap_remove_blocks);

bool dm_remap_block_is_remapped(struct dm_remap_target *h, u64 block)
{
	struct remap_c *rc = api_begin(h);
	bool ret = false;

	if (rc) {
		rcu_read_lock();
		ret = map_find(rcu_dereference(rc->map), block);
		rcu_read_unlock();
		up_read(&h->lock);
	}
	return ret;
}
EXPORT_SYMBOL_GPL(dm_remap_block_is_remapped);

void dm_remap_get_counters(struct dm_remap_target *h, struct dm_remap_counters *c)
{
	struct remap_c *rc = api_begin(h);

	memset(c, 0, sizeof(*c));
	if (rc) {
		sum_counters(rc, c);
		up_read(&h->lock);
	}
}
EXPORT_SYMBOL_GPL(dm_remap_get_counters);

static int __init dm_remap_init(void)
{
	return dm_register_target(&remap_target);
}

static void __exit dm_remap_exit(void)
{
	dm_unregister_target(&remap_target);
}

module_init(dm_remap_init);
module_exit(dm_remap_exit);

MODULE_DESCRIPTION(DM_NAME " target redirecting bad blocks to a spare area");
MODULE_AUTHOR("dm-remap developers");
MODULE_LICENSE("GPL");
