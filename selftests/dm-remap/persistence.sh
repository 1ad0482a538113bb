#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Remaps and data survive remove/create, reload (including a remap made by
# the old table after the new one was loaded) and suspend/resume, and a
# remap can be made while the device is suspended.
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 32) || fail "null_blk"
s=$(nullb nb_spare 8) || fail "null_blk"
table="0 $(sectors "$m") remap $m $s 0 $(sectors "$s")"
dm r "$table" || fail "create"
dd if=/dev/urandom of=/tmp/ref bs=1M count=32 2>/dev/null
dd if=/tmp/ref of=/dev/mapper/r bs=1M oflag=direct 2>/dev/null || fail "write"
msg r remap 800 40 || fail "remap"
list_before=$(msg r list 0 4096)

check() {	# check WHAT COUNT
	[ "$(remapped_count r)" = "$2" ] || fail "$1: $(remapped_count r) remapped, want $2"
	cmp /tmp/ref /dev/mapper/r || fail "$1: data differs"
	log "$1: $2 remaps, data intact"
}
check "after remap" 40

dmsetup suspend r && dmsetup resume r || fail "suspend/resume"
check "suspend/resume" 40
[ "$(msg r list 0 4096)" = "$list_before" ] || fail "list changed across suspend/resume"

# A remap while the device is suspended: messages may come then (and
# allocate without I/O from reclaim, which would wait for the resume).
dmsetup suspend r || fail "suspend"
msg r remap 1600 8 || fail "remap while suspended"
dmsetup resume r || fail "resume"
check "remap while suspended" 48
msg r list 0 4096 | grep -q "^200 " || fail "the remap made while suspended is not listed"
list_before=$(msg r list 0 4096)

dm_remove r
dm r "$table" || fail "re-create"
check "remove/create" 48
[ "$(msg r list 0 4096)" = "$list_before" ] || fail "entries changed across remove/create"

# Load a new table while the old one is live, remap through the old one,
# then swap: the new table must see that remap.
dmsetup reload r --table "$table" || fail "reload"
msg r remap 4096 8 || fail "remap before resume"
dmsetup resume r || fail "resume after reload"
check "reload" 56
msg r list 0 4096 | grep -q "^512 " || fail "remap made before the swap is gone"

# Writes after the reload land where the entries say.
dd if=/dev/urandom of=/tmp/patch bs=4k count=16 2>/dev/null
dd if=/tmp/patch of=/dev/mapper/r bs=4k seek=96 oflag=direct 2>/dev/null || fail "write"
dd if=/tmp/patch of=/tmp/ref bs=4k seek=96 conv=notrunc 2>/dev/null
dm_remove r
dm r "$table" || fail "re-create"
check "final remove/create" 56
echo "ok: persistence"
