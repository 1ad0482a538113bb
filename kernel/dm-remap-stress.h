/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-remap-stress: shared definitions of the control plane (main), the I/O
 * engine (engine) and the reports (report).
 */
#ifndef DM_REMAP_STRESS_H
#define DM_REMAP_STRESS_H

#include <linux/bits.h>
#include <linux/blk_types.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "dm-remap.h"

#define DMRS_NAME		"dm_remap_stress_test"
#define DMRS_MAX_QD		1024	/* per worker */
#define DMRS_MAX_TOTAL_QD	4096
#define DMRS_MAX_DURATION_MS	86400000ULL
#define DMRS_MAX_MISMATCH	8	/* mismatching sectors kept */
#define DMRS_ZIPF_BINS		1024
#define DMRS_MAX_SIZES		4	/* I/O sizes of a profile */

/*
 * Latency histogram: log-linear, 64 sub-buckets per power of two, exact
 * below 128 ns, values up to 2^34 ns (~17 s); larger values are counted as
 * overflow. A bucket spans 1/64 of its lower bound, so reporting its middle
 * is within 1/128 (0.78 %) of any value in it: the same layout as fio's.
 */
#define DMRS_HIST_SUB_BITS	6
#define DMRS_HIST_SUB		BIT(DMRS_HIST_SUB_BITS)
#define DMRS_HIST_MAX_BITS	34
#define DMRS_HIST_BUCKETS	((DMRS_HIST_MAX_BITS - DMRS_HIST_SUB_BITS + 1) * DMRS_HIST_SUB)

enum dmrs_test {
	DMRS_SEQ_READ,
	DMRS_RAND_READ,
	DMRS_SEQ_WRITE,
	DMRS_RAND_WRITE,
	DMRS_MIXED,
	DMRS_REMAP_HEAVY,
	DMRS_NR_TESTS,
};

enum dmrs_state {
	DMRS_IDLE,
	DMRS_RUNNING,
	DMRS_STOPPING,
	DMRS_COMPLETED,
	DMRS_STOPPED,
	DMRS_FAILED,
};

enum dmrs_kind {		/* how the run was started */
	DMRS_KIND_START,
	DMRS_KIND_QUICK,
	DMRS_KIND_REGRESSION,
	DMRS_KIND_MEMPRESS,
};

enum dmrs_profile {
	DMRS_PROFILE_NONE,
	DMRS_PROFILE_OLTP,
	DMRS_PROFILE_FILESERVER,
	DMRS_PROFILE_VM,
};

enum dmrs_regression {
	DMRS_REG_NONE,
	DMRS_REG_ESTABLISHED,
	DMRS_REG_PASS,
	DMRS_REG_FAIL,
};

/* A validated stress_test_start request. */
struct dmrs_params {
	enum dmrs_test test;
	enum dmrs_kind kind;
	unsigned int workers;
	u64 duration_ms;
	u64 ops;		/* 0: run for duration_ms */
	u32 bs;			/* 0 with a profile: sizes[] */
	unsigned int qd;
	u64 seed;
	unsigned int rwmix;	/* read percent */
	bool verify;
	bool force;
	unsigned int zipf_theta;	/* hundredths; 0: uniform */
	cpumask_var_t cpus;
	bool cpus_set;
	u64 rate;		/* IOPS cap, 0: none */
	unsigned int remaps;
	bool keep_remaps;	/* leave them in place after the run */
	enum dmrs_profile profile;
	unsigned int pressure_mb;	/* memory_pressure_test */
};

struct dmrs_op_stats {
	u64 ios;
	u64 bytes;
	u64 sum_ns;
	u64 sq_lo, sq_hi;	/* sum of squares, 128 bits */
	u64 min_ns, max_ns;
	u64 overflow;
	u64 hist[DMRS_HIST_BUCKETS];
};

/* One CPU's share of the completions; updated with interrupts off. */
struct dmrs_cpu_stats {
	struct dmrs_op_stats op[2];	/* READ, WRITE */
	u64 errors;
};

struct dmrs_worker;

struct dmrs_pending {		/* a generated I/O */
	sector_t sector;
	u32 len;
	bool write;
};

struct dmrs_slot {
	struct llist_node node;
	struct dmrs_worker *w;
	struct bio *bio;
	struct page **pages;
	unsigned int nr_pages;
	unsigned int idx;
	u64 start_ns;
	sector_t sector;
	u32 len;
	bool write;
	bool busy;
	bool readback;		/* verify pass after the run: not measured */
	blk_status_t status;
};

struct dmrs_run;

