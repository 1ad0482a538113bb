// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap-stress reports: the per-CPU statistics merged, percentiles from
 * the merged histogram, and the text of stress_test_status,
 * stress_test_results, histogram and comprehensive_report. The formats are
 * a contract (Documentation/admin-guide/device-mapper/dm-remap-stress.rst):
 * keys appear in this order, and new keys are only ever appended.
 */
#define pr_fmt(fmt) "dm-remap-stress: " fmt

#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-remap-stress.h"

static const char *const test_names[DMRS_NR_TESTS] = {
	"seq_read", "rand_read", "seq_write", "rand_write", "mixed", "remap_heavy",
};

static const char *const state_names[] = {
	"idle", "running", "stopping", "completed", "stopped", "failed",
};

static const char *const profile_names[] = {
	"none", "oltp", "fileserver", "vm",
};

static const char *const regression_names[] = {
	"none", "baseline_established", "pass", "fail",
};

const char *dmrs_test_name(enum dmrs_test t)
{
	return test_names[t];
}

const char *dmrs_state_name(enum dmrs_state s)
{
	return state_names[s];
}

/* ------------------------------------------------------------------ */
/* Merging and percentiles */

static void bucket_bounds(unsigned int idx, u64 *lo, u64 *hi)
{
	unsigned int e, sub;

	if (idx < 2 * DMRS_HIST_SUB) {
		*lo = idx;
		*hi = idx + 1;
		return;
	}
	e = idx / DMRS_HIST_SUB - 1;
	sub = idx % DMRS_HIST_SUB;
	*lo = (u64)(DMRS_HIST_SUB + sub) << e;
	*hi = (u64)(DMRS_HIST_SUB + sub + 1) << e;
}

static void merge(struct dmrs_op_stats *d, const struct dmrs_op_stats *o)
{
	unsigned int i;
	u64 lo = READ_ONCE(o->sq_lo);

	d->ios += READ_ONCE(o->ios);
	d->bytes += READ_ONCE(o->bytes);
	d->sum_ns += READ_ONCE(o->sum_ns);
	d->sq_lo += lo;
	d->sq_hi += READ_ONCE(o->sq_hi) + (d->sq_lo < lo);
	if (o->min_ns && (!d->min_ns || o->min_ns < d->min_ns))
		d->min_ns = o->min_ns;
	d->max_ns = max(d->max_ns, READ_ONCE(o->max_ns));
	d->overflow += READ_ONCE(o->overflow);
	for (i = 0; i < DMRS_HIST_BUCKETS; i++)
		d->hist[i] += READ_ONCE(o->hist[i]);
}

void dmrs_summarize(struct dmrs_run *run, struct dmrs_summary *s)
{
	int cpu;

	memset(s, 0, sizeof(*s));
	if (!run->cpu)
		return;
	for_each_possible_cpu(cpu) {
		const struct dmrs_cpu_stats *c = run->cpu[cpu];

		merge(&s->op[0], &c->op[0]);
		merge(&s->op[1], &c->op[1]);
		s->errors += READ_ONCE(c->errors);
	}
	merge(&s->op[2], &s->op[0]);
	merge(&s->op[2], &s->op[1]);
	if (run->start_ns)
		s->elapsed_ns = (run->end_ns ?: dmrs_now_ns()) - run->start_ns;
}

/* The value at @ppm parts per million of the I/Os (a bucket's middle). */
u64 dmrs_percentile(const struct dmrs_op_stats *o, unsigned int ppm)
{
	u64 rank, seen = 0, lo, hi, v;
	unsigned int i;

	if (!o->ios)
		return 0;
	rank = max_t(u64, DIV_ROUND_UP_ULL(o->ios * (u64)ppm, 1000000), 1);
	for (i = 0; i < DMRS_HIST_BUCKETS; i++) {
		seen += o->hist[i];
		if (seen >= rank)
			break;
	}
	if (i == DMRS_HIST_BUCKETS)	/* in the overflow, or no histogram */
		return o->max_ns;
	bucket_bounds(i, &lo, &hi);
	v = lo + (hi - lo - 1) / 2;
	return clamp(v, o->min_ns, o->max_ns);
}

