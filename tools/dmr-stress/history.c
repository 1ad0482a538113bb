// SPDX-License-Identifier: GPL-2.0
/*
 * dmr-stress: run history in SQLite.
 *
 * One table, `runs`: id, time (Unix seconds), host, test, target, result,
 * iops, p99_ns, the results text exactly as read (results) and the
 * histogram text (histogram, may be NULL). The stored text is re-parsed by
 * `show` and `trend`, so nothing is lost and any numeric key can be trended.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmr.h"

#define SCHEMA_SQL \
	"CREATE TABLE IF NOT EXISTS runs (" \
	" id INTEGER PRIMARY KEY AUTOINCREMENT," \
	" time INTEGER NOT NULL," \
	" host TEXT NOT NULL," \
	" test TEXT NOT NULL," \
	" target TEXT NOT NULL," \
	" result TEXT NOT NULL," \
	" iops REAL NOT NULL," \
	" p99_ns INTEGER NOT NULL," \
	" results TEXT NOT NULL," \
	" histogram TEXT);" \
	"CREATE INDEX IF NOT EXISTS runs_test ON runs(test, id);"

const char *default_db(void)
{
	const char *e = getenv("DMR_STRESS_DB");

	return e && *e ? e : DMR_DB_DEFAULT;
}

static sqlite3 *db_open(const char *path, int create)
{
	sqlite3 *db = NULL;
	int rc;

	if (create) {
		char *d = xstrdup(path);

		if (mkdir_p(dirname(d)) < 0) {
			free(d);
			return NULL;
		}
		free(d);
	} else if (access(path, F_OK) < 0) {
		dmr_seterr("%s: no history database (%s; no run recorded yet?)", path,
			   strerror(errno));
		return NULL;
	}
	rc = sqlite3_open_v2(path, &db, create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
					       : SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		dmr_seterr("%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (create) {
		char *msg = NULL;

		if (sqlite3_exec(db, SCHEMA_SQL, NULL, NULL, &msg) != SQLITE_OK) {
			dmr_seterr("%s: %s", path, msg ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			sqlite3_close(db);
			return NULL;
		}
	}
	return db;
}

int history_add(const char *path, const struct run *run, int64_t when, int64_t *id)
{
	const struct record *r = &run->res;
	sqlite3 *db = db_open(path, 1);
	sqlite3_stmt *st = NULL;
	char host[256] = "";
	int rc;

	if (!db)
		return -1;
	gethostname(host, sizeof(host) - 1);
	rc = sqlite3_prepare_v2(db,
		"INSERT INTO runs (time, host, test, target, result, iops, p99_ns, results, histogram)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto err;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, rec_s(r, "test"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, rec_s(r, "target"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, rec_s(r, "result"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, rec_d(r, "iops"));
	sqlite3_bind_int64(st, 7, (sqlite3_int64)rec_u(r, "lat_p99_ns"));
	sqlite3_bind_text(st, 8, run->raw, (int)run->raw_len, SQLITE_TRANSIENT);
	if (run->hist_raw)
		sqlite3_bind_text(st, 9, run->hist_raw, (int)run->hist_raw_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 9);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto err;
	if (id)
		*id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
err:
	dmr_seterr("%s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return -1;
}

static void fmt_time(char *buf, size_t sz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* A database edited by hand may hold a time with no calendar date. */
	if (!gmtime_r(&tt, &tm) || !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sz, "@%lld", (long long)t);
}

