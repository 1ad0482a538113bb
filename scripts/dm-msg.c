// SPDX-License-Identifier: GPL-2.0
/*
 * dm-msg NAME: send each line of stdin as a target message (sector 0) to
 * the device-mapper device NAME through one open control node, and print
 * how many were sent. Built and used by `make bench` to give its dm-dust
 * peer as many bad blocks as dm-remap has remaps, and by the dm-remap
 * selftests (msgs in selftests/dm-remap/lib.sh): `dmsetup message` costs
 * one process per message (about 46 ms each in a TCG guest, so 1,000,000
 * would take half a day), one ioctl costs microseconds.
 *
 * Exit status: 0 all sent, 1 a message failed (its line and errno are
 * printed; nothing after it is sent), 2 usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MSG_MAX 256

int main(int argc, char **argv)
{
	union {
		struct dm_ioctl io;
		char buf[sizeof(struct dm_ioctl) + sizeof(struct dm_target_msg) + MSG_MAX];
	} u;
	struct dm_target_msg *msg;
	unsigned long long sent = 0;
	char line[MSG_MAX];
	size_t len;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= DM_NAME_LEN) {
		fprintf(stderr, "usage: dm-msg NAME < messages (NAME shorter than %d)\n", DM_NAME_LEN);
		return 2;
	}
	fd = open("/dev/mapper/control", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "dm-msg: /dev/mapper/control: %s\n", strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			fprintf(stderr, "dm-msg: line %llu is longer than %d bytes\n",
				sent + 1, MSG_MAX - 2);
			return 1;
		}
		if (!len)
			continue;
		memset(&u, 0, sizeof(u));
		u.io.version[0] = DM_VERSION_MAJOR;
		u.io.data_size = sizeof(u);
		u.io.data_start = sizeof(struct dm_ioctl);
		memcpy(u.io.name, argv[1], strlen(argv[1]));
		msg = (struct dm_target_msg *)(u.buf + u.io.data_start);
		memcpy(msg->message, line, len + 1);
		if (ioctl(fd, DM_TARGET_MSG, &u.io) < 0) {
			fprintf(stderr, "dm-msg: %s: '%s': %s\n", argv[1], line, strerror(errno));
			return 1;
		}
		sent++;
	}
	close(fd);
	printf("%llu\n", sent);
	return 0;
}
