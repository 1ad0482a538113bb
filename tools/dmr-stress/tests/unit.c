// SPDX-License-Identifier: GPL-2.0
/*
 * dmr-stress unit tests: parsers on golden and corrupted files, exhaustive
 * truncations and byte mutations, the output formats and option values.
 * Built and run under AddressSanitizer + UBSan by `make check`.
 * Usage: unit DATADIR. Prints TAP lines and "N passed, N failed".
 */
#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dmr.h"

static int npass, nfail, ntest;
static const char *datadir;
static int cur_ok;
static char cur_msg[512];

static void begin(void)
{
	cur_ok = 1;
	cur_msg[0] = '\0';
}

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	va_list ap;

	if (!cur_ok)
		return;		/* keep the first failure */
	cur_ok = 0;
	va_start(ap, fmt);
	vsnprintf(cur_msg, sizeof(cur_msg), fmt, ap);
	va_end(ap);
}

#define CHECK(c, ...) do { if (!(c)) failf(__VA_ARGS__); } while (0)

static void end(const char *name)
{
	ntest++;
	if (cur_ok) {
		npass++;
		printf("ok %d - %s\n", ntest, name);
	} else {
		nfail++;
		printf("not ok %d - %s: %s\n", ntest, name, cur_msg);
	}
}

static char *load(const char *name, size_t *len)
{
	char p[1024];
	char *b;

	snprintf(p, sizeof(p), "%s/%s", datadir, name);
	b = read_file(p, 1 << 20, len);
	if (!b) {
		fprintf(stderr, "unit: cannot read %s: %s\n", p, dmr_err());
		exit(2);
	}
	return b;
}

/* ------------------------------------------------------------ golden files */

static void test_golden_roundtrip(const char *name, const struct schema *s)
{
	size_t len;
	char *buf = load(name, &len), *out;
	struct record r;
	char tn[128];

	begin();
	if (record_parse(&r, s, buf, len, name) < 0) {
		failf("parse failed: %s", dmr_err());
	} else {
		out = record_emit(&r);
		CHECK(strlen(out) == len && !memcmp(out, buf, len), "emit differs from input");
		free(out);
		record_free(&r);
	}
	free(buf);
	snprintf(tn, sizeof(tn), "golden %s parses and round-trips", name);
	end(tn);
}

static void test_golden_values(void)
{
	size_t len;
	char *buf = load("results.golden", &len);
	struct record r;

	begin();
	if (record_parse(&r, &results_schema, buf, len, "g") < 0) {
		failf("%s", dmr_err());
		goto out;
	}
	CHECK(r.n == results_schema.nfields, "%zu keys, schema has %zu", r.n, results_schema.nfields);
	CHECK(results_schema.nfields == 74, "schema has %zu keys, the contract 74", results_schema.nfields);
	CHECK(rec_u(&r, "ios") == 1234567, "ios");
	CHECK(rec_u(&r, "bytes") == 5056786432ULL, "bytes");
	CHECK(rec_get(&r, "iops")->u == 4113577, "iops scaled");
	CHECK(fabs(rec_d(&r, "iops") - 41135.77) < 1e-9, "iops double");
	CHECK(rec_u(&r, "lat_p99_ns") == 7340032, "p99");
	CHECK(rec_u(&r, "write_lat_max_ns") == 31998004, "write max");
	CHECK(rec_get(&r, "regression_iops_change_pct")->null, "n/a is null");
	CHECK(isnan(rec_d(&r, "regression_iops_change_pct")), "n/a is NaN");
	CHECK(rec_get(&r, "target_dev")->u == (253ULL << 20 | 0), "devt");
	CHECK(rec_get(&r, "io_sequence_digest")->u == 0x9f3c2a71d0be4e58ULL, "digest");
	CHECK(!strcmp(rec_s(&r, "target"), "/dev/mapper/remap0"), "target");
	CHECK(result_exit(&r) == EXIT_PASS, "exit status of a PASS");
	record_free(&r);
out:
	free(buf);
	end("golden results: values read exactly");
}

static void test_variants(void)
{
	static const struct { const char *f; int exit; } v[] = {
		{ "results.golden", 0 }, { "results-fail.golden", 1 },
		{ "results-regression.golden", 2 }, { "results-unknown.golden", 0 },
		{ "results-partial.golden", 0 },
	};
	char tn[128];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len;
		char *buf = load(v[i].f, &len);
		struct record r;

		begin();
		if (record_parse(&r, &results_schema, buf, len, v[i].f) < 0) {
			failf("%s", dmr_err());
		} else {
			CHECK(result_exit(&r) == v[i].exit, "exit %d, expected %d", result_exit(&r),
			      v[i].exit);
			record_free(&r);
		}
		free(buf);
		snprintf(tn, sizeof(tn), "%s: exit status %d", v[i].f, v[i].exit);
		end(tn);
	}
}

