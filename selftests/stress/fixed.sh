#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fixed workloads: quick_validation (shortened), regression_test with
# and without a baseline, baseline save/clear/reload, memory_pressure_test.
. "$(dirname "$0")/lib.sh"
need_stress
setup_remap 128 16
P=/sys/module/dm_remap_stress/parameters
echo 3000 >$P/quick_validation_ms && echo 2000 >$P/regression_ms || fail "parameters"

expect_wr OK quick_validation 1
wait_done 60
[ "$(val result)" = PASS ] || fail "quick_validation: $(val result) ($(val failed_criteria))"
[ "$(val test)" = mixed ] && [ "$(val workers)" = 4 ] && [ "$(val qd)" = 32 ] &&
	[ "$(val verify)" = 1 ] || fail "quick_validation is not mixed/4 workers/qd 32/verify"
check_consistent 4096

# No baseline: the regression test establishes one and says so.
expect_wr OK baseline clear
expect_wr OK regression_test 1
wait_done 60
[ "$(val regression)" = baseline_established ] || fail "regression $(val regression) without a baseline"
[ "$(val result)" = PASS ] || fail "first regression run $(val result)"
[ "$(val state)" = completed ] && [ -n "$(cat $S/baseline)" ] || fail "no baseline kept"
cmp -s $S/baseline $S/stress_test_results || fail "baseline differs from the run that made it"
base_iops=$(val iops $S/baseline)

# With a baseline: a verdict with both changes.
expect_wr OK regression_test 1
wait_done 60
case $(val regression) in pass | fail) ;; *) fail "regression $(val regression) with a baseline" ;; esac
[ "$(val regression_iops_change_pct)" != n/a ] || fail "no iops change"
log "regression: $(val regression), iops $(val iops) vs $base_iops ($(val regression_iops_change_pct) %), p99 change $(val regression_p99_change_pct) %"

# A baseline 10x faster than this device: the drop must fail the run.
fast=$(sed -e 's/^iops: .*/iops: 99999999.00/' -e 's/^lat_p99_ns: .*/lat_p99_ns: 1/' $S/baseline)
expect_wr OK baseline "$fast"
[ "$(val iops $S/baseline)" = 99999999.00 ] || fail "baseline text not taken"
expect_wr OK regression_test 1
wait_done 60
[ "$(val regression)" = fail ] && [ "$(val result)" = FAIL ] || fail "no regression against a 10x baseline"
[ "$(val failed_criteria)" = iops_drop,p99_rise ] || fail "criteria $(val failed_criteria)"
grep -q '^iops change -' $S/comprehensive_report || fail "report lacks the comparison"

# save: the last completed run becomes the baseline.
expect_wr OK baseline save
cmp -s $S/baseline $S/stress_test_results || fail "baseline save"
expect_wr OK baseline clear
[ -z "$(cat $S/baseline)" ] || fail "baseline clear"

# Memory pressure: a small amount runs, with the unpressured figures beside.
expect_wr OK memory_pressure_test "32 1500"
wait_done 60
[ "$(val result)" = PASS ] || fail "memory pressure run: $(val result) $(val fail_reason)"
[ "$(val pressure_mb)" = 32 ] || fail "pressure_mb $(val pressure_mb)"
[ -n "$(val unpressured_iops)" ] || fail "no unpressured figures"
grep -q 'under pressure' $S/comprehensive_report || fail "report lacks the pressure table"
grep -q '32 MB requested, 32 MB held' $S/comprehensive_report || fail "pressure not held"
avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
expect_wr ENOMEM memory_pressure_test "$((avail * 6 / 10)) 100"
grep -q -- 'Out of memory' <<<"$(dmesg)" && fail "the OOM killer ran"
log "ok"