static u64 mean_ns(const struct dmrs_op_stats *o)
{
	return o->ios ? div64_u64(o->sum_ns, o->ios) : 0;
}

/* @hi:@lo -= @a * @b in 128 bits; false (unchanged) if it would go below 0. */
static bool sub_mul128(u64 *hi, u64 *lo, u64 a, u64 b)
{
	u64 plo = a * b, phi = mul_u64_u64_shr(a, b, 64);

	if (*hi < phi || (*hi == phi && *lo < plo))
		return false;
	*hi -= phi + (*lo < plo);
	*lo -= plo;
	return true;
}

/*
 * Population standard deviation, from the sum and the 128-bit sum of
 * squares: with sum = n * m + r (0 <= r < n), n * variance is
 * sum(x^2) - n * m^2 - 2 * m * r - r^2 / n, exact in integers but for the
 * last term (below 1 ns^2 of variance). Sums read while a test runs may
 * disagree by an I/O: never below 0.
 */
static u64 stddev_ns(const struct dmrs_op_stats *o)
{
	u64 hi = o->sq_hi, lo = o->sq_lo, n = o->ios, m, r;
	unsigned int k = 0;

	if (n < 2)
		return 0;
	m = div64_u64_rem(o->sum_ns, n, &r);
	if (!sub_mul128(&hi, &lo, n * m, m) || !sub_mul128(&hi, &lo, m, r) ||
	    !sub_mul128(&hi, &lo, m, r))
		return 0;
	/* sqrt(x * 4^k) = sqrt(x) * 2^k: shift by 2 bits at a time */
	while (hi) {
		lo = (lo >> 2) | (hi << 62);
		hi >>= 2;
		k++;
	}
	return int_sqrt64(div64_u64(lo, n)) << k;
}

/* A hash of every generated I/O (operation, offset, length), per worker. */
u64 dmrs_digest(struct dmrs_run *run)
{
	u64 d = 0xcbf29ce484222325ULL;
	unsigned int i;

	for (i = 0; run->workers && i < run->p.workers; i++) {
		d ^= READ_ONCE(run->workers[i].digest);
		d *= 0x100000001b3ULL;
		d ^= d >> 29;
	}
	return d;
}

/* Operations per second times 100, from @n over @ns. */
u64 dmrs_iops_x100(u64 n, u64 ns)
{
	return ns ? mul_u64_u64_div_u64(n, 100 * NSEC_PER_SEC, ns) : 0;
}

/* ------------------------------------------------------------------ */
/* Text helpers */

struct out {
	char *buf;
	size_t size, len;
};

static __printf(2, 3) void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	o->len += vscnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
}

static void emit_fix(struct out *o, const char *key, u64 v, unsigned int decimals)
{
	u64 div = decimals == 6 ? 1000000 : 100;

	emit(o, "%s: %llu.%0*llu\n", key, div64_u64(v, div), decimals,
	     v - div64_u64(v, div) * div);
}

static void emit_lat(struct out *o, const char *p, const struct dmrs_op_stats *s)
{
	emit(o, "%slat_min_ns: %llu\n", p, s->min_ns);
	emit(o, "%slat_mean_ns: %llu\n", p, mean_ns(s));
	emit(o, "%slat_stddev_ns: %llu\n", p, stddev_ns(s));
	emit(o, "%slat_p50_ns: %llu\n", p, dmrs_percentile(s, 500000));
	emit(o, "%slat_p90_ns: %llu\n", p, dmrs_percentile(s, 900000));
	emit(o, "%slat_p95_ns: %llu\n", p, dmrs_percentile(s, 950000));
	emit(o, "%slat_p99_ns: %llu\n", p, dmrs_percentile(s, 990000));
	emit(o, "%slat_p999_ns: %llu\n", p, dmrs_percentile(s, 999000));
	emit(o, "%slat_p9999_ns: %llu\n", p, dmrs_percentile(s, 999900));
	emit(o, "%slat_max_ns: %llu\n", p, s->max_ns);
	emit(o, "%slat_overflow: %llu\n", p, s->overflow);
}

