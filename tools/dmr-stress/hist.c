// SPDX-License-Identifier: GPL-2.0
/*
 * dmr-stress: the `histogram` file: strict parser, bpftrace-style terminal
 * rendering with power-of-two buckets, and an SVG plot.
 *
 * Format: one non-empty bucket a line, "<lower_ns> <upper_ns> <count>\n",
 * upper exclusive, ascending and non-overlapping; an overflow bucket
 * "<lower_ns> inf <count>\n" may only be the last line. An empty file is an
 * empty histogram (no I/O yet).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dmr.h"

static int field(const char **p, const char *end, char sep, const char **s, size_t *n)
{
	const char *q = *p;

	while (q < end && *q != sep)
		q++;
	if (q == end)
		return -1;
	*s = *p;
	*n = (size_t)(q - *p);
	*p = q + 1;
	return 0;
}

int hist_parse(struct histogram *h, const char *buf, size_t len, const char *origin)
{
	const char *p = buf, *end = buf + len;
	size_t cap = 16;
	unsigned int line = 0;
	uint64_t prev_hi = 0;

	memset(h, 0, sizeof(*h));
	h->b = xcalloc(cap, sizeof(*h->b));
	if (memchr(buf, '\0', len)) {
		dmr_seterr("%s: NUL byte at offset %zu", origin,
			   (size_t)((const char *)memchr(buf, '\0', len) - buf));
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *s1, *s2, *s3;
		size_t n1, n2, n3;
		struct bucket b;

		line++;
		if (!nl) {
			dmr_seterr("%s: line %u: truncated (no newline at the end)", origin, line);
			goto fail;
		}
		if (h->n && h->b[h->n - 1].hi == 0) {
			dmr_seterr("%s: line %u: bucket after the overflow bucket", origin, line);
			goto fail;
		}
		if (field(&p, nl, ' ', &s1, &n1) < 0 || field(&p, nl, ' ', &s2, &n2) < 0) {
			dmr_seterr("%s: line %u: not '<lower_ns> <upper_ns> <count>'", origin, line);
			goto fail;
		}
		s3 = p;
		n3 = (size_t)(nl - p);
		p = nl + 1;
		if (parse_u64_strict(s1, n1, &b.lo) < 0 || parse_u64_strict(s3, n3, &b.count) < 0 ||
		    (!(n2 == 3 && memcmp(s2, "inf", 3) == 0) &&
		     parse_u64_strict(s2, n2, &b.hi) < 0)) {
			dmr_seterr("%s: line %u: not '<lower_ns> <upper_ns> <count>' with unsigned integers",
				   origin, line);
			goto fail;
		}
		if (n2 == 3 && memcmp(s2, "inf", 3) == 0)
			b.hi = 0;
		else if (b.hi <= b.lo) {
			dmr_seterr("%s: line %u: upper bound %llu not above lower bound %llu", origin,
				   line, (unsigned long long)b.hi, (unsigned long long)b.lo);
			goto fail;
		}
		if (b.count == 0) {
			dmr_seterr("%s: line %u: empty bucket (only non-empty buckets are listed)",
				   origin, line);
			goto fail;
		}
		if (h->n && b.lo < prev_hi) {
			dmr_seterr("%s: line %u: bucket starting at %llu overlaps or is out of order",
				   origin, line, (unsigned long long)b.lo);
			goto fail;
		}
		if (h->total > UINT64_MAX - b.count) {
			dmr_seterr("%s: line %u: counts overflow", origin, line);
			goto fail;
		}
		if (h->n == cap) {
			cap *= 2;
			h->b = xrealloc(h->b, cap * sizeof(*h->b));
		}
		h->b[h->n++] = b;
		h->total += b.count;
		prev_hi = b.hi;
	}
	return 0;
fail:
	hist_free(h);
	return -1;
}

void hist_free(struct histogram *h)
{
	free(h->b);
	memset(h, 0, sizeof(*h));
}

char *hist_emit(const struct histogram *h)
{
	size_t cap = h->n * 64 + 1, len = 0;
	char *out = xmalloc(cap);

	out[0] = '\0';
	for (size_t i = 0; i < h->n; i++) {
		if (h->b[i].hi)
			len += (size_t)snprintf(out + len, cap - len, "%llu %llu %llu\n",
						(unsigned long long)h->b[i].lo,
						(unsigned long long)h->b[i].hi,
						(unsigned long long)h->b[i].count);
		else
			len += (size_t)snprintf(out + len, cap - len, "%llu inf %llu\n",
						(unsigned long long)h->b[i].lo,
						(unsigned long long)h->b[i].count);
	}
	return out;
}

/* bpftrace's labels: 1K = 1024. */
static void pow2_label(char *buf, size_t sz, int k)
{
	if (k >= 60)
		snprintf(buf, sz, "%lluE", 1ULL << (k - 60));
	else if (k >= 50)
		snprintf(buf, sz, "%lluP", 1ULL << (k - 50));
	else if (k >= 40)
		snprintf(buf, sz, "%lluT", 1ULL << (k - 40));
	else if (k >= 30)
		snprintf(buf, sz, "%lluG", 1ULL << (k - 30));
	else if (k >= 20)
		snprintf(buf, sz, "%lluM", 1ULL << (k - 20));
	else if (k >= 10)
		snprintf(buf, sz, "%lluK", 1ULL << (k - 10));
	else
		snprintf(buf, sz, "%llu", 1ULL << k);
}

