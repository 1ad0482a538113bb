# SPDX-License-Identifier: GPL-2.0
#
# dm-remap: top-level Makefile. See README.md.
#
#   make                 kernel modules (out of tree) and userspace tools
#   make KVER=<release>  build the modules against another installed kernel
#   make KDIR=<dir>      ... or against a kernel build tree
#   make W=1 / C=1       extra warnings / sparse, passed to kbuild
#   make checkpatch      checkpatch.pl --strict on kernel/
#   make demo            the main job in a guest (quick_validation on null_blk)
#   make check           every test: tools, bench report, classifier, checkpatch,
#                        harness proof, kselftests on 6.1, 6.12 and the debug
#                        kernel
#   make check-quick     tools, bench report, classifier, checkpatch, kselftests on 6.1
#   make bench           side-by-side benchmark in one guest
#   make install         install the tools and man page (DESTDIR, PREFIX)

DMR_CACHE ?= $(HOME)/.cache/dm-remap
# Default kernel: the newest Debian 6.1 headers installed by scripts/deps.sh.
KVER ?= $(shell ls -d /lib/modules/6.1.*-amd64/build 2>/dev/null | \
	sed 's|/lib/modules/\(.*\)/build|\1|' | sort -V | tail -n1)
KDIR ?= /lib/modules/$(KVER)/build
CHECKPATCH ?= $(DMR_CACHE)/ksrc/scripts/checkpatch.pl

KERNEL_SRCS = $(filter-out %.mod.c,$(wildcard kernel/*.c kernel/*.h))

all: modules tools

modules:
	@test -d "$(KDIR)" || { echo "no kernel build directory '$(KDIR)': run scripts/deps.sh or set KVER/KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools; fi

deps:
	@bash scripts/deps.sh

checkpatch:
	@test -f "$(CHECKPATCH)" || bash scripts/deps.sh
	@bash scripts/checkpatch.sh $(KERNEL_SRCS)

demo: deps
	@bash scripts/demo.sh

check: deps
	@bash scripts/check.sh

check-quick: deps
	@bash scripts/check.sh --quick

bench: deps
	@bash scripts/bench.sh

install:
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools install; fi

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools clean; fi
	rm -rf build

.PHONY: all modules tools deps checkpatch demo check check-quick bench install clean