static void emit_dir(struct out *o, const char *p, const struct dmrs_op_stats *s,
		     u64 ns)
{
	char key[16];

	emit(o, "%sios: %llu\n", p, s->ios);
	emit(o, "%sbytes: %llu\n", p, s->bytes);
	snprintf(key, sizeof(key), "%siops", p);
	emit_fix(o, key, dmrs_iops_x100(s->ios, ns), 2);
}

static enum dmrs_state results_state(struct dmrs_run *run)
{
	return run->state == DMRS_STOPPING ? DMRS_RUNNING : run->state;
}

/*
 * The verdict: PASS unless an I/O failed, a sector did not verify, the
 * regression limits were crossed, or the run did not complete.
 */
bool dmrs_run_passed(struct dmrs_run *run, const struct dmrs_summary *s,
		     char *criteria, size_t size)
{
	struct out o = { criteria, size, 0 };
	bool running = run->state == DMRS_RUNNING || run->state == DMRS_STOPPING;

	criteria[0] = '\0';
	if (s->errors || run->fail_reason[0])
		emit(&o, "%serrors", o.len ? "," : "");
	if (run->mismatches)
		emit(&o, "%sverify_mismatches", o.len ? "," : "");
	if (run->reg.regression == DMRS_REG_FAIL) {
		if (run->reg.iops_change_bp < -(s64)run->reg.iops_limit_bp)
			emit(&o, "%siops_drop", o.len ? "," : "");
		if (run->reg.p99_change_bp > (s64)run->reg.p99_limit_bp)
			emit(&o, "%sp99_rise", o.len ? "," : "");
	}
	if (!running && run->state != DMRS_COMPLETED)
		emit(&o, "%sincomplete", o.len ? "," : "");
	if (!o.len)
		emit(&o, "none");
	return !strcmp(criteria, "none");
}

static void emit_pct(struct out *o, const char *key, bool have, s64 bp)
{
	if (!have) {
		emit(o, "%s: n/a\n", key);
		return;
	}
	emit(o, "%s: %s%lld.%02lld\n", key, bp < 0 ? "-" : "",
	     abs(bp) / 100, abs(bp) % 100);
}