static int ilog2_u64(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

/*
 * Power-of-two aggregation: slot 0 holds [0, 1), slot k+1 holds [2^k, 2^k+1),
 * slot 65 the overflow bucket. A raw bucket counts in the slot of its lower
 * bound; *straddle tells whether one spans a power of two.
 */
#define NSLOTS 66
static void log2_slots(const struct histogram *h, uint64_t *slot, int *straddle)
{
	memset(slot, 0, NSLOTS * sizeof(*slot));
	*straddle = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct bucket *b = &h->b[i];
		int s;

		if (!b->hi) {
			slot[65] += b->count;
			continue;
		}
		s = b->lo ? ilog2_u64(b->lo) + 1 : 0;
		if (s == 0 ? b->hi > 1 : (s < 64 && b->hi > (2ULL << (s - 1))))
			*straddle = 1;
		slot[s] += b->count;
	}
}

static void bar(FILE *out, uint64_t count, uint64_t max, int width)
{
	int n = max ? (int)((long double)count * width / max) : 0;

	fputc('|', out);
	for (int i = 0; i < width; i++)
		fputc(i < n ? '@' : ' ', out);
	fputs("|\n", out);
}

void hist_print_log2(FILE *out, const struct histogram *h, const char *title, int width)
{
	uint64_t slot[NSLOTS], max = 0;
	int straddle, first = -1, last = -1;
	char a[24], b[24], label[64];

	log2_slots(h, slot, &straddle);
	for (int s = 0; s < NSLOTS - 1; s++) {
		if (!slot[s])
			continue;
		if (first < 0)
			first = s;
		last = s;
	}
	for (int s = 0; s < NSLOTS; s++)
		if (slot[s] > max)
			max = slot[s];
	fprintf(out, "@%s:\n", title);
	if (!h->total) {
		fputs("(empty: no I/O recorded)\n", out);
		return;
	}
	for (int s = first; s >= 0 && s <= last; s++) {
		if (s == 0) {
			snprintf(label, sizeof(label), "[0]");
		} else {
			pow2_label(a, sizeof(a), s - 1);
			if (s == 64)
				snprintf(b, sizeof(b), "...");
			else
				pow2_label(b, sizeof(b), s);
			snprintf(label, sizeof(label), "[%s, %s)", a, b);
		}
		fprintf(out, "%-20s%8llu ", label, (unsigned long long)slot[s]);
		bar(out, slot[s], max, width);
	}
	if (slot[65]) {
		for (size_t i = 0; i < h->n; i++) {
			if (h->b[i].hi)
				continue;
			if (h->b[i].lo && (h->b[i].lo & (h->b[i].lo - 1)) == 0)
				pow2_label(a, sizeof(a), ilog2_u64(h->b[i].lo));
			else
				snprintf(a, sizeof(a), "%llu", (unsigned long long)h->b[i].lo);
		}
		snprintf(label, sizeof(label), "[%s, inf)", a);
		fprintf(out, "%-20s%8llu ", label, (unsigned long long)slot[65]);
		bar(out, slot[65], max, width);
	}
	if (straddle)
		fputs("(a bucket spanning a power of two is counted in the row of its lower bound)\n",
		      out);
}

