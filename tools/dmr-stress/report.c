// SPDX-License-Identifier: GPL-2.0
/*
 * dmr-stress: loading a run (live sysfs or a saved copy) and printing it as
 * text, JSON (shaped like fio's --output-format=json), CSV or the Prometheus
 * text exposition format. The formats are documented in dmr-stress.8.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dmr.h"

#define MAX_INPUT (1 << 20)

int parse_format(const char *s, enum fmt *f)
{
	if (!strcmp(s, "text") || !strcmp(s, "normal"))
		*f = FMT_TEXT;
	else if (!strcmp(s, "json"))
		*f = FMT_JSON;
	else if (!strcmp(s, "csv"))
		*f = FMT_CSV;
	else if (!strcmp(s, "prometheus") || !strcmp(s, "prom"))
		*f = FMT_PROM;
	else {
		dmr_seterr("unknown format '%s' (text, json, csv, prometheus)", s);
		return -1;
	}
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Optional file: NULL and no error if it does not exist. */
static char *read_optional(const char *dir, const char *name, size_t *len, int *err)
{
	char *p = join(dir, name), *buf;

	*err = 0;
	buf = read_file(p, MAX_INPUT, len);
	if (!buf && errno != ENOENT)
		*err = 1;
	free(p);
	return buf;
}

int run_from_text(struct run *run, char *raw, size_t len, const char *origin)
{
	memset(run, 0, sizeof(*run));
	run->origin = xstrdup(origin);
	run->raw = raw;
	run->raw_len = len;
	if (record_parse(&run->res, &results_schema, raw, len, origin) < 0) {
		run_free(run);
		return -1;
	}
	return 0;
}

int run_load(struct run *run, const char *src)
{
	struct stat st;
	size_t len;
	int err;

	memset(run, 0, sizeof(*run));
	if (!strcmp(src, "-") || stat(src, &st) || !S_ISDIR(st.st_mode)) {
		/* A results file, or "-": the text alone. */
		int in = !strcmp(src, "-");
		char *raw = in ? read_stream(stdin, MAX_INPUT, &len) :
				 read_file(src, MAX_INPUT, &len);

		if (!raw) {
			if (in)
				dmr_seterr("stdin: %s", dmr_err());
			return -1;
		}
		return run_from_text(run, raw, len, in ? "stdin" : src);
	}
	run->origin = join(src, "stress_test_results");
	run->raw = read_file(run->origin, MAX_INPUT, &run->raw_len);
	if (!run->raw)
		goto fail;
	run->hist_raw = read_optional(src, "histogram", &run->hist_raw_len, &err);
	if (err)
		goto fail;
	run->report_text = read_optional(src, "comprehensive_report", &len, &err);
	if (err)
		goto fail;
	if (record_parse(&run->res, &results_schema, run->raw, run->raw_len, run->origin) < 0)
		goto fail;
	if (run->hist_raw) {
		char *o = join(src, "histogram");

		if (hist_parse(&run->hist, run->hist_raw, run->hist_raw_len, o) < 0) {
			free(o);
			goto fail;
		}
		free(o);
		run->have_hist = 1;
		if (!rec_u(&run->res, "partial") && run->hist.total != rec_u(&run->res, "ios"))
			fprintf(stderr, "dmr-stress: warning: histogram holds %llu I/Os, results say ios: %llu\n",
				(unsigned long long)run->hist.total,
				(unsigned long long)rec_u(&run->res, "ios"));
	}
	return 0;
fail:
	run_free(run);
	return -1;
}

void run_free(struct run *run)
{
	record_free(&run->res);
	if (run->have_hist)
		hist_free(&run->hist);
	free(run->raw);
	free(run->hist_raw);
	free(run->report_text);
	free(run->origin);
	memset(run, 0, sizeof(*run));
}