int dmrs_format_results(struct dmrs_run *run, char *buf, size_t size)
{
	struct dmrs_summary *s = kvmalloc(sizeof(*s), GFP_KERNEL);
	struct out o = { buf, size, 0 };
	const struct dmrs_params *p = &run->p;
	char crit[96];
	unsigned int i;
	bool pass;

	if (!s)
		return -ENOMEM;
	dmrs_summarize(run, s);
	pass = dmrs_run_passed(run, s, crit, sizeof(crit));
	emit(&o, "partial: %d\n", run->state == DMRS_RUNNING || run->state == DMRS_STOPPING);
	emit(&o, "state: %s\n", state_names[results_state(run)]);
	emit(&o, "test: %s\n", test_names[p->test]);
	emit(&o, "test_type: %u\n", p->test);
	emit(&o, "target: %s\n", run->target_name);
	emit(&o, "target_dev: %u:%u\n", MAJOR(run->devt), MINOR(run->devt));
	emit(&o, "target_is_remap: %d\n", run->is_remap);
	emit(&o, "workers: %u\n", p->workers);
	emit(&o, "duration_ms: %llu\n", p->ops ? 0 : p->duration_ms);
	emit(&o, "ops: %llu\n", p->ops);
	emit(&o, "bs: %u\n", p->profile ? 0 : p->bs);
	emit(&o, "qd: %u\n", p->qd);
	emit(&o, "seed: %llu\n", p->seed);
	emit(&o, "rwmix: %u\n", p->rwmix);
	emit(&o, "verify: %d\n", p->verify);
	if (p->zipf_theta)
		emit(&o, "dist: zipf:%u.%02u\n", p->zipf_theta / 100, p->zipf_theta % 100);
	else
		emit(&o, "dist: uniform\n");
	if (p->cpus_set)
		emit(&o, "cpus: %*pbl\n", cpumask_pr_args(p->cpus));
	else
		emit(&o, "cpus: all\n");
	emit(&o, "rate: %llu\n", p->rate);
	emit(&o, "remaps: %u\n", p->test == DMRS_REMAP_HEAVY ? p->remaps : 0);
	emit(&o, "profile: %s\n", profile_names[p->profile]);
	emit(&o, "elapsed_ms: %llu\n", div_u64(s->elapsed_ns, NSEC_PER_MSEC));
	emit(&o, "ios: %llu\n", s->op[2].ios);
	emit(&o, "bytes: %llu\n", s->op[2].bytes);
	emit_fix(&o, "iops", dmrs_iops_x100(s->op[2].ios, s->elapsed_ns), 2);
	emit_fix(&o, "mbps", s->elapsed_ns ?
		 mul_u64_u64_div_u64(s->op[2].bytes, 100000, s->elapsed_ns) : 0, 2);
	emit_lat(&o, "", &s->op[2]);
	emit_dir(&o, "read_", &s->op[0], s->elapsed_ns);
	emit_lat(&o, "read_", &s->op[0]);
	emit_dir(&o, "write_", &s->op[1], s->elapsed_ns);
	emit_lat(&o, "write_", &s->op[1]);
	emit(&o, "errors: %llu\n", s->errors);
	emit_fix(&o, "error_rate", s->errors ?
		 div64_u64(s->errors * 1000000, s->errors + s->op[2].ios) : 0, 6);
	emit(&o, "verify_mismatches: %llu\n", run->mismatches);
	emit(&o, "first_mismatch_sectors: ");
	for (i = 0; i < run->nr_mismatch_sectors; i++)
		emit(&o, "%s%llu", i ? " " : "", run->mismatch_sectors[i]);
	emit(&o, "%s\n", run->nr_mismatch_sectors ? "" : "none");
	emit(&o, "io_sequence_digest: %016llx\n", dmrs_digest(run));
	emit(&o, "regression: %s\n", regression_names[run->reg.regression]);
	emit_pct(&o, "regression_iops_change_pct", run->reg.have_change,
		 run->reg.iops_change_bp);
	emit_pct(&o, "regression_p99_change_pct", run->reg.have_change,
		 run->reg.p99_change_bp);
	emit(&o, "result: %s\n", pass ? "PASS" : "FAIL");
	emit(&o, "failed_criteria: %s\n", crit);
	/* Appended keys (readers keep unknown keys). */
	if (run->after.valid && run->before.valid) {
		emit(&o, "dm_fast_path: %llu\n",
		     run->after.c.fast_path - run->before.c.fast_path);
		emit(&o, "dm_lookups: %llu\n", run->after.c.lookups - run->before.c.lookups);
		emit(&o, "dm_spare_ios: %llu\n",
		     run->after.c.spare_ios - run->before.c.spare_ios);
	}
	if (run->p.kind == DMRS_KIND_MEMPRESS) {
		emit(&o, "pressure_mb: %u\n", p->pressure_mb);
		if (run->unpressured) {
			const struct dmrs_summary *u = run->unpressured;

			emit_fix(&o, "unpressured_iops",
				 dmrs_iops_x100(u->op[2].ios, u->elapsed_ns), 2);
			emit(&o, "unpressured_lat_p50_ns: %llu\n",
			     dmrs_percentile(&u->op[2], 500000));
			emit(&o, "unpressured_lat_p99_ns: %llu\n",
			     dmrs_percentile(&u->op[2], 990000));
		}
	}
	if (run->fail_reason[0])
		emit(&o, "fail_reason: %s\n", run->fail_reason);
	kvfree(s);
	return o.len;
}