void hist_print_raw(FILE *out, const struct histogram *h, int width)
{
	uint64_t max = 0;
	char label[64];

	for (size_t i = 0; i < h->n; i++)
		if (h->b[i].count > max)
			max = h->b[i].count;
	for (size_t i = 0; i < h->n; i++) {
		if (h->b[i].hi)
			snprintf(label, sizeof(label), "[%llu, %llu)", (unsigned long long)h->b[i].lo,
				 (unsigned long long)h->b[i].hi);
		else
			snprintf(label, sizeof(label), "[%llu, inf)", (unsigned long long)h->b[i].lo);
		fprintf(out, "%-28s%10llu ", label, (unsigned long long)h->b[i].count);
		bar(out, h->b[i].count, max, width);
	}
}

static void time_label(char *buf, size_t sz, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, sz, "%gs", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, sz, "%gms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, sz, "%gus", ns / 1e3);
	else
		snprintf(buf, sz, "%gns", ns);
}

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out); break;
		}
	}
}

int hist_svg(FILE *out, const struct histogram *h, const struct record *res)
{
	const int W = 900, H = 420, L = 80, R = 20, T = 50, B = 70;
	const int pw = W - L - R, ph = H - T - B;
	uint64_t slot[NSLOTS], max = 0;
	int straddle, first = -1, last = -1, nbars;
	double bw;
	char lab[32];

	log2_slots(h, slot, &straddle);
	for (int s = 0; s < NSLOTS; s++) {
		if (!slot[s])
			continue;
		if (first < 0)
			first = s;
		if (s < 65)
			last = s;
		if (slot[s] > max)
			max = slot[s];
	}
	if (first == 65)
		first = last = 64;	/* only the overflow bucket */
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
	fputs("<text x=\"450\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">I/O latency", out);
	if (res) {
		fputs(": ", out);
		xml_text(out, rec_s(res, "test"));
		fputs(" on ", out);
		xml_text(out, rec_s(res, "target"));
	}
	fprintf(out, " (%llu I/Os)</text>\n", (unsigned long long)h->total);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
		L, T + ph, L + pw, T + ph);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
		L, T, L, T + ph);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (log2 buckets)</text>\n",
		L + pw / 2, H - 15);
	fprintf(out, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">I/Os</text>\n",
		T + ph / 2, T + ph / 2);
	if (first < 0) {
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no I/O recorded</text>\n",
			L + pw / 2, T + ph / 2);
		fputs("</svg>\n", out);
		return ferror(out) ? -1 : 0;
	}
	nbars = last - first + 1 + (slot[65] ? 1 : 0);
	bw = (double)pw / nbars;
	for (int i = 0; i <= 4; i++) {
		double y = T + ph - (double)ph * i / 4;

		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			L, y, L + pw, y);
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n", L - 6,
			y + 4, (unsigned long long)((long double)max * i / 4));
	}
	for (int i = 0; i < nbars; i++) {
		int s = first + i > last ? 65 : first + i;
		double x = L + bw * i, bh = max ? (double)ph * (double)slot[s] / (double)max : 0;
		double lo = s == 0 ? 0 : ldexp(1.0, s - 1);

		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			"<title>%llu</title></rect>\n", x + 1, T + ph - bh, bw - 2 > 1 ? bw - 2 : 1, bh,
			s == 65 ? "#c0392b" : "#2e86c1", (unsigned long long)slot[s]);
		if (s == 65)
			snprintf(lab, sizeof(lab), "overflow");
		else
			time_label(lab, sizeof(lab), lo);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
			"transform=\"rotate(-45 %.1f %d)\" font-size=\"10\">%s</text>\n",
			x + bw / 2, T + ph + 14, x + bw / 2, T + ph + 14, lab);
	}
	if (res) {
		static const char *const pk[] = { "lat_p50_ns", "lat_p99_ns", "lat_p999_ns" };
		static const char *const pn[] = { "p50", "p99", "p99.9" };

		for (int i = 0; i < 3; i++) {
			uint64_t v = rec_u(res, pk[i]);
			double pos;

			if (!v)
				continue;
			pos = log2((double)v) + 1;
			if (pos < first || pos > last + 1)
				continue;
			pos = L + bw * (pos - first);
			fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e67e22\" "
				"stroke-dasharray=\"4 3\"/>\n", pos, T, pos, T + ph);
			time_label(lab, sizeof(lab), (double)v);
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#e67e22\">%s %s</text>\n",
				pos + 3, T + 12 + 12 * i, pn[i], lab);
		}
	}
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
