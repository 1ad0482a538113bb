#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Failed reads return EIO and are counted; the next write there is remapped.
# Remapping an unreadable block marks it lost: reads fail until a whole
# rewrite. no_auto_remap returns write errors and sends writes to blocks
# whose read failed to main, as does a full spare area.
. "$(dirname "$0")/lib.sh"
need_modules
nb=$(nullb nb_base 16) || fail "null_blk"
s=$(nullb nb_spare 8) || fail "null_blk"
len=$(sectors "$nb")
bad_main mainlin "$nb" || fail "linear"
dm r "0 $len remap /dev/mapper/mainlin $s 0 $(sectors "$s")" || fail "create"

rblk /dev/mapper/r 128 /tmp/discard 1 && fail "read of a bad block succeeded"
[ "$(status_field r 4)" -ge 1 ] || fail "read_errors not counted: $(dmsetup status r)"
rblk /dev/mapper/r 0 /tmp/discard 128 || fail "good blocks unreadable"

# Remap block 129 (unreadable): it is lost.
msg r remap $((129 * 8)) || fail "remap"
[ "$(status_field r 2)" = 1 ] || fail "lost count: $(dmsetup status r)"
msg r list 129 1 | grep -q "^129 .* lost$" || fail "block 129 not lost: $(msg r list 129 1)"
rblk /dev/mapper/r 129 /tmp/discard 1 && fail "read of a lost block succeeded"
msg r unremap $((129 * 8)) >/dev/null && fail "unremap of a lost block accepted"
# A range that reaches a lost block: the blocks before it are unremapped,
# the request fails, and the kernel says why once.
msg r remap $((120 * 8)) >/dev/null || fail "remap block 120"
mark_dmesg
msg r unremap $((120 * 8)) 10 >/dev/null && fail "unremap over a lost block accepted"
msg r list 120 1 | grep -q "^120 " && fail "block 120 before the lost block still remapped"
[ "$(dmesg_since_mark | grep -c "block 129 holds lost data")" = 1 ] || fail "warnings: $(dmesg_since_mark | grep -c "block 129 holds lost data")"
# A partial write keeps it lost; a whole rewrite heals it.
pwrite_direct /dev/mapper/r $((129 * 4096)) 512 || fail "partial write"
rblk /dev/mapper/r 129 /tmp/discard 1 && fail "partial write healed a lost block"
dd if=/dev/urandom of=/tmp/blk bs=4k count=1 2>/dev/null
wblk /dev/mapper/r 129 /tmp/blk $(($(stat -c %s /tmp/blk) / 4096)) || fail "whole write"
rblk /dev/mapper/r 129 /tmp/back 1 || fail "healed block unreadable"
cmp /tmp/blk /tmp/back || fail "healed block holds wrong data"
[ "$(status_field r 2)" = 0 ] || fail "lost count after rewrite: $(dmsetup status r)"

# Block 128 failed a read; a write to it is remapped although main would
# fail it anyway; the data reads back.
before=$(status_field r 3)
wblk /dev/mapper/r 128 /tmp/blk $(($(stat -c %s /tmp/blk) / 4096)) || fail "write to suspect block"
[ "$(status_field r 3)" -gt "$before" ] || fail "write to a block whose read failed was not remapped"
rblk /dev/mapper/r 128 /tmp/back 1 && cmp -s /tmp/blk /tmp/back ||
	fail "suspect block data"

dm_remove r
dm r "0 $len remap /dev/mapper/mainlin $s 0 $(sectors "$s") 1 no_auto_remap" || fail "create no_auto_remap"
wblk /dev/mapper/r 133 /tmp/blk $(($(stat -c %s /tmp/blk) / 4096)) && fail "no_auto_remap: a failing write succeeded"
[ "$(status_field r 5)" -ge 1 ] || fail "write error not counted"
# Nor is a write to a block whose read failed remapped: it goes to main.
before=$(remapped_count r)
rblk /dev/mapper/r 130 /tmp/discard 1 && fail "read of a bad block succeeded"
wblk /dev/mapper/r 130 /tmp/blk 1 && fail "no_auto_remap: a write to a block whose read failed was remapped"
[ "$(remapped_count r)" = "$before" ] && [ "$(status_field r 3)" = 0 ] ||
	fail "no_auto_remap remapped: $(dmsetup status r)"
dm_remove r

# With the spare area full, a write to a block whose read failed is tried
# on main, where a disk would reallocate the sector; here main recovers.
dm r "0 $len remap /dev/mapper/mainlin $s 0 $(sectors "$s")" || fail "re-create"
rblk /dev/mapper/r 131 /tmp/discard 1 && fail "read of a bad block succeeded"
free=$(($(status_field r 1 | cut -d/ -f2) - $(remapped_count r)))
msg r remap $((1024 * 8)) "$free" >/dev/null || fail "filling the spare area: $MSG_ERR"
[ "$(remapped_count r)" = "$(status_field r 1 | cut -d/ -f2)" ] || fail "spare area not full: $(dmsetup status r)"
dmsetup suspend mainlin && dmsetup reload mainlin --table "0 $len linear $nb 0" &&
	dmsetup resume mainlin || fail "healing main"
mark_dmesg
wblk /dev/mapper/r 131 /tmp/blk 1 || fail "spare full: a write to a block whose read failed was not tried on main"
dmesg_since_mark | grep -q "spare area full" && fail "a write that went to main was reported as failed: $(dmesg_since_mark | tail -1)"
rblk /dev/mapper/r 131 /tmp/back 1 && cmp -s /tmp/blk /tmp/back || fail "block 131 data"
log "suspect writes: main with no_auto_remap or a full spare area"

# A target whose last block is short (1027 sectors: block 128 has 3): once
# lost, a write of all 3 sectors heals it.
dm_remove r
dd if=/dev/zero of="$s" bs=1M oflag=direct 2>/dev/null
dm mainshort "0 1024 linear $nb 0
1024 64 error" || fail "short main"
dm r "0 1027 remap /dev/mapper/mainshort $s 0 $(sectors "$s")" || fail "short target"
msg r remap 1024 >/dev/null || fail "remap of the short block"
[ "$(status_field r 2)" = 1 ] || fail "short block not lost: $(dmsetup status r)"
dd if=/dev/mapper/r of=/dev/null bs=512 skip=1024 count=3 iflag=direct 2>/dev/null &&
	fail "read of the lost short block succeeded"
pwrite_direct /dev/mapper/r $((1024 * 512)) 1536 || fail "write of the whole short block"
[ "$(status_field r 2)" = 0 ] || fail "short block still lost: $(dmsetup status r)"
dd if=/dev/mapper/r of=/tmp/back bs=512 skip=1024 count=3 iflag=direct 2>/dev/null ||
	fail "healed short block unreadable"
cmp /tmp/back /tmp/pw.$$ || fail "healed short block data"
echo "ok: read_errors"
