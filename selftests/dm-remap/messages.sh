#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every message and every message error.
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 64) || fail "null_blk"
s=$(nullb nb_spare 16) || fail "null_blk"
remap_dev r "$m" "$s" || fail "create"
blocks=$(($(sectors "$m") / 8))

bad() {	# bad ERRNO-TEXT ARGS...
	local want=$1
	shift
	mark_dmesg
	msg r "$@" >/dev/null && fail "message accepted: $*"
	grep -q -- "$want" <<<"$MSG_ERR" || fail "message '$*': want '$want', got '$MSG_ERR'"
	grep -q -- "remap" <<<"$(dmesg_since_mark)" || fail "message '$*' refused without a kernel warning"
	log "refused: $* ($want)"
}

bad "Invalid argument" frobnicate
bad "Invalid argument" remap
bad "Invalid argument" remap x
bad "Invalid argument" remap 8 0
bad "Invalid argument" remap 8 1 2
bad "Invalid argument" remap $(sectors "$m")
bad "Invalid argument" remap $(((blocks - 2) * 8)) 3
bad "Invalid argument" unremap 1x
bad "Invalid argument" list x
bad "Invalid argument" list 0 0
bad "Invalid argument" list 0 5000
bad "Invalid argument" stats now
bad "Invalid argument" clear_stats now

msg r remap 80 10 || fail "remap 80 10: $MSG_ERR"
[ "$(remapped_count r)" = 10 ] || fail "remapped count $(remapped_count r), want 10"
msg r remap 80 10 || fail "remapping again is not idempotent"
[ "$(remapped_count r)" = 10 ] || fail "remapping twice counted twice"
out=$(msg r list) || fail "list"
[ "$(echo "$out" | grep -c ' remapped$')" = 10 ] || fail "list: $out"
echo "$out" | head -1 | grep -q "^10 " || fail "list does not start at block 10: $out"
out=$(msg r list 15 3) || fail "list 15 3"
[ "$(echo "$out" | wc -l)" = 4 ] && echo "$out" | tail -1 | grep -q "^more 18$" ||
	fail "list paging: $out"
dd if="$s" of=/dev/null bs=4096 count=1 2>/dev/null
dd if=/dev/mapper/r of=/dev/null bs=4096 skip=10 count=10 iflag=direct 2>/dev/null
out=$(msg r stats) || fail "stats"
grep -q "^spare_ios 10$" <<<"$out" || fail "stats after 10 reads of remapped blocks: $out"
grep -q "^remapped 10$" <<<"$out" || fail "stats: $out"
msg r clear_stats || fail "clear_stats"
msg r stats | grep -q "^reads 0$" || fail "clear_stats did not clear"
msg r unremap 80 5 || fail "unremap"
[ "$(remapped_count r)" = 5 ] || fail "after unremap: $(remapped_count r)"
msg r unremap 0 || fail "unremapping a block that is not remapped"

# unremap over a range goes from entry to entry, not block by block: on an
# 8 TiB device of 512-byte blocks (2^34 blocks) it takes no time.
dm_remove r || fail "remove"
dd if=/dev/zero of="$s" bs=1M oflag=direct 2>/dev/null
modprobe dm-zero || fail "dm-zero"
dm z "0 $((1 << 34)) zero" || fail "zero"
dm big "0 $((1 << 34)) remap /dev/mapper/z $s 0 $(sectors "$s") 2 block_size 512" ||
	fail "8 TiB remap device"
msg big remap 1000 2 && msg big remap $(((1 << 34) - 1)) || fail "remap on the big device"
t0=$(date +%s)
timeout 60 dmsetup message big 0 unremap 0 $((1 << 34)) || fail "unremap of 2^34 blocks"
[ "$(remapped_count big)" = 0 ] || fail "entries left: $(dmsetup status big)"
log "unremap of 2^34 blocks with 3 entries: $(($(date +%s) - t0)) s"
echo "ok: messages"