int result_exit(const struct record *r)
{
	const struct kv *fc = rec_get(r, "failed_criteria");
	int regress = !strcmp(rec_s(r, "regression"), "fail");

	if (!strcmp(rec_s(r, "result"), "PASS"))
		return EXIT_PASS;
	for (unsigned int i = 0; fc && !fc->null && i < fc->nlist; i++) {
		const char *c = r->schema->fields[fc->field].words[fc->list[i]];

		if (!strcmp(c, "iops_drop") || !strcmp(c, "p99_rise"))
			regress = 1;
		else
			return EXIT_FAILED;
	}
	return regress ? EXIT_REGRESSION : EXIT_FAILED;
}

/* Reports carry years of four digits: 9999-12-31T23:59:59Z at most. */
#define REPORT_TIME_MAX 253402300799ULL

/*
 * SOURCE_DATE_EPOCH if it is a plain number the report can show (a larger
 * one would overflow the milliseconds and have no calendar date), else now.
 */
static time_t report_time(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (e && parse_u64_strict(e, strlen(e), &v) == 0) {
		if (v <= REPORT_TIME_MAX)
			return (time_t)v;
		fprintf(stderr, "dmr-stress: SOURCE_DATE_EPOCH %s is past year 9999; using the current time\n", e);
	}
	return time(NULL);
}

/* ---------------------------------------------------------------- text */

void fmt_ns_us(char *buf, size_t sz, uint64_t ns)
{
	fmt_fixed_u(buf, sz, ns, 3);
}

static void text_lat(FILE *out, const struct record *r, const char *p)
{
	static const char *const k[] = { "min", "mean", "stddev", "max" };
	static const char *const pk[] = { "p50", "p90", "p95", "p99", "p999", "p9999" };
	static const char *const pn[] = { "50", "90", "95", "99", "99.9", "99.99" };
	char key[64], v[32];

	fputs("    lat (usec):", out);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "%slat_%s_ns", p, k[i]);
		fmt_ns_us(v, sizeof(v), rec_u(r, key));
		fprintf(out, " %s=%s%s", k[i], v, i < 3 ? "," : "");
	}
	snprintf(key, sizeof(key), "%slat_overflow", p);
	fprintf(out, ", overflow=%llu\n    percentiles (usec):", (unsigned long long)rec_u(r, key));
	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "%slat_%s_ns", p, pk[i]);
		fmt_ns_us(v, sizeof(v), rec_u(r, key));
		fprintf(out, " %sth=%s%s", pn[i], v, i < 5 ? "," : "\n");
	}
}

