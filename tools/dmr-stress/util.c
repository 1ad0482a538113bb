// SPDX-License-Identifier: GPL-2.0
/* dmr-stress: small helpers (errors, memory, files, exact decimals). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmr.h"

static char errbuf[1024];

void dmr_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *dmr_err(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

static void oom(void)
{
	fputs("dmr-stress: out of memory\n", stderr);
	exit(EXIT_KERNEL);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *read_stream(FILE *f, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap + 1);

	for (;;) {
		size_t got;

		if (n == cap) {
			if (cap > max) {
				free(buf);
				dmr_seterr("input larger than %zu bytes", max);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno;

				free(buf);
				dmr_seterr("%s", strerror(e));
				errno = e;
				return NULL;
			}
			break;
		}
	}
	if (n > max) {
		free(buf);
		dmr_seterr("input larger than %zu bytes", max);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *read_file(const char *path, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		dmr_seterr("%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t got;

		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			free(buf);
			dmr_seterr("%s: %s", path, strerror(e));
			errno = e;
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (n > max) {
		free(buf);
		dmr_seterr("%s: larger than %zu bytes", path, max);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int write_attr(const char *path, const char *buf)
{
	size_t len = strlen(buf);
	const char *name = strrchr(path, '/');
	ssize_t w;
	int fd, e;

	name = name ? name + 1 : path;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		dmr_seterr("%s: %s", name, strerror(e));
		errno = e;
		return -1;
	}
	do {
		w = write(fd, buf, len);
	} while (w < 0 && errno == EINTR);
	e = errno;
	if (w >= 0 && (size_t)w != len) {
		close(fd);
		dmr_seterr("%s: short write (%zd of %zu bytes)", name, w, len);
		errno = EIO;
		return -1;
	}
	if (w < 0) {
		close(fd);
		dmr_seterr("%s: %s", name, strerror(e));
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		e = errno;
		dmr_seterr("%s: %s", name, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *buf, size_t len)
{
	size_t plen = strlen(path) + 16;
	char *tmp = xmalloc(plen);
	size_t off = 0;
	int fd, e;

	snprintf(tmp, plen, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		dmr_seterr("%s: %s", path, strerror(e));
		free(tmp);
		errno = e;
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	dmr_seterr("%s: %s", path, strerror(e));
	free(tmp);
	errno = e;
	return -1;
}

int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		goto fail;
	free(p);
	return 0;
fail:
	dmr_seterr("mkdir %s: %s", p, strerror(errno));
	free(p);
	return -1;
}

static const uint64_t pow10u[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL,
};

void fmt_fixed_u(char *buf, size_t sz, uint64_t v, unsigned int scale)
{
	if (scale == 0 || scale >= sizeof(pow10u) / sizeof(pow10u[0])) {
		snprintf(buf, sz, "%llu", (unsigned long long)v);
		return;
	}
	snprintf(buf, sz, "%llu.%0*llu", (unsigned long long)(v / pow10u[scale]),
		 (int)scale, (unsigned long long)(v % pow10u[scale]));
}

void fmt_fixed_s(char *buf, size_t sz, int64_t v, unsigned int scale)
{
	uint64_t m;

	if (v < 0) {
		m = (uint64_t)0 - (uint64_t)v;
		if (sz < 2) {
			if (sz)
				buf[0] = '\0';
			return;
		}
		buf[0] = '-';
		fmt_fixed_u(buf + 1, sz - 1, m, scale);
		return;
	}
	fmt_fixed_u(buf, sz, (uint64_t)v, scale);
}

int parse_u64_strict(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	if (s[0] == '0' && n > 1)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
