#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Random sizes and offsets written through dm-remap while blocks are being
# remapped and unremapped read back exactly like the same writes on a plain
# device (fio, fixed seed, then cmp).
. "$(dirname "$0")/lib.sh"
need_modules
command -v fio >/dev/null || fail "no fio in the guest"
size=64
[ "${DMR_KERNEL:-}" = debug ] && size=16
m=$(nullb nb_main $size) || fail "null_blk"
s=$(nullb nb_spare 16) || fail "null_blk"
ref=$(nullb nb_ref $size) || fail "null_blk"
remap_dev r "$m" "$s" block_size 4096 || fail "create"
blocks=$(($(sectors "$m") / 8))

msg r remap 0 64 || fail "initial remaps"
job() {	# job DEV: the same random writes (sizes 512..64k, any 512 offset)
	fio --name=w --filename="$1" --rw=randwrite --bsrange=512-64k \
		--blockalign=512 --direct=1 --ioengine=psync --allrandrepeat=1 --randseed=1234 --refill_buffers \
		--number_ios=3000 --size=${size}M --norandommap --output=/dev/null || return 1
}
(
	i=0
	while [ ! -f /tmp/stop.$$ ]; do
		b=$(( (i * 7919) % (blocks - 8) ))
		dmsetup message r 0 remap $((b * 8)) 4 2>/dev/null
		[ $((i % 3)) = 0 ] && dmsetup message r 0 unremap $(( ((i * 104729) % (blocks - 8)) * 8 )) 4 2>/dev/null
		i=$((i + 1))
	done
) &
churn=$!
job /dev/mapper/r || fail "fio on dm-remap"
touch /tmp/stop.$$
wait $churn
job "$ref" || fail "fio on the reference device"
n=$(remapped_count r)
log "remapped blocks at the end: $n"
[ "$n" -gt 64 ] || fail "the churn remapped nothing ($n)"
cmp /dev/mapper/r "$ref" || fail "content differs from the reference device"
[ "$(status_counter r spare_ios)" -gt 0 ] || fail "no I/O went to the spare area"
echo "ok: integrity"