static void test_unknown_kept(void)
{
	size_t len;
	char *buf = load("results-unknown.golden", &len);
	struct record r;

	begin();
	if (record_parse(&r, &results_schema, buf, len, "u") < 0) {
		failf("%s", dmr_err());
		goto out;
	}
	CHECK(r.n == results_schema.nfields + 3, "%zu keys", r.n);
	CHECK(!strcmp(rec_s(&r, "queue_wait_ns"), "1234"), "inserted unknown key");
	CHECK(!strcmp(rec_s(&r, "future_key"), "some text, with \"quotes\""), "appended key");
	CHECK(!strcmp(r.kv[r.n - 1].key, "future_count"), "order kept");
	CHECK(r.kv[25].field == -1 && !strcmp(r.kv[25].key, "queue_wait_ns"), "position kept");
	record_free(&r);
out:
	free(buf);
	end("unknown keys are kept, in place");
}

static void test_sectors_criteria(void)
{
	size_t len;
	char *buf = load("results-fail.golden", &len);
	struct record r;
	const struct kv *kv;

	begin();
	if (record_parse(&r, &results_schema, buf, len, "f") < 0) {
		failf("%s", dmr_err());
		goto out;
	}
	kv = rec_get(&r, "first_mismatch_sectors");
	CHECK(kv->nlist == 3 && kv->list[0] == 8 && kv->list[1] == 16 && kv->list[2] == 4096,
	      "sectors");
	kv = rec_get(&r, "failed_criteria");
	CHECK(kv->nlist == 1 && !kv->null, "criteria");
	record_free(&r);
out:
	free(buf);
	end("first_mismatch_sectors and failed_criteria lists");
}

/* ------------------------------------------------------------ corrupted files */

static void test_corrupted(void)
{
	size_t len;
	char *idx = load("corrupt/EXPECTED", &len), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(idx, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), name[256], tn[400];
		const char *exp;
		char *buf;
		size_t bl;
		int rc;

		if (!tab)
			continue;
		*tab = '\0';
		exp = tab + 1;
		snprintf(name, sizeof(name), "corrupt/%s", line);
		buf = load(name, &bl);
		begin();
		if (!strncmp(line, "histogram", 9)) {
			struct histogram h;

			rc = hist_parse(&h, buf, bl, line);
			if (!rc)
				hist_free(&h);
		} else {
			struct record r;

			rc = record_parse(&r, !strncmp(line, "status", 6) ? &status_schema
									  : &results_schema,
					  buf, bl, line);
			if (!rc)
				record_free(&r);
		}
		CHECK(rc < 0, "accepted");
		CHECK(rc == 0 || strstr(dmr_err(), exp), "message '%s' lacks '%s'", dmr_err(), exp);
		free(buf);
		snprintf(tn, sizeof(tn), "corrupted %s rejected: %s", line, exp);
		end(tn);
		n++;
	}
	free(idx);
	if (n < 40) {
		begin();
		failf("only %d corrupted files", n);
		end("corrupted file index");
	}
}

/* ------------------------------------------------------------ fuzz-ish */

static int parse_any(int kind, const char *buf, size_t len, char **emit)
{
	int rc;

	*emit = NULL;
	if (kind == 2) {
		struct histogram h;

		rc = hist_parse(&h, buf, len, "fuzz");
		if (!rc) {
			*emit = hist_emit(&h);
			hist_free(&h);
		}
	} else {
		struct record r;

		rc = record_parse(&r, kind ? &status_schema : &results_schema, buf, len, "fuzz");
		if (!rc) {
			*emit = record_emit(&r);
			record_free(&r);
		}
	}
	return rc;
}

/* Offset just after the line holding the last known key. */
static size_t min_valid_len(int kind, const char *buf, size_t len)
{
	const char *last = kind == 1 ? "\nverify_mismatches: " : "\nfailed_criteria: ";
	const char *p;

	if (kind == 2)
		return 0;
	p = memmem(buf, len, last, strlen(last));
	if (!p)
		return len + 1;
	p = memchr(p + 1, '\n', len - (size_t)(p + 1 - buf));
	return (size_t)(p - buf) + 1;
}

