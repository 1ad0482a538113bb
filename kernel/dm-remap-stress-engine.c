// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap-stress I/O engine: one controller (a work item) per run, and
 * kthread workers that each keep up to qd bios in flight from preallocated
 * slots (bio + pages). Completions record their latency into per-CPU
 * histograms with interrupts off and hand the slot back to its worker
 * through a lockless list; everything else (verification, generation of
 * the next I/O) happens in the worker.
 */
#define pr_fmt(fmt) "dm-remap-stress: " fmt

#include <linux/bio.h>
#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "dm-remap-stress.h"

#define STAMP_MAGIC	0x53524d44524d5244ULL	/* "DRMRDMRS" */
#define SECTOR_WORDS	(SECTOR_SIZE / sizeof(u64))
#define GEN_UNKNOWN	U32_MAX		/* a write to the unit failed */
/* Blocks per dm_remap_add_blocks() call: each call commits the metadata,
 * so small calls make creating 1,000,000 remaps quadratic (8 min at 256).
 */
#define REMAP_BATCH	65536

static bool record_histogram = true;
module_param(record_histogram, bool, 0644);
MODULE_PARM_DESC(record_histogram,
		 "Record per-I/O latency into the histograms (default on; off only to measure its cost)");

static unsigned int verify_max_mb = 64;
module_param(verify_max_mb, uint, 0644);
MODULE_PARM_DESC(verify_max_mb,
		 "Memory for verify's per-unit write generations; larger devices are verified over their first part (default 64)");

u64 dmrs_now_ns(void)
{
	return ktime_get_ns();
}

bool dmrs_is_write_test(const struct dmrs_params *p)
{
	return p->test != DMRS_SEQ_READ && p->test != DMRS_RAND_READ;
}

/* splitmix64: small, fast, and good enough to spread offsets. */
static u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 mix64(u64 x)
{
	return rng_next(&x);
}

static u64 rng_below(u64 *s, u64 n)
{
	return n ? mul_u64_u64_shr(rng_next(s), n, 64) : 0;
}

/* ------------------------------------------------------------------ */
/* Latency recording (completion context) */

static unsigned int hist_index(u64 ns)
{
	unsigned int msb, e;

	if (ns < 2 * DMRS_HIST_SUB)
		return ns;
	msb = fls64(ns) - 1;
	e = msb - DMRS_HIST_SUB_BITS;
	return DMRS_HIST_SUB + e * DMRS_HIST_SUB + ((ns >> e) - DMRS_HIST_SUB);
}

static void record(struct dmrs_op_stats *o, u64 ns, u32 len)
{
	u64 lo = ns * ns;

	o->ios++;
	o->bytes += len;
	o->sum_ns += ns;
	o->sq_lo += lo;
	o->sq_hi += mul_u64_u64_shr(ns, ns, 64) + (o->sq_lo < lo);
	if (!o->min_ns || ns < o->min_ns)
		o->min_ns = ns;
	if (ns > o->max_ns)
		o->max_ns = ns;
	if (!READ_ONCE(record_histogram))
		return;
	if (ns >> DMRS_HIST_MAX_BITS)
		o->overflow++;
	else
		o->hist[hist_index(ns)]++;
}

static void dmrs_end_io(struct bio *bio)
{
	struct dmrs_slot *slot = bio->bi_private;
	struct dmrs_worker *w = slot->w;
	struct dmrs_cpu_stats *cs;
	u64 ns = dmrs_now_ns() - slot->start_ns;
	unsigned long flags;

	slot->status = bio->bi_status;
	/* A failed read-back leaves data unverified: it fails the run too. */
	if (slot->status || !slot->readback) {
		local_irq_save(flags);
		cs = w->run->cpu[smp_processor_id()];
		if (slot->status)
			cs->errors++;
		else
			record(&cs->op[slot->write], ns, slot->len);
		local_irq_restore(flags);
	}
	/*
	 * The run is freed only after a grace period: see dmrs_run_free().
	 * With irqmode=0 below, the worker itself completes its bios while
	 * submitting, awake: skip the wait queue's lock then. wq_has_sleeper()
	 * pairs with the barrier in the worker's prepare_to_wait_event().
	 */
	rcu_read_lock_sched();
	if (llist_add(&slot->node, &w->done) && wq_has_sleeper(&w->wq))
		wake_up(&w->wq);
	rcu_read_unlock_sched();
}

/* ------------------------------------------------------------------ */
/* Slots */

