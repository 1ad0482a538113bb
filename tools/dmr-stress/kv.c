// SPDX-License-Identifier: GPL-2.0
/*
 * dmr-stress: strict parser for the stress module's `key: value` files
 * (stress_test_results, baseline, stress_test_status), as specified in
 * Documentation/admin-guide/device-mapper/dm-remap-stress.rst.
 *
 * Rules: every line is "<key>: <value>\n" (one space after the colon, the
 * key [a-z0-9_]+, the value printable ASCII without leading or trailing
 * blanks); the keys of the schema appear exactly once each, in the schema's
 * order; keys the schema does not know are kept verbatim wherever they are
 * (a newer module may append some) but may not repeat; each known value is
 * checked against its type. Anything else is an error that names the line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dmr.h"

static const char *const w_bool[] = { "0", "1", NULL };
static const char *const w_res_state[] = { "completed", "stopped", "failed", "running", NULL };
static const char *const w_st_state[] = {
	"idle", "running", "stopping", "completed", "stopped", "failed", NULL
};
/* Index = test_type. */
static const char *const w_test[] = {
	"seq_read", "rand_read", "seq_write", "rand_write", "mixed", "remap_heavy", NULL
};
static const char *const w_st_test[] = {
	"none", "seq_read", "rand_read", "seq_write", "rand_write", "mixed", "remap_heavy", NULL
};
static const char *const w_profile[] = { "none", "oltp", "fileserver", "vm", NULL };
static const char *const w_regression[] = { "none", "baseline_established", "pass", "fail", NULL };
static const char *const w_result[] = { "PASS", "FAIL", NULL };
static const char *const w_criteria[] = {
	"errors", "verify_mismatches", "iops_drop", "p99_rise", "incomplete", NULL
};

#define LAT(p) \
	{ p "lat_min_ns", VT_U64, NULL, 0 }, \
	{ p "lat_mean_ns", VT_U64, NULL, 0 }, \
	{ p "lat_stddev_ns", VT_U64, NULL, 0 }, \
	{ p "lat_p50_ns", VT_U64, NULL, 0 }, \
	{ p "lat_p90_ns", VT_U64, NULL, 0 }, \
	{ p "lat_p95_ns", VT_U64, NULL, 0 }, \
	{ p "lat_p99_ns", VT_U64, NULL, 0 }, \
	{ p "lat_p999_ns", VT_U64, NULL, 0 }, \
	{ p "lat_p9999_ns", VT_U64, NULL, 0 }, \
	{ p "lat_max_ns", VT_U64, NULL, 0 }, \
	{ p "lat_overflow", VT_U64, NULL, 0 }

static const struct field_def results_fields[] = {
	{ "partial", VT_ENUM, w_bool, 0 },
	{ "state", VT_ENUM, w_res_state, 0 },
	{ "test", VT_ENUM, w_test, 0 },
	{ "test_type", VT_U64, NULL, 5 },
	{ "target", VT_TEXT, NULL, 0 },
	{ "target_dev", VT_DEVT, NULL, 0 },
	{ "target_is_remap", VT_ENUM, w_bool, 0 },
	{ "workers", VT_U64, NULL, 0 },
	{ "duration_ms", VT_U64, NULL, 0 },
	{ "ops", VT_U64, NULL, 0 },
	{ "bs", VT_U64, NULL, 0 },
	{ "qd", VT_U64, NULL, 0 },
	{ "seed", VT_U64, NULL, 0 },
	{ "rwmix", VT_U64, NULL, 100 },
	{ "verify", VT_ENUM, w_bool, 0 },
	{ "dist", VT_DIST, NULL, 0 },
	{ "cpus", VT_CPUS, NULL, 0 },
	{ "rate", VT_U64, NULL, 0 },
	{ "remaps", VT_U64, NULL, 0 },
	{ "profile", VT_ENUM, w_profile, 0 },
	{ "elapsed_ms", VT_U64, NULL, 0 },
	{ "ios", VT_U64, NULL, 0 },
	{ "bytes", VT_U64, NULL, 0 },
	{ "iops", VT_FIX2, NULL, 0 },
	{ "mbps", VT_FIX2, NULL, 0 },
	LAT(""),
	{ "read_ios", VT_U64, NULL, 0 },
	{ "read_bytes", VT_U64, NULL, 0 },
	{ "read_iops", VT_FIX2, NULL, 0 },
	LAT("read_"),
	{ "write_ios", VT_U64, NULL, 0 },
	{ "write_bytes", VT_U64, NULL, 0 },
	{ "write_iops", VT_FIX2, NULL, 0 },
	LAT("write_"),
	{ "errors", VT_U64, NULL, 0 },
	{ "error_rate", VT_FIX6, NULL, 0 },
	{ "verify_mismatches", VT_U64, NULL, 0 },
	{ "first_mismatch_sectors", VT_SECTORS, NULL, 0 },
	{ "io_sequence_digest", VT_HEX16, NULL, 0 },
	{ "regression", VT_ENUM, w_regression, 0 },
	{ "regression_iops_change_pct", VT_PCT, NULL, 0 },
	{ "regression_p99_change_pct", VT_PCT, NULL, 0 },
	{ "result", VT_ENUM, w_result, 0 },
	{ "failed_criteria", VT_CRITERIA, w_criteria, 0 },
};

