#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A remap whose copy or metadata commit fails leaves nothing behind: the
# message fails, the blocks are not listed and read back the main device's
# data, and once the spare device is repaired (and, after a failed commit,
# the table reloaded) remapping works again and every block reads back.
# A failed header write may have landed all the same, so the blocks of its
# batch (a remap's, an unremap's or an automatic remap's) refuse writes
# until the reload, while every other block takes them. Messages take
# sectors: 8 per 4 KiB block (this test used to pass block numbers, and so
# checked blocks no message had touched).
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 16) || fail "null_blk"
s=$(nullb nb_spare 8) || fail "null_blk"
sl=$(sectors "$s")
dm sp "0 $sl linear $s 0" || fail "spare linear"
table="0 $(sectors "$m") remap $m /dev/mapper/sp 0 $sl"
dm r "$table" || fail "create"
ref=/tmp/failed_remap.$$
bmsg() {	# bmsg remap|unremap BLOCK [COUNT]
	msg r "$1" $(($2 * 8)) "${@:3}"
}
# no_write BLOCK: a write there fails, and says why
no_write() {
	dd if=/dev/zero of=/dev/mapper/r bs=4096 seek="$1" count=1 oflag=direct 2>/dev/null &&
		fail "a write to block $1, in doubt after a failed header write, succeeded"
	expect_dmesg "write to block $1 refused"
}
# write_block BLOCK SEED: new data there and in the reference
write_block() {
	write_both /dev/mapper/r "$ref" $(($1 * 8)) 8 "$2" || fail "a write to block $1 failed"
}
reload_r() {
	dmsetup suspend r && dmsetup reload r --table "$table" && dmsetup resume r || fail "reload"
}

dd if=/dev/urandom of="$ref" bs=1M count=16 2>/dev/null || fail "random data"
dd if="$ref" of=/dev/mapper/r bs=1M oflag=direct 2>/dev/null || fail "write"
bmsg remap 100 10 >/dev/null || fail "remap: $MSG_ERR"

spare_table() {	# spare_table TABLE: swap the spare device's table
	dmsetup suspend sp && dmsetup reload sp --table "$1" && dmsetup resume sp ||
		fail "spare table: $1"
}
# not_there BLOCK COUNT: not listed, and reads return main's data from main
not_there() {
	local b
	for b in $(seq "$1" $(($1 + $2 - 1))); do
		msg r list "$b" 1 | grep -q "^$b " && fail "block $b is listed after a failed remap"
	done
	local before
	before=$(status_counter r spare_ios)
	dd if=/dev/mapper/r bs=4096 skip="$1" count="$2" iflag=direct 2>/dev/null |
		cmp - <(dd if="$ref" bs=4096 skip="$1" count="$2" 2>/dev/null) >/dev/null ||
		fail "blocks $1+$2 do not read back after a failed remap"
	[ "$(status_counter r spare_ios)" = "$before" ] ||
		fail "blocks $1+$2 were read from the spare area after a failed remap"
}
whole() { cmp /dev/mapper/r "$ref" >/dev/null || fail "$1: data differs"; }

# 1. Every spare I/O fails: copying the blocks into the spare area fails.
spare_table "0 $sl error"
bmsg remap 200 5 >/dev/null && fail "a remap into a failing spare area succeeded"
[ "$(remapped_count r)" = 10 ] || fail "remapped $(remapped_count r) after a failed copy, want 10"
not_there 200 5
spare_table "0 $sl linear $s 0"
bmsg remap 200 5 >/dev/null || fail "remap after repairing the spare: $MSG_ERR"
[ "$(remapped_count r)" = 15 ] || fail "remapped $(remapped_count r), want 15"
whole "after a failed copy"
log "failed copy: nothing left behind"

