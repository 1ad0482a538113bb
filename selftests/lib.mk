# SPDX-License-Identifier: GPL-2.0
# Minimal stand-in for the kernel's tools/testing/selftests/lib.mk, for an
# out-of-tree suite. Each selftests/<area>/Makefile sets TEST_GEN_PROGS (C
# programs built here) and TEST_PROGS (scripts), then includes this file.
# `make list` prints the tests in the order the runner executes them.

DMR_CACHE ?= $(HOME)/.cache/dm-remap
KSFT_INC ?= $(DMR_CACHE)/ksrc/tools/testing/selftests
CFLAGS += -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -I$(KSFT_INC) $(EXTRA_CFLAGS)
LDLIBS += -lpthread

all: $(TEST_GEN_PROGS) $(TEST_GEN_FILES)

clean:
	rm -f $(TEST_GEN_PROGS) $(TEST_GEN_FILES) $(EXTRA_CLEAN)

list:
	@for t in $(TEST_GEN_PROGS) $(TEST_PROGS); do echo $$t; done

.PHONY: all clean list