static void test_prefixes(const char *name, int kind)
{
	size_t len, minv;
	char *buf = load(name, &len), tn[128];
	int accepted = 0, rejected = 0;

	minv = min_valid_len(kind, buf, len);
	begin();
	for (size_t n = 0; n <= len; n++) {
		char *cp = xmalloc(n + 1), *emit;
		int rc, valid;

		memcpy(cp, buf, n);
		cp[n] = '\0';
		rc = parse_any(kind, cp, n, &emit);
		/* A prefix is valid only when it ends a line and holds every known key
		 * (for a histogram: any whole lines). */
		valid = (n == 0 && kind == 2) || (n > 0 && cp[n - 1] == '\n' && n >= minv);
		if (kind != 2 && n == 0)
			valid = 0;
		CHECK((rc == 0) == valid, "prefix of %zu bytes: %s (expected %s)", n,
		      rc ? "rejected" : "accepted", valid ? "accept" : "reject");
		if (!rc) {
			CHECK(!strcmp(emit, cp), "prefix of %zu bytes: round-trip differs", n);
			accepted++;
		} else {
			rejected++;
		}
		free(emit);
		free(cp);
	}
	free(buf);
	snprintf(tn, sizeof(tn), "every prefix of %s (%d rejected, %d accepted)", name, rejected,
		 accepted);
	end(tn);
}

static void test_byte_flips(const char *name, int kind)
{
	static const unsigned char rep[] = {
		0x00, 0x01, 0x09, 0x0d, 0x7f, 0x80, 0xff, ' ', ':', '\n', '-', '.', 'x', 'A', '0',
		'9', ',',
	};
	size_t len;
	char *buf = load(name, &len), tn[160];
	unsigned long tried = 0, accepted = 0;

	begin();
	for (size_t i = 0; i < len; i++) {
		unsigned char alts[sizeof(rep) + 3];
		size_t na = 0;

		memcpy(alts, rep, sizeof(rep));
		na = sizeof(rep);
		alts[na++] = (unsigned char)buf[i] ^ 0x01;
		alts[na++] = (unsigned char)buf[i] ^ 0x20;
		alts[na++] = (unsigned char)buf[i] ^ 0x10;
		for (size_t j = 0; j < na; j++) {
			char *cp, *emit;
			int rc;

			if (alts[j] == (unsigned char)buf[i])
				continue;
			cp = xmalloc(len + 1);
			memcpy(cp, buf, len);
			cp[len] = '\0';
			cp[i] = (char)alts[j];
			rc = parse_any(kind, cp, len, &emit);
			tried++;
			/* Only newline and printable ASCII may appear. */
			if ((alts[j] < 0x20 && alts[j] != '\n') || alts[j] >= 0x7f)
				CHECK(rc < 0, "byte %zu set to 0x%02x accepted", i, alts[j]);
			/* Accepted: the parsed values must render back to the exact
			 * input, i.e. no number was read wrong. */
			if (!rc) {
				accepted++;
				CHECK(!strcmp(emit, cp), "byte %zu set to 0x%02x: accepted but parsed differently",
				      i, alts[j]);
			}
			free(emit);
			free(cp);
		}
	}
	free(buf);
	snprintf(tn, sizeof(tn), "byte mutations of %s (%lu tried, %lu still valid and exact)",
		 name, tried, accepted);
	end(tn);
}

/* Does the line start with a key of the schema (always for a histogram)? */
static int line_known(int kind, const char *line)
{
	const struct schema *s = kind ? &status_schema : &results_schema;
	size_t k = strcspn(line, ":\n");

	if (kind == 2)
		return 1;
	for (size_t i = 0; i < s->nfields; i++)
		if (strlen(s->fields[i].key) == k && !strncmp(s->fields[i].key, line, k))
			return 1;
	return 0;
}

/* Line-level mutations: drop, duplicate, swap adjacent lines. */
static void test_line_mutations(const char *name, int kind)
{
	size_t len, nl = 0;
	char *buf = load(name, &len), tn[160];
	size_t *start = xmalloc((len + 2) * sizeof(*start));
	unsigned long tried = 0;

	for (size_t i = 0; i < len; i++)
		if (i == 0 || buf[i - 1] == '\n')
			start[nl++] = i;
	start[nl] = len;
	begin();
	for (size_t l = 0; l < nl; l++) {
		for (int op = 0; op < 3; op++) {
			char *cp = xmalloc(2 * len + 2), *emit;
			size_t o = 0, a = start[l], b = start[l + 1];
			int rc, unknown_line;

			if (op == 2 && l + 1 >= nl) {
				free(cp);
				continue;
			}
			memcpy(cp, buf, a);
			o = a;
			if (op == 1) {	/* duplicate */
				memcpy(cp + o, buf + a, b - a);
				o += b - a;
				memcpy(cp + o, buf + a, b - a);
				o += b - a;
			} else if (op == 2) {	/* swap with the next line */
				size_t c = start[l + 2];

				memcpy(cp + o, buf + b, c - b);
				o += c - b;
				memcpy(cp + o, buf + a, b - a);
				o += b - a;
				b = c;
			}
			memcpy(cp + o, buf + b, len - b);
			o += len - b;
			cp[o] = '\0';
			rc = parse_any(kind, cp, o, &emit);
			tried++;
			unknown_line = !line_known(kind, buf + a) ||
				       (op == 2 && !line_known(kind, buf + start[l + 1]));
			if (kind == 2 && op == 0) {
				/* a histogram without one bucket is still a histogram */
				CHECK(rc == 0, "histogram line %zu dropped: rejected", l + 1);
			} else if (op == 1 || !unknown_line) {
				/* unknown keys may go anywhere and are optional,
				 * but no key may repeat */
				CHECK(rc < 0, "line %zu %s: accepted", l + 1,
				      op == 0 ? "dropped" : op == 1 ? "duplicated" : "swapped");
			} else {
				CHECK(rc == 0, "line %zu %s (unknown key): rejected: %s", l + 1,
				      op == 0 ? "dropped" : "swapped", dmr_err());
			}
			free(emit);
			free(cp);
		}
	}
	free(start);
	free(buf);
	snprintf(tn, sizeof(tn), "line drops, duplicates and swaps of %s (%lu tried)", name, tried);
	end(tn);
}