# 2. The first header block fails: a commit to copy 0 fails. Commits
# alternate between the two copies, so the first or the second remap hits
# it; after that, remaps are refused until the table is reloaded.
mark_dmesg
spare_table "0 8 error
8 $((sl - 8)) linear $s 8"
want=15
good=""
bad=300
if bmsg remap 300 1 >/dev/null; then
	good=300
	bad=301
	want=16
	bmsg remap 301 1 >/dev/null && fail "neither of two commits failed"
fi
expect_dmesg "metadata write failed"
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after a failed commit, want $want"
not_there $bad 1
bmsg remap 400 1 >/dev/null && fail "a remap after a failed commit succeeded"
whole "after a failed commit"
expect_dmesg "header write failed: 1 block(s) refuse writes until reload"
no_write $bad
write_block 500 7
write_block 105 8
whole "after writes next to a block in doubt"
spare_table "0 $sl linear $s 0"
reload_r
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after reload, want $want"
[ -z "$good" ] || msg r list $good 1 | grep -q "^$good " || fail "block $good is not listed after reload"
not_there $bad 1
bmsg remap $bad 1 >/dev/null || fail "remap after reload: $MSG_ERR"
[ "$(remapped_count r)" = $((want + 1)) ] || fail "remapped $(remapped_count r), want $((want + 1))"
write_block $bad 9
whole "after reload"
log "failed commit (copy 0, block $bad): nothing left behind, writes there refused until reload"

# 3. The same for an unremap: its blocks stay remapped, refuse writes and
# read back; after the reload they are still remapped and take writes.
want=$((want + 1))
mark_dmesg
spare_table "0 8 error
8 $((sl - 8)) linear $s 8"
ub=100
if bmsg unremap 100 1 >/dev/null; then
	ub=101
	want=$((want - 1))
	bmsg unremap 101 1 >/dev/null && fail "neither of two unremaps failed"
fi
expect_dmesg "header write failed: 1 block(s) refuse writes until reload"
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after a failed unremap, want $want"
msg r list $ub 1 | grep -q "^$ub " || fail "block $ub is not listed after a failed unremap"
no_write $ub
write_block 102 10
whole "after a failed unremap"
spare_table "0 $sl linear $s 0"
reload_r
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after reload, want $want"
msg r list $ub 1 | grep -q "^$ub " || fail "block $ub is not listed after reload"
write_block $ub 11
whole "after a failed unremap and reload"
log "failed unremap (block $ub): still remapped, writes there refused until reload"

# 4. An automatic remap (a write that failed on main) whose commit fails on
# the header: the write fails, and once main takes writes there again, the
# block still refuses them until the reload.
nbm=/sys/kernel/config/nullb/nb_main
echo "+4800-4815" >"$nbm/badblocks" || fail "null_blk badblocks"
mark_dmesg
spare_table "0 8 error
8 $((sl - 8)) linear $s 8"
head -c 8192 /dev/urandom >/tmp/failed_remap.ab.$$
ab=600
if dd if=/tmp/failed_remap.ab.$$ of=/dev/mapper/r bs=4096 seek=600 count=1 oflag=direct 2>/dev/null; then
	dd if=/tmp/failed_remap.ab.$$ of="$ref" bs=4096 seek=600 count=1 conv=notrunc 2>/dev/null
	ab=601
	want=$((want + 1))
	dd if=/tmp/failed_remap.ab.$$ of=/dev/mapper/r bs=4096 skip=1 seek=601 count=1 oflag=direct \
		2>/dev/null && fail "neither of two automatic remaps failed"
fi
rm -f /tmp/failed_remap.ab.$$
expect_dmesg "header write failed: 1 block(s) refuse writes until reload"
echo "-4800-4815" >"$nbm/badblocks" || fail "null_blk badblocks"
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after a failed auto-remap, want $want"
no_write $ab
write_block 602 14
whole "after a failed automatic remap"
spare_table "0 $sl linear $s 0"
reload_r
write_block $ab 15
whole "after a failed automatic remap and reload"
log "failed automatic remap (block $ab): writes there refused until reload"
echo "ok: failed_remap"