int dmrs_format_status(struct dmrs_run *run, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	u64 el = 0, ios = 0, pct = 0, inflight = 0, errors = 0;
	enum dmrs_state st = run ? run->state : DMRS_IDLE;
	unsigned int i;
	int cpu;

	if (run && run->start_ns) {
		el = div_u64((run->end_ns ?: dmrs_now_ns()) - run->start_ns, NSEC_PER_MSEC);
		ios = dmrs_ios_now(run);
		for_each_possible_cpu(cpu)
			errors += READ_ONCE(run->cpu[cpu]->errors);
		for (i = 0; run->workers && i < run->p.workers; i++)
			inflight += READ_ONCE(run->workers[i].inflight);
		if (st == DMRS_COMPLETED)
			pct = 100;
		else if (run->p.ops)
			pct = min_t(u64, div64_u64(ios * 100, run->p.ops), 100);
		else
			pct = min_t(u64, div64_u64(el * 100, run->p.duration_ms), 100);
	}
	emit(&o, "state: %s\n", state_names[st]);
	emit(&o, "test: %s\n", run ? test_names[run->p.test] : "none");
	emit(&o, "elapsed_ms: %llu\n", el);
	emit(&o, "duration_ms: %llu\n", run && !run->p.ops ? run->p.duration_ms : 0);
	emit(&o, "ops: %llu\n", run ? run->p.ops : 0);
	emit(&o, "progress_pct: %llu\n", pct);
	emit(&o, "ios: %llu\n", ios);
	emit(&o, "iops_1s: %llu\n", run && st == DMRS_RUNNING ? READ_ONCE(run->iops_1s) : 0);
	emit(&o, "inflight: %llu\n", inflight);
	emit(&o, "errors: %llu\n", errors);
	emit(&o, "verify_mismatches: %llu\n", run ? READ_ONCE(run->mismatches) : 0);
	return o.len;
}

static void emit_hist(struct out *o, const struct dmrs_op_stats *s)
{
	unsigned int i;
	u64 lo, hi;

	for (i = 0; i < DMRS_HIST_BUCKETS; i++) {
		if (!s->hist[i])
			continue;
		bucket_bounds(i, &lo, &hi);
		emit(o, "%llu %llu %llu\n", lo, hi, s->hist[i]);
	}
	if (s->overflow)
		emit(o, "%llu inf %llu\n", 1ULL << DMRS_HIST_MAX_BITS, s->overflow);
}

int dmrs_format_histogram(struct dmrs_run *run, char *buf, size_t size)
{
	struct dmrs_summary *s = kvmalloc(sizeof(*s), GFP_KERNEL);
	struct out o = { buf, size, 0 };

	if (!s)
		return -ENOMEM;
	dmrs_summarize(run, s);
	emit_hist(&o, &s->op[2]);
	kvfree(s);
	return o.len;
}

static void report_lat_row(struct out *o, const char *name,
			   const struct dmrs_op_stats *s)
{
	emit(o, "%-6s %10llu %10llu %10llu %10llu %10llu %10llu %10llu %10llu %10llu %10llu\n",
	     name, s->min_ns, mean_ns(s), stddev_ns(s),
	     dmrs_percentile(s, 500000), dmrs_percentile(s, 900000),
	     dmrs_percentile(s, 950000), dmrs_percentile(s, 990000),
	     dmrs_percentile(s, 999000), dmrs_percentile(s, 999900), s->max_ns);
}

/* The histogram folded into powers of two, with bars. */
static void report_ascii_hist(struct out *o, const struct dmrs_op_stats *s)
{
	u64 groups[DMRS_HIST_MAX_BITS + 1] = { 0 }, top = 0, lo, hi;
	unsigned int i, g, first = DMRS_HIST_MAX_BITS + 1, last = 0;

	for (i = 0; i < DMRS_HIST_BUCKETS; i++) {
		if (!s->hist[i])
			continue;
		bucket_bounds(i, &lo, &hi);
		g = lo ? ilog2(lo) : 0;
		groups[g] += s->hist[i];
		first = min(first, g);
		last = max(last, g);
	}
	for (g = first; g <= last && g <= DMRS_HIST_MAX_BITS; g++)
		top = max(top, groups[g]);
	if (!top) {
		emit(o, "(no latency recorded)\n");
		return;
	}
	for (g = first; g <= last; g++) {
		unsigned int w = div64_u64(groups[g] * 50, top);

		emit(o, "[%11llu, %11llu) %10llu |%.*s%*s|\n", g ? 1ULL << g : 0,
		     1ULL << (g + 1), groups[g], w,
		     "##################################################", 50 - w, "");
	}
	if (s->overflow)
		emit(o, "[%11llu,         inf) %10llu (overflow)\n",
		     1ULL << DMRS_HIST_MAX_BITS, s->overflow);
}

