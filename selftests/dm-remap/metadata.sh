#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The metadata on disk is what dm-remap.rst describes (read by mdedit, which
# knows the format, not the kernel's code). A torn table or header falls
# back to the older copy with a warning, and the next commit repairs it.
# Corrupt tables in both copies, and tables whose checksums hold but whose
# entries cannot be, are refused; a valid hand-made entry is loaded.
. "$(dirname "$0")/lib.sh"
need_modules
MD=$(dirname "$0")/mdedit
m=$(nullb nb_main 64) || fail "null_blk"
s=$(nullb nb_spare 16) || fail "null_blk"
ml=$(sectors "$m")
table="0 $ml remap $m $s 0 $(sectors "$s")"

slot() { printf '0x%016x' $(((1 << 63) | $1)); }	# slot BLOCK: valid entry
md() { "$MD" "$1" "$s" 0 "${@:2}" || fail "mdedit $*"; }
refuse() {	# refuse 'dmesg words'
	mark_dmesg
	dmsetup create bad --table "$table" 2>/dev/null && { dmsetup remove bad; fail "accepted: $1"; }
	expect_dmesg "$1"
	log "refused: $1"
}
load() {	# load WHAT ENTRIES: the table loads with ENTRIES remapped, data intact
	dm r "$table" || fail "$1: create"
	[ "$(remapped_count r)" = "$2" ] || fail "$1: $(remapped_count r) remapped, want $2"
	cmp /tmp/ref /dev/mapper/r || fail "$1: data differs"
	log "$1: $2 remaps, data intact"
}
# spare_of BLOCK: its spare block, from the list message of device r
spare_of() { msg r list 0 4096 | awk -v b="$1" '$1 == b { print $2 }'; }

dm r "$table" || fail "create"
dd if=/dev/urandom of=/tmp/ref bs=1M count=64 2>/dev/null
dd if=/tmp/ref of=/dev/mapper/r bs=1M oflag=direct 2>/dev/null || fail "write"
msg r remap 800 1 || fail "remap block 100"
msg r remap 1600 1 || fail "remap block 200"
s100=$(spare_of 100)
s200=$(spare_of 200)
[ -n "$s100" ] && [ -n "$s200" ] || fail "list lacks the remaps: $(msg r list)"
dm_remove r

# Capacity as dm-remap.rst computes it: the largest n whose two metadata
# copies (rounded up to the block) and n blocks fit.
sl=$(sectors "$s")
n=$((sl / 8))
fits() { local t=$((($1 * 8 + 4095) / 4096 * 4096)); [ $(((2 * (8 + t / 512) + 7) / 8 * 8 + $1 * 8)) -le "$sl" ]; }
while ! fits $n; do n=$((n - 1)); done
md show | grep -q "^copy 0 valid .* blocks $n\$" || fail "capacity: $(md show | head -1), documented $n"
log "capacity $n blocks, as documented"

# Two valid copies a generation apart: the newer holds both entries.
md show | grep -q "^copy 0 valid " || fail "copy 0: $(md show)"
md show | grep -q "^copy 1 valid " || fail "copy 1: $(md show)"
new=$(md show | awk '$1 == "newest" { print $2 }')
old=$((new ^ 1))
gn=$(md show | awk -v c="$new" '$2 == c { print $5 }')
go=$(md show | awk -v c="$old" '$2 == c { print $5 }')
[ "$gn" = $((go + 1)) ] || fail "generations: new $gn, old $go"
md show | grep -q "^copy $new valid gen $gn entries 2 " || fail "entry count: $(md show)"
[ "$(md get "$new" "$s100")" = "$(slot 100)" ] || fail "slot $s100: $(md get "$new" "$s100")"
[ "$(md get "$new" "$s200")" = "$(slot 200)" ] || fail "slot $s200: $(md get "$new" "$s200")"
[ "$(md get "$old" "$s100")" = "$(slot 100)" ] || fail "old slot $s100"
[ "$(md get "$old" "$s200")" = "$(printf '0x%016x' 0)" ] || fail "old slot $s200"
log "copy $new (gen $gn) holds blocks 100 and 200, copy $old (gen $go) block 100"

