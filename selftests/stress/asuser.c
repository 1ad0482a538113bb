// SPDX-License-Identifier: GPL-2.0
/*
 * asuser UID COMMAND [ARGS...]: run COMMAND as user and group UID with no
 * supplementary groups (busybox's setpriv cannot change the uid).
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uid_t id;

	if (argc < 3) {
		fprintf(stderr, "usage: asuser UID COMMAND [ARGS...]\n");
		return 2;
	}
	id = (uid_t)strtoul(argv[1], NULL, 10);
	if (setgroups(0, NULL) || setgid(id) || setuid(id)) {
		perror("asuser");
		return 2;
	}
	if (getuid() != id || geteuid() != id) {
		fprintf(stderr, "asuser: still uid %u\n", (unsigned int)geteuid());
		return 2;
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
