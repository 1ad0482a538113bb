// SPDX-License-Identifier: GPL-2.0
/*
 * dio: O_DIRECT I/O for the dm-remap tests (busybox dd turns small writes
 * into page-cache read-modify-writes).
 *   dio read DEV OFFSET LEN [OUT]    read LEN bytes at OFFSET (to OUT)
 *   dio write DEV OFFSET LEN IN      write LEN bytes of IN at OFFSET
 * Exit 0 on success, 1 on an I/O error (errno printed), 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: dio read DEV OFFSET LEN [OUT] | dio write DEV OFFSET LEN IN\n");
	return 2;
}

int main(int argc, char **argv)
{
	int wr, fd, ffd = -1;
	long long off, len;
	ssize_t n;
	void *buf;

	if (argc < 5 || argc > 6)
		return usage();
	wr = !strcmp(argv[1], "write");
	if (!wr && strcmp(argv[1], "read"))
		return usage();
	off = strtoll(argv[3], NULL, 0);
	len = strtoll(argv[4], NULL, 0);
	if (len <= 0 || (wr && argc != 6) || posix_memalign(&buf, 4096, len))
		return usage();
	memset(buf, 0, len);
	fd = open(argv[2], (wr ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (argc == 6) {
		ffd = wr ? open(argv[5], O_RDONLY) : open(argv[5], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (ffd < 0) {
			perror(argv[5]);
			return 1;
		}
		if (wr && read(ffd, buf, len) != len) {
			fprintf(stderr, "%s: short read\n", argv[5]);
			return 1;
		}
	}
	n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	if (n != len) {
		fprintf(stderr, "dio %s %s at %lld: %s\n", argv[1], argv[2], off,
			n < 0 ? strerror(errno) : "short transfer");
		return 1;
	}
	if (!wr && ffd >= 0 && write(ffd, buf, len) != len)
		return 1;
	return 0;
}
