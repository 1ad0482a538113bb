#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 1,000,000 remaps (512-byte blocks) are created, persisted and looked up.
# The debug kernel gets 100,000.
. "$(dirname "$0")/lib.sh"
need_modules
n=1000000
[ "${DMR_KERNEL:-}" = debug ] && n=100000
main_mb=$(( (n * 2 * 512) >> 20 ))
spare_mb=$(( (n * (512 + 16)) / 1048576 + 8 ))
m=$(nullb nb_main $main_mb memory_backed=0) || fail "null_blk"
s=$(nullb nb_spare $spare_mb) || fail "null_blk"
table="0 $(sectors "$m") remap $m $s 0 $(sectors "$s") 2 block_size 512"
dm r "$table" || fail "create"
t0=$(date +%s)
msg r remap 0 $((n / 2)) || fail "remap first half: $MSG_ERR"
msg r remap $((n / 2 * 2)) $((n / 2)) || fail "remap second half: $MSG_ERR"
t1=$(date +%s)
[ "$(remapped_count r)" = $n ] || fail "remapped $(remapped_count r)"
log "$n remaps in $((t1 - t0)) s"
grep -E "^(MemAvailable|Slab|VmallocUsed)" /proc/meminfo | sed 's/^/# /'
dm_remove r
t0=$(date +%s)
dm r "$table" || fail "re-create"
log "loaded $n remaps in $(($(date +%s) - t0)) s"
[ "$(remapped_count r)" = $n ] || fail "after re-create: $(remapped_count r)"
msg r clear_stats
# Lookups: sectors in both remapped halves go to spare, the gap to main.
"$DIO" read /dev/mapper/r $((12345 * 512)) 51200 || fail "read"
"$DIO" read /dev/mapper/r $(((n / 2 * 2 + 777) * 512)) 51200 || fail "read"
"$DIO" read /dev/mapper/r $(((n / 2 + 1000) * 512)) 51200 || fail "read"
[ "$(status_counter r spare_ios)" = 200 ] || fail "spare_ios $(status_counter r spare_ios), want 200"
msg r list $((n / 2 * 2 - 1)) 2 | head -1 | grep -q "^$((n / 2 * 2)) " || fail "list across the gap: $(msg r list $((n / 2 * 2 - 1)) 2)"
echo "ok: million"
