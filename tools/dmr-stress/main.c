// SPDX-License-Identifier: GPL-2.0
/*
 * dmr-stress: run, watch, parse, compare and keep the history of the
 * dm-remap-stress kernel module's tests. See dmr-stress.8.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmr.h"

/* How long `run` waits for a test's setup (remaps, memory) to end. */
#define SETUP_LIMIT_MS	(3600 * 1000ULL)

static const char *sysfs_root;
static const char *db_path;

static void usage(FILE *f)
{
	fputs("usage: dmr-stress [--sysfs DIR] COMMAND [options]\n"
	      "\n"
	      "  run [--device DEV] [--type seqread|randread|seqwrite|randwrite|mixed|remap]\n"
	      "      [--workers N] [--runtime 30s|2m|1h] [--bs 4k] [--iodepth N] [--seed N]\n"
	      "      [--ops N] [--verify] [--rwmix N] [--profile oltp|fileserver|vm]\n"
	      "      [--dist uniform|zipf:T] [--cpus LIST] [--rate IOPS] [--remaps N] [--force]\n"
	      "      [--quick | --regression | --memory-pressure MB]\n"
	      "      [--format text|json|csv|prometheus] [--output FILE] [--save DIR]\n"
	      "      [--interval 1s] [--timeout T] [--db PATH] [--no-history] [--full] [--quiet]\n"
	      "  status [--format text|json]\n"
	      "  report [--format text|json|csv|prometheus] [--full] [--output FILE] [FILE|DIR|-]\n"
	      "  compare BASELINE CURRENT [--iops-drop 10%] [--p99-rise 20%]\n"
	      "  baseline save FILE | load FILE | show | set | clear\n"
	      "  history [--db PATH] list | show ID | trend --metric p99 | add FILE\n"
	      "  hist [--svg FILE] [--raw] [FILE|DIR|-]\n"
	      "\n"
	      "Exit status: 0 PASS, 1 FAIL, 2 regression, 3 bad usage or device,\n"
	      "4 module not loaded or kernel error. See dmr-stress(8).\n", f);
}

