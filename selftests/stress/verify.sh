#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# verify=1: a clean run finds no mismatch (and reads back what it wrote);
# a sector changed behind the module's back during a run is caught, named
# and fails the run; so does a read-back that fails.
. "$(dirname "$0")/lib.sh"
need_stress
setup_remap 16 8

run_pass "3 2 1500 verify=1 qd=8"
[ "$(val verify_mismatches)" = 0 ] || fail "clean run: mismatches"
rb=$(awk '/read back/ { gsub(/,/, ""); s += $NF } END { print s + 0 }' $S/comprehensive_report)
[ "$rb" -gt 0 ] || fail "a write test with verify read nothing back"
log "clean: $(val ios) I/Os, $rb read-back I/Os"

# Mixed on a small device: after a second nearly every block carries a
# stamp. Then zero the main device under dm-remap's feet: later reads of
# those blocks must mismatch.
expect_wr OK stress_test_start "4 1 6000 verify=1 qd=4 rwmix=90"
sleep 2
dd if=/dev/zero of="$MAIN" bs=1M count=16 oflag=direct 2>/dev/null || fail "dd over $MAIN"
wait_done 60
[ "$(val result)" = FAIL ] || fail "corruption not caught: result $(val result)"
m=$(val verify_mismatches)
[ "$m" -gt 0 ] || fail "no mismatch counted"
grep -q verify_mismatches <<<"$(val failed_criteria)" || fail "criteria $(val failed_criteria)"
first=$(val first_mismatch_sectors)
[ "$first" != none ] || fail "no mismatching sector named"
for s in $first; do [ "$s" -lt $((16 * 2048)) ] || fail "sector $s beyond the device"; done
grep -q "mismatch at sector" $S/comprehensive_report || fail "report does not list mismatches"
log "caught $m mismatches, first at $first"

# A read-back that fails leaves the data unverified: it must fail the run.
# Blocks 0..63 of a dm-remap device are lost (their main copy was
# unreadable when they were remapped): 512-byte writes to them succeed
# (they go to the spare block, which stays lost), reads of them fail.
LM=$(nullb lm 16) || fail "null_blk lm"
LS=$(nullb ls 8) || fail "null_blk ls"
dm lmain "0 512 error
512 $(($(sectors "$LM") - 512)) linear $LM 512" || fail "dmsetup create lmain"
remap_dev lost /dev/mapper/lmain "$LS" || fail "dmsetup create lost"
msg lost remap 0 64 >/dev/null || fail "remap: $MSG_ERR"
[ "$(status_field lost 2)" = 64 ] || fail "lost blocks: $(dmsetup status lost)"
expect_wr OK target /dev/mapper/lost
expect_wr OK stress_test_start "3 1 1000 verify=1 qd=4 bs=512"
wait_done 60
[ "$(val state)" = completed ] || fail "lost: state $(val state)"
[ "$(val write_ios)" -gt 0 ] && [ "$(val read_ios)" = 0 ] || fail "lost: $(val write_ios) writes, $(val read_ios) reads"
[ "$(val errors)" -gt 0 ] || fail "failed read-backs not counted as errors"
[ "$(val result)" = FAIL ] && grep -q errors <<<"$(val failed_criteria)" ||
	fail "failed read-backs: result $(val result) ($(val failed_criteria))"
log "failed read-backs: $(val errors) errors, result FAIL"
log "ok"
