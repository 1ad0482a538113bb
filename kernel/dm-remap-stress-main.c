// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap-stress: in-kernel stress and validation of a block device (a
 * dm-remap device by default), driven through /sys/kernel/dm_remap_stress_test/.
 * See Documentation/admin-guide/device-mapper/dm-remap-stress.rst.
 *
 * This file is the control plane: parameters, the sysfs files, the
 * controller of a run, baselines and the module's life cycle.
 */
#define pr_fmt(fmt) "dm-remap-stress: " fmt

#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/kobject.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "dm-remap-stress.h"

static unsigned int max_workers = 32;
module_param(max_workers, uint, 0644);
MODULE_PARM_DESC(max_workers, "Most workers a test may use (default 32, at most 256)");

static unsigned int max_buffer_mb = 256;
module_param(max_buffer_mb, uint, 0644);
MODULE_PARM_DESC(max_buffer_mb, "Most memory for I/O buffers: workers x qd x largest I/O (default 256)");

static unsigned int quick_validation_ms = 30000;
module_param(quick_validation_ms, uint, 0644);
MODULE_PARM_DESC(quick_validation_ms, "Duration of quick_validation (default 30000)");

static unsigned int regression_ms = 10000;
module_param(regression_ms, uint, 0644);
MODULE_PARM_DESC(regression_ms, "Duration of regression_test (default 10000)");

static unsigned int regression_iops_drop_pct = 10;
module_param(regression_iops_drop_pct, uint, 0644);
MODULE_PARM_DESC(regression_iops_drop_pct, "regression_test fails when IOPS drop more than this (default 10)");

static unsigned int regression_p99_rise_pct = 20;
module_param(regression_p99_rise_pct, uint, 0644);
MODULE_PARM_DESC(regression_p99_rise_pct, "regression_test fails when p99 latency rises more than this (default 20)");

static unsigned int pressure_max_pct = 50;
module_param(pressure_max_pct, uint, 0644);
MODULE_PARM_DESC(pressure_max_pct, "memory_pressure_test refuses more than this share of available memory (default 50)");

#define TARGET_MAX	127
#define REPORT_SIZE	(64 * 1024)
#define HIST_SIZE	(128 * 1024)
#define NR_SNAPSHOTS	4	/* readers of one long file at a time */

/* A reader's copy of comprehensive_report or histogram. */
struct snapshot {
	const struct file *reader;	/* NULL: free */
	char *text;
	size_t len;
	u64 used;			/* 0 when free, else the last read */
};

static struct {
	struct mutex lock;		/* everything below */
	struct dmrs_run *run;		/* the running or the last run */
	char target[TARGET_MAX + 1];	/* "" : the only dm-remap device */
	char *baseline;			/* results text, or NULL */
	struct snapshot snap[2][NR_SNAPSHOTS];	/* report, histogram */
	u64 snap_clock;
	u64 finished;			/* runs finished */
	wait_queue_head_t end_wq;
	struct workqueue_struct *wq;
	struct kobject *kobj;
} dmrs;

/* The holder of exclusive opens. */
static int dmrs_holder;

static bool run_active(struct dmrs_run *run)
{
	return run && (run->state == DMRS_RUNNING || run->state == DMRS_STOPPING);
}

/* ------------------------------------------------------------------ */
/* Parsing */

