/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmr-stress: userspace tool for the dm-remap-stress kernel module.
 * Shared declarations.
 */
#ifndef DMR_H
#define DMR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DMR_VERSION "1.0"
#define DMR_SYSFS_DEFAULT "/sys/kernel/dm_remap_stress_test"
#define DMR_DB_DEFAULT "/var/lib/dm-remap/history.db"

/* Exit statuses (documented in dmr-stress.8). */
enum {
	EXIT_PASS = 0,
	EXIT_FAILED = 1,
	EXIT_REGRESSION = 2,
	EXIT_USAGE = 3,
	EXIT_KERNEL = 4,
};

/* ---- util.c ---- */
/* The last error message; functions returning -1 set it. */
void dmr_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *dmr_err(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Read a whole file (at most max bytes, more is an error). *len excludes the NUL. */
char *read_file(const char *path, size_t max, size_t *len);
/* Read everything from a stream. */
char *read_stream(FILE *f, size_t max, size_t *len);
/* Write buf to path in one write(2) (sysfs store semantics). */
int write_attr(const char *path, const char *buf);
/* Write a file atomically (temporary file + rename). */
int write_file_atomic(const char *path, const char *buf, size_t len);
int mkdir_p(const char *dir);
/* Exact decimal rendering of an unsigned value divided by 10^scale. */
void fmt_fixed_u(char *buf, size_t sz, uint64_t v, unsigned int scale);
void fmt_fixed_s(char *buf, size_t sz, int64_t v, unsigned int scale);
/* Strict unsigned decimal (no sign, no leading zeros, no overflow). */
int parse_u64_strict(const char *s, size_t n, uint64_t *out);

/* ---- units.c ---- */
/* fio-style sizes: 4k, 1M, 512, 4KiB (1024 based). */
int parse_size(const char *s, uint64_t *bytes);
/* Durations: 30s, 2m, 1h, 500ms, 1d; a bare number is seconds (like fio). */
int parse_duration_ms(const char *s, uint64_t *ms);
/* Percent: "10%", "10", "12.5%" -> hundredths of a percent. */
int parse_percent(const char *s, int64_t *hundredths);
int parse_uint_opt(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* ---- kv.c: strict parser for the `key: value` files ---- */
enum vtype {
	VT_U64,		/* unsigned decimal */
	VT_FIX2,	/* unsigned fixed point, 2 decimals */
	VT_FIX6,	/* unsigned fixed point, 6 decimals */
	VT_PCT,		/* signed fixed point, 2 decimals, or n/a */
	VT_ENUM,	/* one word out of a list */
	VT_TEXT,	/* printable text (device path) */
	VT_DEVT,	/* MAJ:MIN */
	VT_DIST,	/* uniform | zipf:<theta> */
	VT_CPUS,	/* all | cpulist */
	VT_SECTORS,	/* none | up to 8 sector numbers */
	VT_HEX16,	/* 16 lowercase hex digits */
	VT_CRITERIA,	/* none | comma separated list */
	VT_UNKNOWN,	/* key not in the schema: kept verbatim */
};

struct field_def {
	const char *key;
	enum vtype type;
	const char *const *words;	/* VT_ENUM, VT_CRITERIA */
	uint64_t max;			/* VT_U64: 0 = no limit */
};

struct schema {
	const char *name;		/* file name, for messages */
	const struct field_def *fields;
	size_t nfields;
};

extern const struct schema results_schema;
extern const struct schema status_schema;

struct kv {
	char *key;
	char *raw;		/* the value text as read */
	int field;		/* index in the schema, -1 if unknown */
	int null;		/* VT_PCT n/a, VT_SECTORS/VT_CRITERIA none */
	uint64_t u;		/* VT_U64, VT_FIX* (scaled), VT_HEX16 */
	int64_t s;		/* VT_PCT (scaled) */
	uint64_t list[8];	/* VT_SECTORS */
	unsigned int nlist;
};

struct record {
	const struct schema *schema;
	struct kv *kv;
	size_t n;
	int *index;		/* schema field -> kv index */
};

/* Parse buf (len bytes). origin names the input in error messages. */
int record_parse(struct record *r, const struct schema *s, const char *buf,
		 size_t len, const char *origin);
void record_free(struct record *r);
/* Render back from the parsed values (the round-trip the tests check). */
char *record_emit(const struct record *r);
const struct kv *rec_get(const struct record *r, const char *key);
uint64_t rec_u(const struct record *r, const char *key);
const char *rec_s(const struct record *r, const char *key);
/* Numeric value as a double (VT_U64, VT_FIX*, VT_PCT); NaN if n/a. */
double rec_d(const struct record *r, const char *key);
/* The canonical text of a value (from the parsed representation). */
void kv_render(const struct record *r, const struct kv *kv, char *buf, size_t sz);
unsigned int vtype_scale(enum vtype t);
enum vtype rec_type(const struct record *r, const struct kv *kv);

/* ---- hist.c ---- */
struct bucket {
	uint64_t lo, hi;	/* [lo, hi); hi == 0 means infinity */
	uint64_t count;
};

struct histogram {
	struct bucket *b;
	size_t n;
	uint64_t total;
};

int hist_parse(struct histogram *h, const char *buf, size_t len, const char *origin);
void hist_free(struct histogram *h);
char *hist_emit(const struct histogram *h);
/* Power-of-two buckets, bpftrace style. */
void hist_print_log2(FILE *out, const struct histogram *h, const char *title, int width);
void hist_print_raw(FILE *out, const struct histogram *h, int width);
int hist_svg(FILE *out, const struct histogram *h, const struct record *res);

/* ---- report.c: a parsed run (results + optional histogram and report text) ---- */
struct run {
	struct record res;
	int have_hist;
	struct histogram hist;
	char *report_text;	/* comprehensive_report, may be NULL */
	char *raw;		/* results text as read */
	size_t raw_len;
	char *hist_raw;
	size_t hist_raw_len;
	char *origin;
};

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_PROM };
int parse_format(const char *s, enum fmt *f);
/* Load from a directory (sysfs root or saved copy), a results file or "-". */
int run_load(struct run *run, const char *src);
/* A run of a results text only (no histogram), taking @raw (malloc'd). */
int run_from_text(struct run *run, char *raw, size_t len, const char *origin);
void run_free(struct run *run);
int run_print(FILE *out, const struct run *run, enum fmt f, int full);
void print_text(FILE *out, const struct run *run, int full);
int print_json(FILE *out, const struct run *run, int full);
void print_csv(FILE *out, const struct record *r);
void print_prom(FILE *out, const struct run *run);
/* Exit status for a parsed result (0 pass, 1 fail, 2 regression). */
int result_exit(const struct record *r);
void csv_field(FILE *out, const char *s);
void fmt_ns_us(char *buf, size_t sz, uint64_t ns);

/* ---- history.c ---- */
const char *default_db(void);
int history_add(const char *db, const struct run *run, int64_t when, int64_t *id);
int cmd_history(int argc, char **argv, const char *db);

#endif
