#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A flush of the dm-remap device reaches both the main and the spare device.
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 16 cache_size=4) || fail "null_blk"
s=$(nullb nb_spare 8 cache_size=4) || fail "null_blk"
remap_dev r "$m" "$s" || fail "create"
[ "$(cat /sys/block/${m#/dev/}/queue/write_cache)" = "write back" ] || fail "null_blk cache_size=4 gave no write cache"
flushes() { awk -v d="${1#/dev/}" '$3 == d { print $19 }' /proc/diskstats; }
fm=$(flushes "$m")
fs=$(flushes "$s")
[ -n "$fm" ] || fail "no flush counters in /proc/diskstats"
dd if=/dev/zero of=/dev/mapper/r bs=4k count=1 conv=fsync 2>/dev/null || fail "fsync"
[ "$(flushes "$m")" -gt "$fm" ] || fail "no flush reached main ($fm -> $(flushes "$m"))"
[ "$(flushes "$s")" -gt "$fs" ] || fail "no flush reached spare ($fs -> $(flushes "$s"))"
# Metadata commits flush the spare too.
fs=$(flushes "$s")
msg r remap 0 || fail "remap"
[ "$(flushes "$s")" -gt "$fs" ] || fail "a metadata commit did not flush the spare"
echo "ok: flush"