const struct schema results_schema = {
	"stress_test_results", results_fields,
	sizeof(results_fields) / sizeof(results_fields[0]),
};

static const struct field_def status_fields[] = {
	{ "state", VT_ENUM, w_st_state, 0 },
	{ "test", VT_ENUM, w_st_test, 0 },
	{ "elapsed_ms", VT_U64, NULL, 0 },
	{ "duration_ms", VT_U64, NULL, 0 },
	{ "ops", VT_U64, NULL, 0 },
	{ "progress_pct", VT_U64, NULL, 100 },
	{ "ios", VT_U64, NULL, 0 },
	{ "iops_1s", VT_U64, NULL, 0 },
	{ "inflight", VT_U64, NULL, 0 },
	{ "errors", VT_U64, NULL, 0 },
	{ "verify_mismatches", VT_U64, NULL, 0 },
};

const struct schema status_schema = {
	"stress_test_status", status_fields,
	sizeof(status_fields) / sizeof(status_fields[0]),
};

unsigned int vtype_scale(enum vtype t)
{
	switch (t) {
	case VT_FIX2:
	case VT_PCT:
		return 2;
	case VT_FIX6:
		return 6;
	default:
		return 0;
	}
}

enum vtype rec_type(const struct record *r, const struct kv *kv)
{
	return kv->field < 0 ? VT_UNKNOWN : r->schema->fields[kv->field].type;
}

static int word_index(const char *const *w, const char *s, size_t n)
{
	for (int i = 0; w[i]; i++)
		if (strlen(w[i]) == n && memcmp(w[i], s, n) == 0)
			return i;
	return -1;
}

/* Unsigned fixed point with exactly `scale` decimals. */
static int parse_fixed(const char *s, size_t n, unsigned int scale, uint64_t *out)
{
	const char *dot = memchr(s, '.', n);
	uint64_t ip, fp, mul = 1;
	size_t il;

	if (!dot)
		return -1;
	il = (size_t)(dot - s);
	if (n - il - 1 != scale)
		return -1;
	if (parse_u64_strict(s, il, &ip) < 0)
		return -1;
	for (size_t i = il + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	fp = 0;
	for (size_t i = il + 1; i < n; i++)
		fp = fp * 10 + (uint64_t)(s[i] - '0');
	for (unsigned int i = 0; i < scale; i++)
		mul *= 10;
	if (ip > (UINT64_MAX - fp) / mul)
		return -1;
	*out = ip * mul + fp;
	return 0;
}

static int is_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int check_cpus(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 3 && memcmp(s, "all", 3) == 0)
		return 0;
	while (i < n) {
		size_t st = i;
		uint64_t a, b;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (parse_u64_strict(s + st, i - st, &a) < 0)
			return -1;
		if (i < n && s[i] == '-') {
			st = ++i;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (parse_u64_strict(s + st, i - st, &b) < 0 || b < a)
				return -1;
		}
		if (i == n)
			return 0;
		if (s[i] != ',' || i + 1 == n)
			return -1;
		i++;
	}
	return -1;
}