/* Random multi-byte damage, deterministic. */
static void test_random_damage(const char *name, int kind, int iters)
{
	size_t len;
	char *buf = load(name, &len), tn[128];
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	begin();
	for (int it = 0; it < iters; it++) {
		size_t n = len, cap = len + 64;
		char *cp = xmalloc(cap + 1), *emit;
		int k;

		memcpy(cp, buf, len);
		for (k = 0; k < 1 + it % 4; k++) {
			size_t pos;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			pos = n ? (size_t)(x % n) : 0;
			switch ((x >> 32) % 3) {
			case 0:
				if (n)
					cp[pos] = (char)(x >> 40);
				break;
			case 1:	/* delete */
				if (n) {
					memmove(cp + pos, cp + pos + 1, n - pos - 1);
					n--;
				}
				break;
			case 2:	/* insert */
				if (n < cap) {
					memmove(cp + pos + 1, cp + pos, n - pos);
					cp[pos] = (char)(x >> 48);
					n++;
				}
				break;
			}
		}
		cp[n] = '\0';
		if (!parse_any(kind, cp, n, &emit))
			CHECK(strlen(emit) == n && !memcmp(emit, cp, n),
			      "iteration %d: accepted but parsed differently", it);
		free(emit);
		free(cp);
	}
	free(buf);
	snprintf(tn, sizeof(tn), "random damage to %s (%d inputs, no crash, no wrong value)", name,
		 iters);
	end(tn);
}

/* ------------------------------------------------------------ histogram */

static void test_hist(void)
{
	size_t len;
	char *buf = load("histogram.golden", &len), *out = NULL;
	struct histogram h;
	size_t olen;
	FILE *f;

	begin();
	if (hist_parse(&h, buf, len, "h") < 0) {
		failf("%s", dmr_err());
		goto out;
	}
	CHECK(h.total == 1234567, "total %llu", (unsigned long long)h.total);
	f = open_memstream(&out, &olen);
	hist_print_log2(f, &h, "latency_ns", 52);
	fclose(f);
	CHECK(strstr(out, "@latency_ns:\n") != NULL, "title");
	CHECK(strstr(out, "[2M, 4M)              592492 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|") != NULL,
	      "peak row: %s", out);
	CHECK(strstr(out, "[128K, 256K)") != NULL, "first row");
	CHECK(strstr(out, "[16M, 32M)") != NULL, "last row");
	{
		/* the rows add up to the total */
		unsigned long long sum = 0, c;
		char *p = out;

		while ((p = strchr(p, ')'))) {
			if (sscanf(p + 1, "%llu", &c) == 1)
				sum += c;
			p++;
		}
		CHECK(sum == h.total, "rows sum to %llu", sum);
	}
	free(out);
	hist_free(&h);
out:
	free(buf);
	end("histogram: bpftrace-style log2 rows");
}

static void test_hist_overflow_svg(void)
{
	size_t len, olen;
	char *buf = load("histogram-overflow.golden", &len), *out = NULL;
	struct histogram h;
	FILE *f;
	int rects = 0;

	begin();
	if (hist_parse(&h, buf, len, "h") < 0) {
		failf("%s", dmr_err());
		goto out;
	}
	CHECK(h.n == 4 && h.b[3].hi == 0 && h.total == 22, "buckets");
	f = open_memstream(&out, &olen);
	hist_print_log2(f, &h, "latency_ns", 52);
	fclose(f);
	CHECK(strstr(out, "[16G, inf)                 2 |") != NULL, "overflow row: %s", out);
	CHECK(strstr(out, "[1K, 2K)                  13 |") != NULL, "1K row: %s", out);
	CHECK(strstr(out, "[2K, 4K)                   0 |") != NULL, "empty middle row: %s", out);
	free(out);
	out = NULL;
	f = open_memstream(&out, &olen);
	CHECK(hist_svg(f, &h, NULL) == 0, "svg");
	fclose(f);
	CHECK(!strncmp(out, "<?xml", 5) && strstr(out, "</svg>\n"), "svg document");
	for (char *p = out; (p = strstr(p, "<rect x=")); p++)
		rects++;
	/* [1K,2K), [2K,4K) (empty), [4K,8K), then the overflow bar */
	CHECK(rects == 4, "%d bars", rects);
	CHECK(strstr(out, "fill=\"#c0392b\"><title>2</title>") != NULL, "overflow bar");
	free(out);
	hist_free(&h);
out:
	free(buf);
	end("histogram: overflow bucket, SVG bars");
}

