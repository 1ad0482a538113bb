#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Writes that fail on main are remapped and succeed; nothing written is lost.
# Main is dm-linear with an `error` segment, then dm-flakey dropping writes.
. "$(dirname "$0")/lib.sh"
need_modules
need_module dm-flakey
nb=$(nullb nb_base 32) || fail "null_blk"
s=$(nullb nb_spare 8) || fail "null_blk"
len=$(sectors "$nb")
dm mainlin "0 $len linear $nb 0" || fail "linear"
dm r "0 $len remap /dev/mapper/mainlin $s 0 $(sectors "$s")" || fail "create"
dd if=/dev/urandom of=/tmp/ref bs=1M count=32 2>/dev/null
dd if=/tmp/ref of=/dev/mapper/r bs=1M oflag=direct 2>/dev/null || fail "write"

# Sectors 2048..2303 (blocks 256..287) start failing.
dmsetup suspend mainlin
dmsetup reload mainlin --table "0 2048 linear $nb 0
2048 256 error
2304 $((len - 2304)) linear $nb 2304" || fail "reload with error"
dmsetup resume mainlin
# Whole blocks 256..279: remapped, and the data reads back.
dd if=/dev/urandom of=/tmp/patch bs=4k count=24 2>/dev/null
wblk /dev/mapper/r 256 /tmp/patch $(($(stat -c %s /tmp/patch) / 4096)) ||
	fail "a write to failing blocks was not remapped"
dd if=/tmp/patch of=/tmp/ref bs=4k seek=256 conv=notrunc 2>/dev/null
[ "$(status_field r 3)" -ge 24 ] || fail "auto_remaps < 24: $(dmsetup status r)"
[ "$(status_field r 5)" -gt 0 ] || fail "write_errors is 0: $(dmsetup status r)"
[ "$(status_field r 2)" = 0 ] || fail "whole-block rewrites left lost blocks: $(dmsetup status r)"
rblk /dev/mapper/r 0 /tmp/got 280 || fail "blocks 0..279 unreadable"
head -c $((280 * 4096)) /tmp/ref | cmp - /tmp/got || fail "data differs after auto-remap"
log "after error segment: $(dmsetup status r)"
# 512 bytes into unreadable block 286: the write succeeds, the rest of the
# block is unknown, so the block is lost (EIO), never silently stale.
pwrite_direct /dev/mapper/r $((2289 * 512)) 512 || fail "partial write to a failing block"
msg r list 286 1 | grep -q "^286 .* lost$" || fail "block 286 not lost: $(msg r list 286 1)"
rblk /dev/mapper/r 286 /tmp/discard 1 && fail "lost block readable"
pwrite_direct /dev/mapper/r $((2288 * 512)) 4096 || fail "whole write of block 286"
rblk /dev/mapper/r 286 /tmp/discard 1 || fail "rewritten block unreadable"
rblk /dev/mapper/r 286 /tmp/b286 || fail "block 286"
head -c 4096 /dev/zero | tr '\0' 'Z' | cmp - /tmp/b286 || fail "block 286 holds wrong data"

# dm-flakey that fails every write while down: the writes still succeed.
dmsetup suspend mainlin
dmsetup reload mainlin --table "0 $len flakey $nb 0 0 1 1 error_writes" ||
	fail "dm-flakey refused error_writes"
dmsetup resume mainlin
before=$(status_field r 3)
dd if=/dev/urandom of=/tmp/patch bs=4k count=32 2>/dev/null
wblk /dev/mapper/r 4000 /tmp/patch $(($(stat -c %s /tmp/patch) / 4096)) || fail "write through flakey failed"
dd if=/tmp/patch of=/tmp/ref bs=4k seek=4000 conv=notrunc 2>/dev/null
after=$(status_field r 3)
[ "$after" -ge $((before + 32)) ] || fail "flakey: auto_remaps $before -> $after"
rblk /dev/mapper/r 4000 /tmp/blk 32
cmp /tmp/blk /tmp/patch || fail "flakey: data written is not what reads back"

# And it all survives a re-create.
dmsetup suspend mainlin
dmsetup reload mainlin --table "0 $len linear $nb 0"
dmsetup resume mainlin
n=$(remapped_count r)
dm_remove r
dm r "0 $len remap /dev/mapper/mainlin $s 0 $(sectors "$s")" || fail "re-create"
[ "$(remapped_count r)" = "$n" ] || fail "auto remaps lost across re-create"
rblk /dev/mapper/r 4000 /tmp/blk 32
cmp /tmp/blk /tmp/patch || fail "auto-remapped data lost across re-create"
echo "ok: auto_remap"
