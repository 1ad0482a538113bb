// SPDX-License-Identifier: GPL-2.0
/*
 * mdedit: read and damage dm-remap metadata for the tests, written from
 * the format in Documentation/admin-guide/device-mapper/dm-remap.rst, not
 * from the kernel's code. DEV and START (in sectors) name the spare area;
 * COPY is 0, 1, "new" or "old" (by generation, among valid headers).
 *   mdedit show DEV START            one line per copy, then "newest C"
 *   mdedit get DEV START COPY SLOT   print a table slot (hex)
 *   mdedit set DEV START COPY SLOT VALUE
 *                                    write a slot, then fix the entry
 *                                    count and both checksums
 *   mdedit flip DEV START COPY OFFSET
 *                                    invert the byte at OFFSET of the copy
 *                                    (header 0..4095, table after it) and
 *                                    leave the checksums stale
 * Copy 1's place depends on the table size, read from copy 0's header, so
 * copy 1 is out of reach while copy 0's header is damaged. Only flip
 * works on a copy without a valid header (to flip a byte back).
 * Exit 0 on success, 1 on an error (said on stderr), 2 on usage.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MD_BLOCK	4096
#define MAGIC		0x315041524d524d44ULL	/* "DMRMRAP1" */
#define SLOT_VALID	(1ULL << 63)

/* Header fields: byte offsets, all little endian. */
#define H_MAGIC		0
#define H_VERSION	8
#define H_CSUM		12
#define H_GEN		16
#define H_BLOCKS	40
#define H_ENTRIES	48
#define H_COPY		60
#define H_TABLE_CSUM	64

struct copy {
	uint8_t hdr[MD_BLOCK] __attribute__((aligned(MD_BLOCK)));	/* O_DIRECT */
	int valid;
	uint64_t gen;
};

static int fd;
static uint64_t start, nblocks, table_bytes;
static struct copy cp[2];

/* crc32c as the kernel's crc32c(0, ...): seed 0, no final inversion. */
static uint32_t crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78 : 0);
	}
	return crc;
}

static uint64_t get64(const uint8_t *p, int off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return le64toh(v);
}

static uint32_t get32(const uint8_t *p, int off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return le32toh(v);
}

static void put64(uint8_t *p, int off, uint64_t v)
{
	v = htole64(v);
	memcpy(p + off, &v, 8);
}

static void put32(uint8_t *p, int off, uint32_t v)
{
	v = htole32(v);
	memcpy(p + off, &v, 4);
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "mdedit: %s\n", what);
	exit(1);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: mdedit show DEV START | get DEV START COPY SLOT |\n"
		"       set DEV START COPY SLOT VALUE | flip DEV START COPY OFFSET\n");
	exit(2);
}

static void io(int wr, void *buf, size_t len, uint64_t off)
{
	ssize_t n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);

	if (n != (ssize_t)len)
		die(wr ? "write failed" : "read failed");
}

static uint64_t copy_off(int c)
{
	return start * 512 + c * (MD_BLOCK + table_bytes);
}

static int header_ok(uint8_t *h, int c)
{
	uint8_t t[MD_BLOCK];

	memcpy(t, h, MD_BLOCK);
	put32(t, H_CSUM, 0);
	return get64(h, H_MAGIC) == MAGIC && get32(h, H_VERSION) == 1 &&
	       get32(h, H_COPY) == (uint32_t)c &&
	       crc32c(t, MD_BLOCK) == get32(h, H_CSUM);
}

static void read_copies(void)
{
	int c;

	for (c = 0; c < 2; c++) {
		io(0, cp[c].hdr, MD_BLOCK, copy_off(c));
		cp[c].valid = header_ok(cp[c].hdr, c);
		cp[c].gen = get64(cp[c].hdr, H_GEN);
		if (c == 0) {
			if (!cp[0].valid)
				return;
			nblocks = get64(cp[0].hdr, H_BLOCKS);
			table_bytes = (nblocks * 8 + MD_BLOCK - 1) / MD_BLOCK * MD_BLOCK;
		}
	}
}