void print_text(FILE *out, const struct run *run, int full)
{
	const struct record *r = &run->res;
	char el[32];
	int other = 0;

	fprintf(out, "dm-remap-stress: %s on %s (%s%s): %s%s, result %s\n", rec_s(r, "test"),
		rec_s(r, "target"), rec_s(r, "target_dev"),
		rec_u(r, "target_is_remap") ? ", dm-remap" : ", not dm-remap", rec_s(r, "state"),
		rec_u(r, "partial") ? " (partial)" : "", rec_s(r, "result"));
	fprintf(out, "  config: workers=%s bs=%s qd=%s seed=%s duration_ms=%s ops=%s rwmix=%s verify=%s\n"
		"          dist=%s cpus=%s rate=%s remaps=%s profile=%s\n",
		rec_s(r, "workers"), rec_s(r, "bs"), rec_s(r, "qd"), rec_s(r, "seed"),
		rec_s(r, "duration_ms"), rec_s(r, "ops"), rec_s(r, "rwmix"), rec_s(r, "verify"),
		rec_s(r, "dist"), rec_s(r, "cpus"), rec_s(r, "rate"), rec_s(r, "remaps"),
		rec_s(r, "profile"));
	fmt_fixed_u(el, sizeof(el), rec_u(r, "elapsed_ms"), 3);
	fprintf(out, "  all: ios=%s bytes=%s iops=%s MB/s=%s elapsed=%ss\n", rec_s(r, "ios"),
		rec_s(r, "bytes"), rec_s(r, "iops"), rec_s(r, "mbps"), el);
	text_lat(out, r, "");
	if (rec_u(r, "read_ios")) {
		fprintf(out, "  read: ios=%s bytes=%s iops=%s\n", rec_s(r, "read_ios"),
			rec_s(r, "read_bytes"), rec_s(r, "read_iops"));
		text_lat(out, r, "read_");
	}
	if (rec_u(r, "write_ios")) {
		fprintf(out, "  write: ios=%s bytes=%s iops=%s\n", rec_s(r, "write_ios"),
			rec_s(r, "write_bytes"), rec_s(r, "write_iops"));
		text_lat(out, r, "write_");
	}
	fprintf(out, "  errors=%s (rate %s) verify_mismatches=%s first_mismatch_sectors=%s\n",
		rec_s(r, "errors"), rec_s(r, "error_rate"), rec_s(r, "verify_mismatches"),
		rec_s(r, "first_mismatch_sectors"));
	fprintf(out, "  io_sequence_digest=%s\n", rec_s(r, "io_sequence_digest"));
	fprintf(out, "  regression: %s (iops change %s%s, p99 change %s%s)\n", rec_s(r, "regression"),
		rec_s(r, "regression_iops_change_pct"),
		rec_get(r, "regression_iops_change_pct")->null ? "" : "%",
		rec_s(r, "regression_p99_change_pct"),
		rec_get(r, "regression_p99_change_pct")->null ? "" : "%");
	fprintf(out, "  result: %s (failed criteria: %s)\n", rec_s(r, "result"),
		rec_s(r, "failed_criteria"));
	for (size_t i = 0; i < r->n; i++) {
		if (r->kv[i].field >= 0)
			continue;
		fprintf(out, "%s%s=%s", other++ ? " " : "  other keys: ", r->kv[i].key, r->kv[i].raw);
	}
	if (other)
		fputc('\n', out);
	if (run->have_hist) {
		fputc('\n', out);
		hist_print_log2(out, &run->hist, "latency_ns", 52);
	}
	if (full && run->report_text) {
		fputc('\n', out);
		fputs(run->report_text, out);
		if (run->report_text[0] && run->report_text[strlen(run->report_text) - 1] != '\n')
			fputc('\n', out);
	}
}

/* ---------------------------------------------------------------- JSON */

static struct json_object *jnum(uint64_t v)
{
	return v > INT64_MAX ? json_object_new_uint64(v) : json_object_new_int64((int64_t)v);
}

static struct json_object *jfix(const struct record *r, const struct kv *kv)
{
	char buf[64];

