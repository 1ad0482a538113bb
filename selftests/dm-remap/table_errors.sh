#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every constructor error is refused with its own message; a good table loads.
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 64) || fail "null_blk"
s=$(nullb nb_spare 16) || fail "null_blk"
ml=$(sectors "$m")
sl=$(sectors "$s")

refuse() {	# refuse 'TABLE' 'dmesg words'
	mark_dmesg
	dmsetup create bad --table "$1" 2>/dev/null && { dmsetup remove bad; fail "accepted: $1"; }
	expect_dmesg "$2"
	log "refused: $1 ($2)"
}

refuse "0 $ml remap $m $s 0" "Invalid argument count"
refuse "0 $ml remap /dev/nonexistent $s 0 $sl" "Main device lookup failed"
refuse "0 $ml remap $m /dev/nonexistent 0 $sl" "Spare device lookup failed"
refuse "0 $ml remap $m $s x $sl" "Invalid spare_start"
refuse "0 $ml remap $m $s 0 -1" "Invalid spare_len"
refuse "0 $ml remap $m $s 0 0" "Spare area empty or beyond"
refuse "0 $ml remap $m $s 8 $sl" "Spare area empty or beyond"
refuse "0 $ml remap $m $s 0 $sl 2 block_size 3000" "Invalid block_size"
refuse "0 $ml remap $m $s 0 $sl 2 block_size 256" "Invalid block_size"
refuse "0 $ml remap $m $s 0 $sl 2 block_size 131072" "Invalid block_size"
refuse "0 $ml remap $m $s 0 $sl 2 block_size" "Invalid number of feature"
refuse "0 $ml remap $m $s 0 $sl 1 frobnicate" "Unknown feature"
refuse "0 $ml remap $m $s 0 $sl 5 a b c d e" "Invalid number of feature"
refuse "0 $ml remap $m $s 0 $sl 1 format extra" "Arguments after the feature"
refuse "0 $((ml + 8)) remap $m $s 0 $sl" "Main device smaller"
refuse "0 $((ml / 2)) remap $m $m $((ml / 4)) 4096" "overlaps"
refuse "0 $ml remap $m $s 0 16" "Spare area too small"
# A lookup value names its spare block in 30 bits: 1 TiB of 512-byte
# blocks is about 2^31 of them (a null_blk without memory behind it).
h=$(nullb nb_huge 1048576 memory_backed=0) || fail "null_blk"
refuse "0 $ml remap $m $h 0 2147483648 2 block_size 512" "Spare area too large"

# The same device holds both when they do not overlap.
dm ok "0 $((ml / 2)) remap $m $m $((ml / 2)) 8192" || fail "main and spare on one device refused"
dm_remove ok

# Unknown data in the spare area is refused unless `format` is given.
dd if=/dev/urandom of="$s" bs=4096 count=1 oflag=direct 2>/dev/null
refuse "0 $ml remap $m $s 0 $sl" "Spare area holds unknown data"
dm fmt "0 $ml remap $m $s 0 $sl 1 format" || fail "format refused"
dm_remove fmt

# Valid metadata of another geometry is refused.
refuse "0 $ml remap $m $s 0 $sl 2 block_size 8192" "Metadata geometry mismatch"
refuse "0 $((ml - 8)) remap $m $s 0 $sl" "Metadata geometry mismatch"
dm again "0 $ml remap $m $s 0 $sl" || fail "reloading its own metadata refused"
dmsetup table again | grep -Eq "^0 $ml remap [0-9]+:[0-9]+ [0-9]+:[0-9]+ 0 $sl\$" ||
	fail "table line: $(dmsetup table again)"
dm_remove again
dm feat "0 $ml remap $m $s 0 $sl 1 no_auto_remap" || fail "no_auto_remap refused"
dmsetup table feat | grep -q " 1 no_auto_remap$" || fail "table line lacks no_auto_remap: $(dmsetup table feat)"
echo "ok: table errors"