static void test_hist_empty(void)
{
	struct histogram h;
	char *out = NULL;
	size_t olen;
	FILE *f;

	begin();
	CHECK(hist_parse(&h, "", 0, "e") == 0, "empty histogram rejected");
	CHECK(h.total == 0 && h.n == 0, "empty");
	f = open_memstream(&out, &olen);
	hist_print_log2(f, &h, "latency_ns", 52);
	CHECK(hist_svg(f, &h, NULL) == 0, "svg");
	fclose(f);
	CHECK(strstr(out, "no I/O") != NULL, "says empty");
	free(out);
	hist_free(&h);
	end("histogram: empty (no I/O yet)");
}

/* ------------------------------------------------------------ output formats */

static int load_run(struct run *run, const char *results, const char *hist)
{
	char p[1024];

	memset(run, 0, sizeof(*run));
	snprintf(p, sizeof(p), "%s/%s", datadir, results);
	if (run_load(run, p) < 0)
		return -1;
	if (hist) {
		run->hist_raw = load(hist, &run->hist_raw_len);
		if (hist_parse(&run->hist, run->hist_raw, run->hist_raw_len, hist) < 0)
			return -1;
		run->have_hist = 1;
	}
	return 0;
}

static char *capture(const struct run *run, enum fmt fm)
{
	char *out = NULL;
	size_t olen;
	FILE *f = open_memstream(&out, &olen);

	run_print(f, run, fm, 0);
	fclose(f);
	return out;
}

static struct json_object *jpath(struct json_object *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;

	for (char *t = strtok_r(p, "/", &save); t && o; t = strtok_r(NULL, "/", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(t));
		else if (!json_object_object_get_ex(o, t, &o))
			o = NULL;
	}
	free(p);
	return o;
}

static void test_json(void)
{
	struct run run;
	struct json_object *j, *v;
	char *out;

	begin();
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	if (load_run(&run, "results-unknown.golden", "histogram.golden") < 0) {
		failf("%s", dmr_err());
		end("json");
		return;
	}
	out = capture(&run, FMT_JSON);
	j = json_tokener_parse(out);
	CHECK(j != NULL, "output is not JSON");
	if (!j)
		goto out;
	v = jpath(j, "jobs/0/read/iops");
	CHECK(v && json_object_is_type(v, json_type_double) &&
	      !strcmp(json_object_to_json_string(v), "28795.04"), "jobs[0].read.iops");
	v = jpath(j, "jobs/0/read/clat_ns/percentile/99.000000");
	CHECK(v && json_object_get_int64(v) == 7077888, "read p99");
	v = jpath(j, "jobs/0/write/clat_ns/percentile/99.990000");
	CHECK(v && json_object_get_int64(v) == 17301504, "write p99.99");
	v = jpath(j, "jobs/0/mixed/lat_ns/mean");
	CHECK(v && json_object_get_int64(v) == 3104553, "mixed mean");
	v = jpath(j, "jobs/0/read/io_bytes");
	CHECK(v && json_object_get_int64(v) == 3539750912LL, "read io_bytes");
	v = jpath(j, "jobs/0/read/runtime");
	CHECK(v && json_object_get_int64(v) == 30012, "runtime");
	v = jpath(j, "jobs/0/job options/rw");
	CHECK(v && !strcmp(json_object_get_string(v), "randrw"), "rw");
	v = jpath(j, "timestamp");
	CHECK(v && json_object_get_int64(v) == 1700000000, "timestamp from SOURCE_DATE_EPOCH");
	v = jpath(j, "dm_remap_stress/future_key");
	CHECK(v && !strcmp(json_object_get_string(v), "some text, with \"quotes\""), "unknown key");
	v = jpath(j, "dm_remap_stress/queue_wait_ns");
	CHECK(v && !strcmp(json_object_get_string(v), "1234"), "inserted unknown key");
	v = jpath(j, "dm_remap_stress/error_rate");
	CHECK(v && !strcmp(json_object_to_json_string(v), "0.000000"), "error_rate text");
	v = jpath(j, "dm_remap_stress/regression_p99_change_pct");
	CHECK(jpath(j, "dm_remap_stress") && json_object_object_get_ex(jpath(j, "dm_remap_stress"),
								       "regression_p99_change_pct", &v) &&
	      v == NULL, "n/a is null");
	v = jpath(j, "dm_remap_stress/histogram");
	CHECK(v && json_object_array_length(v) == 57, "histogram buckets");
	v = jpath(j, "dm_remap_stress/io_sequence_digest");
	CHECK(v && !strcmp(json_object_get_string(v), "9f3c2a71d0be4e58"), "digest");
	/* every key of the file is in dm_remap_stress */
	for (size_t i = 0; i < run.res.n; i++)
		CHECK(json_object_object_get_ex(jpath(j, "dm_remap_stress"), run.res.kv[i].key, NULL),
		      "key %s missing", run.res.kv[i].key);
	json_object_put(j);
out:
	free(out);
	run_free(&run);
	end("JSON: fio-shaped jobs[0] plus every key under dm_remap_stress");
}

