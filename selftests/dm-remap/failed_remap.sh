#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A remap whose copy or metadata commit fails leaves nothing behind: the
# message fails, the blocks are not listed and read back the main device's
# data, and once the spare device is repaired (and, after a failed commit,
# the table reloaded) remapping works again and every block reads back.
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 16) || fail "null_blk"
s=$(nullb nb_spare 8) || fail "null_blk"
sl=$(sectors "$s")
dm sp "0 $sl linear $s 0" || fail "spare linear"
table="0 $(sectors "$m") remap $m /dev/mapper/sp 0 $sl"
dm r "$table" || fail "create"
ref=/tmp/failed_remap.$$
dd if=/dev/urandom of="$ref" bs=1M count=16 2>/dev/null || fail "random data"
dd if="$ref" of=/dev/mapper/r bs=1M oflag=direct 2>/dev/null || fail "write"
msg r remap 100 10 >/dev/null || fail "remap: $MSG_ERR"

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
msg r remap 200 5 >/dev/null && fail "a remap into a failing spare area succeeded"
[ "$(remapped_count r)" = 10 ] || fail "remapped $(remapped_count r) after a failed copy, want 10"
not_there 200 5
spare_table "0 $sl linear $s 0"
msg r remap 200 5 >/dev/null || fail "remap after repairing the spare: $MSG_ERR"
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
if msg r remap 300 1 >/dev/null; then
	good=300
	bad=301
	want=16
	msg r remap 301 1 >/dev/null && fail "neither of two commits failed"
fi
expect_dmesg "metadata write failed"
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after a failed commit, want $want"
not_there $bad 1
msg r remap 400 1 >/dev/null && fail "a remap after a failed commit succeeded"
whole "after a failed commit"
spare_table "0 $sl linear $s 0"
dmsetup suspend r && dmsetup reload r --table "$table" && dmsetup resume r || fail "reload"
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r) after reload, want $want"
[ -z "$good" ] || msg r list $good 1 | grep -q "^$good " || fail "block $good is not listed after reload"
not_there $bad 1
msg r remap $bad 1 >/dev/null || fail "remap after reload: $MSG_ERR"
[ "$(remapped_count r)" = $((want + 1)) ] || fail "remapped $(remapped_count r), want $((want + 1))"
whole "after reload"
log "failed commit (copy 0, block $bad): nothing left behind"
echo "ok: failed_remap"