/* Validate and convert one value. Returns an explanation on error. */
static const char *parse_value(const struct field_def *f, struct kv *kv)
{
	const char *s = kv->raw;
	size_t n = strlen(s);

	switch (f->type) {
	case VT_U64:
		if (parse_u64_strict(s, n, &kv->u) < 0)
			return "not an unsigned decimal integer";
		if (f->max && kv->u > f->max)
			return "out of range";
		return NULL;
	case VT_FIX2:
	case VT_FIX6:
		if (parse_fixed(s, n, vtype_scale(f->type), &kv->u) < 0)
			return f->type == VT_FIX2 ? "not a decimal with exactly 2 decimals"
						  : "not a decimal with exactly 6 decimals";
		return NULL;
	case VT_PCT: {
		int neg = s[0] == '-';
		uint64_t m;

		if (strcmp(s, "n/a") == 0) {
			kv->null = 1;
			return NULL;
		}
		if (parse_fixed(s + neg, n - (size_t)neg, 2, &m) < 0 || m > INT64_MAX)
			return "not n/a or a signed decimal with exactly 2 decimals";
		kv->s = neg ? -(int64_t)m : (int64_t)m;
		return NULL;
	}
	case VT_ENUM: {
		int i = word_index(f->words, s, n);

		if (i < 0)
			return "not one of the documented values";
		kv->u = (uint64_t)i;
		return NULL;
	}
	case VT_TEXT:
		return NULL;	/* printable, checked by the line parser */
	case VT_DEVT: {
		const char *c = memchr(s, ':', n);
		uint64_t ma, mi;

		if (!c || parse_u64_strict(s, (size_t)(c - s), &ma) < 0 ||
		    parse_u64_strict(c + 1, n - (size_t)(c - s) - 1, &mi) < 0 ||
		    ma > 4095 || mi > 1048575)
			return "not MAJOR:MINOR";
		kv->u = ma << 20 | mi;
		return NULL;
	}
	case VT_DIST: {
		const char *d;

		if (strcmp(s, "uniform") == 0)
			return NULL;
		if (n < 6 || memcmp(s, "zipf:", 5) != 0)
			return "not uniform or zipf:<theta>";
		s += 5;
		n -= 5;
		d = memchr(s, '.', n);
		if (d ? !is_digits(s, (size_t)(d - s)) || !is_digits(d + 1, n - (size_t)(d - s) - 1)
		      : !is_digits(s, n))
			return "not uniform or zipf:<theta>";
		return NULL;
	}
	case VT_CPUS:
		if (check_cpus(s, n) < 0)
			return "not all or a cpu list";
		return NULL;
	case VT_SECTORS: {
		size_t i = 0;

		if (strcmp(s, "none") == 0) {
			kv->null = 1;
			return NULL;
		}
		while (i < n) {
			size_t st = i;

			while (i < n && s[i] != ' ')
				i++;
			if (kv->nlist == 8)
				return "more than 8 sectors";
			if (parse_u64_strict(s + st, i - st, &kv->list[kv->nlist]) < 0)
				return "not none or sector numbers separated by one space";
			kv->nlist++;
			if (i < n && ++i == n)
				return "trailing space";
		}
		return NULL;
	}
	case VT_HEX16:
		if (n != 16)
			return "not 16 lowercase hex digits";
		kv->u = 0;
		for (size_t i = 0; i < n; i++) {
			char c = s[i];
			unsigned int d;

			if (c >= '0' && c <= '9')
				d = (unsigned int)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned int)(c - 'a' + 10);
			else
				return "not 16 lowercase hex digits";
			kv->u = kv->u << 4 | d;
		}
		return NULL;
	case VT_CRITERIA: {
		size_t i = 0;
		uint64_t seen = 0;

		if (strcmp(s, "none") == 0) {
			kv->null = 1;
			return NULL;
		}
		while (i <= n) {
			size_t st = i;
			int w;

			while (i < n && s[i] != ',')
				i++;
			w = word_index(f->words, s + st, i - st);
			if (w < 0)
				return "not none or a comma-separated list of documented criteria";
			if (seen & (1ULL << w))
				return "criterion listed twice";
			seen |= 1ULL << w;
			kv->list[kv->nlist++] = (uint64_t)w;
			if (i == n)
				break;
			i++;
			if (i == n)
				return "trailing comma";
		}
		return NULL;
	}
	case VT_UNKNOWN:
		return NULL;
	}
	return "bad type";
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int find_field(const struct schema *s, const char *key, size_t n)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (strlen(s->fields[i].key) == n && memcmp(s->fields[i].key, key, n) == 0)
			return (int)i;
	return -1;
}

