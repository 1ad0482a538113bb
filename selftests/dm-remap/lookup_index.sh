#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lookups through the index large maps get (4,096 entries and more):
# regions remapped whole, half, with exactly and one below the bitmap
# threshold (64 entries), runs across region edges, first and last blocks.
# Every block must read back what was written (whole-device compares with
# reads of several sizes, which split at each remapped block), single-block
# reads must go to spare exactly when the block is remapped, and the same
# must hold after random writes, unremaps and more remaps.
. "$(dirname "$0")/lib.sh"
need_modules
R=1024			# blocks per region (512-byte blocks)
m=$(nullb nb_main 16) || fail "null_blk"
s=$(nullb nb_spare 8) || fail "null_blk"
ref=/tmp/lookup_ref.$$
dd if=/dev/urandom of="$ref" bs=1M count=16 2>/dev/null || fail "random data"
dd if="$ref" of="$m" bs=1M oflag=direct 2>/dev/null || fail "fill main"
remap_dev r "$m" "$s" block_size 512 || fail "create"

remap() { msg r remap "$1" "$2" >/dev/null || fail "remap $1 $2: $MSG_ERR"; }
unremap() { msg r unremap "$1" "$2" >/dev/null || fail "unremap $1 $2: $MSG_ERR"; }
remap 0 $R				# region 0 whole
remap $R 512				# region 1: half, and a run
remap $((R + 676)) 100
msgs r < <(for k in $(seq 0 63); do echo "remap $((2 * R + k * 16)) 1"; done)	# region 2: 64
msgs r < <(for k in $(seq 0 62); do echo "remap $((3 * R + k * 16 + 5)) 1"; done)	# region 3: 63
remap $((6 * R - 44)) 101		# across the edge of regions 5 and 6
remap $((7 * R)) 1			# first and last block of region 7
remap $((8 * R - 1)) 1
remap $((10 * R)) 3000			# regions 10-12 and part of 13
want=$((R + 612 + 64 + 63 + 101 + 2 + 3000))
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r), want $want"

# compare_all WHAT: the whole device against the reference, O_DIRECT reads
# of 512 bytes (4 KiB on the debug kernel) to 1 MiB.
sizes="512 4096 65536 1048576"
# KASAN makes 32,768 reads of 512 bytes take minutes: 4 KiB and up there.
[ "${DMR_KERNEL:-}" = debug ] && sizes="4096 65536 1048576"
compare_all() {
	local bs
	for bs in $sizes; do
		dd if=/dev/mapper/r bs=$bs iflag=direct 2>/dev/null | cmp - "$ref" >/dev/null ||
			fail "$1: content differs (reads of $bs bytes)"
	done
}
# to_spare BLOCK: 1 if a one-block read of BLOCK went to spare, else 0
to_spare() {
	local before
	before=$(status_counter r spare_ios)
	"$DIO" read /dev/mapper/r $(($1 * 512)) 512 /tmp/lk.$$ || fail "read block $1"
	echo $(($(status_counter r spare_ios) - before))
}
# expect BLOCK 0|1
expect() {
	[ "$(to_spare "$1")" = "$2" ] || fail "block $1: spare_ios +$(to_spare "$1"), want +$2"
}

compare_all "after remapping"
expect 0 1; expect $((R - 1)) 1; expect $R 1; expect $((R + 511)) 1
expect $((R + 512)) 0; expect $((R + 675)) 0; expect $((R + 676)) 1
expect $((R + 775)) 1; expect $((R + 776)) 0
expect $((2 * R)) 1; expect $((2 * R + 1)) 0; expect $((2 * R + 1008)) 1
expect $((2 * R + 1009)) 0; expect $((3 * R - 1)) 0
expect $((3 * R + 5)) 1; expect $((3 * R + 4)) 0; expect $((3 * R + 997)) 1
expect $((6 * R - 45)) 0; expect $((6 * R - 44)) 1; expect $((6 * R - 1)) 1
expect $((6 * R)) 1; expect $((6 * R + 56)) 1; expect $((6 * R + 57)) 0
expect $((7 * R)) 1; expect $((7 * R + 1)) 0; expect $((8 * R - 2)) 0
expect $((8 * R - 1)) 1; expect $((8 * R)) 0; expect $((9 * R)) 0
expect $((10 * R + 2999)) 1; expect $((10 * R + 3000)) 0
expect $((32 * R - 1)) 0

# Random writes of 512 bytes to 64 KiB, the same on the reference file.
command -v fio >/dev/null || fail "no fio in the guest"
job() {
	fio --name=w --filename="$1" --rw=randwrite --bsrange=512-64k --blockalign=512 \
		--direct="$2" --ioengine=psync --allrandrepeat=1 --randseed=4321 \
		--refill_buffers --number_ios=2000 --size=16M --norandommap \
		--output=/dev/null || fail "fio on $1"
}
job /dev/mapper/r 1
job "$ref" 0
compare_all "after random writes"

# Region 2 drops below the bitmap threshold, region 0 loses its middle,
# region 3 reaches it; the index is rebuilt each time.
msgs r < <(for k in $(seq 0 31); do echo "unremap $((2 * R + k * 32)) 1"; done)
unremap 300 400
remap $((3 * R + 6)) 1
expect $((2 * R)) 0; expect $((2 * R + 16)) 1; expect 299 1; expect 300 0
expect 699 0; expect 700 1; expect $((3 * R + 6)) 1; expect $((3 * R + 7)) 0
compare_all "after unremapping"
want=$((want - 32 - 400 + 1))
[ "$(remapped_count r)" = $want ] || fail "remapped $(remapped_count r), want $want"

# The same lookups after the map is loaded from the metadata.
dm_remove r
remap_dev r "$m" "$s" block_size 512 || fail "re-create"
[ "$(remapped_count r)" = $want ] || fail "after re-create: $(remapped_count r)"
expect $((2 * R + 16)) 1; expect $((2 * R + 17)) 0; expect $((6 * R)) 1
compare_all "after re-create"
rm -f "$ref" /tmp/lk.$$
echo "ok: lookup_index"