static void slot_free(struct dmrs_slot *s)
{
	unsigned int i;

	if (!s)
		return;
	if (s->bio) {
		bio_uninit(s->bio);
		kfree(s->bio);
	}
	for (i = 0; i < s->nr_pages; i++)
		if (s->pages[i])
			__free_page(s->pages[i]);
	kfree(s->pages);
	kfree(s);
}

static struct dmrs_slot *slot_alloc(struct dmrs_worker *w, u32 max_len)
{
	unsigned int i, n = DIV_ROUND_UP(max_len, PAGE_SIZE);
	struct dmrs_slot *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->w = w;
	s->pages = kcalloc(n, sizeof(*s->pages), GFP_KERNEL);
	s->bio = bio_kmalloc(n, GFP_KERNEL);
	if (!s->pages || !s->bio) {
		kfree(s->bio);
		s->bio = NULL;
		goto fail;
	}
	bio_init(s->bio, NULL, s->bio->bi_inline_vecs, n, 0);
	s->nr_pages = n;
	for (i = 0; i < n; i++) {
		s->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!s->pages[i])
			goto fail;
	}
	return s;
fail:
	slot_free(s);
	return NULL;
}

/* Make slots up to @qd exist; GFP_KERNEL, worker context only. */
static int slots_grow(struct dmrs_worker *w, unsigned int qd)
{
	struct dmrs_run *run = w->run;

	while (w->nr_slots < qd) {
		struct dmrs_slot *s = slot_alloc(w, run->max_len);

		if (!s)
			return -ENOMEM;
		s->idx = w->nr_slots;
		w->slots[w->nr_slots] = s;
		w->free[w->nr_free++] = w->nr_slots++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Verification stamps: every sector written with verify=1 carries its
 * sector number, the seed, the unit's write generation, a pattern derived
 * from them and a checksum in its last word.
 */

static void stamp_fill(__le64 *w, u64 sector, u64 seed, u32 gen)
{
	u64 x = mix64(sector ^ mix64(seed ^ ((u64)gen << 32)));
	u64 sum = 0;
	unsigned int i;

	w[0] = cpu_to_le64(STAMP_MAGIC);
	w[1] = cpu_to_le64(sector);
	w[2] = cpu_to_le64(seed);
	w[3] = cpu_to_le64(gen);
	for (i = 4; i < SECTOR_WORDS - 1; i++)
		w[i] = cpu_to_le64(x + i * 0x9e3779b97f4a7c15ULL);
	for (i = 0; i < SECTOR_WORDS - 1; i++)
		sum = mix64(sum ^ le64_to_cpu(w[i]));
	w[SECTOR_WORDS - 1] = cpu_to_le64(sum);
}

static void *slot_sector(struct dmrs_slot *s, unsigned int k)
{
	unsigned int off = k * SECTOR_SIZE;

	return page_address(s->pages[off / PAGE_SIZE]) + off % PAGE_SIZE;
}

static u64 unit_of(struct dmrs_run *run, sector_t sector)
{
	return div_u64((u64)sector << SECTOR_SHIFT, run->unit);
}

static void stamp_slot(struct dmrs_run *run, struct dmrs_slot *s)
{
	unsigned int k, n = s->len >> SECTOR_SHIFT;

	for (k = 0; k < n; k++) {
		sector_t sec = s->sector + k;

		stamp_fill(slot_sector(s, k), sec, run->p.seed,
			   run->gen[unit_of(run, sec)]);
	}
}

static void note_mismatch(struct dmrs_run *run, sector_t sector)
{
	spin_lock(&run->mismatch_lock);
	if (run->nr_mismatch_sectors < DMRS_MAX_MISMATCH)
		run->mismatch_sectors[run->nr_mismatch_sectors++] = sector;
	run->mismatches++;
	spin_unlock(&run->mismatch_lock);
}

static void verify_slot(struct dmrs_run *run, struct dmrs_slot *s)
{
	unsigned int k, n = s->len >> SECTOR_SHIFT;
	__le64 want[SECTOR_WORDS];

	for (k = 0; k < n; k++) {
		sector_t sec = s->sector + k;
		u32 gen = run->gen[unit_of(run, sec)];

		if (!gen || gen == GEN_UNKNOWN)
			continue;	/* not written by this run */
		stamp_fill(want, sec, run->p.seed, gen);
		if (memcmp(want, slot_sector(s, k), SECTOR_SIZE))
			note_mismatch(run, sec);
	}
}

/* ------------------------------------------------------------------ */
/* Workers */

/* Take back the completed slots; verify reads. */
static void reap(struct dmrs_worker *w)
{
	struct dmrs_run *run = w->run;
	struct llist_node *list = llist_del_all(&w->done);
	struct dmrs_slot *s, *t;

	llist_for_each_entry_safe(s, t, list, node) {
		u64 u, end;

		w->inflight--;
		s->busy = false;
		w->free[w->nr_free++] = s->idx;
		if (s->status) {
			w->errors++;
			if (s->write && run->gen) {
				end = unit_of(run, s->sector + (s->len >> SECTOR_SHIFT) - 1);
				for (u = unit_of(run, s->sector); u <= end; u++)
					run->gen[u] = GEN_UNKNOWN;
			}
			continue;
		}
		if (!s->readback)
			w->completed++;
		else
			w->readback++;
		if (!s->write && run->gen)
			verify_slot(run, s);
	}
}

static void wait_completion(struct dmrs_worker *w, long timeout)
{
	wait_event_timeout(w->wq, !llist_empty(&w->done) ||
			   (READ_ONCE(w->run->stop) && !w->inflight), timeout);
	reap(w);
}

static u32 pick_len(struct dmrs_worker *w)
{
	struct dmrs_run *run = w->run;
	unsigned int i, r;

	if (run->nr_sizes == 1)
		return run->sizes[0];
	r = rng_below(&w->rng, 100);
	for (i = 0; i < run->nr_sizes - 1; i++)
		if (r < run->size_pct[i])
			break;
	return run->sizes[i];
}

/* A zipf-distributed bin, mapped to a scattered position of the region. */
static u64 pick_zipf(struct dmrs_worker *w, u64 slots)
{
	struct dmrs_run *run = w->run;
	u32 r = rng_next(&w->rng) >> 32;
	unsigned int lo = 0, hi = DMRS_ZIPF_BINS - 1, bin;
	u64 start, end;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (r < run->zipf_cdf[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	/* an odd multiplier permutes the bins: rank -> scattered position */
	bin = (lo * 713 + run->p.seed) % DMRS_ZIPF_BINS;
	/* Bins cover all slots, their sizes within one; an empty one is a slot. */
	start = mul_u64_u32_div(slots, bin, DMRS_ZIPF_BINS);
	end = mul_u64_u32_div(slots, bin + 1, DMRS_ZIPF_BINS);
	return start + rng_below(&w->rng, end - start);
}

static void gen_op(struct dmrs_worker *w, struct dmrs_pending *op)
{
	struct dmrs_run *run = w->run;
	enum dmrs_test t = run->p.test;
	u32 len = pick_len(w);
	u64 units = div_u64((u64)w->nr_sectors << SECTOR_SHIFT, run->unit);
	u64 len_units = len / run->unit, slots = units - len_units + 1, u;
	bool seq;

	switch (t) {
	case DMRS_SEQ_READ:
	case DMRS_RAND_READ:
		op->write = false;
		break;
	case DMRS_SEQ_WRITE:
	case DMRS_RAND_WRITE:
		op->write = true;
		break;
	default:
		op->write = rng_below(&w->rng, 100) >= run->p.rwmix;
	}
	seq = t == DMRS_SEQ_READ || t == DMRS_SEQ_WRITE ||
	      (run->seq_pct && rng_below(&w->rng, 100) < run->seq_pct);
	if (seq) {
		if (w->cursor + len_units > units)
			w->cursor = 0;
		u = w->cursor;
		w->cursor += len_units;
	} else if (t == DMRS_REMAP_HEAVY && w->remap_hi > w->remap_lo &&
		   rng_below(&w->rng, 2)) {
		u64 b = run->remapped[w->remap_lo +
				      rng_below(&w->rng, w->remap_hi - w->remap_lo)];
		u64 first = div_u64((u64)w->first << SECTOR_SHIFT, run->unit);

		u = div_u64(b * run->remap_bs, run->unit) - first;
		u = min(u, slots - 1);
	} else if (run->zipf_cdf) {
		u = pick_zipf(w, slots);
	} else {
		u = rng_below(&w->rng, slots);
	}
	op->sector = w->first + (sector_t)((u * run->unit) >> SECTOR_SHIFT);
	op->len = len;
	w->digest = mix64(w->digest ^ ((op->sector << 1) | op->write));
	w->digest = mix64(w->digest ^ len);
}

/* With verify, an I/O never overlaps one in flight of the same worker. */
static bool op_conflicts(struct dmrs_worker *w, const struct dmrs_pending *op)
{
	sector_t end = op->sector + (op->len >> SECTOR_SHIFT);
	unsigned int i;

	for (i = 0; i < w->nr_slots; i++) {
		struct dmrs_slot *s = w->slots[i];

		if (s->busy && s->sector < end &&
		    op->sector < s->sector + (s->len >> SECTOR_SHIFT))
			return true;
	}
	return false;
}

static void submit_op(struct dmrs_worker *w, const struct dmrs_pending *op,
		      bool readback)
{
	struct dmrs_run *run = w->run;
	struct dmrs_slot *s = w->slots[w->free[--w->nr_free]];
	u32 left = op->len;
	unsigned int i;
	u64 u, end;

	s->sector = op->sector;
	s->len = op->len;
	s->write = op->write;
	s->readback = readback;
	s->busy = true;
	if (s->write && run->gen) {
		end = unit_of(run, s->sector + (s->len >> SECTOR_SHIFT) - 1);
		for (u = unit_of(run, s->sector); u <= end; u++)
			/* After a failed write, and on wrapping: start again at 1. */
			if (run->gen[u] == GEN_UNKNOWN || ++run->gen[u] == GEN_UNKNOWN)
				run->gen[u] = 1;
		stamp_slot(run, s);
	}
	/* Like O_DIRECT: sync writes are not throttled by writeback (wbt). */
	bio_reset(s->bio, run->bdev,
		  s->write ? REQ_OP_WRITE | REQ_SYNC | REQ_IDLE : REQ_OP_READ);
	for (i = 0; left; i++) {
		u32 n = min_t(u32, left, PAGE_SIZE);

		__bio_add_page(s->bio, s->pages[i], n, 0);
		left -= n;
	}
	s->bio->bi_iter.bi_sector = s->sector;
	s->bio->bi_end_io = dmrs_end_io;
	s->bio->bi_private = s;
	w->inflight++;
	s->start_ns = dmrs_now_ns();
	submit_bio(s->bio);
}

/* Sleep until the rate cap allows one more I/O; false if it does not yet. */
static bool rate_allows(struct dmrs_worker *w)
{
	struct dmrs_run *run = w->run;
	u64 rate = READ_ONCE(run->rate), now, per, due;
	u32 rem;

	if (!rate)
		return true;
	/* Shares that add up to @rate (at least 1 each: rate >= workers). */
	per = div_u64_rem(rate, run->p.workers, &rem);
	per += (w - run->workers) < rem;
	now = dmrs_now_ns();
	if (per != w->rate_seen) {
		w->rate_seen = per;
		w->rate_base_ns = now;
		w->rate_issued = 0;
	}
	/* 128-bit product: issued * 10^9 passes 2^64 after 1.8e10 I/Os. */
	due = w->rate_base_ns + mul_u64_u64_div_u64(w->rate_issued, NSEC_PER_SEC, per);
	if (now >= due) {
		w->rate_issued++;
		return true;
	}
	wait_event_timeout(w->wq, !llist_empty(&w->done) || READ_ONCE(run->stop),
			   nsecs_to_jiffies(due - now) + 1);
	reap(w);
	return false;
}

/* Read back every unit this worker wrote, merged into slot-sized reads. */
static void readback(struct dmrs_worker *w)
{
	struct dmrs_run *run = w->run;
	u64 first = div_u64((u64)w->first << SECTOR_SHIFT, run->unit);
	u64 units = div_u64((u64)w->nr_sectors << SECTOR_SHIFT, run->unit);
	u64 u = 0, per = run->max_len / run->unit;
	struct dmrs_pending op = { .write = false };

	while (u < units && !READ_ONCE(run->stop_user)) {
		u64 n = 0, g;

		g = run->gen[first + u];
		if (!g || g == GEN_UNKNOWN) {
			u++;
			continue;
		}
		while (n < per && u + n < units) {
			g = run->gen[first + u + n];
			if (!g || g == GEN_UNKNOWN)
				break;
			n++;
		}
		while (!w->nr_free || w->inflight >= READ_ONCE(run->qd))
			wait_completion(w, HZ);
		op.sector = (sector_t)(((first + u) * run->unit) >> SECTOR_SHIFT);
		op.len = n * run->unit;
		submit_op(w, &op, true);
		u += n;
	}
}

static bool worker_more(struct dmrs_worker *w)
{
	return !READ_ONCE(w->run->stop) && (!w->quota || w->submitted < w->quota);
}

static void worker_loop(struct dmrs_worker *w)
{
	struct dmrs_run *run = w->run;
	struct dmrs_pending op;
	bool pending = false;

	while (worker_more(w)) {
		unsigned int qd = READ_ONCE(run->qd);

		reap(w);
		if (qd > w->nr_slots && slots_grow(w, qd)) {
			w->alloc_error = -ENOMEM;
			break;
		}
		if (w->inflight >= qd || !w->nr_free) {
			wait_completion(w, HZ);
			continue;
		}
		if (!pending) {
			if (!rate_allows(w))
				continue;
			gen_op(w, &op);
			pending = true;
		}
		if (run->gen && op_conflicts(w, &op)) {
			wait_completion(w, HZ);
			continue;
		}
		submit_op(w, &op, false);
		w->submitted++;
		pending = false;
		cond_resched();
	}
	while (w->inflight)
		wait_completion(w, HZ);
	w->main_end_ns = dmrs_now_ns();
}

static int dmrs_worker_fn(void *data)
{
	struct dmrs_worker *w = data;
	struct dmrs_run *run = w->run;

	if (slots_grow(w, READ_ONCE(run->qd)))
		w->alloc_error = -ENOMEM;
	else
		worker_loop(w);
	if (w->alloc_error) {
		WRITE_ONCE(run->stop, true);
	} else if (run->gen && dmrs_is_write_test(&run->p)) {
		readback(w);
		while (w->inflight)
			wait_completion(w, HZ);
	}
	if (atomic_dec_and_test(&run->workers_running))
		wake_up(&run->ctl_wq);
	/* kthread_stop() must find us alive: it waits for our return. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Run setup and teardown */

/* Fixed-point log2 and exp2 (16.16) for the zipf table: no FPU here. */
static u64 fx_log2(u64 x)	/* x >= 1, integer; result 16.16 */
{
	unsigned int ip = ilog2(x), i;
	u64 r = (u64)ip << 16, m = (x << 16) >> ip;	/* m in [1, 2) 16.16 */

	for (i = 0; i < 16; i++) {
		m = (m * m) >> 16;
		if (m >= 2 << 16) {
			m >>= 1;
			r |= 1ULL << (15 - i);
		}
	}
	return r;
}

static u64 fx_exp2_neg(u64 y)	/* 2^(-y), y 16.16; result 0.32 */
{
	u64 ip = y >> 16, f = y & 0xffff, r = 1ULL << 32;
	u64 c = 0xb504f334ULL;		/* 2^-0.5 in 0.32 */
	unsigned int i;

	if (ip >= 32)
		return 0;
	for (i = 0; i < 16; i++) {
		if (f & (1 << (15 - i)))
			r = (r * c) >> 32;
		c = int_sqrt64(c << 32);
	}
	return r >> ip;
}

static int zipf_setup(struct dmrs_run *run)
{
	u64 *w, sum = 0, acc = 0;
	unsigned int k;

	w = kvmalloc_array(DMRS_ZIPF_BINS, sizeof(*w), GFP_KERNEL);
	run->zipf_cdf = kvmalloc_array(DMRS_ZIPF_BINS, sizeof(u32), GFP_KERNEL);
	if (!w || !run->zipf_cdf) {
		kvfree(w);
		return -ENOMEM;
	}
	for (k = 0; k < DMRS_ZIPF_BINS; k++) {
		/* 1 / (k + 1)^theta = 2^(-theta * log2(k + 1)) */
		u64 e = div_u64(fx_log2(k + 1) * run->p.zipf_theta, 100);

		w[k] = fx_exp2_neg(e) >> 8;
		sum += w[k];
	}
	/*
	 * sum reaches 2^34 for a small theta, so acc << 32 would overflow;
	 * for a large one the tail weighs 0 and acc / sum reaches 1 early,
	 * which must stay U32_MAX, not wrap to 0: the search needs a
	 * non-decreasing table.
	 */
	for (k = 0; k < DMRS_ZIPF_BINS; k++) {
		acc += w[k];
		run->zipf_cdf[k] = k == DMRS_ZIPF_BINS - 1 ? U32_MAX :
				   min_t(u64, mul_u64_u64_div_u64(acc, 1ULL << 32, sum),
					 U32_MAX);
	}
	kvfree(w);
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Remap-heavy: remaps spread evenly over the device, made by the target.
 * run->remapped keeps only the blocks the target says this run remapped:
 * a block already remapped, or remapped by a message or an automatic
 * remap while the run adds its own, is someone else's and stays.
 */
static int remaps_create(struct dmrs_run *run)
{
	u64 nr = dm_remap_nr_blocks(run->rt), step, b;
	unsigned int i, k, n = 0, done;
	unsigned long *added;
	int r = 0;

	run->remap_bs = dm_remap_block_size(run->rt);
	if (!nr || !run->remap_bs)
		return -ENODEV;
	run->remapped = kvmalloc_array(run->p.remaps, sizeof(u64), GFP_KERNEL);
	added = bitmap_zalloc(REMAP_BATCH, GFP_KERNEL);
	if (!run->remapped || !added) {
		bitmap_free(added);
		return -ENOMEM;
	}
	step = max_t(u64, div_u64(nr, run->p.remaps), 1);
	for (i = 0, b = step / 2; i < run->p.remaps && b < nr; i++, b += step)
		run->remapped[n++] = b;
	run->nr_remapped = 0;
	for (i = 0; i < n && !r && !READ_ONCE(run->stop); i += done) {
		r = dm_remap_add_blocks(run->rt, run->remapped + i,
					min_t(unsigned int, n - i, REMAP_BATCH),
					&done, added);
		/* In place: the kept prefix never overtakes the next batch. */
		for (k = 0; k < done; k++)
			if (test_bit(k, added))
				run->remapped[run->nr_remapped++] = run->remapped[i + k];
		cond_resched();
	}
	bitmap_free(added);
	sort(run->remapped, run->nr_remapped, sizeof(u64), u64_cmp, NULL);
	return r;
}

/*
 * A block whose data was lost while it was remapped (main could not be
 * read) cannot be unremapped: it stays, and the others still go.
 */
static void remaps_remove(struct dmrs_run *run)
{
	unsigned int i, done, lost = 0;
	int r = 0;

	for (i = 0; i < run->nr_remapped; i += done) {
		r = dm_remap_remove_blocks(run->rt, run->remapped + i,
					   min_t(unsigned int, run->nr_remapped - i,
						 REMAP_BATCH), &done);
		cond_resched();
		if (r == -EINVAL && i + done < run->nr_remapped) {
			lost++;
			i++;
			r = 0;
		} else if (r) {
			break;
		}
	}
	if (lost)
		pr_warn("%s: %u of the run's remapped blocks hold lost data and stay remapped\n",
			run->target_name, lost);
	if (r)
		pr_warn("%s: removing the run's remaps failed (%d): %u left\n",
			run->target_name, r, run->nr_remapped - i);
}

static void workers_region(struct dmrs_run *run)
{
	u64 units = div_u64((u64)run->dev_sectors << SECTOR_SHIFT, run->unit);
	u64 per, ops = run->p.ops;
	unsigned int i, nw = run->p.workers;

	if (run->gen)
		units = min(units, run->nr_units);
	per = div_u64(units, nw);
	for (i = 0; i < nw; i++) {
		struct dmrs_worker *w = &run->workers[i];

		w->first = (sector_t)((i * per * run->unit) >> SECTOR_SHIFT);
		w->nr_sectors = (sector_t)((per * run->unit) >> SECTOR_SHIFT);
		w->quota = 0;
		if (ops) {
			u32 rem;
			u64 q = div_u64_rem(ops, nw, &rem);

			w->quota = q + (i < rem ? 1 : 0);
		}
		w->rng = mix64(run->p.seed ^ mix64(i + 1));
		w->digest = mix64(i + 1);
	}
}

static void remap_slices(struct dmrs_run *run)
{
	unsigned int i, j = 0;

	for (i = 0; i < run->p.workers; i++) {
		struct dmrs_worker *w = &run->workers[i];
		u64 end = (u64)(w->first + w->nr_sectors) << SECTOR_SHIFT;
		u64 len = run->max_len;

		while (j < run->nr_remapped &&
		       run->remapped[j] * run->remap_bs < (u64)w->first << SECTOR_SHIFT)
			j++;
		w->remap_lo = j;
		while (j < run->nr_remapped &&
		       run->remapped[j] * run->remap_bs + len <= end)
			j++;
		w->remap_hi = j;
	}
}

/* Device size and buffers: called in the start write, before launch. */
int dmrs_run_prepare(struct dmrs_run *run)
{
	unsigned int i, nw = run->p.workers;
	u64 units;

	run->dev_sectors = bdev_nr_sectors(run->bdev);
	run->lbs = bdev_logical_block_size(run->bdev);
	run->unit = run->sizes[0];
	for (i = 1; i < run->nr_sizes; i++)
		run->unit = min(run->unit, run->sizes[i]);
	run->max_len = 0;
	for (i = 0; i < run->nr_sizes; i++)
		run->max_len = max(run->max_len, run->sizes[i]);
	if (run->unit < run->lbs) {
		pr_warn("bs %u is smaller than %s's logical block size %u\n",
			run->unit, run->target_name, run->lbs);
		return -EINVAL;
	}
	units = div_u64((u64)run->dev_sectors << SECTOR_SHIFT, run->unit);
	if (run->p.verify) {
		run->nr_units = min_t(u64, units, ((u64)verify_max_mb << 20) / sizeof(u32));
		units = run->nr_units;
	}
	if (div_u64(units, nw) < run->max_len / run->unit) {
		pr_warn("%s is too small for %u workers doing %u-byte I/O\n",
			run->target_name, nw, run->max_len);
		return -ERANGE;
	}
	if (run->p.verify) {
		run->gen = kvcalloc(run->nr_units, sizeof(u32), GFP_KERNEL);
		if (!run->gen)
			return -ENOMEM;
		run->mem_bytes += run->nr_units * sizeof(u32);
	}
	if (run->p.zipf_theta && zipf_setup(run))
		return -ENOMEM;
	run->workers = kcalloc(nw, sizeof(*run->workers), GFP_KERNEL);
	run->cpu = kcalloc(nr_cpu_ids, sizeof(*run->cpu), GFP_KERNEL);
	if (!run->workers || !run->cpu)
		return -ENOMEM;
	for_each_possible_cpu(i) {
		run->cpu[i] = kvzalloc_node(sizeof(*run->cpu[i]), GFP_KERNEL,
					    cpu_to_node(i));
		if (!run->cpu[i])
			return -ENOMEM;
		run->mem_bytes += sizeof(*run->cpu[i]);
	}
	for (i = 0; i < nw; i++) {
		struct dmrs_worker *w = &run->workers[i];

		w->run = run;
		w->idx = i;
		w->cpu = -1;
		init_waitqueue_head(&w->wq);
		init_llist_head(&w->done);
		w->slots = kcalloc(DMRS_MAX_QD, sizeof(*w->slots), GFP_KERNEL);
		w->free = kcalloc(DMRS_MAX_QD, sizeof(*w->free), GFP_KERNEL);
		if (!w->slots || !w->free)
			return -ENOMEM;
	}
	workers_region(run);
	return 0;
}

static int workers_start(struct dmrs_run *run)
{
	unsigned int i, c = 0, nw = run->p.workers;

	atomic_set(&run->workers_running, nw);
	for (i = 0; i < nw; i++) {
		struct dmrs_worker *w = &run->workers[i];
		struct task_struct *t;

		t = kthread_create(dmrs_worker_fn, w, "dmrs-w%u", i);
		if (IS_ERR(t)) {
			/* never woken: kthread_stop() reaps them unrun */
			atomic_set(&run->workers_running, 0);
			return PTR_ERR(t);
		}
		if (run->p.cpus_set) {
			c = i ? cpumask_next(c, run->p.cpus) : cpumask_first(run->p.cpus);
			if (c >= nr_cpu_ids)
				c = cpumask_first(run->p.cpus);
			kthread_bind(t, c);
			w->cpu = c;
		}
		w->task = t;
	}
	for (i = 0; i < nw; i++)
		wake_up_process(run->workers[i].task);
	return 0;
}

static void wake_workers(struct dmrs_run *run)
{
	unsigned int i;

	for (i = 0; i < run->p.workers; i++)
		wake_up(&run->workers[i].wq);
}

u64 dmrs_ios_now(struct dmrs_run *run)
{
	u64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(run->cpu[cpu]->op[0].ios) +
		     READ_ONCE(run->cpu[cpu]->op[1].ios);
	return n;
}

/* Forget the counts of a phase, for the next one on the same run. */
void dmrs_run_reset(struct dmrs_run *run)
{
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu)
		memset(run->cpu[cpu], 0, sizeof(*run->cpu[cpu]));
	for (i = 0; i < run->p.workers; i++) {
		struct dmrs_worker *w = &run->workers[i];

		w->submitted = 0;
		w->completed = 0;
		w->errors = 0;
		w->readback = 0;
		w->main_end_ns = 0;
		w->cursor = 0;
		w->rate_seen = 0;
	}
	workers_region(run);
	run->mismatches = 0;
	run->nr_mismatch_sectors = 0;
	run->stop = false;
	run->timed_out = false;
	run->start_ns = 0;
	run->end_ns = 0;
	run->last_ios = 0;
	run->iops_1s = 0;
}

/*
 * One measured phase: start the workers, wait for the end (duration, ops
 * or stop), drain, read back. Runs in the controller; the elapsed time
 * ends when the last worker has drained its measured I/O.
 */
int dmrs_run_phase(struct dmrs_run *run)
{
	u64 deadline, now;
	bool stopping = false;
	unsigned int i;
	int r;

	if (run->rt && run->p.test == DMRS_REMAP_HEAVY)
		remap_slices(run);
	run->before.valid = !!run->rt;
	if (run->rt)
		dm_remap_get_counters(run->rt, &run->before.c);
	run->start_ns = dmrs_now_ns();
	run->last_ios_ns = run->start_ns;
	deadline = run->p.ops ? U64_MAX :
		   run->start_ns + run->p.duration_ms * NSEC_PER_MSEC;
	r = workers_start(run);
	while (atomic_read(&run->workers_running)) {
		/* Once stopping, only wait (the workers drain, then read back). */
		wait_event_timeout(run->ctl_wq,
				   !atomic_read(&run->workers_running) ||
				   (READ_ONCE(run->stop) && !stopping), HZ / 4);
		now = dmrs_now_ns();
		if (now - run->last_ios_ns >= NSEC_PER_SEC) {
			u64 ios = dmrs_ios_now(run);

			WRITE_ONCE(run->iops_1s,
				   div64_u64((ios - run->last_ios) * NSEC_PER_SEC,
					     now - run->last_ios_ns));
			run->last_ios = ios;
			run->last_ios_ns = now;
		}
		if (now >= deadline && !READ_ONCE(run->stop)) {
			run->timed_out = true;
			WRITE_ONCE(run->stop, true);
		}
		if (READ_ONCE(run->stop)) {
			stopping = true;
			wake_workers(run);
		}
	}
	for (i = 0; i < run->p.workers; i++) {
		struct dmrs_worker *w = &run->workers[i];

		if (w->task) {
			kthread_stop(w->task);
			w->task = NULL;
		}
		if (w->alloc_error && !r)
			r = w->alloc_error;
		run->end_ns = max(run->end_ns, w->main_end_ns);
	}
	if (!run->end_ns)
		run->end_ns = dmrs_now_ns();
	run->after.valid = !!run->rt;
	if (run->rt)
		dm_remap_get_counters(run->rt, &run->after.c);
	return r;
}

/* Remap-heavy setup and teardown, in the controller. */
int dmrs_run_remaps_create(struct dmrs_run *run)
{
	return remaps_create(run);
}

void dmrs_run_remaps_remove(struct dmrs_run *run)
{
	remaps_remove(run);
}

/* Frees everything but the counters and the stats the reports read. */
void dmrs_run_release_io(struct dmrs_run *run)
{
	unsigned int i, k;

	if (run->workers) {
		for (i = 0; i < run->p.workers; i++) {
			struct dmrs_worker *w = &run->workers[i];

			for (k = 0; w->slots && k < w->nr_slots; k++)
				slot_free(w->slots[k]);
			kfree(w->slots);
			kfree(w->free);
			w->slots = NULL;
			w->free = NULL;
			w->nr_slots = 0;
		}
	}
	kvfree(run->gen);
	run->gen = NULL;
	kvfree(run->zipf_cdf);
	run->zipf_cdf = NULL;
	kvfree(run->remapped);
	run->remapped = NULL;
}

void dmrs_run_free(struct dmrs_run *run)
{
	int cpu;

	if (!run)
		return;
	/*
	 * end_io may still be leaving its RCU-sched section on another CPU;
	 * synchronize_rcu() waits for those too.
	 */
	synchronize_rcu();
	dmrs_run_release_io(run);
	kfree(run->workers);
	if (run->cpu) {
		for_each_possible_cpu(cpu)
			kvfree(run->cpu[cpu]);
		kfree(run->cpu);
	}
	free_cpumask_var(run->p.cpus);
	kfree(run->unpressured);
	kfree(run);
}