/* Cross-field rules the documentation states. */
static int check_consistency(struct record *r, const char *origin)
{
	if (r->schema != &results_schema)
		return 0;
	if (rec_u(r, "test_type") != rec_get(r, "test")->u) {
		dmr_seterr("%s: test_type %llu does not match test '%s'", origin,
			   (unsigned long long)rec_u(r, "test_type"), rec_s(r, "test"));
		return -1;
	}
	if ((strcmp(rec_s(r, "partial"), "1") == 0) != (strcmp(rec_s(r, "state"), "running") == 0)) {
		dmr_seterr("%s: partial: %s contradicts state: %s (only a running test is partial)",
			   origin, rec_s(r, "partial"), rec_s(r, "state"));
		return -1;
	}
	if (strcmp(rec_s(r, "result"), "PASS") == 0 && !rec_get(r, "failed_criteria")->null) {
		dmr_seterr("%s: result: PASS with failed_criteria: %s", origin,
			   rec_s(r, "failed_criteria"));
		return -1;
	}
	return 0;
}

int record_parse(struct record *r, const struct schema *s, const char *buf,
		 size_t len, const char *origin)
{
	size_t pos = 0, cap = s->nfields + 8, next = 0;
	unsigned int line = 0;

	memset(r, 0, sizeof(*r));
	r->schema = s;
	r->kv = xcalloc(cap, sizeof(*r->kv));
	r->index = xmalloc(s->nfields * sizeof(*r->index));
	for (size_t i = 0; i < s->nfields; i++)
		r->index[i] = -1;

	if (len == 0) {
		dmr_seterr("%s: empty (no test has run yet?)", origin);
		goto fail;
	}
	if (memchr(buf, '\0', len)) {
		dmr_seterr("%s: NUL byte at offset %zu", origin,
			   (size_t)((const char *)memchr(buf, '\0', len) - buf));
		goto fail;
	}
	while (pos < len) {
		const char *l = buf + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll, k = 0, vl;
		const char *v, *why;
		struct kv *kv;
		int fi;

		line++;
		if (!nl) {
			dmr_seterr("%s: line %u: truncated (no newline at the end)", origin, line);
			goto fail;
		}
		ll = (size_t)(nl - l);
		pos += ll + 1;
		while (k < ll && key_char(l[k]))
			k++;
		if (k == 0 || k + 2 > ll || l[k] != ':' || l[k + 1] != ' ') {
			dmr_seterr("%s: line %u: not a 'key: value' line", origin, line);
			goto fail;
		}
		v = l + k + 2;
		vl = ll - k - 2;
		if (vl == 0 || v[0] == ' ' || v[vl - 1] == ' ') {
			dmr_seterr("%s: line %u: %.*s: empty value or stray blank", origin, line,
				   (int)k, l);
			goto fail;
		}
		if (vl > 1024) {
			dmr_seterr("%s: line %u: %.*s: value longer than 1024 bytes", origin, line,
				   (int)k, l);
			goto fail;
		}
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < 0x20 || v[i] > 0x7e) {
				dmr_seterr("%s: line %u: %.*s: non-printable byte 0x%02x in value",
					   origin, line, (int)k, l, (unsigned char)v[i]);
				goto fail;
			}
		}
		for (size_t i = 0; i < r->n; i++) {
			if (strlen(r->kv[i].key) == k && memcmp(r->kv[i].key, l, k) == 0) {
				dmr_seterr("%s: line %u: duplicate key '%.*s'", origin, line, (int)k, l);
				goto fail;
			}
		}
		fi = find_field(s, l, k);
		if (fi >= 0 && (size_t)fi != next) {
			if ((size_t)fi < next)
				dmr_seterr("%s: line %u: key '%.*s' out of order", origin, line,
					   (int)k, l);
			else
				dmr_seterr("%s: line %u: expected key '%s', got '%.*s' (missing or reordered)",
					   origin, line, s->fields[next].key, (int)k, l);
			goto fail;
		}
		if (r->n == cap) {
			cap *= 2;
			r->kv = xrealloc(r->kv, cap * sizeof(*r->kv));
			memset(r->kv + r->n, 0, (cap - r->n) * sizeof(*r->kv));
		}
		kv = &r->kv[r->n++];
		kv->key = xstrndup(l, k);
		kv->raw = xstrndup(v, vl);
		kv->field = fi;
		if (fi < 0)
			continue;
		why = parse_value(&s->fields[fi], kv);
		if (why) {
			dmr_seterr("%s: line %u: %s: '%s' is %s", origin, line, kv->key, kv->raw, why);
			goto fail;
		}
		r->index[fi] = (int)(r->n - 1);
		next++;
	}
	if (next < s->nfields) {
		dmr_seterr("%s: truncated: missing key '%s'%s", origin, s->fields[next].key,
			   next + 1 < s->nfields ? " and the keys after it" : "");
		goto fail;
	}
	if (check_consistency(r, origin) < 0)
		goto fail;
	return 0;