static void report_counters(struct out *o, struct dmrs_run *run)
{
	static const struct {
		const char *name;
		size_t off;
	} rows[] = {
		{ "reads", offsetof(struct dm_remap_counters, reads) },
		{ "writes", offsetof(struct dm_remap_counters, writes) },
		{ "fast_path", offsetof(struct dm_remap_counters, fast_path) },
		{ "lookups", offsetof(struct dm_remap_counters, lookups) },
		{ "spare_ios", offsetof(struct dm_remap_counters, spare_ios) },
		{ "read_errors", offsetof(struct dm_remap_counters, read_errors) },
		{ "write_errors", offsetof(struct dm_remap_counters, write_errors) },
		{ "auto_remaps", offsetof(struct dm_remap_counters, auto_remaps) },
		{ "remapped", offsetof(struct dm_remap_counters, remapped) },
		{ "lost", offsetof(struct dm_remap_counters, lost) },
	};
	unsigned int i;

	emit(o, "%-14s %14s %14s %14s\n", "counter", "before", "after", "delta");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		u64 b = *(const u64 *)((const char *)&run->before.c + rows[i].off);
		u64 a = *(const u64 *)((const char *)&run->after.c + rows[i].off);

		emit(o, "%-14s %14llu %14llu %14lld\n", rows[i].name, b, a,
		     (long long)(a - b));
	}
}