struct dmrs_worker {
	struct dmrs_run *run;
	unsigned int idx;
	struct task_struct *task;
	wait_queue_head_t wq;
	struct llist_head done;
	struct dmrs_slot **slots;	/* DMRS_MAX_QD pointers */
	unsigned int nr_slots;		/* allocated */
	unsigned int *free;		/* stack of free slot indexes */
	unsigned int nr_free;
	unsigned int inflight;
	/* Region of the device this worker owns, in sectors. */
	sector_t first, nr_sectors;
	sector_t cursor;		/* sequential position, relative */
	u64 rng;
	u64 digest;
	u64 quota;			/* ops, 0: unlimited */
	u64 submitted, completed, errors, readback;
	u64 main_end_ns;
	u64 rate_base_ns, rate_issued, rate_seen;
	unsigned int remap_lo, remap_hi;	/* run->remapped[] in region */
	int cpu;			/* bound CPU, -1: none */
	int alloc_error;
};

/* Counters of the dm-remap target, as the report shows them. */
struct dmrs_target_snap {
	bool valid;
	struct dm_remap_counters c;
};

struct dmrs_result_extra {
	enum dmrs_regression regression;
	s64 iops_change_bp;	/* hundredths of a percent */
	s64 p99_change_bp;
	unsigned int iops_limit_bp, p99_limit_bp;
	bool have_change;
};

struct dmrs_summary {
	struct dmrs_op_stats op[3];	/* READ, WRITE, all */
	u64 errors;
	u64 elapsed_ns;
};

struct dmrs_run {
	struct dmrs_params p;
	char target_name[128];
	dev_t devt;
	bool is_remap;
	void *bdev_handle;		/* compat.h */
	struct block_device *bdev;
	unsigned int lbs;
	sector_t dev_sectors;
	struct dm_remap_target *rt;

	struct task_struct *ctl;
	struct dmrs_worker *workers;
	struct dmrs_cpu_stats **cpu;	/* nr_cpu_ids pointers */
	atomic_t workers_running;
	wait_queue_head_t ctl_wq;
	bool stop;			/* end of the phase (READ_ONCE) */
	bool stop_user;			/* stop or rmmod: skip the read-back */
	bool timed_out;
	unsigned int qd;		/* live qd, adjustable */
	u64 rate;			/* live rate, adjustable */
	u32 sizes[DMRS_MAX_SIZES];
	unsigned int size_pct[DMRS_MAX_SIZES];	/* cumulative */
	unsigned int nr_sizes;
	unsigned int seq_pct;		/* sequential share of a profile */
	u32 unit;			/* offset granularity: smallest size */
	u32 max_len;
	u32 *gen;			/* per unit: write generation */
	u64 nr_units;
	u32 *zipf_cdf;			/* DMRS_ZIPF_BINS cumulative, of 2^32 */
	u64 *remapped;			/* blocks remapped for the run */
	unsigned int nr_remapped;
	u32 remap_bs;
	struct dmrs_target_snap before, after;
	u64 mem_bytes;			/* buffers, bios, tables */

	enum dmrs_state state;
	u64 start_ns, end_ns;
	u64 last_ios, last_ios_ns, iops_1s;
	spinlock_t mismatch_lock;	/* the mismatch fields below */
	u64 mismatches;
	u64 mismatch_sectors[DMRS_MAX_MISMATCH];
	unsigned int nr_mismatch_sectors;
	struct dmrs_result_extra reg;
	char fail_reason[128];

	/* memory_pressure_test: the phase without pressure, then with it */
	struct dmrs_summary *unpressured;
	u64 pressure_held_mb;
	struct work_struct ctl_work;
};

/* engine */
int dmrs_run_prepare(struct dmrs_run *run);
int dmrs_run_phase(struct dmrs_run *run);
void dmrs_run_reset(struct dmrs_run *run);
int dmrs_run_remaps_create(struct dmrs_run *run);
void dmrs_run_remaps_remove(struct dmrs_run *run);
void dmrs_run_release_io(struct dmrs_run *run);
void dmrs_run_free(struct dmrs_run *run);
u64 dmrs_ios_now(struct dmrs_run *run);
u64 dmrs_now_ns(void);
bool dmrs_is_write_test(const struct dmrs_params *p);

void dmrs_summarize(struct dmrs_run *run, struct dmrs_summary *s);
u64 dmrs_percentile(const struct dmrs_op_stats *o, unsigned int permyriad_x100);
u64 dmrs_iops_x100(u64 ios, u64 ns);
u64 dmrs_digest(struct dmrs_run *run);
int dmrs_format_results(struct dmrs_run *run, char *buf, size_t size);
int dmrs_format_status(struct dmrs_run *run, char *buf, size_t size);
int dmrs_format_histogram(struct dmrs_run *run, char *buf, size_t size);
int dmrs_format_report(struct dmrs_run *run, const char *baseline,
		       char *buf, size_t size);
int dmrs_baseline_parse(const char *text, u64 *iops_x100, u64 *p99_ns);
const char *dmrs_test_name(enum dmrs_test t);
const char *dmrs_state_name(enum dmrs_state s);
bool dmrs_run_passed(struct dmrs_run *run, const struct dmrs_summary *s,
		     char *criteria, size_t size);

#endif /* DM_REMAP_STRESS_H */
