// SPDX-License-Identifier: GPL-2.0
/* dmr-stress: fio-style option values (sizes, durations, percents). */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dmr.h"

/* Leading decimal digits of s; returns the number of digits, 0 if none or overflow. */
static size_t leading_u64(const char *s, uint64_t *v)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n > 19) {
		/* 20 digits may still fit; be strict and simple */
		if (n == 20 && parse_u64_strict(s, n, v) == 0)
			return n;
		return 0;
	}
	/* accept leading zeros in options ("010" is 10) */
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	return n;
}

static int mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a && b > UINT64_MAX / a)
		return -1;
	*r = a * b;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *sfx; uint64_t mul; } sfx[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 1ULL << 10 }, { "kb", 1ULL << 10 }, { "kib", 1ULL << 10 },
		{ "m", 1ULL << 20 }, { "mb", 1ULL << 20 }, { "mib", 1ULL << 20 },
		{ "g", 1ULL << 30 }, { "gb", 1ULL << 30 }, { "gib", 1ULL << 30 },
		{ "t", 1ULL << 40 }, { "tb", 1ULL << 40 }, { "tib", 1ULL << 40 },
	};
	uint64_t v;
	size_t n = leading_u64(s, &v);

	if (!n) {
		dmr_seterr("'%s' is not a size (examples: 4096, 4k, 1M)", s);
		return -1;
	}
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcasecmp(s + n, sfx[i].sfx) == 0) {
			if (mul_ok(v, sfx[i].mul, bytes) < 0) {
				dmr_seterr("size '%s' is too large", s);
				return -1;
			}
			return 0;
		}
	}
	dmr_seterr("'%s': unknown size suffix '%s' (use k, m, g; 1024-based like fio)", s, s + n);
	return -1;
}

int parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct { const char *sfx; uint64_t mul; } sfx[] = {
		{ "", 1000 }, { "s", 1000 }, { "sec", 1000 }, { "ms", 1 },
		{ "m", 60000 }, { "min", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t v;
	size_t n = leading_u64(s, &v);

	if (!n) {
		dmr_seterr("'%s' is not a duration (examples: 30s, 2m, 1h, 500ms; a bare number is seconds)", s);
		return -1;
	}
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcasecmp(s + n, sfx[i].sfx) == 0) {
			if (mul_ok(v, sfx[i].mul, ms) < 0) {
				dmr_seterr("duration '%s' is too large", s);
				return -1;
			}
			return 0;
		}
	}
	dmr_seterr("'%s': unknown time suffix '%s' (use ms, s, m, h, d)", s, s + n);
	return -1;
}

int parse_percent(const char *s, int64_t *hundredths)
{
	uint64_t ip, fp = 0;
	size_t n = leading_u64(s, &ip), fd = 0;
	const char *p = s + n;

	if (!n || ip > 1000000)
		goto bad;
	if (*p == '.') {
		p++;
		while (p[fd] >= '0' && p[fd] <= '9') {
			if (fd < 2)
				fp = fp * 10 + (uint64_t)(p[fd] - '0');
			else if (p[fd] != '0')
				goto bad;	/* finer than 0.01 % */
			fd++;
		}
		if (!fd)
			goto bad;
		if (fd == 1)
			fp *= 10;
		p += fd;
	}
	if (*p == '%')
		p++;
	if (*p)
		goto bad;
	*hundredths = (int64_t)(ip * 100 + fp);
	return 0;
bad:
	dmr_seterr("'%s' is not a percentage (examples: 10%%, 12.5%%)", s);
	return -1;
}

int parse_uint_opt(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	size_t n = leading_u64(s, &v);

	if (!n || s[n]) {
		dmr_seterr("'%s' is not a number", s);
		return -1;
	}
	if (v < min || v > max) {
		dmr_seterr("%s is out of range %llu..%llu", s, (unsigned long long)min,
			   (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}