int dmrs_format_report(struct dmrs_run *run, const char *baseline,
		       char *buf, size_t size)
{
	struct dmrs_summary *s = kvmalloc(sizeof(*s), GFP_KERNEL);
	struct out o = { buf, size, 0 };
	const struct dmrs_params *p = &run->p;
	u64 iops, b_iops, b_p99;
	char crit[96];
	unsigned int i;
	bool pass;
	int cpu;

	if (!s)
		return -ENOMEM;
	dmrs_summarize(run, s);
	pass = dmrs_run_passed(run, s, crit, sizeof(crit));
	iops = dmrs_iops_x100(s->op[2].ios, s->elapsed_ns);

	emit(&o, "dm-remap-stress comprehensive report\n");
	emit(&o, "state: %s%s, result: %s\n", state_names[results_state(run)],
	     run->state == DMRS_RUNNING || run->state == DMRS_STOPPING ? " (partial)" : "",
	     pass ? "PASS" : "FAIL");
	emit(&o, "\n== Configuration ==\n");
	emit(&o, "test: %s (%u), workers %u, bs %u, qd %u, seed %llu, verify %s\n",
	     test_names[p->test], p->test, p->workers, p->profile ? 0 : p->bs,
	     p->qd, p->seed, p->verify ? "on" : "off");
	emit(&o, "target: %s (%u:%u, %s), %llu sectors, logical block %u\n",
	     run->target_name, MAJOR(run->devt), MINOR(run->devt),
	     run->is_remap ? "dm-remap" : "not dm-remap",
	     (u64)run->dev_sectors, run->lbs);
	if (p->ops)
		emit(&o, "length: %llu I/Os\n", p->ops);
	else
		emit(&o, "length: %llu ms\n", p->duration_ms);
	emit(&o, "rwmix %u%% read, dist %s, rate %llu IOPS%s, profile %s, remaps %u\n",
	     p->rwmix, p->zipf_theta ? "zipf" : "uniform", p->rate,
	     p->rate ? "" : " (no cap)", profile_names[p->profile],
	     p->test == DMRS_REMAP_HEAVY ? p->remaps : 0);
	for (i = 0; i < run->nr_sizes && p->profile; i++)
		emit(&o, "  size %u bytes: %u%%\n", run->sizes[i],
		     run->size_pct[i] - (i ? run->size_pct[i - 1] : 0));

	emit(&o, "\n== Throughput ==\n");
	emit(&o, "ios %llu in %llu.%03llu s: %llu.%02llu IOPS, %llu bytes\n",
	     s->op[2].ios, div_u64(s->elapsed_ns, NSEC_PER_SEC),
	     div_u64(s->elapsed_ns, NSEC_PER_MSEC) % 1000, iops / 100, iops % 100,
	     s->op[2].bytes);
	emit(&o, "read  %llu I/Os, %llu bytes\nwrite %llu I/Os, %llu bytes\n",
	     s->op[0].ios, s->op[0].bytes, s->op[1].ios, s->op[1].bytes);

	emit(&o, "\n== Latency (ns; percentiles within 0.78%%) ==\n");
	emit(&o, "%-6s %10s %10s %10s %10s %10s %10s %10s %10s %10s %10s\n", "op",
	     "min", "mean", "stddev", "p50", "p90", "p95", "p99", "p99.9", "p99.99", "max");
	report_lat_row(&o, "all", &s->op[2]);
	report_lat_row(&o, "read", &s->op[0]);
	report_lat_row(&o, "write", &s->op[1]);

	emit(&o, "\n== Latency histogram (ns, powers of two) ==\n");
	report_ascii_hist(&o, &s->op[2]);

	emit(&o, "\n== Workers ==\n");
	for (i = 0; run->workers && i < p->workers; i++) {
		const struct dmrs_worker *w = &run->workers[i];

		if (w->cpu < 0)
			emit(&o, "worker %2u: cpu any", i);
		else
			emit(&o, "worker %2u: cpu %d", i, w->cpu);
		emit(&o, ", sectors [%llu, %llu)\n", (u64)w->first,
		     (u64)(w->first + w->nr_sectors));
		emit(&o, "  submitted %llu, completed %llu, errors %llu, read back %llu\n",
		     w->submitted, w->completed, w->errors, w->readback);
	}
	emit(&o, "\n== Completions per CPU ==\n");
	for_each_possible_cpu(cpu) {
		const struct dmrs_cpu_stats *c = run->cpu ? run->cpu[cpu] : NULL;

		if (c && (c->op[0].ios || c->op[1].ios || c->errors))
			emit(&o, "cpu %3d: reads %llu, writes %llu, errors %llu\n", cpu,
			     c->op[0].ios, c->op[1].ios, c->errors);
	}

	emit(&o, "\n== dm-remap target ==\n");
	if (run->before.valid && run->after.valid) {
		report_counters(&o, run);
		if (p->test == DMRS_REMAP_HEAVY)
			emit(&o, "remaps made for the run: %u of %u (%s)\n",
			     run->nr_remapped, p->remaps,
			     p->keep_remaps ? "kept" : "removed after it");
	} else if (run->is_remap) {
		emit(&o, "(counters are read when the run ends)\n");
	} else {
		emit(&o, "(not a dm-remap device)\n");
	}

	emit(&o, "\n== Memory ==\n");
	emit(&o, "module memory for this run: %llu bytes (buffers, bios, histograms, tables)\n",
	     run->mem_bytes);
	if (p->kind == DMRS_KIND_MEMPRESS) {
		emit(&o, "memory pressure: %u MB requested, %llu MB held during the run\n",
		     p->pressure_mb, run->pressure_held_mb);
		if (run->unpressured) {
			const struct dmrs_summary *u = run->unpressured;
			u64 ui = dmrs_iops_x100(u->op[2].ios, u->elapsed_ns);

			emit(&o, "%-18s %14s %14s %14s\n", "", "IOPS", "p50_ns", "p99_ns");
			emit(&o, "%-18s %11llu.%02llu %14llu %14llu\n", "without pressure",
			     ui / 100, ui % 100, dmrs_percentile(&u->op[2], 500000),
			     dmrs_percentile(&u->op[2], 990000));
			emit(&o, "%-18s %11llu.%02llu %14llu %14llu\n", "under pressure",
			     iops / 100, iops % 100, dmrs_percentile(&s->op[2], 500000),
			     dmrs_percentile(&s->op[2], 990000));
		}
	}

	emit(&o, "\n== Criteria ==\n");
	emit(&o, "errors: %llu (%s)\n", s->errors, s->errors ? "FAIL" : "PASS");
	if (run->fail_reason[0])
		emit(&o, "run failed: %s (FAIL)\n", run->fail_reason);
	emit(&o, "verify_mismatches: %llu (%s)%s\n", run->mismatches,
	     run->mismatches ? "FAIL" : "PASS", p->verify ? "" : " [verify off]");
	for (i = 0; i < run->nr_mismatch_sectors; i++)
		emit(&o, "  mismatch at sector %llu\n", run->mismatch_sectors[i]);
	emit(&o, "completed: %s\n", run->state == DMRS_COMPLETED ? "yes (PASS)" :
	     run->state == DMRS_RUNNING || run->state == DMRS_STOPPING ?
	     "still running" : "no (FAIL)");
	emit(&o, "io_sequence_digest: %016llx\n", dmrs_digest(run));

	emit(&o, "\n== Regression ==\n");
	switch (run->reg.regression) {
	case DMRS_REG_NONE:
		emit(&o, "not a regression test\n");
		break;
	case DMRS_REG_ESTABLISHED:
		emit(&o, "no baseline: this run is now the baseline\n");
		break;
	default:
		if (baseline && !dmrs_baseline_parse(baseline, &b_iops, &b_p99))
			emit(&o, "baseline: %llu.%02llu IOPS, p99 %llu ns\n",
			     b_iops / 100, b_iops % 100, b_p99);
		emit(&o, "iops change %s%lld.%02lld%% (limit -%u.%02u%%): %s\n",
		     run->reg.iops_change_bp < 0 ? "-" : "",
		     abs(run->reg.iops_change_bp) / 100, abs(run->reg.iops_change_bp) % 100,
		     run->reg.iops_limit_bp / 100, run->reg.iops_limit_bp % 100,
		     run->reg.iops_change_bp < -(s64)run->reg.iops_limit_bp ? "FAIL" : "PASS");
		emit(&o, "p99 change %s%lld.%02lld%% (limit +%u.%02u%%): %s\n",
		     run->reg.p99_change_bp < 0 ? "-" : "",
		     abs(run->reg.p99_change_bp) / 100, abs(run->reg.p99_change_bp) % 100,
		     run->reg.p99_limit_bp / 100, run->reg.p99_limit_bp % 100,
		     run->reg.p99_change_bp > (s64)run->reg.p99_limit_bp ? "FAIL" : "PASS");
	}
	emit(&o, "\nresult: %s (failed criteria: %s)\n", pass ? "PASS" : "FAIL", crit);
	kvfree(s);
	return o.len;
}