static void test_json_sectors(void)
{
	struct run run;
	struct json_object *j, *v;
	char *out;

	begin();
	if (load_run(&run, "results-fail.golden", NULL) < 0) {
		failf("%s", dmr_err());
		end("json lists");
		return;
	}
	out = capture(&run, FMT_JSON);
	j = json_tokener_parse(out);
	v = jpath(j, "dm_remap_stress/first_mismatch_sectors");
	CHECK(v && json_object_array_length(v) == 3 &&
	      json_object_get_int64(json_object_array_get_idx(v, 2)) == 4096, "sectors");
	v = jpath(j, "dm_remap_stress/failed_criteria/0");
	CHECK(v && !strcmp(json_object_get_string(v), "verify_mismatches"), "criteria");
	v = jpath(j, "dm_remap_stress/verify");
	CHECK(v && json_object_is_type(v, json_type_int) && json_object_get_int(v) == 1, "verify int");
	json_object_put(j);
	free(out);
	run_free(&run);
	end("JSON: lists and booleans typed");
}

/* Split one CSV record (RFC 4180 quoting). Returns fields in *f. */
static int csv_split(const char *line, char ***f)
{
	int n = 0, cap = 16;
	char *cur = xmalloc(strlen(line) + 1);
	size_t cl = 0;
	int q = 0;

	*f = xmalloc((size_t)cap * sizeof(**f));
	for (const char *p = line;; p++) {
		if (q) {
			if (*p == '"' && p[1] == '"') {
				cur[cl++] = '"';
				p++;
			} else if (*p == '"') {
				q = 0;
			} else if (!*p) {
				break;
			} else {
				cur[cl++] = *p;
			}
			continue;
		}
		if (*p == '"') {
			q = 1;
		} else if (*p == ',' || !*p || *p == '\n') {
			if (n == cap) {
				cap *= 2;
				*f = xrealloc(*f, (size_t)cap * sizeof(**f));
			}
			(*f)[n++] = xstrndup(cur, cl);
			cl = 0;
			if (*p != ',')
				break;
		} else {
			cur[cl++] = *p;
		}
	}
	free(cur);
	return n;
}

static void test_csv(void)
{
	struct run run;
	char *out, *nl, **h = NULL, **v = NULL;
	int nh = 0, nv = 0;

	begin();
	if (load_run(&run, "results-unknown.golden", NULL) < 0) {
		failf("%s", dmr_err());
		end("csv");
		return;
	}
	out = capture(&run, FMT_CSV);
	nl = strchr(out, '\n');
	CHECK(nl && strchr(nl + 1, '\n') && !strchr(strchr(nl + 1, '\n') + 1, '\n'), "two lines");
	if (nl) {
		*nl = '\0';
		nh = csv_split(out, &h);
		nv = csv_split(nl + 1, &v);
	}
	CHECK(nh == (int)run.res.n && nv == nh, "%d header fields, %d values, %zu keys", nh, nv,
	      run.res.n);
	for (int i = 0; i < nh && i < nv && (size_t)i < run.res.n; i++) {
		CHECK(!strcmp(h[i], run.res.kv[i].key), "header %d", i);
		CHECK(!strcmp(v[i], run.res.kv[i].raw), "value %d: %s vs %s", i, v[i], run.res.kv[i].raw);
	}
	for (int i = 0; i < nh; i++)
		free(h[i]);
	for (int i = 0; i < nv; i++)
		free(v[i]);
	free(h);
	free(v);
	free(out);
	run_free(&run);
	end("CSV: header row, one value row, quoting, unknown keys kept");
}

static int prom_name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return 0;
	return 1;
}