static char *next_word(char **s)
{
	char *w;

	*s = skip_spaces(*s);
	if (!**s)
		return NULL;
	w = *s;
	while (**s && !isspace(**s))
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

/* A decimal number, or -EINVAL; -ERANGE outside [min, max]. */
static int parse_u64(const char *name, const char *v, u64 min, u64 max, u64 *out)
{
	int r = kstrtou64(v, 10, out);

	if (r == -ERANGE || (!r && (*out < min || *out > max))) {
		pr_warn("%s=%s is out of range [%llu, %llu]\n", name, v, min, max);
		return -ERANGE;
	}
	if (r)
		pr_warn("%s: '%s' is not a decimal number\n", name, v);
	return r;
}

static int parse_uint(const char *name, const char *v, u64 min, u64 max,
		      unsigned int *out)
{
	u64 x;
	int r = parse_u64(name, v, min, max, &x);

	if (!r)
		*out = x;
	return r;
}

/* A size with an optional k or m (binary) suffix. */
static int parse_size(const char *name, const char *v, u32 *out)
{
	char num[24];
	size_t n = strlen(v);
	unsigned int shift = 0;
	u64 x;
	int r;

	if (n && strchr("kKmM", v[n - 1])) {
		shift = tolower(v[n - 1]) == 'k' ? 10 : 20;
		n--;
	}
	if (!n || n >= sizeof(num)) {
		pr_warn("%s: '%s' is not a size\n", name, v);
		return -EINVAL;
	}
	memcpy(num, v, n);
	num[n] = '\0';
	r = parse_u64(name, num, 0, U32_MAX >> shift, &x);
	if (r)
		return r;
	x <<= shift;
	if (x < 512 || x > SZ_1M) {
		pr_warn("%s=%s is out of range [512, 1M]\n", name, v);
		return -ERANGE;
	}
	if (!is_power_of_2(x)) {
		pr_warn("%s=%s is not a power of two\n", name, v);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

/* zipf:<theta>, theta in (0, 5] with at most two decimals. */
static int parse_dist(const char *v, unsigned int *theta)
{
	unsigned int ip = 0, fp = 0, nf = 0;
	const char *s;

	if (!strcmp(v, "uniform")) {
		*theta = 0;
		return 0;
	}
	if (strncmp(v, "zipf:", 5) || !isdigit(v[5]))
		goto bad;
	for (s = v + 5; isdigit(*s) && ip < 100; s++)
		ip = ip * 10 + (*s - '0');
	if (*s == '.') {
		for (s++; isdigit(*s) && nf < 2; s++, nf++)
			fp = fp * 10 + (*s - '0');
		if (!nf)
			goto bad;
		if (nf == 1)
			fp *= 10;
	}
	if (*s)
		goto bad;
	*theta = ip * 100 + fp;
	if (!*theta || *theta > 500) {
		pr_warn("dist=%s: theta must be in (0, 5]\n", v);
		return -ERANGE;
	}
	return 0;
bad:
	pr_warn("dist=%s: use uniform or zipf:<theta> (e.g. zipf:1.2)\n", v);
	return -EINVAL;
}

struct profile_def {
	const char *name;
	unsigned int rwmix, seq_pct, n;
	u32 sizes[DMRS_MAX_SIZES];
	unsigned int pct[DMRS_MAX_SIZES];
};

/* Documented in dm-remap-stress.rst: keep the two in step. */
static const struct profile_def profiles[] = {
	[DMRS_PROFILE_OLTP] = { "oltp", 70, 0, 3, { SZ_4K, SZ_8K, SZ_64K }, { 20, 70, 10 } },
	[DMRS_PROFILE_FILESERVER] = { "fileserver", 80, 50, 4,
		{ SZ_4K, SZ_64K, SZ_128K, SZ_1M }, { 10, 40, 30, 20 } },
	[DMRS_PROFILE_VM] = { "vm", 60, 20, 3, { SZ_4K, SZ_16K, SZ_64K }, { 50, 25, 25 } },
};

static int parse_profile(const char *v, enum dmrs_profile *p)
{
	unsigned int i;

	for (i = DMRS_PROFILE_OLTP; i < ARRAY_SIZE(profiles); i++) {
		if (!strcmp(v, profiles[i].name)) {
			*p = i;
			return 0;
		}
	}
	pr_warn("profile=%s: use oltp, fileserver or vm\n", v);
	return -EINVAL;
}

enum { K_BS, K_QD, K_SEED, K_OPS, K_RWMIX, K_VERIFY, K_DIST, K_CPUS, K_RATE,
	K_REMAPS, K_PROFILE, K_FORCE, K_KEEP_REMAPS, NR_KEYS };

static const char *const key_names[NR_KEYS] = {
	"bs", "qd", "seed", "ops", "rwmix", "verify", "dist", "cpus", "rate",
	"remaps", "profile", "force", "keep_remaps",
};

static int parse_key(struct dmrs_params *p, unsigned int k, const char *v)
{
	unsigned int b;
	int r;

	switch (k) {
	case K_BS:
		return parse_size("bs", v, &p->bs);
	case K_QD:
		return parse_uint("qd", v, 1, DMRS_MAX_QD, &p->qd);
	case K_SEED:
		return parse_u64("seed", v, 0, U64_MAX, &p->seed);
	case K_OPS:
		return parse_u64("ops", v, 1, 1ULL << 48, &p->ops);
	case K_RWMIX:
		return parse_uint("rwmix", v, 0, 100, &p->rwmix);
	case K_VERIFY:
		r = parse_uint("verify", v, 0, 1, &b);
		p->verify = b;
		return r == -ERANGE ? -EINVAL : r;
	case K_FORCE:
		r = parse_uint("force", v, 0, 1, &b);
		p->force = b;
		return r == -ERANGE ? -EINVAL : r;
	case K_KEEP_REMAPS:
		r = parse_uint("keep_remaps", v, 0, 1, &b);
		p->keep_remaps = b;
		return r == -ERANGE ? -EINVAL : r;
	case K_DIST:
		return parse_dist(v, &p->zipf_theta);
	case K_CPUS:
		r = cpulist_parse(v, p->cpus);
		if (r == -ERANGE) {
			pr_warn("cpus=%s names a cpu beyond the last possible one\n", v);
			return r;
		}
		if (r) {
			pr_warn("cpus=%s is not a cpu list\n", v);
			return -EINVAL;
		}
		if (cpumask_empty(p->cpus) || !cpumask_subset(p->cpus, cpu_online_mask)) {
			pr_warn("cpus=%s: empty, or names a cpu that is not online\n", v);
			return -ERANGE;
		}
		p->cpus_set = true;
		return 0;
	case K_RATE:
		return parse_u64("rate", v, 0, 100000000, &p->rate);
	case K_REMAPS:
		return parse_uint("remaps", v, 1, 1000000, &p->remaps);
	case K_PROFILE:
		return parse_profile(v, &p->profile);
	}
	return -EINVAL;
}

static void params_defaults(struct dmrs_params *p)
{
	p->bs = SZ_4K;
	p->qd = 32;
	p->seed = get_random_u64();
	p->rwmix = 70;
	p->remaps = 10000;
}

/* "key=value ..." after the positional arguments. */
static int parse_keys(struct dmrs_params *p, char *s, unsigned long *seen)
{
	char *w;
	int r;

	while ((w = next_word(&s))) {
		char *eq = strchr(w, '=');
		unsigned int k;

		if (!eq || eq == w || !eq[1]) {
			pr_warn("'%s' is not key=value\n", w);
			return -EINVAL;
		}
		*eq = '\0';
		for (k = 0; k < NR_KEYS; k++)
			if (!strcmp(w, key_names[k]))
				break;
		if (k == NR_KEYS) {
			pr_warn("unknown key '%s'\n", w);
			return -EINVAL;
		}
		if (__test_and_set_bit(k, seen)) {
			pr_warn("key '%s' given twice\n", w);
			return -EINVAL;
		}
		r = parse_key(p, k, eq + 1);
		if (r)
			return r;
	}
	return 0;
}

/* A rate cap must give every worker at least one I/O per second. */
static int check_rate(const char *who, u64 rate, unsigned int workers)
{
	if (rate && rate < workers) {
		pr_warn("%srate=%llu is below one I/O per second for each of the %u workers\n",
			who, rate, workers);
		return -ERANGE;
	}
	return 0;
}

static int params_check(struct dmrs_params *p, const unsigned long *seen)
{
	u64 total_qd = (u64)p->qd * p->workers;

	if (total_qd > DMRS_MAX_TOTAL_QD) {
		pr_warn("qd %u x %u workers = %llu in flight, more than %u\n",
			p->qd, p->workers, total_qd, DMRS_MAX_TOTAL_QD);
		return -ERANGE;
	}
	if (p->ops && p->ops < p->workers) {
		pr_warn("ops=%llu is fewer than the %u workers: each needs at least one I/O\n",
			p->ops, p->workers);
		return -ERANGE;
	}
	if (check_rate("", p->rate, p->workers))
		return -ERANGE;
	if ((test_bit(K_REMAPS, seen) || test_bit(K_KEEP_REMAPS, seen)) &&
	    p->test != DMRS_REMAP_HEAVY) {
		pr_warn("remaps= and keep_remaps= apply only to test type 5 (remap-heavy)\n");
		return -EINVAL;
	}
	if (test_bit(K_RWMIX, seen) && p->test != DMRS_MIXED &&
	    p->test != DMRS_REMAP_HEAVY) {
		pr_warn("rwmix= applies only to test types 4 and 5\n");
		return -EINVAL;
	}
	if (p->profile && test_bit(K_BS, seen)) {
		pr_warn("bs= and profile= exclude each other: a profile sets its sizes\n");
		return -EINVAL;
	}
	if (p->profile && !test_bit(K_RWMIX, seen))
		p->rwmix = profiles[p->profile].rwmix;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Target resolution */

/* "MAJOR:MINOR" in decimal: 0, -ERANGE, or -ENOENT for another form. */
static int parse_devt(const char *name, dev_t *dev)
{
	size_t n = strspn(name, "0123456789");
	char maj[11];
	unsigned int ma, mi;

	if (!n || name[n] != ':' || !name[n + 1] ||
	    name[n + 1 + strspn(name + n + 1, "0123456789")])
		return -ENOENT;
	if (n >= sizeof(maj))
		return -ERANGE;
	memcpy(maj, name, n);
	maj[n] = '\0';
	if (kstrtouint(maj, 10, &ma) || kstrtouint(name + n + 1, 10, &mi) ||
	    ma >= (1U << (32 - MINORBITS)) || mi > MINORMASK)
		return -ERANGE;
	*dev = MKDEV(ma, mi);
	return 0;
}

static int resolve_name(const char *name, dev_t *dev)
{
	char *path;
	int r;

	r = parse_devt(name, dev);
	if (r != -ENOENT)
		return r;
	if (name[0] == '/')
		return lookup_bdev(name, dev) ? -ENODEV : 0;
	if (strchr(name, '/'))
		return -ENODEV;
	/* a dm device name, then a name under /dev */
	path = kasprintf(GFP_KERNEL, "/dev/mapper/%s", name);
	if (!path)
		return -ENOMEM;
	r = lookup_bdev(path, dev);
	kfree(path);
	if (!r)
		return 0;
	path = kasprintf(GFP_KERNEL, "/dev/%s", name);
	if (!path)
		return -ENOMEM;
	r = lookup_bdev(path, dev);
	kfree(path);
	return r ? -ENODEV : 0;
}

static int resolve_target(struct dmrs_run *run)
{
	int r;

	if (dmrs.target[0]) {
		r = resolve_name(dmrs.target, &run->devt);
		if (r) {
			pr_warn("target '%s' is not a block device\n", dmrs.target);
			return -ENODEV;
		}
		strscpy(run->target_name, dmrs.target, sizeof(run->target_name));
		return 0;
	}
	r = dm_remap_find_only(&run->devt);
	if (r) {
		pr_warn("no target set and %s dm-remap device: write one to 'target'\n",
			r == -ENOTUNIQ ? "more than one" : "no");
		return -ENODEV;
	}
	snprintf(run->target_name, sizeof(run->target_name), "%u:%u",
		 MAJOR(run->devt), MINOR(run->devt));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Memory pressure */

static void pressure_release(struct list_head *pages)
{
	struct page *pg, *t;

	list_for_each_entry_safe(pg, t, pages, lru) {
		list_del(&pg->lru);
		__free_page(pg);
	}
}

/* Holds up to @mb; never retries hard and never wakes the OOM killer. */
static u64 pressure_hold(struct list_head *pages, unsigned int mb, bool *stop)
{
	u64 i, n = (u64)mb << (20 - PAGE_SHIFT);

	for (i = 0; i < n && !READ_ONCE(*stop); i++) {
		struct page *pg = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);

		if (!pg)
			break;
		list_add(&pg->lru, pages);
		if (!(i % 1024))
			cond_resched();
	}
	return i >> (20 - PAGE_SHIFT);
}

/* ------------------------------------------------------------------ */
/* Controller */

static void close_device(struct dmrs_run *run)
{
	if (run->bdev_handle) {
		dmr_bdev_close(run->bdev_handle, dmrs_is_write_test(&run->p));
		run->bdev_handle = NULL;
		run->bdev = NULL;
	}
	if (run->rt) {
		dm_remap_put(run->rt);
		run->rt = NULL;
	}
}

static s64 change_bp(u64 now, u64 base)
{
	return base ? div64_s64(((s64)now - (s64)base) * 10000, (s64)base) : 0;
}

static void regression_compare(struct dmrs_run *run)
{
	struct dmrs_summary *s = kvmalloc(sizeof(*s), GFP_KERNEL);
	u64 b_iops, b_p99;

	run->reg.iops_limit_bp = regression_iops_drop_pct * 100;
	run->reg.p99_limit_bp = regression_p99_rise_pct * 100;
	if (!s)
		return;
	dmrs_summarize(run, s);
	if (!dmrs.baseline || dmrs_baseline_parse(dmrs.baseline, &b_iops, &b_p99)) {
		run->reg.regression = DMRS_REG_ESTABLISHED;
	} else {
		run->reg.have_change = true;
		run->reg.iops_change_bp =
			change_bp(dmrs_iops_x100(s->op[2].ios, s->elapsed_ns), b_iops);
		run->reg.p99_change_bp =
			change_bp(dmrs_percentile(&s->op[2], 990000), b_p99);
		run->reg.regression =
			run->reg.iops_change_bp < -(s64)run->reg.iops_limit_bp ||
			run->reg.p99_change_bp > (s64)run->reg.p99_limit_bp ?
			DMRS_REG_FAIL : DMRS_REG_PASS;
	}
	kvfree(s);
}

static int save_baseline(struct dmrs_run *run)
{
	char *text = kzalloc(PAGE_SIZE, GFP_KERNEL);
	int n;

	if (!text)
		return -ENOMEM;
	n = dmrs_format_results(run, text, PAGE_SIZE);
	if (n < 0) {
		kfree(text);
		return n;
	}
	kfree(dmrs.baseline);
	dmrs.baseline = text;
	return 0;
}

static int ctl_mempress(struct dmrs_run *run)
{
	struct dmrs_summary *unpressured;
	LIST_HEAD(pages);
	bool stopped, failed = false;
	int r;

	r = dmrs_run_phase(run);
	if (r || run->stop_user)
		return r;
	unpressured = kmalloc(sizeof(*unpressured), GFP_KERNEL);
	if (!unpressured)
		return -ENOMEM;
	/*
	 * The reset clears run->stop: under the lock that stop and rmmod
	 * take, so that a stop either comes before it (the run ends with
	 * the first phase's figures) or after it (and stays set).
	 */
	mutex_lock(&dmrs.lock);
	stopped = run->stop_user;
	if (!stopped) {
		dmrs_summarize(run, unpressured);
		/* The reset would forget them: the result is this phase's. */
		failed = unpressured->errors || run->mismatches;
		if (!failed) {
			run->unpressured = unpressured;
			dmrs_run_reset(run);
		}
	}
	mutex_unlock(&dmrs.lock);
	if (failed)
		pr_warn("memory_pressure_test: %llu I/O errors and %llu verify mismatches without pressure: no pressured run\n",
			unpressured->errors, run->mismatches);
	if (stopped || failed) {
		kfree(unpressured);
		return 0;
	}
	run->pressure_held_mb = pressure_hold(&pages, run->p.pressure_mb, &run->stop_user);
	if (run->pressure_held_mb < run->p.pressure_mb)
		pr_warn("memory_pressure_test: held %llu of %u MB (allocation refused without retrying)\n",
			run->pressure_held_mb, run->p.pressure_mb);
	r = dmrs_run_phase(run);
	pressure_release(&pages);
	return r;
}

static void dmrs_ctl_fn(struct work_struct *work)
{
	struct dmrs_run *run = container_of(work, struct dmrs_run, ctl_work);
	bool remaps = run->p.test == DMRS_REMAP_HEAVY;
	int r = 0;

	if (remaps) {
		r = dmrs_run_remaps_create(run);
		if (r)
			snprintf(run->fail_reason, sizeof(run->fail_reason),
				 "creating remap %u of %u failed with %d",
				 run->nr_remapped + 1, run->p.remaps, r);
	}
	if (!r && !run->stop_user) {
		r = run->p.kind == DMRS_KIND_MEMPRESS ? ctl_mempress(run) :
							  dmrs_run_phase(run);
		if (r)
			snprintf(run->fail_reason, sizeof(run->fail_reason),
				 "the workers failed with %d", r);
	}
	if (remaps && !run->p.keep_remaps)
		dmrs_run_remaps_remove(run);
	close_device(run);
	dmrs_run_release_io(run);

	mutex_lock(&dmrs.lock);
	if (r)
		run->state = DMRS_FAILED;
	else if (run->stop_user)
		run->state = DMRS_STOPPED;
	else
		run->state = DMRS_COMPLETED;
	if (run->p.kind == DMRS_KIND_REGRESSION && run->state == DMRS_COMPLETED) {
		regression_compare(run);
		if (run->reg.regression == DMRS_REG_ESTABLISHED && save_baseline(run))
			run->reg.regression = DMRS_REG_NONE;
	}
	pr_info("%s on %s: %s\n", dmrs_test_name(run->p.test), run->target_name,
		dmrs_state_name(run->state));
	dmrs.finished++;
	wake_up_all(&dmrs.end_wq);
	mutex_unlock(&dmrs.lock);
}

/* ------------------------------------------------------------------ */
/* Starting a run */

static void set_sizes(struct dmrs_run *run)
{
	const struct dmrs_params *p = &run->p;
	unsigned int i, acc = 0;

	if (!p->profile) {
		run->sizes[0] = p->bs;
		run->size_pct[0] = 100;
		run->nr_sizes = 1;
		return;
	}
	run->nr_sizes = profiles[p->profile].n;
	run->seq_pct = profiles[p->profile].seq_pct;
	for (i = 0; i < run->nr_sizes; i++) {
		run->sizes[i] = profiles[p->profile].sizes[i];
		acc += profiles[p->profile].pct[i];
		run->size_pct[i] = acc;
	}
}

static int open_target(struct dmrs_run *run)
{
	bool write = dmrs_is_write_test(&run->p);
	struct block_device *b;

	run->rt = dm_remap_get(run->devt);
	if (PTR_ERR_OR_ZERO(run->rt) == -EBUSY) {
		/* Its I/O would wait for the resume, and its remapping fail. */
		pr_warn("%s is suspended: resume it first\n", run->target_name);
		run->rt = NULL;
		return -EBUSY;
	}
	if (IS_ERR(run->rt))
		run->rt = NULL;
	run->is_remap = run->rt;
	if (run->p.test == DMRS_REMAP_HEAVY && !run->rt) {
		pr_warn("remap-heavy needs a dm-remap device; %s is not one\n",
			run->target_name);
		return -EINVAL;
	}
	if (write && !run->rt && !run->p.force) {
		pr_warn("%s is not a dm-remap device: a test that writes needs force=1\n",
			run->target_name);
		return -EPERM;
	}
	b = dmr_bdev_open(run->devt, write, &dmrs_holder, &run->bdev_handle);
	if (IS_ERR(b)) {
		pr_warn("cannot open %s%s: %ld\n", run->target_name,
			write ? " exclusively" : "", PTR_ERR(b));
		run->bdev_handle = NULL;
		return PTR_ERR(b);
	}
	run->bdev = b;
	return 0;
}

static int check_buffers(struct dmrs_run *run, unsigned int qd)
{
	u64 bytes = (u64)run->p.workers * qd * run->max_len;

	if (bytes > (u64)max_buffer_mb << 20) {
		pr_warn("%u workers x qd %u x %u bytes needs %llu MB of buffers, more than max_buffer_mb=%u\n",
			run->p.workers, qd, run->max_len, bytes >> 20, max_buffer_mb);
		return -ERANGE;
	}
	return 0;
}

static int start_run(struct dmrs_run *run)
{
	struct dmrs_run *old = NULL;
	int r;

	set_sizes(run);
	run->max_len = 0;
	for (r = 0; r < run->nr_sizes; r++)
		run->max_len = max(run->max_len, run->sizes[r]);
	r = check_buffers(run, run->p.qd);
	if (r) {
		dmrs_run_free(run);
		return r;
	}
	mutex_lock(&dmrs.lock);
	if (run_active(dmrs.run)) {
		pr_warn("a test is running: stop it first (stress_test_stop)\n");
		r = -EBUSY;
		goto out;
	}
	r = resolve_target(run);
	if (!r)
		r = open_target(run);
	if (!r) {
		r = dmrs_run_prepare(run);
		if (r == -ENOMEM)
			pr_warn("out of memory preparing the run\n");
	}
	if (r) {
		close_device(run);
		goto out;
	}
	run->mem_bytes += (u64)run->p.workers * run->p.qd *
			  (run->max_len + sizeof(struct dmrs_slot) + sizeof(struct bio) +
			   DIV_ROUND_UP(run->max_len, PAGE_SIZE) * sizeof(struct bio_vec));
	old = dmrs.run;
	dmrs.run = run;
	run->qd = run->p.qd;
	run->rate = run->p.rate;
	run->state = DMRS_RUNNING;
	queue_work(dmrs.wq, &run->ctl_work);
	pr_info("%s on %s (%u:%u%s): %u workers, qd %u, seed %llu\n",
		dmrs_test_name(run->p.test), run->target_name, MAJOR(run->devt),
		MINOR(run->devt), run->is_remap ? ", dm-remap" : "", run->p.workers,
		run->p.qd, run->p.seed);
	run = NULL;
out:
	mutex_unlock(&dmrs.lock);
	if (run)
		dmrs_run_free(run);
	if (old) {
		/*
		 * Its controller has set the final state and is at most
		 * returning; it takes dmrs.lock, so never flush under it.
		 */
		flush_work(&old->ctl_work);
		dmrs_run_free(old);
	}
	return r;
}

static struct dmrs_run *run_alloc(void)
{
	struct dmrs_run *run = kzalloc(sizeof(*run), GFP_KERNEL);

	if (!run)
		return NULL;
	if (!zalloc_cpumask_var(&run->p.cpus, GFP_KERNEL)) {
		kfree(run);
		return NULL;
	}
	params_defaults(&run->p);
	init_waitqueue_head(&run->ctl_wq);
	spin_lock_init(&run->mismatch_lock);
	INIT_WORK(&run->ctl_work, dmrs_ctl_fn);
	return run;
}

/* Parse "<test_type> <workers> <duration_ms> [key=value ...]" and start. */
static int start_from_text(char *s)
{
	struct dmrs_run *run = run_alloc();
	DECLARE_BITMAP(seen, NR_KEYS) = { 0 };
	const char *w[3];
	unsigned int i, t;
	int r;

	if (!run)
		return -ENOMEM;
	for (i = 0; i < 3; i++) {
		w[i] = next_word(&s);
		if (!w[i]) {
			pr_warn("stress_test_start: use <test_type> <num_workers> <duration_ms> [key=value ...]\n");
			r = -EINVAL;
			goto fail;
		}
	}
	r = parse_uint("test_type", w[0], 0, DMRS_NR_TESTS - 1, &t);
	if (!r)
		r = parse_uint("num_workers", w[1], 1, min(max_workers, 256U),
			       &run->p.workers);
	if (!r)
		r = parse_u64("duration_ms", w[2], 1, DMRS_MAX_DURATION_MS,
			      &run->p.duration_ms);
	if (r)
		goto fail;
	run->p.test = t;
	r = parse_keys(&run->p, s, seen);
	if (!r)
		r = params_check(&run->p, seen);
	if (r)
		goto fail;
	return start_run(run);
fail:
	dmrs_run_free(run);
	return r;
}

/* The fixed workloads: quick_validation, regression_test, memory pressure. */
static int start_fixed(enum dmrs_kind kind, unsigned int pressure_mb,
		       u64 duration_ms, bool force)
{
	struct dmrs_run *run = run_alloc();

	if (!run)
		return -ENOMEM;
	run->p.kind = kind;
	run->p.test = DMRS_MIXED;
	run->p.force = force;
	switch (kind) {
	case DMRS_KIND_QUICK:
		run->p.workers = 4;
		run->p.qd = 32;
		run->p.verify = true;
		run->p.duration_ms = max(quick_validation_ms, 1U);
		break;
	case DMRS_KIND_REGRESSION:
		run->p.workers = 2;
		run->p.qd = 16;
		run->p.seed = 1;
		run->p.duration_ms = max(regression_ms, 1U);
		break;
	default:
		run->p.workers = 2;
		run->p.qd = 16;
		run->p.pressure_mb = pressure_mb;
		run->p.duration_ms = duration_ms;
	}
	return start_run(run);
}

/* "1" or "1 force=1" for the fixed workloads. */
static int parse_one(const char *file, char *s, bool *force)
{
	char *w = next_word(&s);
	char *f = next_word(&s);

	*force = false;
	if (!w || strcmp(w, "1") || next_word(&s)) {
		pr_warn("%s: write 1 (or '1 force=1')\n", file);
		return -EINVAL;
	}
	if (f) {
		if (strcmp(f, "force=1") && strcmp(f, "force=0")) {
			pr_warn("%s: unknown argument '%s'\n", file, f);
			return -EINVAL;
		}
		*force = f[6] == '1';
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* sysfs */

/* Copies a store's text, without its trailing newline. */
static char *store_copy(const char *buf, size_t count)
{
	char *s = kmemdup_nul(buf, count, GFP_KERNEL);

	if (s)
		strim(s);
	return s;
}

#define STORE_WRAP(name, fn)						\
static ssize_t name##_store(struct kobject *k, struct kobj_attribute *a, \
			    const char *buf, size_t count)		\
{									\
	char *s = store_copy(buf, count);				\
	int r;								\
									\
	if (!s)								\
		return -ENOMEM;						\
	r = fn(s);							\
	kfree(s);							\
	return r ? r : count;						\
}

static int do_start(char *s)
{
	return start_from_text(s);
}

static int do_quick(char *s)
{
	bool force;
	int r = parse_one("quick_validation", s, &force);

	return r ? r : start_fixed(DMRS_KIND_QUICK, 0, 0, force);
}

static int do_regression(char *s)
{
	bool force;
	int r = parse_one("regression_test", s, &force);

	return r ? r : start_fixed(DMRS_KIND_REGRESSION, 0, 0, force);
}

static int do_mempress(char *s)
{
	const char *mb_s = next_word(&s), *ms_s = next_word(&s), *f = next_word(&s);
	unsigned int mb;
	u64 ms, avail_mb, limit;
	int r;

	if (!mb_s || !ms_s || next_word(&s) ||
	    (f && strcmp(f, "force=1") && strcmp(f, "force=0"))) {
		pr_warn("memory_pressure_test: use <pressure_mb> <duration_ms> [force=1]\n");
		return -EINVAL;
	}
	r = parse_uint("pressure_mb", mb_s, 1, 1U << 30, &mb);
	if (!r)
		r = parse_u64("duration_ms", ms_s, 1, DMRS_MAX_DURATION_MS, &ms);
	if (r)
		return r;
	avail_mb = ((u64)si_mem_available() << PAGE_SHIFT) >> 20;
	limit = div_u64(avail_mb * min(pressure_max_pct, 90U), 100);
	if (mb > limit) {
		pr_warn("memory_pressure_test: %u MB is more than %u%% of the %llu MB available (limit %llu MB)\n",
			mb, pressure_max_pct, avail_mb, limit);
		return -ENOMEM;
	}
	return start_fixed(DMRS_KIND_MEMPRESS, mb, ms, f && f[6] == '1');
}

static int do_stop(char *s)
{
	struct dmrs_run *run;
	u64 target;

	if (strcmp(s, "1")) {
		pr_warn("stress_test_stop: write 1\n");
		return -EINVAL;
	}
	mutex_lock(&dmrs.lock);
	run = dmrs.run;
	if (!run_active(run)) {
		mutex_unlock(&dmrs.lock);
		return 0;
	}
	target = dmrs.finished + 1;
	run->state = DMRS_STOPPING;
	WRITE_ONCE(run->stop_user, true);
	WRITE_ONCE(run->stop, true);
	wake_up(&run->ctl_wq);
	mutex_unlock(&dmrs.lock);
	/* until drained; the controller never waits for us */
	return wait_event_killable(dmrs.end_wq, READ_ONCE(dmrs.finished) >= target);
}

static int do_adjust(char *s)
{
	struct dmrs_run *run;
	unsigned int qd = 0;
	u64 rate = 0;
	bool set_qd = false, set_rate = false;
	char *w;
	int r = 0;

	while ((w = next_word(&s))) {
		if (!strncmp(w, "qd=", 3) && !set_qd) {
			r = parse_uint("qd", w + 3, 1, DMRS_MAX_QD, &qd);
			set_qd = true;
		} else if (!strncmp(w, "rate=", 5) && !set_rate) {
			r = parse_u64("rate", w + 5, 0, 100000000, &rate);
			set_rate = true;
		} else {
			pr_warn("stress_test_adjust: '%s': use qd=N and/or rate=N, each once\n", w);
			r = -EINVAL;
		}
		if (r)
			return r;
	}
	if (!set_qd && !set_rate) {
		pr_warn("stress_test_adjust: use qd=N and/or rate=N\n");
		return -EINVAL;
	}
	mutex_lock(&dmrs.lock);
	run = dmrs.run;
	if (!run || run->state != DMRS_RUNNING) {
		pr_warn("stress_test_adjust: no test is running\n");
		r = -EINVAL;
	} else if (set_qd && (u64)qd * run->p.workers > DMRS_MAX_TOTAL_QD) {
		pr_warn("stress_test_adjust: qd %u x %u workers is more than %u in flight\n",
			qd, run->p.workers, DMRS_MAX_TOTAL_QD);
		r = -ERANGE;
	} else if (set_rate && check_rate("stress_test_adjust: ", rate, run->p.workers)) {
		r = -ERANGE;
	} else if (set_qd) {
		r = check_buffers(run, qd);
	}
	if (!r) {
		if (set_qd)
			WRITE_ONCE(run->qd, qd);
		if (set_rate)
			WRITE_ONCE(run->rate, rate);
	}
	mutex_unlock(&dmrs.lock);
	return r;
}

static int do_target(char *s)
{
	dev_t dev;

	if (strlen(s) > TARGET_MAX) {
		pr_warn("target: longer than %d characters\n", TARGET_MAX);
		return -EINVAL;
	}
	if (*s && strcmp(s, "auto") && resolve_name(s, &dev)) {
		pr_warn("target: '%s' is not a block device, a dm device name or MAJ:MIN\n", s);
		return -ENODEV;
	}
	mutex_lock(&dmrs.lock);
	strscpy(dmrs.target, strcmp(s, "auto") ? s : "", sizeof(dmrs.target));
	mutex_unlock(&dmrs.lock);
	return 0;
}

static int do_baseline(char *s)
{
	u64 iops, p99;
	int r = 0;

	mutex_lock(&dmrs.lock);
	if (!strcmp(s, "clear")) {
		kfree(dmrs.baseline);
		dmrs.baseline = NULL;
	} else if (!strcmp(s, "save")) {
		if (!dmrs.run || dmrs.run->state != DMRS_COMPLETED) {
			pr_warn("baseline: no completed run to save\n");
			r = -EINVAL;
		} else {
			r = save_baseline(dmrs.run);
		}
	} else if (dmrs_baseline_parse(s, &iops, &p99)) {
		pr_warn("baseline: write save, clear, or a completed run's stress_test_results\n");
		r = -EINVAL;
	} else {
		char *t = kstrdup(s, GFP_KERNEL);	/* ends with its newline */

		if (!t) {
			r = -ENOMEM;
		} else {
			kfree(dmrs.baseline);
			dmrs.baseline = t;
		}
	}
	mutex_unlock(&dmrs.lock);
	return r;
}

STORE_WRAP(stress_test_start, do_start)
STORE_WRAP(stress_test_stop, do_stop)
STORE_WRAP(stress_test_adjust, do_adjust)
STORE_WRAP(quick_validation, do_quick)
STORE_WRAP(regression_test, do_regression)
STORE_WRAP(memory_pressure_test, do_mempress)
STORE_WRAP(target, do_target)

/* The baseline store keeps inner newlines: a results text is many lines. */
static ssize_t baseline_store(struct kobject *k, struct kobj_attribute *a,
			      const char *buf, size_t count)
{
	char *s = kzalloc(count + 2, GFP_KERNEL);
	size_t n = count;
	int r;

	if (!s)
		return -ENOMEM;
	memcpy(s, buf, count);
	while (n && isspace(s[n - 1]))
		s[--n] = '\0';
	if (n && strchr(s, '\n'))
		s[n] = '\n';	/* dmrs_baseline_parse wants whole lines */
	r = do_baseline(s);
	kfree(s);
	return r ? r : count;
}

static ssize_t target_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	ssize_t n;

	mutex_lock(&dmrs.lock);
	n = sysfs_emit(buf, "%s\n", dmrs.target[0] ? dmrs.target : "auto");
	mutex_unlock(&dmrs.lock);
	return n;
}

static ssize_t stress_test_status_show(struct kobject *k, struct kobj_attribute *a,
				       char *buf)
{
	int n;

	mutex_lock(&dmrs.lock);
	n = dmrs_format_status(dmrs.run, buf, PAGE_SIZE);
	mutex_unlock(&dmrs.lock);
	return n;
}

static ssize_t stress_test_results_show(struct kobject *k, struct kobj_attribute *a,
					char *buf)
{
	int n = 0;

	mutex_lock(&dmrs.lock);
	if (dmrs.run)
		n = dmrs_format_results(dmrs.run, buf, PAGE_SIZE);
	mutex_unlock(&dmrs.lock);
	return n;
}

static ssize_t baseline_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	ssize_t n = 0;

	mutex_lock(&dmrs.lock);
	if (dmrs.baseline)
		n = sysfs_emit(buf, "%s", dmrs.baseline);
	mutex_unlock(&dmrs.lock);
	return n;
}

static struct kobj_attribute attr_target = __ATTR_RW_MODE(target, 0644);
static struct kobj_attribute attr_start = __ATTR_WO(stress_test_start);
static struct kobj_attribute attr_stop = __ATTR_WO(stress_test_stop);
static struct kobj_attribute attr_adjust = __ATTR_WO(stress_test_adjust);
static struct kobj_attribute attr_status = __ATTR_RO(stress_test_status);
static struct kobj_attribute attr_results = __ATTR_RO(stress_test_results);
static struct kobj_attribute attr_quick = __ATTR_WO(quick_validation);
static struct kobj_attribute attr_regression = __ATTR_WO(regression_test);
static struct kobj_attribute attr_baseline = __ATTR_RW_MODE(baseline, 0644);
static struct kobj_attribute attr_mempress = __ATTR_WO(memory_pressure_test);

static struct attribute *dmrs_attrs[] = {
	&attr_target.attr,
	&attr_start.attr,
	&attr_stop.attr,
	&attr_adjust.attr,
	&attr_status.attr,
	&attr_results.attr,
	&attr_quick.attr,
	&attr_regression.attr,
	&attr_baseline.attr,
	&attr_mempress.attr,
	NULL,
};

/*
 * The long files: generated whole when a reader reads from offset 0 and
 * served from that reader's copy for the following offsets, so each
 * reader (open file) sees one snapshot. The copy goes at end of file; one
 * left by a reader that stopped early is reused for the next reader when
 * all are taken (the least recently read). A reader is known by its struct
 * file only, which a later open may reuse: as it starts at offset 0, it
 * gets a new copy all the same.
 */
static ssize_t long_read(unsigned int kind, const struct file *f, char *buf,
			 loff_t off, size_t count)
{
	struct snapshot *tab = dmrs.snap[kind], *s = &tab[0];
	size_t size = kind ? HIST_SIZE : REPORT_SIZE;
	unsigned int i;
	ssize_t r;

	mutex_lock(&dmrs.lock);
	for (i = 0; i < NR_SNAPSHOTS && s->reader != f; i++)
		if (tab[i].reader == f || tab[i].used < s->used)
			s = &tab[i];
	if (off == 0 || s->reader != f) {
		if (!s->text)
			s->text = kvmalloc(size, GFP_KERNEL);
		if (!s->text) {
			r = -ENOMEM;
			goto out;
		}
		s->reader = f;
		s->len = 0;
		if (dmrs.run) {
			r = kind ? dmrs_format_histogram(dmrs.run, s->text, size) :
				   dmrs_format_report(dmrs.run, dmrs.baseline, s->text, size);
			if (r < 0) {
				s->reader = NULL;
				s->used = 0;
				goto out;
			}
			s->len = r;
		}
	}
	r = 0;
	if (off < s->len) {
		r = min_t(size_t, count, s->len - off);
		memcpy(buf, s->text + off, r);
		s->used = ++dmrs.snap_clock;
	} else {
		s->reader = NULL;
		s->used = 0;
		kvfree(s->text);
		s->text = NULL;
	}
out:
	mutex_unlock(&dmrs.lock);
	return r;
}

static ssize_t report_read(struct file *f, struct kobject *k, struct bin_attribute *a,
			   char *buf, loff_t off, size_t count)
{
	return long_read(0, f, buf, off, count);
}

static ssize_t histogram_read(struct file *f, struct kobject *k, struct bin_attribute *a,
			      char *buf, loff_t off, size_t count)
{
	return long_read(1, f, buf, off, count);
}

static struct bin_attribute attr_report = {
	.attr = { .name = "comprehensive_report", .mode = 0444 },
	.read = report_read,
};

static struct bin_attribute attr_histogram = {
	.attr = { .name = "histogram", .mode = 0444 },
	.read = histogram_read,
};

static struct bin_attribute *dmrs_bin_attrs[] = {
	&attr_report,
	&attr_histogram,
	NULL,
};

static const struct attribute_group dmrs_group = {
	.attrs = dmrs_attrs,
	.bin_attrs = dmrs_bin_attrs,
};

/* ------------------------------------------------------------------ */
/* Module */

static int __init dmrs_init(void)
{
	int r;

	mutex_init(&dmrs.lock);
	init_waitqueue_head(&dmrs.end_wq);
	dmrs.wq = alloc_workqueue("dm-remap-stress", WQ_UNBOUND, 1);
	if (!dmrs.wq)
		return -ENOMEM;
	dmrs.kobj = kobject_create_and_add(DMRS_NAME, kernel_kobj);
	if (!dmrs.kobj) {
		r = -ENOMEM;
		goto fail;
	}
	r = sysfs_create_group(dmrs.kobj, &dmrs_group);
	if (r) {
		kobject_put(dmrs.kobj);
		goto fail;
	}
	return 0;
fail:
	destroy_workqueue(dmrs.wq);
	return r;
}

static void __exit dmrs_exit(void)
{
	struct dmrs_run *run;
	unsigned int i;

	/* No new starts: the files go first (this waits for their users). */
	kobject_put(dmrs.kobj);
	mutex_lock(&dmrs.lock);
	run = dmrs.run;
	if (run_active(run)) {
		pr_info("unloading: stopping the running test\n");
		run->state = DMRS_STOPPING;
		WRITE_ONCE(run->stop_user, true);
		WRITE_ONCE(run->stop, true);
		wake_up(&run->ctl_wq);
	}
	mutex_unlock(&dmrs.lock);
	destroy_workqueue(dmrs.wq);	/* waits for the controller */
	dmrs_run_free(run);
	kfree(dmrs.baseline);
	for (i = 0; i < 2 * NR_SNAPSHOTS; i++)
		kvfree(dmrs.snap[i / NR_SNAPSHOTS][i % NR_SNAPSHOTS].text);
}

module_init(dmrs_init);
module_exit(dmrs_exit);

MODULE_DESCRIPTION("In-kernel stress and validation of dm-remap devices");
MODULE_AUTHOR("dm-remap developers");
MODULE_LICENSE("GPL");