static void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("dmr-stress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *sysfs_path(const char *name)
{
	size_t n = strlen(sysfs_root) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", sysfs_root, name);
	return p;
}

static int module_loaded(void)
{
	struct stat st;

	if (stat(sysfs_root, &st) == 0 && S_ISDIR(st.st_mode))
		return 1;
	die_msg("dm-remap-stress is not loaded: %s: %s (modprobe dm-remap-stress)", sysfs_root,
		strerror(errno));
	return 0;
}

/* Exit status for a failed sysfs write, from its errno. */
static int write_err_exit(int e)
{
	switch (e) {
	case EBUSY: case EINVAL: case ERANGE: case ENODEV: case EPERM: case EACCES:
	case ENOENT: case ENXIO: case ENOTBLK: case ENOMEM: case ENOSPC: case E2BIG:
	case EISDIR:
		return EXIT_USAGE;
	default:
		return EXIT_KERNEL;
	}
}

static const char *write_hint(const char *file, int e)
{
	int start = !strcmp(file, "stress_test_start") || !strcmp(file, "quick_validation") ||
		    !strcmp(file, "regression_test") || !strcmp(file, "memory_pressure_test");

	switch (e) {
	case EBUSY:
		return start ? "a test is already running, the device is suspended, or it is mounted or claimed" : "";
	case ENODEV:
		return start || !strcmp(file, "target") ?
			"no usable target: give --device, or create exactly one dm-remap device" : "";
	case EPERM:
		return start ? "a write test on a device that is not dm-remap needs --force" : "";
	case EACCES:
		return "must be root";
	case ENOMEM:
		return !strcmp(file, "memory_pressure_test") ?
			"more than the module's safe share of available memory" : "";
	case EINVAL:
	case ERANGE:
		return "the module rejected the value (see dmesg for why)";
	default:
		return "";
	}
}

/* Write a control file; on error print "<file>: <strerror> (<hint>)". */
static int ctl_write(const char *name, const char *val)
{
	char *p = sysfs_path(name);
	int rc = write_attr(p, val), e = errno;

	free(p);
	if (rc < 0) {
		const char *h = write_hint(name, e);

		if (*h)
			die_msg("%s (%s)", dmr_err(), h);
		else
			die_msg("%s", dmr_err());
		return write_err_exit(e);
	}
	return 0;
}

/* ------------------------------------------------------------------ options */

struct opt {
	const char *names;	/* "--a|--b|-c" */
	int arg;		/* 0 flag, 1 required, 2 optional (=value only) */
	int id;
};

static int match_name(const char *names, const char *s, size_t n)
{
	const char *p = names;

	while (*p) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && !memcmp(p, s, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/*
 * Next option of argv at *i. Returns the option's id, 0 for a positional
 * argument (*val set), -1 after printing an error.
 */
static int next_opt(int argc, char **argv, int *i, const struct opt *tab, const char **val,
		    const char *cmd)
{
	const char *a = argv[*i], *eq;
	size_t n;

	*val = NULL;
	if (a[0] != '-' || !a[1] || !strcmp(a, "--")) {
		*val = a;
		return 0;
	}
	eq = a[1] == '-' ? strchr(a, '=') : NULL;
	n = eq ? (size_t)(eq - a) : strlen(a);
	for (const struct opt *o = tab; o->names; o++) {
		if (!match_name(o->names, a, n))
			continue;
		if (o->arg == 0 && eq) {
			die_msg("%s: option %.*s takes no value", cmd, (int)n, a);
			return -1;
		}
		if (o->arg == 1) {
			if (eq) {
				*val = eq + 1;
			} else if (*i + 1 < argc) {
				*val = argv[++*i];
			} else {
				die_msg("%s: option %s needs a value", cmd, a);
				return -1;
			}
		} else if (o->arg == 2 && eq) {
			*val = eq + 1;
		}
		return o->id;
	}
	die_msg("%s: unknown option '%.*s' (dmr-stress --help)", cmd, (int)n, a);
	return -1;
}

/* ------------------------------------------------------------------ run */

static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
	(void)sig;
	signals++;
}

static const struct {
	const char *name;
	int type;
} types[] = {
	{ "seqread", 0 }, { "read", 0 }, { "seq_read", 0 },
	{ "randread", 1 }, { "rand_read", 1 },
	{ "seqwrite", 2 }, { "write", 2 }, { "seq_write", 2 },
	{ "randwrite", 3 }, { "rand_write", 3 },
	{ "mixed", 4 }, { "randrw", 4 }, { "rw", 4 }, { "readwrite", 4 },
	{ "remap", 5 }, { "remap-heavy", 5 }, { "remap_heavy", 5 },
};

enum {
	O_DEVICE = 1, O_TYPE, O_WORKERS, O_RUNTIME, O_BS, O_IODEPTH, O_SEED, O_OPS, O_VERIFY,
	O_RWMIX, O_PROFILE, O_DIST, O_CPUS, O_RATE, O_REMAPS, O_FORCE, O_QUICK, O_REGRESSION,
	O_MEMPRESS, O_FORMAT, O_OUTPUT, O_SAVE, O_INTERVAL, O_TIMEOUT, O_DB, O_NOHIST, O_FULL,
	O_QUIET, O_SYSFS, O_HELP, O_IOPS_DROP, O_P99_RISE, O_SVG, O_RAW,
};

static const struct opt run_opts[] = {
	{ "--device|--filename|-d", 1, O_DEVICE },
	{ "--type|--rw|--readwrite|-t", 1, O_TYPE },
	{ "--workers|--numjobs|-w", 1, O_WORKERS },
	{ "--runtime|--duration", 1, O_RUNTIME },
	{ "--bs|--blocksize", 1, O_BS },
	{ "--iodepth|--qd", 1, O_IODEPTH },
	{ "--seed|--randseed", 1, O_SEED },
	{ "--ops|--number_ios|--number-ios", 1, O_OPS },
	{ "--verify", 2, O_VERIFY },
	{ "--rwmix|--rwmixread", 1, O_RWMIX },
	{ "--profile", 1, O_PROFILE },
	{ "--dist|--random_distribution", 1, O_DIST },
	{ "--cpus|--cpus_allowed", 1, O_CPUS },
	{ "--rate|--rate_iops", 1, O_RATE },
	{ "--remaps", 1, O_REMAPS },
	{ "--force", 0, O_FORCE },
	{ "--quick", 0, O_QUICK },
	{ "--regression", 0, O_REGRESSION },
	{ "--memory-pressure", 1, O_MEMPRESS },
	{ "--format|--output-format", 1, O_FORMAT },
	{ "--output|-o", 1, O_OUTPUT },
	{ "--save", 1, O_SAVE },
	{ "--interval", 1, O_INTERVAL },
	{ "--timeout", 1, O_TIMEOUT },
	{ "--db", 1, O_DB },
	{ "--no-history", 0, O_NOHIST },
	{ "--full", 0, O_FULL },
	{ "--quiet|-q", 0, O_QUIET },
	{ "--sysfs", 1, O_SYSFS },
	{ "--help|-h", 0, O_HELP },
	{ NULL, 0, 0 },
};

struct run_cfg {
	const char *device, *profile, *dist, *cpus, *output, *save;
	int type, verify, force, mode, quiet, nohist, full;
	uint64_t workers, runtime_ms, bs, qd, seed, ops, rwmix, rate, remaps, mem_mb;
	uint64_t interval_ms, timeout_ms;
	unsigned int set;	/* which optional keys were given */
	enum fmt fmt;
};

enum { M_CUSTOM, M_QUICK, M_REGRESSION, M_MEMPRESS };
enum { S_BS = 1, S_QD = 2, S_SEED = 4, S_OPS = 8, S_RWMIX = 16, S_RATE = 32, S_REMAPS = 64,
	S_RUNTIME = 128, S_WORKLOAD = 256, S_TIMEOUT = 512 };

static int parse_run_opts(int argc, char **argv, struct run_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->type = 1;		/* randread */
	c->workers = 4;
	c->runtime_ms = 30000;
	c->interval_ms = 1000;
	c->verify = -1;
	for (int i = 0; i < argc; i++) {
		const char *v;
		int id = next_opt(argc, argv, &i, run_opts, &v, "run");
		uint64_t x;

		if (id < 0)
			return EXIT_USAGE;
		if (id == 0) {
			die_msg("run: unexpected argument '%s'", v);
			return EXIT_USAGE;
		}
#define NUM(lo, hi, dst, what) do { \
		if (parse_uint_opt(v, lo, hi, &x) < 0) { \
			die_msg("run: %s: %s", what, dmr_err()); \
			return EXIT_USAGE; \
		} \
		dst = x; \
	} while (0)
		switch (id) {
		case O_DEVICE:
			if (!*v || strchr(v, '\n')) {
				die_msg("run: --device: '%s' is not a device", v);
				return EXIT_USAGE;
			}
			c->device = v;
			break;
		case O_TYPE: {
			size_t k;

			for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
				if (!strcmp(types[k].name, v))
					break;
			if (k == sizeof(types) / sizeof(types[0])) {
				die_msg("run: --type: unknown test type '%s' (seqread, randread, seqwrite, randwrite, mixed, remap)", v);
				return EXIT_USAGE;
			}
			c->type = types[k].type;
			c->set |= S_WORKLOAD;
			break;
		}
		case O_WORKERS:
			NUM(1, 4096, c->workers, "--workers");
			c->set |= S_WORKLOAD;
			break;
		case O_RUNTIME:
			if (parse_duration_ms(v, &x) < 0) {
				die_msg("run: --runtime: %s", dmr_err());
				return EXIT_USAGE;
			}
			if (x < 1 || x > 86400000) {
				die_msg("run: --runtime: '%s' is outside 1ms..24h", v);
				return EXIT_USAGE;
			}
			c->runtime_ms = x;
			c->set |= S_RUNTIME;
			break;
		case O_BS:
			if (parse_size(v, &x) < 0) {
				die_msg("run: --bs: %s", dmr_err());
				return EXIT_USAGE;
			}
			if (x < 512 || x > 1048576 || (x & (x - 1))) {
				die_msg("run: --bs: %s is not a power of two between 512 and 1M", v);
				return EXIT_USAGE;
			}
			c->bs = x;
			c->set |= S_BS | S_WORKLOAD;
			break;
		case O_IODEPTH:
			NUM(1, 1024, c->qd, "--iodepth");
			c->set |= S_QD | S_WORKLOAD;
			break;
		case O_SEED:
			NUM(0, UINT64_MAX, c->seed, "--seed");
			c->set |= S_SEED | S_WORKLOAD;
			break;
		case O_OPS:
			if (parse_size(v, &x) < 0 || x == 0) {
				die_msg("run: --ops: '%s' is not a positive count", v);
				return EXIT_USAGE;
			}
			c->ops = x;
			c->set |= S_OPS | S_WORKLOAD;
			break;
		case O_VERIFY:
			if (!v || !strcmp(v, "1"))
				c->verify = 1;
			else if (!strcmp(v, "0"))
				c->verify = 0;
			else {
				die_msg("run: --verify=%s: use --verify, --verify=1 or --verify=0", v);
				return EXIT_USAGE;
			}
			c->set |= S_WORKLOAD;
			break;
		case O_RWMIX:
			NUM(0, 100, c->rwmix, "--rwmix");
			c->set |= S_RWMIX | S_WORKLOAD;
			break;
		case O_PROFILE:
			if (strcmp(v, "oltp") && strcmp(v, "fileserver") && strcmp(v, "vm")) {
				die_msg("run: --profile: unknown profile '%s' (oltp, fileserver, vm)", v);
				return EXIT_USAGE;
			}
			c->profile = v;
			c->set |= S_WORKLOAD;
			break;
		case O_DIST:
			if (strcmp(v, "uniform") && strncmp(v, "zipf:", 5)) {
				die_msg("run: --dist: '%s' is not uniform or zipf:<theta>", v);
				return EXIT_USAGE;
			}
			c->dist = v;
			c->set |= S_WORKLOAD;
			break;
		case O_CPUS:
			if (!*v || strspn(v, "0123456789,-") != strlen(v)) {
				die_msg("run: --cpus: '%s' is not a cpu list (e.g. 0-1,3)", v);
				return EXIT_USAGE;
			}
			c->cpus = v;
			c->set |= S_WORKLOAD;
			break;
		case O_RATE:
			NUM(0, UINT64_MAX, c->rate, "--rate");
			c->set |= S_RATE | S_WORKLOAD;
			break;
		case O_REMAPS:
			NUM(0, UINT64_MAX, c->remaps, "--remaps");
			c->set |= S_REMAPS | S_WORKLOAD;
			break;
		case O_FORCE:
			c->force = 1;
			c->set |= S_WORKLOAD;
			break;
		case O_QUICK:
		case O_REGRESSION:
		case O_MEMPRESS: {
			int m = id == O_QUICK ? M_QUICK : id == O_REGRESSION ? M_REGRESSION : M_MEMPRESS;

			if (c->mode && c->mode != m) {
				die_msg("run: --quick, --regression and --memory-pressure exclude each other");
				return EXIT_USAGE;
			}
			c->mode = m;
			if (id == O_MEMPRESS) {
				if (parse_size(v, &x) < 0) {
					die_msg("run: --memory-pressure: '%s' is not a size in MB", v);
					return EXIT_USAGE;
				}
				/* A bare number is MB; with a suffix it is bytes. */
				if (strspn(v, "0123456789") != strlen(v))
					x >>= 20;
				if (x == 0) {
					die_msg("run: --memory-pressure: '%s' is less than 1 MB", v);
					return EXIT_USAGE;
				}
				c->mem_mb = x;
			}
			break;
		}
		case O_FORMAT:
			if (parse_format(v, &c->fmt) < 0) {
				die_msg("run: %s", dmr_err());
				return EXIT_USAGE;
			}
			break;
		case O_OUTPUT:
			c->output = v;
			break;
		case O_SAVE:
			c->save = v;
			break;
		case O_INTERVAL:
			if (parse_duration_ms(v, &x) < 0 || x < 10 || x > 3600000) {
				die_msg("run: --interval: '%s' must be a duration between 10ms and 1h", v);
				return EXIT_USAGE;
			}
			c->interval_ms = x;
			break;
		case O_TIMEOUT:
			if (parse_duration_ms(v, &x) < 0 || x == 0) {
				die_msg("run: --timeout: '%s' is not a positive duration", v);
				return EXIT_USAGE;
			}
			c->timeout_ms = x;
			c->set |= S_TIMEOUT;
			break;
		case O_DB:
			db_path = v;
			break;
		case O_NOHIST:
			c->nohist = 1;
			break;
		case O_FULL:
			c->full = 1;
			break;
		case O_QUIET:
			c->quiet = 1;
			break;
		case O_SYSFS:
			sysfs_root = v;
			break;
		case O_HELP:
			usage(stdout);
			exit(EXIT_PASS);
		}
#undef NUM
	}
	if (c->mode != M_CUSTOM && (c->set & S_WORKLOAD)) {
		die_msg("run: --quick, --regression and --memory-pressure run fixed workloads; drop the workload options (--type, --workers, --bs, ...)");
		return EXIT_USAGE;
	}
	if ((c->mode == M_QUICK || c->mode == M_REGRESSION) && (c->set & S_RUNTIME)) {
		die_msg("run: --quick and --regression have a fixed duration; drop --runtime");
		return EXIT_USAGE;
	}
	if ((c->set & S_RWMIX) && c->type != 4) {
		die_msg("run: --rwmix applies to --type mixed only");
		return EXIT_USAGE;
	}
	if ((c->set & S_REMAPS) && c->type != 5) {
		die_msg("run: --remaps applies to --type remap only");
		return EXIT_USAGE;
	}
	if (c->qd && c->workers * c->qd > 4096) {
		die_msg("run: --workers %llu x --iodepth %llu = %llu I/Os in flight, more than 4096",
			(unsigned long long)c->workers, (unsigned long long)c->qd,
			(unsigned long long)(c->workers * c->qd));
		return EXIT_USAGE;
	}
	return 0;
}

/* The duration written: with ops= and no --runtime only a cap, the largest. */
static uint64_t run_cap_ms(const struct run_cfg *c)
{
	return (c->set & (S_OPS | S_RUNTIME)) == S_OPS ? 86400000 : c->runtime_ms;
}

/* The start command, or -1 when it does not fit in @sz bytes. */
static int start_string(const struct run_cfg *c, char *buf, size_t sz)
{
	size_t n;

	n = (size_t)snprintf(buf, sz, "%d %llu %llu", c->type, (unsigned long long)c->workers,
			     (unsigned long long)run_cap_ms(c));
#define ADD(...) (n += (size_t)snprintf(buf + n, n < sz ? sz - n : 0, __VA_ARGS__))
	if (c->set & S_BS)
		ADD(" bs=%llu", (unsigned long long)c->bs);
	if (c->set & S_QD)
		ADD(" qd=%llu", (unsigned long long)c->qd);
	if (c->set & S_SEED)
		ADD(" seed=%llu", (unsigned long long)c->seed);
	if (c->set & S_OPS)
		ADD(" ops=%llu", (unsigned long long)c->ops);
	if (c->set & S_RWMIX)
		ADD(" rwmix=%llu", (unsigned long long)c->rwmix);
	if (c->verify >= 0)
		ADD(" verify=%d", c->verify);
	if (c->dist)
		ADD(" dist=%s", c->dist);
	if (c->cpus)
		ADD(" cpus=%s", c->cpus);
	if (c->set & S_RATE)
		ADD(" rate=%llu", (unsigned long long)c->rate);
	if (c->set & S_REMAPS)
		ADD(" remaps=%llu", (unsigned long long)c->remaps);
	if (c->profile)
		ADD(" profile=%s", c->profile);
	if (c->force)
		ADD(" force=1");
#undef ADD
	return n < sz ? 0 : -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);	/* a signal cuts it short: fine */
}