	if (kv->null)
		return NULL;
	kv_render(r, kv, buf, sizeof(buf));
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static struct json_object *kv_json(const struct record *r, const struct kv *kv)
{
	const struct field_def *f = kv->field >= 0 ? &r->schema->fields[kv->field] : NULL;
	struct json_object *a;

	if (!f)
		return json_object_new_string(kv->raw);
	switch (f->type) {
	case VT_U64:
		return jnum(kv->u);
	case VT_FIX2:
	case VT_FIX6:
	case VT_PCT:
		return jfix(r, kv);
	case VT_ENUM:
		if (f->words[0] && !strcmp(f->words[0], "0") && f->words[1] &&
		    !strcmp(f->words[1], "1") && !f->words[2])
			return json_object_new_int((int)kv->u);
		return json_object_new_string(f->words[kv->u]);
	case VT_SECTORS:
		a = json_object_new_array();
		for (unsigned int i = 0; !kv->null && i < kv->nlist; i++)
			json_object_array_add(a, jnum(kv->list[i]));
		return a;
	case VT_CRITERIA:
		a = json_object_new_array();
		for (unsigned int i = 0; !kv->null && i < kv->nlist; i++)
			json_object_array_add(a, json_object_new_string(f->words[kv->list[i]]));
		return a;
	default:
		return json_object_new_string(kv->raw);
	}
}

static void jset(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *jlat(const struct record *r, const char *p, int pct, uint64_t n)
{
	static const char *const pk[] = { "p50", "p90", "p95", "p99", "p999", "p9999" };
	static const char *const pn[] = {
		"50.000000", "90.000000", "95.000000", "99.000000", "99.900000", "99.990000"
	};
	struct json_object *o = json_object_new_object(), *pc;
	char key[64];

#define LK(s) (snprintf(key, sizeof(key), "%slat_%s_ns", p, s), rec_u(r, key))
	jset(o, "min", jnum(LK("min")));
	jset(o, "max", jnum(LK("max")));
	jset(o, "mean", jnum(LK("mean")));
	jset(o, "stddev", jnum(LK("stddev")));
	jset(o, "N", jnum(n));
	if (pct) {
		pc = json_object_new_object();
		for (int i = 0; i < 6; i++)
			jset(pc, pn[i], jnum(LK(pk[i])));
		jset(o, "percentile", pc);
	}
#undef LK
	return o;
}

/* fio's per-direction object, from the read_/write_ or overall keys. */
static struct json_object *jdir(const struct record *r, const char *p)
{
	struct json_object *o = json_object_new_object(), *slat;
	char key[64];
	uint64_t ios, bytes, ms = rec_u(r, "elapsed_ms"), bw;

	snprintf(key, sizeof(key), "%sios", p);
	ios = rec_u(r, key);
	snprintf(key, sizeof(key), "%sbytes", p);
	bytes = rec_u(r, key);
	bw = ms ? (uint64_t)((unsigned __int128)bytes * 1000 / ms) : 0;
	jset(o, "io_bytes", jnum(bytes));
	jset(o, "io_kbytes", jnum(bytes / 1024));
	jset(o, "bw_bytes", jnum(bw));
	jset(o, "bw", jnum(bw / 1024));
	snprintf(key, sizeof(key), "%siops", p);
	jset(o, "iops", jfix(r, rec_get(r, key)));
	jset(o, "runtime", jnum(ms));
	jset(o, "total_ios", jnum(ios));
	jset(o, "short_ios", jnum(0));
	jset(o, "drop_ios", jnum(0));
	/* Latency is measured from bio submission to completion: that is
	 * fio's completion latency, and submission latency is not split out. */
	slat = json_object_new_object();
	jset(slat, "min", jnum(0));
	jset(slat, "max", jnum(0));
	jset(slat, "mean", jnum(0));
	jset(slat, "stddev", jnum(0));
	jset(slat, "N", jnum(0));
	jset(o, "slat_ns", slat);
	jset(o, "clat_ns", jlat(r, p, 1, ios));
	jset(o, "lat_ns", jlat(r, p, 0, ios));
	return o;
}

static const char *fio_rw(const char *test)
{
	static const char *const m[][2] = {
		{ "seq_read", "read" }, { "rand_read", "randread" }, { "seq_write", "write" },
		{ "rand_write", "randwrite" }, { "mixed", "randrw" }, { "remap_heavy", "randrw" },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(m[i][0], test))
			return m[i][1];
	return test;
}

static struct json_object *run_json(const struct run *run, int full)
{
	const struct record *r = &run->res;
	struct json_object *top = json_object_new_object(), *jobs, *job, *opt, *d;
	time_t now = report_time();
	char tbuf[64];
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%a %b %e %H:%M:%S %Y", &tm);
	jset(top, "dmr-stress version", json_object_new_string("dmr-stress-" DMR_VERSION));
	jset(top, "timestamp", json_object_new_int64((int64_t)now));
	jset(top, "timestamp_ms", json_object_new_int64((int64_t)now * 1000));
	jset(top, "time", json_object_new_string(tbuf));
	jobs = json_object_new_array();
	job = json_object_new_object();
	jset(job, "jobname", json_object_new_string(rec_s(r, "test")));
	jset(job, "groupid", json_object_new_int(0));
	opt = json_object_new_object();
	jset(opt, "filename", json_object_new_string(rec_s(r, "target")));
	jset(opt, "rw", json_object_new_string(fio_rw(rec_s(r, "test"))));
	jset(opt, "bs", json_object_new_string(rec_s(r, "bs")));
	jset(opt, "iodepth", json_object_new_string(rec_s(r, "qd")));
	jset(opt, "numjobs", json_object_new_string(rec_s(r, "workers")));
	jset(opt, "randseed", json_object_new_string(rec_s(r, "seed")));
	jset(opt, "rwmixread", json_object_new_string(rec_s(r, "rwmix")));
	if (rec_u(r, "ops"))
		jset(opt, "number_ios", json_object_new_string(rec_s(r, "ops")));
	else
		jset(opt, "runtime", json_object_new_string(rec_s(r, "duration_ms")));
	jset(job, "job options", opt);
	jset(job, "read", jdir(r, "read_"));
	jset(job, "write", jdir(r, "write_"));
	jset(job, "mixed", jdir(r, ""));
	jset(job, "job_runtime", jnum(rec_u(r, "elapsed_ms")));
	jset(job, "elapsed", jnum(rec_u(r, "elapsed_ms") / 1000));
	jset(job, "total_err", jnum(rec_u(r, "errors")));
	json_object_array_add(jobs, job);
	jset(top, "jobs", jobs);

	d = json_object_new_object();
	for (size_t i = 0; i < r->n; i++)
		jset(d, r->kv[i].key, kv_json(r, &r->kv[i]));
	if (run->have_hist) {
		struct json_object *h = json_object_new_array();

		for (size_t i = 0; i < run->hist.n; i++) {
			struct json_object *b = json_object_new_object();

			jset(b, "lower_ns", jnum(run->hist.b[i].lo));
			jset(b, "upper_ns", run->hist.b[i].hi ? jnum(run->hist.b[i].hi) : NULL);
			jset(b, "count", jnum(run->hist.b[i].count));
			json_object_array_add(h, b);
		}
		jset(d, "histogram", h);
	}
	if (full && run->report_text)
		jset(d, "comprehensive_report", json_object_new_string(run->report_text));
	jset(top, "dm_remap_stress", d);
	return top;
}

int print_json(FILE *out, const struct run *run, int full)
{
	struct json_object *top = run_json(run, full);

	fputs(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
	json_object_put(top);
	return 0;
}

/* ---------------------------------------------------------------- CSV */

void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void print_csv(FILE *out, const struct record *r)
{
	char v[1100];

	for (size_t i = 0; i < r->n; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, r->kv[i].key);
	}
	fputc('\n', out);
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			fputc(',', out);
		kv_render(r, &r->kv[i], v, sizeof(v));
		csv_field(out, v);
	}
	fputc('\n', out);
}

/* ---------------------------------------------------------------- Prometheus */

static void prom_label(FILE *out, const char *name, const char *v, int first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*v, out);
	}
	fputc('"', out);
}