static void test_prom(void)
{
	struct run run;
	char *out, *save = NULL;
	char family[128] = "", typed[128] = "";
	int samples = 0, families = 0;

	begin();
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	if (load_run(&run, "results-regression.golden", NULL) < 0) {
		failf("%s", dmr_err());
		end("prom");
		return;
	}
	out = capture(&run, FMT_PROM);
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128], *sp, *end;
		size_t nl;

		if (!strncmp(l, "# HELP ", 7)) {
			sp = strchr(l + 7, ' ');
			CHECK(sp && sp[1], "HELP without text: %s", l);
			snprintf(family, sizeof(family), "%.*s", sp ? (int)(sp - l - 7) : 0, l + 7);
			families++;
			continue;
		}
		if (!strncmp(l, "# TYPE ", 7)) {
			snprintf(typed, sizeof(typed), "%s", l + 7);
			sp = strchr(typed, ' ');
			CHECK(sp && (!strcmp(sp + 1, "gauge") || !strcmp(sp + 1, "counter")), "type %s", l);
			if (sp)
				*sp = '\0';
			CHECK(!strcmp(typed, family), "TYPE %s after HELP %s", typed, family);
			if (sp && !strcmp(sp + 1, "counter"))
				CHECK(strlen(typed) > 6 && !strcmp(typed + strlen(typed) - 6, "_total"),
				      "counter %s without _total", typed);
			continue;
		}
		CHECK(l[0] != '#', "stray comment %s", l);
		nl = strcspn(l, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)nl, l);
		CHECK(prom_name_ok(l, nl) && !strncmp(name, "dmr_stress_", 11), "name %s", name);
		CHECK(!strcmp(name, family), "sample %s outside its family %s", name, family);
		sp = l + nl;
		if (*sp == '{') {
			/* label="value" pairs */
			sp++;
			while (*sp && *sp != '}') {
				size_t ln = strcspn(sp, "=");

				CHECK(prom_name_ok(sp, ln) && sp[ln] == '=' && sp[ln + 1] == '"',
				      "label in %s", l);
				sp += ln + 2;
				while (*sp && *sp != '"') {
					if (*sp == '\\')
						sp++;
					if (*sp)
						sp++;
				}
				if (*sp)
					sp++;
				if (*sp == ',')
					sp++;
			}
			CHECK(*sp == '}', "unterminated labels in %s", l);
			if (*sp)
				sp++;
		}
		CHECK(*sp == ' ', "no value in %s", l);
		strtod(sp + 1, &end);
		CHECK(end != sp + 1 && *end == '\0', "bad value in %s", l);
		samples++;
	}
	CHECK(families >= 20 && samples >= 60, "%d families, %d samples", families, samples);
	free(out);
	out = capture(&run, FMT_PROM);
	CHECK(strstr(out, "dmr_stress_latency_quantile_seconds{op=\"read\",quantile=\"0.99\"} 0.007077888\n") != NULL,
	      "p99 in seconds");
	CHECK(strstr(out, "dmr_stress_regression_iops_change_ratio -0.1250\n") != NULL, "ratio");
	CHECK(strstr(out, "dmr_stress_throughput_bytes_per_second 168490000\n") != NULL, "bytes/s");
	CHECK(strstr(out, "dmr_stress_failed_criterion{criterion=\"iops_drop\"} 1\n") != NULL, "criterion");
	CHECK(strstr(out, "dmr_stress_pass 0\n") != NULL, "pass");
	CHECK(strstr(out, "dmr_stress_ios_total{op=\"all\"} 1234567\n") != NULL, "ios");
	free(out);
	run_free(&run);
	end("Prometheus: exposition format, HELP/TYPE, units, _total counters");
}

static void test_text(void)
{
	struct run run;
	char *out;

	begin();
	if (load_run(&run, "results-unknown.golden", "histogram.golden") < 0) {
		failf("%s", dmr_err());
		end("text");
		return;
	}
	out = capture(&run, FMT_TEXT);
	CHECK(strstr(out, "mixed on /dev/mapper/remap0 (253:0, dm-remap): completed, result PASS") != NULL,
	      "header");
	CHECK(strstr(out, "99th=7340.032") != NULL, "p99 usec exact");
	CHECK(strstr(out, "other keys: queue_wait_ns=1234 future_key=some text, with \"quotes\" future_count=77") != NULL,
	      "unknown keys shown");
	CHECK(strstr(out, "@latency_ns:") != NULL, "histogram");
	free(out);
	run_free(&run);
	end("text report");
}

/* ------------------------------------------------------------ options */