/* Read and parse stress_test_status. */
static int read_status(struct record *st)
{
	char *p = sysfs_path("stress_test_status"), *buf;
	size_t len;
	int rc;

	buf = read_file(p, 1 << 16, &len);
	free(p);
	if (!buf)
		return -1;
	rc = record_parse(st, &status_schema, buf, len, "stress_test_status");
	free(buf);
	return rc;
}

static int active_state(const char *s)
{
	return !strcmp(s, "running") || !strcmp(s, "stopping");
}

static void progress(const struct run_cfg *c, const struct record *st, int tty)
{
	char el[32], du[32];
	uint64_t pct = rec_u(st, "progress_pct");

	if (c->quiet)
		return;
	fmt_fixed_u(el, sizeof(el), rec_u(st, "elapsed_ms") / 100, 1);
	fmt_fixed_u(du, sizeof(du), rec_u(st, "duration_ms") / 100, 1);
	if (tty) {
		char bar[31];
		int w = (int)(pct * 30 / 100);

		memset(bar, '#', (size_t)w);
		memset(bar + w, '.', (size_t)(30 - w));
		bar[30] = '\0';
		fprintf(stderr, "\r\033[K%s [%s] %3llu%% %ss", rec_s(st, "test"), bar,
			(unsigned long long)pct, el);
		if (rec_u(st, "duration_ms"))
			fprintf(stderr, "/%ss", du);
		fprintf(stderr, "  iops %s  ios %s  inflight %s  errors %s", rec_s(st, "iops_1s"),
			rec_s(st, "ios"), rec_s(st, "inflight"), rec_s(st, "errors"));
	} else {
		fprintf(stderr, "dmr-stress: %s %s %llu%% elapsed %ss ios %s iops %s inflight %s errors %s mismatches %s\n",
			rec_s(st, "state"), rec_s(st, "test"), (unsigned long long)pct, el,
			rec_s(st, "ios"), rec_s(st, "iops_1s"), rec_s(st, "inflight"),
			rec_s(st, "errors"), rec_s(st, "verify_mismatches"));
	}
	fflush(stderr);
}

