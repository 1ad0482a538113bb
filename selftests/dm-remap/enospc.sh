#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A full spare area refuses remaps with ENOSPC and keeps what it has.
. "$(dirname "$0")/lib.sh"
need_modules
m=$(nullb nb_main 64) || fail "null_blk"
s=$(nullb nb_spare 1) || fail "null_blk"
remap_dev r "$m" "$s" || fail "create"
cap=$(status_field r 1 | cut -d/ -f2)
log "spare capacity: $cap blocks"
[ "$cap" -gt 0 ] && [ "$cap" -lt 256 ] || fail "capacity $cap of a 1 MiB spare"
mark_dmesg
msg r remap 0 $((cap + 10)) >/dev/null && fail "remapping more than the spare holds succeeded"
grep -q "No space left" <<<"$MSG_ERR" || fail "want ENOSPC, got: $MSG_ERR"
expect_dmesg "spare area full after $cap of $((cap + 10)) blocks"
[ "$(remapped_count r)" = "$cap" ] || fail "remapped $(remapped_count r), want $cap"
msg r remap $(((cap + 20) * 8)) >/dev/null && fail "remap into a full spare succeeded"
msg r unremap 0 1 || fail "unremap"
msg r remap $(((cap + 20) * 8)) || fail "a freed spare block is not reused"
echo "ok: enospc"