# torn WHAT OFFSET WARNING: damage the newer copy at OFFSET; the older one
# is loaded with WARNING, and the next commit (block 200 again) rewrites
# the torn copy whole.
torn() {
	md flip "$new" "$2"
	mark_dmesg
	load "torn $1 in copy $new" 1
	expect_dmesg "$3"
	msg r remap 1600 1 || fail "remap block 200 again"
	s200=$(spare_of 200)
	dm_remove r
	[ "$(md show | awk '$1 == "newest" { print $2 }')" = "$new" ] || fail "the torn copy was not rewritten: $(md show)"
	[ "$(md get "$new" "$s200")" = "$(slot 200)" ] || fail "rewritten slot $s200: $(md get "$new" "$s200")"
}
torn table $((4096 + s200 * 8)) "metadata copy $new table checksum mismatch: using the older copy"
load "repaired" 2
dm_remove r
torn header 20 "metadata copy $new has no valid header: using copy $old"

# Both tables torn: refused, and nothing written; flipping back restores.
md flip 0 4096
md flip 1 4096
refuse "Metadata is corrupt (no copy has a valid header and table)"
expect_dmesg "metadata copy $old table checksum mismatch"
md flip 0 4096
md flip 1 4096
load "both tables restored" 2
dm_remove r

# Checksums that hold around impossible entries are refused, with no
# fallback to the older copy (that would drop committed remaps).
free=$(( (s100 > s200 ? s100 : s200) + 1 ))
nblocks=$((ml / 8))
md set new "$free" "$(slot "$nblocks")"
refuse "Metadata table holds invalid entries"
md set new "$free" "$(slot 100)"
refuse "Metadata table holds invalid entries"
# The last block is in range; a lost entry loads as lost.
md set new "$free" "$(slot $((nblocks - 1)))"
dm r "$table" || fail "the last block refused"
msg r list 0 4096 | grep -qx "$((nblocks - 1)) $free remapped" || fail "list: $(msg r list 0 4096)"
dm_remove r
md set new "$free" "$(printf '0x%016x' $(((3 << 62) | 7)))"
dm r "$table" || fail "a lost entry refused"
msg r list 0 4096 | grep -qx "7 $free lost" || fail "list: $(msg r list 0 4096)"
[ "$(status_field r 2)" = 1 ] || fail "lost count: $(dmsetup status r)"
"$DIO" read /dev/mapper/r $((7 * 4096)) 4096 2>/dev/null && fail "a lost block was readable"
log "hand-made entries: last block remapped, block 7 lost"
dm_remove r
md set new "$free" 0

# A resume after a reload, whose metadata changed meanwhile and no longer
# loads, fails; the resume retried after the repair must load it again,
# not take the half-read state of the failed attempt for current.
dm r "$table" || fail "create"
dmsetup reload r --table "$table" || fail "reload"
msg r remap $((300 * 8)) 1 >/dev/null || fail "remap block 300 through the old table"
s300=$(spare_of 300)
f2=$(($(msg r list 0 4096 | awk '{ print $2 }' | sort -n | tail -1) + 1))
md set new "$f2" "$(slot 300)"
mark_dmesg
dmsetup resume r 2>/dev/null && fail "resumed with block 300 in two slots"
expect_dmesg ": reloading changed metadata failed: invalid entries"
md set new "$f2" 0
dmsetup resume r || fail "the retried resume failed"
msg r list 0 4096 | grep -qx "300 $s300 remapped" ||
	fail "the retried resume kept the map from before the reload: $(msg r list 0 4096)"
log "failed resume retried: block 300 (spare $s300) is there"
echo "ok: metadata"