/* A text column, "" for NULL (a database edited by hand). */
static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int cmd_list(const char *path, const char *test)
{
	sqlite3 *db = db_open(path, 0);
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (!db) {
		fprintf(stderr, "dmr-stress: %s\n", dmr_err());
		return EXIT_USAGE;
	}
	if (sqlite3_prepare_v2(db, "SELECT id, time, host, test, target, result, iops, p99_ns"
			       " FROM runs WHERE ?1 IS NULL OR test = ?1 ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		goto err;
	if (test)
		sqlite3_bind_text(st, 1, test, -1, SQLITE_STATIC);
	printf("%-6s %-20s %-12s %-24s %-6s %12s %12s  %s\n", "ID", "TIME (UTC)", "TEST", "TARGET",
	       "RESULT", "IOPS", "P99 (usec)", "HOST");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[32], p99[32];

		fmt_time(t, sizeof(t), sqlite3_column_int64(st, 1));
		fmt_ns_us(p99, sizeof(p99), (uint64_t)sqlite3_column_int64(st, 7));
		printf("%-6lld %-20s %-12s %-24s %-6s %12.2f %12s  %s\n",
		       (long long)sqlite3_column_int64(st, 0), t, col_text(st, 3),
		       col_text(st, 4), col_text(st, 5), sqlite3_column_double(st, 6), p99,
		       col_text(st, 2));
		n++;
	}
	if (sqlite3_errcode(db) != SQLITE_DONE && sqlite3_errcode(db) != SQLITE_OK &&
	    sqlite3_errcode(db) != SQLITE_ROW)
		goto err;
	printf("%d run(s)\n", n);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return EXIT_PASS;
err:
	fprintf(stderr, "dmr-stress: %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return EXIT_USAGE;
}

/* Load a stored run into *run (raw text re-parsed). */
static int load_row(sqlite3_stmt *st, int col_res, int col_hist, int64_t id, struct run *run)
{
	const char *res = (const char *)sqlite3_column_text(st, col_res);
	const char *hist = (const char *)sqlite3_column_text(st, col_hist);
	char origin[64];

	memset(run, 0, sizeof(*run));
	snprintf(origin, sizeof(origin), "history run %lld", (long long)id);
	run->origin = xstrdup(origin);
	run->raw_len = (size_t)sqlite3_column_bytes(st, col_res);
	run->raw = xstrndup(res ? res : "", run->raw_len);
	if (record_parse(&run->res, &results_schema, run->raw, run->raw_len, origin) < 0)
		goto fail;
	if (hist) {
		run->hist_raw_len = (size_t)sqlite3_column_bytes(st, col_hist);
		run->hist_raw = xstrndup(hist, run->hist_raw_len);
		snprintf(origin, sizeof(origin), "history run %lld histogram", (long long)id);
		if (hist_parse(&run->hist, run->hist_raw, run->hist_raw_len, origin) < 0)
			goto fail;
		run->have_hist = 1;
	}
	return 0;
fail:
	run_free(run);
	return -1;
}

static int cmd_show(const char *path, const char *ids, enum fmt f)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	struct run run;
	uint64_t id;
	int rc;

	if (parse_u64_strict(ids, strlen(ids), &id) < 0 || id > INT64_MAX) {
		fprintf(stderr, "dmr-stress: history show: '%s' is not a run id\n", ids);
		return EXIT_USAGE;
	}
	db = db_open(path, 0);
	if (!db) {
		fprintf(stderr, "dmr-stress: %s\n", dmr_err());
		return EXIT_USAGE;
	}
	if (sqlite3_prepare_v2(db, "SELECT results, histogram FROM runs WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "dmr-stress: %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return EXIT_USAGE;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "dmr-stress: %s: no run with id %s\n", path, ids);
		sqlite3_finalize(st);
		sqlite3_close(db);
		return EXIT_USAGE;
	}
	rc = load_row(st, 0, 1, (int64_t)id, &run);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc < 0) {
		fprintf(stderr, "dmr-stress: %s\n", dmr_err());
		return EXIT_USAGE;
	}
	rc = run_print(stdout, &run, f, 0) < 0 ? EXIT_KERNEL : EXIT_PASS;
	if (rc)
		fprintf(stderr, "dmr-stress: %s\n", dmr_err());
	run_free(&run);
	return rc;
}