static int save_copy(const char *dir, const struct run *run)
{
	size_t n = strlen(dir) + 32;
	char *p = xmalloc(n);
	int rc = -1;

	if (mkdir_p(dir) < 0)
		goto out;
	snprintf(p, n, "%s/stress_test_results", dir);
	if (write_file_atomic(p, run->raw, run->raw_len) < 0)
		goto out;
	if (run->hist_raw) {
		snprintf(p, n, "%s/histogram", dir);
		if (write_file_atomic(p, run->hist_raw, run->hist_raw_len) < 0)
			goto out;
	}
	if (run->report_text) {
		snprintf(p, n, "%s/comprehensive_report", dir);
		if (write_file_atomic(p, run->report_text, strlen(run->report_text)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

/*
 * --output: the text is built in memory and stored with
 * write_file_atomic(), so that a reader (node_exporter's textfile
 * collector, say) never sees half a file and a failed write keeps the
 * old one.
 */
struct output {
	FILE *f;
	const char *path;	/* NULL: stdout */
	char *buf;
	size_t len;
};

static int open_output(struct output *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	o->path = path;
	o->f = open_memstream(&o->buf, &o->len);
	if (!o->f) {
		die_msg("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* 0, or -1 with the reason in dmr_err(). */
static int close_output(struct output *o)
{
	int r = 0;

	if (!o->path) {
		if (fflush(o->f) == EOF) {
			dmr_seterr("stdout: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (fclose(o->f) == EOF) {
		dmr_seterr("%s: %s", o->path, strerror(errno));
		r = -1;
	} else if (write_file_atomic(o->path, o->buf, o->len) < 0) {
		r = -1;
	}
	free(o->buf);
	return r;
}

/*
 * A run's --output goes to a directory that must take it: checked before
 * the test starts, so that a typo does not cost the whole run.
 */
static int output_dir_ok(const char *path)
{
	char *d, *slash;
	int ok;

	if (!path || !strcmp(path, "-"))
		return 1;
	d = xstrdup(path);
	slash = strrchr(d, '/');
	if (slash)
		*(slash == d ? slash + 1 : slash) = '\0';
	ok = access(slash ? d : ".", W_OK | X_OK) == 0;
	if (!ok)
		die_msg("run: --output %s: %s", path, strerror(errno));
	free(d);
	return ok;
}

static int cmd_run(int argc, char **argv)
{
	struct run_cfg c;
	struct record st;
	struct sigaction sa;
	struct run run;
	char cmd[4096];	/* a sysfs write takes at most a page */
	const char *ctl = "stress_test_start";
	uint64_t t0, deadline = 0, stop_at = 0;
	int rc, tty, stop_sent = 0, timed_out = 0, have_st = 0, fails = 0, measuring = 0;
	struct output out;
	int lost = 0;

	rc = parse_run_opts(argc, argv, &c);
	if (rc)
		return rc;
	if (!module_loaded())
		return EXIT_KERNEL;
	tty = isatty(STDERR_FILENO);

	if (c.device) {
		rc = ctl_write("target", c.device);
		if (rc)
			return rc;
	}
	switch (c.mode) {
	case M_QUICK:
		ctl = "quick_validation";
		snprintf(cmd, sizeof(cmd), "1");
		break;
	case M_REGRESSION:
		ctl = "regression_test";
		snprintf(cmd, sizeof(cmd), "1");
		break;
	case M_MEMPRESS:
		ctl = "memory_pressure_test";
		snprintf(cmd, sizeof(cmd), "%llu %llu", (unsigned long long)c.mem_mb,
			 (unsigned long long)c.runtime_ms);
		break;
	default:
		if (start_string(&c, cmd, sizeof(cmd))) {
			die_msg("run: the start command is longer than %zu bytes", sizeof(cmd) - 1);
			return EXIT_USAGE;
		}
		break;
	}

	/*
	 * Whatever ends the tool must not leave the test running: a hangup
	 * (ssh dropped, terminal closed) and SIGQUIT stop it like Ctrl-C,
	 * and a closed pipe makes writes fail (EPIPE) instead of killing us.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!output_dir_ok(c.output))
		return EXIT_USAGE;
	if (!c.quiet)
		fprintf(stderr, "dmr-stress: %s <- %s\n", ctl, cmd);
	rc = ctl_write(ctl, cmd);
	if (rc)
		return rc;
	t0 = now_ms();
	if (c.set & S_TIMEOUT)
		deadline = c.timeout_ms > UINT64_MAX - t0 ? UINT64_MAX : t0 + c.timeout_ms;

	for (;;) {
		struct record cur;

		if (signals && !stop_sent) {
			if (tty && !c.quiet)
				fputc('\n', stderr);
			die_msg("interrupted: stopping the test (stress_test_stop <- 1)");
			rc = ctl_write("stress_test_stop", "1");
			if (rc)
				return rc;
			stop_sent = 1;
			stop_at = now_ms();
		}
		if (signals > 1) {
			die_msg("interrupted again: not waiting for the test to stop");
			if (have_st)
				record_free(&st);
			return EXIT_KERNEL;
		}
		if (read_status(&cur) < 0) {
			/* A torn read while the kernel updates is possible; retry. */
			if (++fails >= 5) {
				die_msg("%s", dmr_err());
				if (have_st)
					record_free(&st);
				return EXIT_KERNEL;
			}
			sleep_ms(100);
			continue;
		}
		fails = 0;
		if (have_st)
			record_free(&st);
		st = cur;
		have_st = 1;
		if (!active_state(rec_s(&st, "state")))
			break;
		progress(&c, &st, tty);
		/*
		 * From the start of the measurement (elapsed_ms > 0; remap-heavy
		 * setup and the memory grab come before it): twice the duration
		 * for a read-back after writes, twice that for the two phases of
		 * memory_pressure_test, and 120 s. A setup gets an hour.
		 */
		if (!measuring && !(c.set & S_TIMEOUT) && rec_u(&st, "duration_ms")) {
			if (rec_u(&st, "elapsed_ms")) {
				measuring = 1;
				deadline = now_ms() - rec_u(&st, "elapsed_ms") +
					   rec_u(&st, "duration_ms") *
					   (c.mode == M_MEMPRESS ? 4 : 2) + 120000;
			} else if (!deadline) {
				deadline = t0 + SETUP_LIMIT_MS;
			}
		}
		/*
		 * With --ops the kernel ignores the duration and shows 0: the
		 * cap the start command wrote, counted from the start.
		 */
		if (!deadline && !(c.set & S_TIMEOUT) && c.mode == M_CUSTOM &&
		    (c.set & S_OPS) && !rec_u(&st, "duration_ms"))
			deadline = t0 + run_cap_ms(&c) * 2 + 120000 + SETUP_LIMIT_MS;
		if (!stop_sent && deadline && now_ms() > deadline) {
			if (tty && !c.quiet)
				fputc('\n', stderr);
			die_msg("the test is still running %llu s after it started; stopping it",
				(unsigned long long)((now_ms() - t0) / 1000));
			rc = ctl_write("stress_test_stop", "1");
			if (rc)
				return rc;
			stop_sent = timed_out = 1;
			stop_at = now_ms();
		}
		if (stop_sent && now_ms() - stop_at > 120000) {
			die_msg("the test did not stop within 120 s of stress_test_stop (state %s)",
				rec_s(&st, "state"));
			record_free(&st);
			return EXIT_KERNEL;
		}
		sleep_ms(stop_sent ? 100 : c.interval_ms);
	}
	if (tty && !c.quiet)
		fputs("\r\033[K", stderr);
	if (!c.quiet)
		fprintf(stderr, "dmr-stress: test %s after %s ms, %s I/Os\n", rec_s(&st, "state"),
			rec_s(&st, "elapsed_ms"), rec_s(&st, "ios"));
	record_free(&st);

	/* The results of a run that just ended. */
	for (int tries = 0;; tries++) {
		if (run_load(&run, sysfs_root) < 0) {
			die_msg("%s", dmr_err());
			return EXIT_KERNEL;
		}
		if (!rec_u(&run.res, "partial"))
			break;
		run_free(&run);
		if (tries == 20) {
			die_msg("stress_test_results still partial after the test ended");
			return EXIT_KERNEL;
		}
		sleep_ms(100);
	}
	/* The copies and the history first: a failed print keeps them. */
	if (c.save && save_copy(c.save, &run) < 0) {
		die_msg("--save: %s", dmr_err());
		lost = 1;
	}
	if (!c.nohist && !strcmp(rec_s(&run.res, "state"), "completed")) {
		int64_t id;
		const char *db = db_path ? db_path : default_db();

		if (history_add(db, &run, (int64_t)time(NULL), &id) < 0) {
			die_msg("not recorded in the history: %s", dmr_err());
			lost = 1;
		} else if (!c.quiet) {
			fprintf(stderr, "dmr-stress: recorded as run %lld in %s\n", (long long)id, db);
		}
	}
	if (open_output(&out, c.output) < 0) {
		run_free(&run);
		return EXIT_KERNEL;
	}
	if (run_print(out.f, &run, c.fmt, c.full) < 0) {
		die_msg("%s: %s", c.output ? c.output : "stdout", strerror(errno));
		close_output(&out);
		lost = 1;
	} else if (close_output(&out) < 0) {
		die_msg("%s", dmr_err());
		lost = 1;
	}
	rc = result_exit(&run.res);
	/* Results that were asked for and not kept: not a clean exit. */
	if (lost && rc == EXIT_PASS)
		rc = EXIT_KERNEL;
	if (timed_out)
		rc = EXIT_KERNEL;
	run_free(&run);
	return rc;
}

/* ------------------------------------------------------------------ status */

static const struct opt fmt_opts[] = {
	{ "--format|--output-format", 1, O_FORMAT },
	{ "--output|-o", 1, O_OUTPUT },
	{ "--full", 0, O_FULL },
	{ "--sysfs", 1, O_SYSFS },
	{ "--iops-drop", 1, O_IOPS_DROP },
	{ "--p99-rise", 1, O_P99_RISE },
	{ "--svg", 1, O_SVG },
	{ "--raw", 0, O_RAW },
	{ "--help|-h", 0, O_HELP },
	{ NULL, 0, 0 },
};

struct common {
	enum fmt fmt;
	const char *output, *svg;
	const char *pos[3];
	int npos, full, raw;
	int64_t iops_drop, p99_rise;
	unsigned int allowed, given;
};

#define A(id) (1ULL << (id))

static int parse_common(int argc, char **argv, const char *cmd, uint64_t allowed, int maxpos,
			struct common *c)
{
	memset(c, 0, sizeof(*c));
	c->iops_drop = 1000;
	c->p99_rise = 2000;
	for (int i = 0; i < argc; i++) {
		const char *v;
		int id = next_opt(argc, argv, &i, fmt_opts, &v, cmd);

		if (id < 0)
			return EXIT_USAGE;
		if (id == 0) {
			if (c->npos == maxpos) {
				die_msg("%s: unexpected argument '%s'", cmd, v);
				return EXIT_USAGE;
			}
			c->pos[c->npos++] = v;
			continue;
		}
		if (id == O_HELP) {
			usage(stdout);
			exit(EXIT_PASS);
		}
		if (id == O_SYSFS) {
			sysfs_root = v;
			continue;
		}
		if (!(allowed & A(id))) {
			die_msg("%s: option '%s' does not apply here", cmd, argv[i]);
			return EXIT_USAGE;
		}
		switch (id) {
		case O_FORMAT:
			if (parse_format(v, &c->fmt) < 0) {
				die_msg("%s: %s", cmd, dmr_err());
				return EXIT_USAGE;
			}
			break;
		case O_OUTPUT:
			c->output = v;
			break;
		case O_FULL:
			c->full = 1;
			break;
		case O_IOPS_DROP:
		case O_P99_RISE:
			if (parse_percent(v, id == O_IOPS_DROP ? &c->iops_drop : &c->p99_rise) < 0) {
				die_msg("%s: %s", cmd, dmr_err());
				return EXIT_USAGE;
			}
			break;
		case O_SVG:
			c->svg = v;
			break;
		case O_RAW:
			c->raw = 1;
			break;
		}
	}
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct common c;
	struct record st;
	int rc = parse_common(argc, argv, "status", A(O_FORMAT), 0, &c);

	if (rc)
		return rc;
	if (c.fmt != FMT_TEXT && c.fmt != FMT_JSON) {
		die_msg("status: --format is text or json");
		return EXIT_USAGE;
	}
	if (!module_loaded())
		return EXIT_KERNEL;
	if (read_status(&st) < 0) {
		die_msg("%s", dmr_err());
		return EXIT_KERNEL;
	}
	if (c.fmt == FMT_JSON) {
		printf("{");
		for (size_t i = 0; i < st.n; i++) {
			enum vtype t = rec_type(&st, &st.kv[i]);

			printf("%s\n  \"%s\": ", i ? "," : "", st.kv[i].key);
			if (t == VT_U64) {
				printf("%llu", (unsigned long long)st.kv[i].u);
			} else {
				const char *s = st.kv[i].raw;

				putchar('"');
				for (; *s; s++) {
					if (*s == '"' || *s == '\\')
						putchar('\\');
					putchar(*s);
				}
				putchar('"');
			}
		}
		printf("\n}\n");
	} else {
		char el[32], du[32];

		fmt_fixed_u(el, sizeof(el), rec_u(&st, "elapsed_ms"), 3);
		fmt_fixed_u(du, sizeof(du), rec_u(&st, "duration_ms"), 3);
		printf("state %s, test %s, %s%% after %s s", rec_s(&st, "state"), rec_s(&st, "test"),
		       rec_s(&st, "progress_pct"), el);
		if (rec_u(&st, "duration_ms"))
			printf(" of %s s", du);
		else if (rec_u(&st, "ops"))
			printf(" (%s ops)", rec_s(&st, "ops"));
		printf("\n");
		for (size_t i = 0; i < st.n; i++)
			printf("  %-18s %s\n", st.kv[i].key, st.kv[i].raw);
	}
	record_free(&st);
	return fflush(stdout) == EOF ? EXIT_KERNEL : EXIT_PASS;
}

/* Load a run from a user-given source (saved: errors are exit 3) or sysfs (4). */
static int load_src(struct run *run, const char *src)
{
	if (!src) {
		char *p, *buf;
		size_t len = 0;

		if (!module_loaded())
			return EXIT_KERNEL;
		p = sysfs_path("stress_test_results");
		buf = read_file(p, 1 << 20, &len);
		free(p);
		free(buf);
		if (buf && len == 0) {
			die_msg("stress_test_results is empty: no test has run since the module was loaded");
			return EXIT_USAGE;
		}
		if (run_load(run, sysfs_root) < 0) {
			die_msg("%s", dmr_err());
			return EXIT_KERNEL;
		}
		return 0;
	}
	if (run_load(run, src) < 0) {
		die_msg("%s", dmr_err());
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	struct common c;
	struct run run;
	struct output out;
	int rc = parse_common(argc, argv, "report", A(O_FORMAT) | A(O_OUTPUT) | A(O_FULL), 1, &c);

	if (rc)
		return rc;
	rc = load_src(&run, c.npos ? c.pos[0] : NULL);
	if (rc)
		return rc;
	if (open_output(&out, c.output) < 0) {
		run_free(&run);
		return EXIT_KERNEL;
	}
	rc = run_print(out.f, &run, c.fmt, c.full);
	if (rc < 0) {
		die_msg("writing the report: %s", strerror(errno));
		close_output(&out);
		rc = EXIT_KERNEL;
	} else if (close_output(&out) < 0) {
		die_msg("writing the report: %s", dmr_err());
		rc = EXIT_KERNEL;
	}
	run_free(&run);
	return rc;
}

/* ------------------------------------------------------------------ compare */

static void pct_change(char *buf, size_t sz, long double base, long double cur)
{
	if (base == 0)
		snprintf(buf, sz, "n/a");
	else
		snprintf(buf, sz, "%+.2Lf%%", (cur - base) / base * 100);
}

static int cmd_compare(int argc, char **argv)
{
	static const char *const cfg[] = {
		"test", "target", "workers", "bs", "qd", "seed", "duration_ms", "ops", "rwmix",
		"verify", "dist", "profile",
	};
	static const struct { const char *key, *label; int scale; } met[] = {
		{ "iops", "iops", 2 }, { "mbps", "MB/s", 2 }, { "ios", "ios", 0 },
		{ "lat_mean_ns", "lat mean (usec)", 3 }, { "lat_p50_ns", "lat p50 (usec)", 3 },
		{ "lat_p90_ns", "lat p90 (usec)", 3 }, { "lat_p99_ns", "lat p99 (usec)", 3 },
		{ "lat_p999_ns", "lat p99.9 (usec)", 3 }, { "lat_max_ns", "lat max (usec)", 3 },
		{ "errors", "errors", 0 }, { "verify_mismatches", "verify mismatches", 0 },
	};
	struct common c;
	struct run b, cu;
	int rc = parse_common(argc, argv, "compare", A(O_IOPS_DROP) | A(O_P99_RISE), 2, &c);
	int regress = 0;
	uint64_t bi, ci, bp, cp;

	if (rc)
		return rc;
	if (c.npos != 2) {
		die_msg("compare: need BASELINE and CURRENT (saved results files or directories)");
		return EXIT_USAGE;
	}
	rc = load_src(&b, c.pos[0]);
	if (rc)
		return rc;
	rc = load_src(&cu, c.pos[1]);
	if (rc) {
		run_free(&b);
		return rc;
	}
	printf("%-20s %22s %22s %10s\n", "", "baseline", "current", "change");
	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		const char *x = rec_s(&b.res, cfg[i]), *y = rec_s(&cu.res, cfg[i]);

		printf("%-20s %22s %22s %10s\n", cfg[i], x, y, strcmp(x, y) ? "differs" : "");
	}
	for (size_t i = 0; i < sizeof(met) / sizeof(met[0]); i++) {
		const struct kv *x = rec_get(&b.res, met[i].key), *y = rec_get(&cu.res, met[i].key);
		char xs[40], ys[40], ch[24];

		if (met[i].scale == 3) {
			fmt_ns_us(xs, sizeof(xs), x->u);
			fmt_ns_us(ys, sizeof(ys), y->u);
		} else {
			kv_render(&b.res, x, xs, sizeof(xs));
			kv_render(&cu.res, y, ys, sizeof(ys));
		}
		pct_change(ch, sizeof(ch), (long double)x->u, (long double)y->u);
		printf("%-20s %22s %22s %10s\n", met[i].label, xs, ys, ch);
	}
	printf("%-20s %22s %22s\n", "result", rec_s(&b.res, "result"), rec_s(&cu.res, "result"));

	/* Exact integer comparisons: iops in hundredths, thresholds in 0.01 %. */
	bi = rec_get(&b.res, "iops")->u;
	ci = rec_get(&cu.res, "iops")->u;
	bp = rec_u(&b.res, "lat_p99_ns");
	cp = rec_u(&cu.res, "lat_p99_ns");
	if (bi && ci < bi &&
	    (unsigned __int128)(bi - ci) * 10000 > (unsigned __int128)c.iops_drop * bi) {
		printf("REGRESSION: iops dropped by more than %lld.%02lld%%\n",
		       (long long)(c.iops_drop / 100), (long long)(c.iops_drop % 100));
		regress = 1;
	}
	if (bp && cp > bp &&
	    (unsigned __int128)(cp - bp) * 10000 > (unsigned __int128)c.p99_rise * bp) {
		printf("REGRESSION: p99 latency rose by more than %lld.%02lld%%\n",
		       (long long)(c.p99_rise / 100), (long long)(c.p99_rise % 100));
		regress = 1;
	}
	if (strcmp(rec_s(&b.res, "test"), rec_s(&cu.res, "test")) ||
	    strcmp(rec_s(&b.res, "bs"), rec_s(&cu.res, "bs")) ||
	    strcmp(rec_s(&b.res, "qd"), rec_s(&cu.res, "qd")) ||
	    strcmp(rec_s(&b.res, "workers"), rec_s(&cu.res, "workers")))
		printf("note: the workloads differ (test, bs, qd or workers)\n");
	if (regress)
		rc = EXIT_REGRESSION;
	else if (strcmp(rec_s(&cu.res, "result"), "PASS")) {
		printf("current run: FAIL (%s)\n", rec_s(&cu.res, "failed_criteria"));
		rc = EXIT_FAILED;
	} else {
		printf("no regression (iops drop limit %lld.%02lld%%, p99 rise limit %lld.%02lld%%)\n",
		       (long long)(c.iops_drop / 100), (long long)(c.iops_drop % 100),
		       (long long)(c.p99_rise / 100), (long long)(c.p99_rise % 100));
	}
	run_free(&b);
	run_free(&cu);
	return rc;
}

/* ------------------------------------------------------------------ baseline */

/*
 * The module's baseline, or NULL after saying why, with the exit status in
 * *@rc: EXIT_KERNEL if it cannot be read, EXIT_USAGE if there is none.
 */
static char *baseline_text(size_t *len, int *rc)
{
	char *path = sysfs_path("baseline"), *buf;

	buf = read_file(path, 1 << 16, len);
	free(path);
	if (!buf) {
		die_msg("%s", dmr_err());
		*rc = EXIT_KERNEL;
	} else if (*len == 0) {
		free(buf);
		buf = NULL;
		die_msg("baseline: the module holds no baseline (run a test, then 'dmr-stress baseline set')");
		*rc = EXIT_USAGE;
	}
	return buf;
}

static int cmd_baseline(int argc, char **argv)
{
	struct common c;
	struct record r;
	char *path, *buf;
	size_t len;
	int rc = parse_common(argc, argv, "baseline", A(O_FORMAT), 2, &c);
	const char *sub = c.npos ? c.pos[0] : "";

	if (rc)
		return rc;
	if (!strcmp(sub, "set") || !strcmp(sub, "clear")) {
		if (c.npos != 1) {
			die_msg("baseline %s takes no file", sub);
			return EXIT_USAGE;
		}
		if (!module_loaded())
			return EXIT_KERNEL;
		rc = ctl_write("baseline", !strcmp(sub, "set") ? "save" : "clear");
		if (!rc)
			printf("baseline %s\n", !strcmp(sub, "set") ? "set from the last completed run" : "cleared");
		return rc;
	}
	if (!strcmp(sub, "show")) {
		struct run run;

		if (c.npos != 1) {
			die_msg("baseline show takes no file");
			return EXIT_USAGE;
		}
		if (!module_loaded())
			return EXIT_KERNEL;
		buf = baseline_text(&len, &rc);
		if (!buf)
			return rc;
		path = sysfs_path("baseline");
		rc = run_from_text(&run, buf, len, path);
		free(path);
		if (rc < 0) {
			die_msg("%s", dmr_err());
			return EXIT_KERNEL;
		}
		rc = run_print(stdout, &run, c.fmt, 0) < 0 ? EXIT_KERNEL : EXIT_PASS;
		run_free(&run);
		return rc;
	}
	if ((strcmp(sub, "save") && strcmp(sub, "load")) || c.npos != 2) {
		die_msg("baseline: use 'baseline save FILE', 'baseline load FILE', 'baseline show', 'baseline set' or 'baseline clear'");
		return EXIT_USAGE;
	}
	if (!module_loaded())
		return EXIT_KERNEL;
	if (!strcmp(sub, "save")) {
		buf = baseline_text(&len, &rc);
		if (!buf)
			return rc;
		if (record_parse(&r, &results_schema, buf, len, "baseline") < 0) {
			free(buf);
			die_msg("%s", dmr_err());
			return EXIT_KERNEL;
		}
		record_free(&r);
		if (write_file_atomic(c.pos[1], buf, len) < 0) {
			free(buf);
			die_msg("%s", dmr_err());
			return EXIT_USAGE;
		}
		free(buf);
		printf("baseline saved to %s\n", c.pos[1]);
		return EXIT_PASS;
	}
	buf = read_file(c.pos[1], 1 << 16, &len);
	if (!buf) {
		die_msg("%s", dmr_err());
		return EXIT_USAGE;
	}
	if (record_parse(&r, &results_schema, buf, len, c.pos[1]) < 0) {
		free(buf);
		die_msg("%s", dmr_err());
		return EXIT_USAGE;
	}
	record_free(&r);
	if (len >= 4096) {
		free(buf);
		die_msg("%s: %zu bytes, more than a sysfs write takes (4095)", c.pos[1], len);
		return EXIT_USAGE;
	}
	rc = ctl_write("baseline", buf);
	free(buf);
	if (!rc)
		printf("baseline loaded from %s\n", c.pos[1]);
	return rc;
}

/* ------------------------------------------------------------------ hist */

static int cmd_hist(int argc, char **argv)
{
	struct common c;
	struct histogram h;
	struct record res;
	int have_res = 0, rc = parse_common(argc, argv, "hist", A(O_SVG) | A(O_RAW), 1, &c);
	const char *src;
	char *hp = NULL, *rp = NULL, *buf;
	size_t len;
	struct stat sb;

	if (rc)
		return rc;
	if (!c.npos && !module_loaded())
		return EXIT_KERNEL;
	src = c.npos ? c.pos[0] : sysfs_root;
	if (!strcmp(src, "-")) {
		buf = read_stream(stdin, 1 << 20, &len);
		src = "stdin";
	} else {
		if (stat(src, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			size_t n = strlen(src) + 32;

			hp = xmalloc(n);
			rp = xmalloc(n);
			snprintf(hp, n, "%s/histogram", src);
			snprintf(rp, n, "%s/stress_test_results", src);
		} else {
			hp = xstrdup(src);
		}
		buf = read_file(hp, 1 << 20, &len);
	}
	if (!buf) {
		die_msg("%s", dmr_err());
		free(hp);
		free(rp);
		return c.npos ? EXIT_USAGE : EXIT_KERNEL;
	}
	if (hist_parse(&h, buf, len, hp ? hp : src) < 0) {
		die_msg("%s", dmr_err());
		free(buf);
		free(hp);
		free(rp);
		return c.npos ? EXIT_USAGE : EXIT_KERNEL;
	}
	free(buf);
	if (rp) {
		char *rb = read_file(rp, 1 << 20, &len);

		if (rb && record_parse(&res, &results_schema, rb, len, rp) == 0)
			have_res = 1;
		else if (rb)
			die_msg("warning: %s (histogram shown without it)", dmr_err());
		free(rb);
	}
	if (c.svg) {
		struct output o;

		if (open_output(&o, c.svg) < 0) {
			rc = EXIT_KERNEL;
		} else if (hist_svg(o.f, &h, have_res ? &res : NULL) < 0) {
			die_msg("%s: %s", c.svg, strerror(errno));
			close_output(&o);
			rc = EXIT_KERNEL;
		} else if (close_output(&o) < 0) {
			die_msg("%s", dmr_err());
			rc = EXIT_KERNEL;
		} else if (o.path) {
			printf("wrote %s (%zu buckets, %llu I/Os)\n", c.svg, h.n,
			       (unsigned long long)h.total);
		}
	} else {
		if (c.raw)
			hist_print_raw(stdout, &h, 52);
		else
			hist_print_log2(stdout, &h, "latency_ns", 52);
		printf("%llu I/Os in %zu buckets\n", (unsigned long long)h.total, h.n);
	}
	if (have_res)
		record_free(&res);
	hist_free(&h);
	free(hp);
	free(rp);
	return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	int i = 1;
	const char *cmd;
	const char *e = getenv("DMR_STRESS_SYSFS");

	sysfs_root = e && *e ? e : DMR_SYSFS_DEFAULT;
	db_path = NULL;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_PASS;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("dmr-stress %s\n", DMR_VERSION);
			return EXIT_PASS;
		} else if (!strcmp(a, "--sysfs") && i + 1 < argc) {
			sysfs_root = argv[++i];
		} else if (!strncmp(a, "--sysfs=", 8)) {
			sysfs_root = a + 8;
		} else if (!strcmp(a, "--db") && i + 1 < argc) {
			db_path = argv[++i];
		} else if (!strncmp(a, "--db=", 5)) {
			db_path = a + 5;
		} else {
			die_msg("unknown option '%s' (dmr-stress --help)", a);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[i++];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "run"))
		return cmd_run(argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc, argv);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc, argv);
	if (!strcmp(cmd, "compare"))
		return cmd_compare(argc, argv);
	if (!strcmp(cmd, "baseline"))
		return cmd_baseline(argc, argv);
	if (!strcmp(cmd, "history"))
		return cmd_history(argc, argv, db_path ? db_path : default_db());
	if (!strcmp(cmd, "hist"))
		return cmd_hist(argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_PASS;
	}
	die_msg("unknown command '%s' (run, status, report, compare, baseline, history, hist)", cmd);
	return EXIT_USAGE;
}