/* iops and lat_p99_ns of a baseline in the results format. */
int dmrs_baseline_parse(const char *text, u64 *iops_x100, u64 *p99_ns)
{
	const char *l = text;
	bool have_iops = false, have_p99 = false, completed = false;

	while (l && *l) {
		const char *nl = strchr(l, '\n');
		char v[32];
		size_t n;

		if (!nl)
			return -EINVAL;		/* every line ends with \n */
		n = nl - l;
		if (n > 7 && !strncmp(l, "iops: ", 6) && n - 6 < sizeof(v)) {
			unsigned long long ip, fp;
			char *dot;

			memcpy(v, l + 6, n - 6);
			v[n - 6] = '\0';
			dot = strchr(v, '.');
			if (!dot || strlen(dot + 1) != 2)
				return -EINVAL;
			*dot = '\0';
			if (kstrtoull(v, 10, &ip) || kstrtoull(dot + 1, 10, &fp))
				return -EINVAL;
			*iops_x100 = ip * 100 + fp;
			have_iops = true;
		} else if (!strncmp(l, "lat_p99_ns: ", 12) && n - 12 < sizeof(v)) {
			memcpy(v, l + 12, n - 12);
			v[n - 12] = '\0';
			if (kstrtoull(v, 10, p99_ns))
				return -EINVAL;
			have_p99 = true;
		} else if (n == 16 && !strncmp(l, "state: completed", 16)) {
			completed = true;
		}
		l = nl + 1;
	}
	return have_iops && have_p99 && completed && *iops_x100 ? 0 : -EINVAL;
}