static const char *metric_key(const char *m, char *buf, size_t sz)
{
	static const char *const lat[] = {
		"min", "mean", "stddev", "p50", "p90", "p95", "p99", "p999", "p9999", "max", NULL
	};

	for (int i = 0; lat[i]; i++) {
		if (!strcmp(m, lat[i])) {
			snprintf(buf, sz, "lat_%s_ns", m);
			return buf;
		}
	}
	snprintf(buf, sz, "%s", m);
	for (size_t i = 0; i < results_schema.nfields; i++) {
		enum vtype t = results_schema.fields[i].type;

		if (!strcmp(results_schema.fields[i].key, buf) &&
		    (t == VT_U64 || t == VT_FIX2 || t == VT_FIX6 || t == VT_PCT))
			return buf;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
	double *c = xmalloc(n * sizeof(*c)), m;

	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

static int cmd_trend(const char *path, const char *metric, const char *test, int64_t thr,
		     unsigned int window, unsigned int last)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char key[64];
	double *val = NULL, vmax = 0;
	int64_t *ids = NULL, *times = NULL;
	size_t n = 0, cap = 0, start;
	int flagged = 0, latest_flag = 0, rc = EXIT_PASS, step;

	if (!metric_key(metric, key, sizeof(key))) {
		fprintf(stderr, "dmr-stress: history trend: unknown metric '%s' (p50, p99, p999, max, mean, iops, mbps, errors or a numeric results key)\n",
			metric);
		return EXIT_USAGE;
	}
	db = db_open(path, 0);
	if (!db) {
		fprintf(stderr, "dmr-stress: %s\n", dmr_err());
		return EXIT_USAGE;
	}
	if (sqlite3_prepare_v2(db, "SELECT id, time, results, histogram FROM runs"
			       " WHERE ?1 IS NULL OR test = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "dmr-stress: %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return EXIT_USAGE;
	}
	if (test)
		sqlite3_bind_text(st, 1, test, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct run run;
		int64_t id = sqlite3_column_int64(st, 0);

		if (load_row(st, 2, 3, id, &run) < 0) {
			fprintf(stderr, "dmr-stress: %s (skipped)\n", dmr_err());
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			val = xrealloc(val, cap * sizeof(*val));
			ids = xrealloc(ids, cap * sizeof(*ids));
			times = xrealloc(times, cap * sizeof(*times));
		}
		val[n] = rec_d(&run.res, key);
		ids[n] = id;
		times[n] = sqlite3_column_int64(st, 1);
		n++;
		run_free(&run);
	}
	/* A damaged database ends the rows early: never judge what is left. */
	if (step != SQLITE_DONE) {
		fprintf(stderr, "dmr-stress: %s: %s\n", path, sqlite3_errmsg(db));
		rc = EXIT_USAGE;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rc != EXIT_PASS)
		goto out;
	if (!n) {
		printf("no runs%s%s\n", test ? " of test " : "", test ? test : "");
		goto out;
	}
	start = last && n > last ? n - last : 0;
	for (size_t i = start; i < n; i++)
		if (!isnan(val[i]) && val[i] > vmax)
			vmax = val[i];
	printf("%s over %zu run(s); drift: beyond %lld.%02lld%% of the median of the %u run(s) before\n",
	       key, n - start, (long long)(thr / 100), (long long)(thr % 100), window);
	printf("%-6s %-20s %16s %10s  %s\n", "ID", "TIME (UTC)", key, "CHANGE", "");
	for (size_t i = start; i < n; i++) {
		size_t from = i > window ? i - window : 0, k = 0;
		double ref = NAN, prev[256], ch = NAN;
		char t[32], chs[24] = "", barb[41];
		int flag = 0, w;

		for (size_t j = from; j < i && k < 256; j++)
			if (!isnan(val[j]))
				prev[k++] = val[j];
		if (k)
			ref = median(prev, k);
		if (!isnan(ref) && !isnan(val[i])) {
			if (ref != 0) {
				ch = (val[i] - ref) / ref * 100.0;
				snprintf(chs, sizeof(chs), "%+.2f%%", ch);
				flag = fabs(ch) * 100.0 > (double)thr;
			} else if (val[i] != 0) {
				snprintf(chs, sizeof(chs), "from 0");
				flag = 1;
			}
		}
		/* Bars for positive values only (change metrics go negative). */
		w = vmax > 0 && val[i] > 0 ? (int)(val[i] / vmax * 40 + 0.5) : 0;
		memset(barb, '#', (size_t)w);
		barb[w] = '\0';
		fmt_time(t, sizeof(t), times[i]);
		printf("%-6lld %-20s %16.2f %10s  %-40s%s\n", (long long)ids[i], t, val[i], chs, barb,
		       flag ? "  DRIFT" : "");
		flagged += flag;
		if (i == n - 1)
			latest_flag = flag;
	}
	printf("%d run(s) drifted; latest run %s\n", flagged, latest_flag ? "DRIFTED" : "within threshold");
	if (latest_flag)
		rc = EXIT_REGRESSION;
out:
	free(val);
	free(ids);
	free(times);
	return rc;
}

static void history_usage(FILE *f)
{
	fputs("usage: dmr-stress history [--db PATH] list [--test TEST]\n"
	      "       dmr-stress history [--db PATH] show ID [--format text|json|csv|prometheus]\n"
	      "       dmr-stress history [--db PATH] trend --metric M [--threshold 10%] [--window 5]\n"
	      "                          [--last N] [--test TEST]\n"
	      "       dmr-stress history [--db PATH] add FILE|DIR [--time EPOCH]\n", f);
}

int cmd_history(int argc, char **argv, const char *dbpath)
{
	const char *sub = NULL, *arg = NULL, *metric = NULL, *test = NULL;
	int64_t thr = 1000, when = -1;
	uint64_t window = 5, last = 0, v;
	enum fmt f = FMT_TEXT;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const char *eq = strchr(a, '=');
		char name[32] = "";

		if (a[0] == '-' && a[1] == '-') {
			size_t nl = eq ? (size_t)(eq - a) : strlen(a);

			if (nl >= sizeof(name))
				nl = sizeof(name) - 1;
			memcpy(name, a, nl);
			name[nl] = '\0';
			if (!strcmp(name, "--help")) {
				history_usage(stdout);
				return EXIT_PASS;
			}
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				fprintf(stderr, "dmr-stress: history: option %s needs a value\n", a);
				return EXIT_USAGE;
			}
			if (!strcmp(name, "--db"))
				dbpath = val;
			else if (!strcmp(name, "--metric"))
				metric = val;
			else if (!strcmp(name, "--test"))
				test = val;
			else if (!strcmp(name, "--threshold")) {
				if (parse_percent(val, &thr) < 0)
					goto bad;
			} else if (!strcmp(name, "--window")) {
				if (parse_uint_opt(val, 1, 256, &window) < 0)
					goto bad;
			} else if (!strcmp(name, "--last")) {
				if (parse_uint_opt(val, 1, 1000000, &last) < 0)
					goto bad;
			} else if (!strcmp(name, "--format")) {
				if (parse_format(val, &f) < 0)
					goto bad;
			} else if (!strcmp(name, "--time")) {
				if (parse_u64_strict(val, strlen(val), &v) < 0 || v > INT64_MAX) {
					dmr_seterr("'%s' is not a Unix time", val);
					goto bad;
				}
				when = (int64_t)v;
			} else {
				fprintf(stderr, "dmr-stress: history: unknown option '%s'\n", a);
				history_usage(stderr);
				return EXIT_USAGE;
			}
			continue;
bad:
			fprintf(stderr, "dmr-stress: history: %s: %s\n", name, dmr_err());
			return EXIT_USAGE;
		}
		if (!sub)
			sub = a;
		else if (!arg)
			arg = a;
		else {
			fprintf(stderr, "dmr-stress: history: unexpected argument '%s'\n", a);
			return EXIT_USAGE;
		}
	}
	if (!sub) {
		history_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "list") && !arg) {
		return cmd_list(dbpath, test);
	} else if (!strcmp(sub, "show") && arg) {
		return cmd_show(dbpath, arg, f);
	} else if (!strcmp(sub, "trend") && !arg) {
		if (!metric) {
			fputs("dmr-stress: history trend: --metric is required (e.g. --metric p99)\n", stderr);
			return EXIT_USAGE;
		}
		return cmd_trend(dbpath, metric, test, thr, (unsigned int)window, (unsigned int)last);
	} else if (!strcmp(sub, "add") && arg) {
		struct run run;
		int64_t id;

		if (run_load(&run, arg) < 0) {
			fprintf(stderr, "dmr-stress: %s\n", dmr_err());
			return EXIT_USAGE;
		}
		if (history_add(dbpath, &run, when >= 0 ? when : (int64_t)time(NULL), &id) < 0) {
			fprintf(stderr, "dmr-stress: history: %s\n", dmr_err());
			run_free(&run);
			return EXIT_KERNEL;
		}
		printf("added run %lld to %s\n", (long long)id, dbpath);
		run_free(&run);
		return EXIT_PASS;
	}
	fprintf(stderr, "dmr-stress: history: bad subcommand '%s'%s\n", sub,
		arg ? " (or an argument too many)" : " (or a missing argument)");
	history_usage(stderr);
	return EXIT_USAGE;
}