/* Flipping a byte back must work on a copy whose header it broke. */
static int pick(const char *s, int need_valid)
{
	int n = cp[1].valid && (!cp[0].valid || cp[1].gen > cp[0].gen);

	if (!strcmp(s, "0") || !strcmp(s, "1"))
		n = s[0] - '0';
	else if (!strcmp(s, "old"))
		n ^= 1;
	else if (strcmp(s, "new"))
		usage();
	if (n == 1 && !cp[0].valid)
		die("copy 0 has no valid header: copy 1 cannot be found");
	if (need_valid && !cp[n].valid)
		die(n ? "copy 1 has no valid header" : "copy 0 has no valid header");
	return n;
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (!*s || *end)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	uint8_t *table;
	uint64_t slot, i, n = 0;
	int c;

	if (argc < 4)
		usage();
	fd = open(argv[2], O_RDWR | O_DIRECT | O_SYNC);
	if (fd < 0)
		die("cannot open the device");
	start = num(argv[3]);
	read_copies();
	if (!strcmp(argv[1], "show") && argc == 4) {
		for (c = 0; c < 2 && (c == 0 || cp[0].valid); c++)
			printf("copy %d %s gen %llu entries %llu blocks %llu\n", c,
			       cp[c].valid ? "valid" : "invalid",
			       (unsigned long long)cp[c].gen,
			       (unsigned long long)get64(cp[c].hdr, H_ENTRIES),
			       (unsigned long long)get64(cp[c].hdr, H_BLOCKS));
		if (cp[0].valid || cp[1].valid)
			printf("newest %d\n", pick("new", 1));
		return 0;
	}
	if (argc < 6)
		usage();
	c = pick(argv[4], strcmp(argv[1], "flip"));
	if (!strcmp(argv[1], "flip") && argc == 6) {
		uint8_t *b;

		i = num(argv[5]);
		if (i >= MD_BLOCK + table_bytes)
			die("offset beyond the copy");
		if (posix_memalign((void **)&b, MD_BLOCK, MD_BLOCK))
			die("out of memory");
		io(0, b, MD_BLOCK, copy_off(c) + i / MD_BLOCK * MD_BLOCK);
		b[i % MD_BLOCK] ^= 0xff;
		io(1, b, MD_BLOCK, copy_off(c) + i / MD_BLOCK * MD_BLOCK);
		return 0;
	}
	slot = num(argv[5]);
	if (slot >= nblocks)
		die("slot beyond the table");
	if (posix_memalign((void **)&table, MD_BLOCK, table_bytes))
		die("out of memory");
	io(0, table, table_bytes, copy_off(c) + MD_BLOCK);
	if (crc32c(table, nblocks * 8) != get32(cp[c].hdr, H_TABLE_CSUM))
		die("table checksum mismatch");
	if (!strcmp(argv[1], "get") && argc == 6) {
		printf("0x%016llx\n", (unsigned long long)get64(table, slot * 8));
		return 0;
	}
	if (strcmp(argv[1], "set") || argc != 7)
		usage();
	put64(table, slot * 8, num(argv[6]));
	for (i = 0; i < nblocks; i++)
		n += !!(get64(table, i * 8) & SLOT_VALID);
	io(1, table, table_bytes, copy_off(c) + MD_BLOCK);
	put64(cp[c].hdr, H_ENTRIES, n);
	put32(cp[c].hdr, H_TABLE_CSUM, crc32c(table, nblocks * 8));
	put32(cp[c].hdr, H_CSUM, 0);
	put32(cp[c].hdr, H_CSUM, crc32c(cp[c].hdr, MD_BLOCK));
	io(1, cp[c].hdr, MD_BLOCK, copy_off(c));
	return 0;
}