static void prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP dmr_stress_%s %s\n# TYPE dmr_stress_%s %s\n", name, help, name, type);
}

static void ns_seconds(char *buf, size_t sz, uint64_t ns)
{
	fmt_fixed_u(buf, sz, ns, 9);
}

void print_prom(FILE *out, const struct run *run)
{
	static const char *const ops[] = { "", "read_", "write_" };
	static const char *const opn[] = { "all", "read", "write" };
	static const char *const pk[] = { "p50", "p90", "p95", "p99", "p999", "p9999" };
	static const char *const q[] = { "0.5", "0.9", "0.95", "0.99", "0.999", "0.9999" };
	static const char *const st[] = { "min", "mean", "stddev", "max" };
	const struct record *r = &run->res;
	const struct kv *fc = rec_get(r, "failed_criteria");
	const struct field_def *fcd = &r->schema->fields[fc->field];
	char key[64], v[64];

	prom_head(out, "info", "gauge",
		  "Last dm-remap-stress run; configuration and verdict as labels, value always 1.");
	fputs("dmr_stress_info{", out);
	prom_label(out, "test", rec_s(r, "test"), 1);
	prom_label(out, "target", rec_s(r, "target"), 0);
	prom_label(out, "target_dev", rec_s(r, "target_dev"), 0);
	prom_label(out, "target_is_remap", rec_s(r, "target_is_remap"), 0);
	prom_label(out, "profile", rec_s(r, "profile"), 0);
	prom_label(out, "dist", rec_s(r, "dist"), 0);
	prom_label(out, "cpus", rec_s(r, "cpus"), 0);
	prom_label(out, "state", rec_s(r, "state"), 0);
	prom_label(out, "result", rec_s(r, "result"), 0);
	prom_label(out, "regression", rec_s(r, "regression"), 0);
	prom_label(out, "io_sequence_digest", rec_s(r, "io_sequence_digest"), 0);
	fputs("} 1\n", out);

	prom_head(out, "pass", "gauge", "1 if the last run passed (result: PASS), else 0.");
	fprintf(out, "dmr_stress_pass %d\n", !strcmp(rec_s(r, "result"), "PASS"));
	prom_head(out, "partial", "gauge", "1 while the reported run is still running.");
	fprintf(out, "dmr_stress_partial %s\n", rec_s(r, "partial"));
	prom_head(out, "failed_criterion", "gauge", "1 for each pass/fail criterion the run failed.");
	for (int i = 0; fcd->words[i]; i++) {
		int hit = 0;

		for (unsigned int j = 0; !fc->null && j < fc->nlist; j++)
			hit |= fc->list[j] == (uint64_t)i;
		fputs("dmr_stress_failed_criterion{", out);
		prom_label(out, "criterion", fcd->words[i], 1);
		fprintf(out, "} %d\n", hit);
	}
	prom_head(out, "report_timestamp_seconds", "gauge", "When this file was written (Unix time).");
	fprintf(out, "dmr_stress_report_timestamp_seconds %lld\n", (long long)report_time());
	prom_head(out, "workers", "gauge", "Worker threads of the run.");
	fprintf(out, "dmr_stress_workers %s\n", rec_s(r, "workers"));
	prom_head(out, "block_size_bytes", "gauge", "Block size of the run's I/Os.");
	fprintf(out, "dmr_stress_block_size_bytes %s\n", rec_s(r, "bs"));
	prom_head(out, "queue_depth", "gauge", "I/Os in flight per worker.");
	fprintf(out, "dmr_stress_queue_depth %s\n", rec_s(r, "qd"));
	prom_head(out, "duration_seconds", "gauge", "Configured duration (0 when ops= is used).");
	fmt_fixed_u(v, sizeof(v), rec_u(r, "duration_ms"), 3);
	fprintf(out, "dmr_stress_duration_seconds %s\n", v);
	prom_head(out, "elapsed_seconds", "gauge", "Time the run took.");
	fmt_fixed_u(v, sizeof(v), rec_u(r, "elapsed_ms"), 3);
	fprintf(out, "dmr_stress_elapsed_seconds %s\n", v);

	prom_head(out, "ios_total", "counter", "Completed I/Os of the run.");
	for (int o = 0; o < 3; o++) {
		snprintf(key, sizeof(key), "%sios", ops[o]);
		fprintf(out, "dmr_stress_ios_total{op=\"%s\"} %s\n", opn[o], rec_s(r, key));
	}
	prom_head(out, "io_bytes_total", "counter", "Bytes transferred by the run.");
	for (int o = 0; o < 3; o++) {
		snprintf(key, sizeof(key), "%sbytes", ops[o]);
		fprintf(out, "dmr_stress_io_bytes_total{op=\"%s\"} %s\n", opn[o], rec_s(r, key));
	}
	prom_head(out, "iops", "gauge", "I/Os per second over the run.");
	for (int o = 0; o < 3; o++) {
		snprintf(key, sizeof(key), "%siops", ops[o]);
		fprintf(out, "dmr_stress_iops{op=\"%s\"} %s\n", opn[o], rec_s(r, key));
	}
	prom_head(out, "throughput_bytes_per_second", "gauge", "Bytes per second over the run.");
	fprintf(out, "dmr_stress_throughput_bytes_per_second %llu\n",
		(unsigned long long)(rec_get(r, "mbps")->u * 10000));
	prom_head(out, "latency_quantile_seconds", "gauge",
		  "I/O latency (submission to completion) quantiles from the merged histogram.");
	for (int o = 0; o < 3; o++) {
		for (int i = 0; i < 6; i++) {
			snprintf(key, sizeof(key), "%slat_%s_ns", ops[o], pk[i]);
			ns_seconds(v, sizeof(v), rec_u(r, key));
			fprintf(out, "dmr_stress_latency_quantile_seconds{op=\"%s\",quantile=\"%s\"} %s\n",
				opn[o], q[i], v);
		}
	}
	for (int s = 0; s < 4; s++) {
		char name[64], help[96];

		snprintf(name, sizeof(name), "latency_%s_seconds", st[s]);
		snprintf(help, sizeof(help), "I/O latency %s over the run.",
			 s == 1 ? "mean" : s == 2 ? "standard deviation" : st[s] == st[0] ? "minimum" : "maximum");
		prom_head(out, name, "gauge", help);
		for (int o = 0; o < 3; o++) {
			snprintf(key, sizeof(key), "%slat_%s_ns", ops[o], st[s]);
			ns_seconds(v, sizeof(v), rec_u(r, key));
			fprintf(out, "dmr_stress_%s{op=\"%s\"} %s\n", name, opn[o], v);
		}
	}
	prom_head(out, "latency_overflow_total", "counter",
		  "I/Os slower than the histogram's top bucket (2^34 ns).");
	for (int o = 0; o < 3; o++) {
		snprintf(key, sizeof(key), "%slat_overflow", ops[o]);
		fprintf(out, "dmr_stress_latency_overflow_total{op=\"%s\"} %s\n", opn[o], rec_s(r, key));
	}
	prom_head(out, "errors_total", "counter", "I/Os that completed with an error.");
	fprintf(out, "dmr_stress_errors_total %s\n", rec_s(r, "errors"));
	prom_head(out, "error_ratio", "gauge", "Errors divided by I/Os.");
	fprintf(out, "dmr_stress_error_ratio %s\n", rec_s(r, "error_rate"));
	prom_head(out, "verify_mismatches_total", "counter", "Sectors whose verify stamp did not match.");
	fprintf(out, "dmr_stress_verify_mismatches_total %s\n", rec_s(r, "verify_mismatches"));
	{
		static const char *const rk[] = { "regression_iops_change_pct", "regression_p99_change_pct" };
		static const char *const rn[] = { "regression_iops_change_ratio", "regression_p99_change_ratio" };
		static const char *const rh[] = { "IOPS change against the baseline (0.1 = +10%).",
						  "p99 latency change against the baseline (0.1 = +10%)." };

		for (int i = 0; i < 2; i++) {
			const struct kv *kv = rec_get(r, rk[i]);

			if (kv->null)
				continue;
			prom_head(out, rn[i], "gauge", rh[i]);
			fmt_fixed_s(v, sizeof(v), kv->s, 4);
			fprintf(out, "dmr_stress_%s %s\n", rn[i], v);
		}
	}
}

int run_print(FILE *out, const struct run *run, enum fmt f, int full)
{
	switch (f) {
	case FMT_TEXT:
		print_text(out, run, full);
		break;
	case FMT_JSON:
		print_json(out, run, full);
		break;
	case FMT_CSV:
		print_csv(out, &run->res);
		break;
	case FMT_PROM:
		print_prom(out, run);
		break;
	}
	if (fflush(out) == EOF || ferror(out)) {
		dmr_seterr("writing the report: %s", strerror(errno));
		return -1;
	}
	return 0;
}
