#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Checks what every other area assumes of the guest: kernel modules load
# with parameters, a memory-backed null_blk keeps data, dmsetup creates a
# device node without udev, and a linear mapping reads back what was
# written through it.
set -eu

fail() { echo "FAIL: $*"; exit 1; }

modprobe null_blk nr_devices=1 memory_backed=1 gb=1 ||
	fail "modprobe null_blk with parameters"
[ -b /dev/nullb0 ] || fail "/dev/nullb0 missing"
modprobe dm-mod || fail "modprobe dm-mod"

sz=$(blockdev --getsz /dev/nullb0)
[ "$sz" = 2097152 ] || fail "nullb0 has $sz sectors, expected 2097152"

dd if=/dev/urandom of=/tmp/pat bs=4096 count=64 2>/dev/null
dmsetup create smoke_lin --table "0 $sz linear /dev/nullb0 0" ||
	fail "dmsetup create"
[ -b /dev/mapper/smoke_lin ] || fail "/dev/mapper/smoke_lin missing"
dd if=/tmp/pat of=/dev/mapper/smoke_lin bs=4096 seek=100 oflag=direct 2>/dev/null
# Read back through the underlying device: the mapping is the identity.
dd if=/dev/nullb0 of=/tmp/back bs=4096 skip=100 count=64 iflag=direct 2>/dev/null
cmp /tmp/pat /tmp/back || fail "data read back through nullb0 differs"
dmsetup remove smoke_lin || fail "dmsetup remove"
[ ! -e /dev/mapper/smoke_lin ] || fail "node left after remove"
rmmod null_blk || fail "rmmod null_blk"
echo "guest environment ok"