fail:
	record_free(r);
	return -1;
}

void record_free(struct record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->kv[i].key);
		free(r->kv[i].raw);
	}
	free(r->kv);
	free(r->index);
	memset(r, 0, sizeof(*r));
}

const struct kv *rec_get(const struct record *r, const char *key)
{
	int fi = find_field(r->schema, key, strlen(key));

	if (fi >= 0)
		return r->index[fi] >= 0 ? &r->kv[r->index[fi]] : NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->kv[i].key, key) == 0)
			return &r->kv[i];
	return NULL;
}

uint64_t rec_u(const struct record *r, const char *key)
{
	const struct kv *kv = rec_get(r, key);

	return kv ? kv->u : 0;
}

const char *rec_s(const struct record *r, const char *key)
{
	const struct kv *kv = rec_get(r, key);

	return kv ? kv->raw : "";
}

double rec_d(const struct record *r, const char *key)
{
	const struct kv *kv = rec_get(r, key);

	if (!kv || kv->null)
		return NAN;
	switch (rec_type(r, kv)) {
	case VT_U64:
		return (double)kv->u;
	case VT_FIX2:
		return (double)kv->u / 100.0;
	case VT_FIX6:
		return (double)kv->u / 1e6;
	case VT_PCT:
		return (double)kv->s / 100.0;
	default:
		return NAN;
	}
}

void kv_render(const struct record *r, const struct kv *kv, char *buf, size_t sz)
{
	const struct field_def *f = kv->field >= 0 ? &r->schema->fields[kv->field] : NULL;
	size_t off = 0;

	if (!f) {
		snprintf(buf, sz, "%s", kv->raw);
		return;
	}
	switch (f->type) {
	case VT_U64:
		snprintf(buf, sz, "%llu", (unsigned long long)kv->u);
		break;
	case VT_FIX2:
	case VT_FIX6:
		fmt_fixed_u(buf, sz, kv->u, vtype_scale(f->type));
		break;
	case VT_PCT:
		if (kv->null)
			snprintf(buf, sz, "n/a");
		else
			fmt_fixed_s(buf, sz, kv->s, 2);
		break;
	case VT_ENUM:
		snprintf(buf, sz, "%s", f->words[kv->u]);
		break;
	case VT_DEVT:
		snprintf(buf, sz, "%llu:%llu", (unsigned long long)(kv->u >> 20),
			 (unsigned long long)(kv->u & 1048575));
		break;
	case VT_HEX16:
		snprintf(buf, sz, "%016llx", (unsigned long long)kv->u);
		break;
	case VT_SECTORS:
		if (kv->null) {
			snprintf(buf, sz, "none");
			break;
		}
		buf[0] = '\0';
		for (unsigned int i = 0; i < kv->nlist && off < sz; i++)
			off += (size_t)snprintf(buf + off, sz - off, "%s%llu", i ? " " : "",
						(unsigned long long)kv->list[i]);
		break;
	case VT_CRITERIA:
		if (kv->null) {
			snprintf(buf, sz, "none");
			break;
		}
		buf[0] = '\0';
		for (unsigned int i = 0; i < kv->nlist && off < sz; i++)
			off += (size_t)snprintf(buf + off, sz - off, "%s%s", i ? "," : "",
						f->words[kv->list[i]]);
		break;
	default:
		snprintf(buf, sz, "%s", kv->raw);
		break;
	}
}

char *record_emit(const struct record *r)
{
	size_t cap = 4096, len = 0;
	char *out = xmalloc(cap), val[1100];

	for (size_t i = 0; i < r->n; i++) {
		size_t need;

		kv_render(r, &r->kv[i], val, sizeof(val));
		need = strlen(r->kv[i].key) + strlen(val) + 4;
		if (len + need >= cap) {
			cap = (cap + need) * 2;
			out = xrealloc(out, cap);
		}
		len += (size_t)snprintf(out + len, cap - len, "%s: %s\n", r->kv[i].key, val);
	}
	out[len] = '\0';
	return out;
}
