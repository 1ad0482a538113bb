#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Writes to blocks whose read failed wait for the worker, which remaps
# them first. When that fails (spare area full) the write goes to main
# after all, and by then another of its blocks may have been remapped: a
# write of two blocks must still land block by block, each where reads
# will find it, and must not spill into a neighbouring spare block.
. "$(dirname "$0")/lib.sh"
need_modules
nb=$(nullb nb_base 16) || fail "null_blk"
s=$(nullb nb_spare 4) || fail "null_blk"
len=$(sectors "$nb")
# Blocks 128-135 of main fail; the spare area sits on a dm-linear that the
# test suspends to hold the worker.
bad_main mainlin "$nb" || fail "linear"
dm sparelin "0 $(sectors "$s") linear $s 0" || fail "spare linear"
dm r "0 $len remap /dev/mapper/mainlin /dev/mapper/sparelin 0 $(sectors "$s")" || fail "create"

# Reads of 132-135 fail: those blocks are remembered.
rblk /dev/mapper/r 132 /tmp/discard 4 && fail "read of bad blocks succeeded"
# Main recovers (a disk that reallocated the sectors).
dmsetup suspend mainlin && dmsetup reload mainlin --table "0 $len linear $nb 0" &&
	dmsetup resume mainlin || fail "healing main"

# Fill the spare area with known data, leaving 2 spare blocks free.
total=$(status_field r 1 | cut -d/ -f2)
fill=$((total - 2))
head -c $((fill * 4096)) /dev/urandom >/tmp/fill
wblk /dev/mapper/r 2048 /tmp/fill "$fill" || fail "writing the filler blocks"
msg r remap $((2048 * 8)) "$fill" >/dev/null || fail "remapping $fill filler blocks: $MSG_ERR"
[ "$(remapped_count r)" = "$fill" ] || fail "filler: $(dmsetup status r)"

head -c 4096 /dev/urandom >/tmp/pre
head -c 4096 /dev/urandom >/tmp/w0
head -c 8192 /dev/urandom >/tmp/w1
mark_dmesg
# The worker remaps 134 for the first write and hangs on the suspended
# spare area; meanwhile a write of 132 and then one of 132-133 wait.
dmsetup suspend sparelin || fail "suspend spare"
wblk /dev/mapper/r 134 /tmp/pre &
p0=$!
sleep 1
wblk /dev/mapper/r 132 /tmp/w0 &
p1=$!
sleep 0.5
wblk /dev/mapper/r 132 /tmp/w1 2 &
p2=$!
sleep 0.5
dmsetup resume sparelin || fail "resume spare"
# Then 132 takes the last free spare block, and 133 finds none: that part
# of the second write goes to main.
wait $p0 || fail "write of block 134"
wait $p1 || fail "write of block 132"
wait $p2 || fail "write of blocks 132-133"

[ "$(remapped_count r)" = "$total" ] || fail "remapped: $(dmsetup status r)"
msg r list 132 1 | grep -q "^132 " || fail "block 132 not remapped: $(msg r list 132 2)"
msg r list 133 1 | grep -q "^133 " && fail "block 133 remapped without a free spare block"
rblk /dev/mapper/r 132 /tmp/back 2 || fail "read 132-133"
cmp /tmp/w1 /tmp/back || fail "blocks 132-133 do not hold the last write"
rblk /dev/mapper/r 134 /tmp/back 1 && cmp -s /tmp/pre /tmp/back || fail "block 134"
rblk /dev/mapper/r 2048 /tmp/back "$fill" || fail "reading the filler blocks"
cmp /tmp/fill /tmp/back || fail "a filler block's spare data changed"
[ "$(dmesg | grep -c 'WARNING')" = 0 ] || fail "warning: $(dmesg | grep -A3 WARNING | head -4)"
log "two-block write after its first block was remapped: split, data where reads find it"
echo "ok: deferred_writes"