static void test_units(void)
{
	uint64_t v;
	int64_t p;

	begin();
	CHECK(parse_size("4k", &v) == 0 && v == 4096, "4k");
	CHECK(parse_size("4K", &v) == 0 && v == 4096, "4K");
	CHECK(parse_size("4KiB", &v) == 0 && v == 4096, "4KiB");
	CHECK(parse_size("1M", &v) == 0 && v == 1048576, "1M");
	CHECK(parse_size("512", &v) == 0 && v == 512, "512");
	CHECK(parse_size("2g", &v) == 0 && v == 2147483648ULL, "2g");
	CHECK(parse_size("4x", &v) < 0, "4x");
	CHECK(parse_size("k", &v) < 0, "k");
	CHECK(parse_size("-4k", &v) < 0, "-4k");
	CHECK(parse_size("99999999999999t", &v) < 0, "overflow");
	CHECK(parse_size("", &v) < 0, "empty");
	CHECK(parse_duration_ms("30s", &v) == 0 && v == 30000, "30s");
	CHECK(parse_duration_ms("30", &v) == 0 && v == 30000, "30 (seconds, like fio)");
	CHECK(parse_duration_ms("2m", &v) == 0 && v == 120000, "2m");
	CHECK(parse_duration_ms("1h", &v) == 0 && v == 3600000, "1h");
	CHECK(parse_duration_ms("500ms", &v) == 0 && v == 500, "500ms");
	CHECK(parse_duration_ms("1d", &v) == 0 && v == 86400000, "1d");
	CHECK(parse_duration_ms("1.5s", &v) < 0, "1.5s");
	CHECK(parse_duration_ms("3w", &v) < 0, "3w");
	CHECK(parse_percent("10%", &p) == 0 && p == 1000, "10%%");
	CHECK(parse_percent("10", &p) == 0 && p == 1000, "10");
	CHECK(parse_percent("12.5%", &p) == 0 && p == 1250, "12.5%%");
	CHECK(parse_percent("0.25", &p) == 0 && p == 25, "0.25");
	CHECK(parse_percent("0.001", &p) < 0, "0.001");
	CHECK(parse_percent("-5%", &p) < 0, "-5%%");
	CHECK(parse_percent("5%%", &p) < 0, "5%%%%");
	CHECK(parse_percent("abc", &p) < 0, "abc");
	CHECK(parse_uint_opt("32", 1, 1024, &v) == 0 && v == 32, "32");
	CHECK(parse_uint_opt("0", 1, 1024, &v) < 0, "0 below range");
	CHECK(parse_uint_opt("1025", 1, 1024, &v) < 0, "1025 above range");
	CHECK(parse_uint_opt("3x", 1, 1024, &v) < 0, "3x");
	end("option values: sizes, durations, percents, ranges");
}

static void test_fixed(void)
{
	char b[64];
	uint64_t v;

	begin();
	fmt_fixed_u(b, sizeof(b), 4113577, 2);
	CHECK(!strcmp(b, "41135.77"), "%s", b);
	fmt_fixed_u(b, sizeof(b), 5, 2);
	CHECK(!strcmp(b, "0.05"), "%s", b);
	fmt_fixed_s(b, sizeof(b), -1250, 2);
	CHECK(!strcmp(b, "-12.50"), "%s", b);
	fmt_fixed_u(b, sizeof(b), 7340032, 9);
	CHECK(!strcmp(b, "0.007340032"), "%s", b);
	fmt_fixed_u(b, sizeof(b), UINT64_MAX, 0);
	CHECK(!strcmp(b, "18446744073709551615"), "%s", b);
	CHECK(parse_u64_strict("18446744073709551615", 20, &v) == 0 && v == UINT64_MAX, "max");
	CHECK(parse_u64_strict("18446744073709551616", 20, &v) < 0, "max+1");
	CHECK(parse_u64_strict("0", 1, &v) == 0 && v == 0, "0");
	CHECK(parse_u64_strict("00", 2, &v) < 0, "00");
	end("exact fixed-point rendering and strict integers");
}

int main(int argc, char **argv)
{
	datadir = argc > 1 ? argv[1] : "tests/data";
	test_golden_roundtrip("results.golden", &results_schema);
	test_golden_roundtrip("results-unknown.golden", &results_schema);
	test_golden_roundtrip("results-fail.golden", &results_schema);
	test_golden_roundtrip("results-regression.golden", &results_schema);
	test_golden_roundtrip("results-partial.golden", &results_schema);
	test_golden_roundtrip("status.golden", &status_schema);
	test_golden_values();
	test_variants();
	test_unknown_kept();
	test_sectors_criteria();
	test_corrupted();
	test_prefixes("results.golden", 0);
	test_prefixes("results-unknown.golden", 0);
	test_prefixes("status.golden", 1);
	test_prefixes("histogram.golden", 2);
	test_byte_flips("results.golden", 0);
	test_byte_flips("results-fail.golden", 0);
	test_byte_flips("status.golden", 1);
	test_byte_flips("histogram.golden", 2);
	test_line_mutations("results.golden", 0);
	test_line_mutations("results-unknown.golden", 0);
	test_line_mutations("status.golden", 1);
	test_line_mutations("histogram.golden", 2);
	test_random_damage("results.golden", 0, 20000);
	test_random_damage("histogram.golden", 2, 5000);
	test_hist();
	test_hist_overflow_svg();
	test_hist_empty();
	test_json();
	test_json_sectors();
	test_csv();
	test_prom();
	test_text();
	test_units();
	test_fixed();
	printf("unit: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
