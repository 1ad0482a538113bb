#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A run's life: progress while it runs, adjust, stop mid-run (drained,
# stopped, incomplete), removal of the device refused while the run holds
# it, write tests refused on claimed devices, rmmod mid-run, and the module
# ready for the next run after each; readers of the report keep their own
# snapshot. A suspend stops in-kernel remapping (an interrupted one does
# not), and a test on a suspended device is refused.
. "$(dirname "$0")/lib.sh"
need_stress
setup_remap 128 16

# Unset target with exactly one dm-remap device: that one.
expect_wr OK stress_test_start "4 2 60000 qd=16"
sleep 2
[ "$(state)" = running ] || fail "state $(state) while running"
[ "$(val partial)" = 1 ] && [ "$(val state)" = running ] || fail "live results not partial"
[ "$(val target_dev)" = "$(dmsetup info -c --noheadings -o major,minor r0 | tr -d ' ')" ] ||
	fail "auto target is not r0"
i1=$(val ios $S/stress_test_status)
[ "$(val inflight $S/stress_test_status)" -gt 0 ] || fail "nothing in flight"
[ "$(val progress_pct $S/stress_test_status)" -lt 100 ] || fail "progress 100 % early"

# The device is held: dmsetup remove is refused and the run goes on.
dmsetup remove r0 2>/dev/null && fail "dmsetup remove succeeded during a run"
[ -b "$DEV" ] || fail "$DEV gone"

# Rate cap, effective immediately.
expect_wr OK stress_test_adjust "rate=500"
sleep 3
r=$(val iops_1s $S/stress_test_status)
[ "$r" -le 600 ] || fail "iops_1s $r after rate=500"
expect_wr OK stress_test_adjust "rate=0 qd=2"
sleep 2
[ "$(val inflight $S/stress_test_status)" -le 4 ] || fail "inflight above 2 x 2 after qd=2"

expect_wr OK stress_test_stop 1
[ "$(state)" = stopped ] || fail "state $(state) right after stop returned"
[ "$(val inflight $S/stress_test_status)" = 0 ] || fail "in flight after stop"
[ "$(val state)" = stopped ] && [ "$(val result)" = FAIL ] || fail "stopped run: $(val state) $(val result)"
[ "$(val failed_criteria)" = incomplete ] || fail "criteria $(val failed_criteria)"
[ "$(val ios)" -ge "$i1" ] || fail "ios went down"
check_consistent 4096
expect_wr OK stress_test_stop 1		# idempotent

# Two dm-remap devices and no target: ENODEV, nothing started.
SP2=$(nullb spare2 16 blocksize=4096) && M2=$(nullb main2 16 blocksize=4096) || fail "null_blk 2"
remap_dev r1 "$M2" "$SP2" || fail "dmsetup create r1"
expect_wr ENODEV stress_test_start "1 1 100"
expect_wr OK target r1
run_pass "1 1 300"

# Write tests open exclusively: a device claimed by dm (main of r0) is busy,
# a plain device without force=1 is refused.
expect_wr OK target "$MAIN"
expect_wr EPERM stress_test_start "3 1 100"
expect_wr EBUSY stress_test_start "3 1 100 force=1"
run_pass "1 1 300"		# reading it is fine
expect_wr OK target auto
dm_remove r1 || fail "removing r1 after its run"

# rmmod during a run stops it and waits; no leak, no splat (the harness
# checks dmesg), and the module loads and runs again.
expect_wr OK stress_test_start "4 4 60000 qd=32"
sleep 2
rmmod dm_remap_stress || fail "rmmod during a run"
[ -d $S ] && fail "$S still there after rmmod"
grep -q -- "unloading: stopping the running test" <<<"$(dmesg)" || fail "rmmod did not say it stopped the run"
modprobe dm-remap-stress || fail "reload"
run_pass "1 1 300"

# Each reader of a long file keeps its own snapshot: a reader halfway
# through the first run's report still gets that report whole after a
# second run and another reader from offset 0.
cat $S/comprehensive_report >/tmp/rep1
[ "$(stat -c %s /tmp/rep1)" -gt 1024 ] || fail "the report is $(stat -c %s /tmp/rep1) bytes"
exec 3<$S/comprehensive_report
dd bs=1024 count=1 <&3 >/tmp/repA 2>/dev/null
run_pass "1 1 300 seed=9"
cat $S/comprehensive_report >/tmp/rep2
cat <&3 >>/tmp/repA
exec 3<&-
cmp -s /tmp/rep1 /tmp/rep2 && fail "the second run's report is the first's"
cmp /tmp/rep1 /tmp/repA || fail "a reader's report changed under it"
log "two readers, two snapshots"

# A suspend stops in-kernel remapping at a batch boundary. The remap-heavy
# setup (65536 migrations a batch), slowed by a 20 ms delay on main, is
# suspended during its first batch: the suspend waits for that batch and
# the second is refused (EBUSY), so the run fails instead of changing the
# metadata of a suspended device, which a reload may be replacing.
need_module dm-delay
BM=$(nullb bm 512 memory_backed=0) || fail "null_blk bm"
SM=$(nullb sm 8) || fail "null_blk sm"
SD=$(nullb sd 320 memory_backed=0) || fail "null_blk sd"
dm bmain "0 $(sectors "$BM") delay $BM 0 20" || fail "dm-delay"
dm bspare "0 $(sectors "$SM") linear $SM 0
$(sectors "$SM") $(sectors "$SD") linear $SD 0" || fail "spare"
remap_dev big /dev/mapper/bmain /dev/mapper/bspare || fail "dmsetup create big"
expect_wr OK target /dev/mapper/big
expect_wr OK stress_test_start "5 1 1000 remaps=70000"
sleep 1
dmsetup suspend big || fail "suspend during the remap setup"
for ((i = 0; i < 600; i++)); do
	case $(state) in running | stopping) sleep 0.1 ;; *) break ;; esac
done
st=$(state) n=$(remapped_count big)
dmsetup resume big || fail "resume"
wait_done 60
[ "$st" = failed ] || fail "suspended setup: state $st, not failed"
grep -q "failed with -16" <<<"$(val fail_reason)" || fail "fail_reason: $(val fail_reason)"
[ "$n" = 65536 ] || fail "$n remaps made, not the first batch of 65536"
log "suspended during the setup: $(val fail_reason); $n remaps, the first batch"

# A suspend interrupted while it waits for I/O in flight (here a read that
# dm-delay holds for 8 s) does not happen: dm undoes the presuspend, and
# in-kernel remapping must work again without a resume.
slow_main() {	# slow_main MS: the delay of big's main device
	dmsetup suspend bmain && dmsetup reload bmain --table "0 $(sectors "$BM") delay $BM 0 $1" &&
		dmsetup resume bmain
}
slow_main 8000 || fail "slowing bmain"
# The setup above remapped the device's first half: read in the second.
dd if=/dev/mapper/big of=/dev/null bs=4k count=1 skip=$((n * 3 / 2)) iflag=direct 2>/dev/null &
rd=$!
sleep 1
dmsetup suspend big &
sp=$!
sleep 1
kill -KILL $sp
wait $sp && fail "the suspend was not interrupted"
wait $rd || fail "the held read failed"
dmsetup info big | grep -q "^State: *ACTIVE" || fail "after the interrupted suspend: $(dmsetup info big | grep State)"
slow_main 0 || fail "speeding bmain up"
# 8 remaps spread evenly skip blocks already remapped (the first $n).
nb=$(($(sectors /dev/mapper/big) / 8)) want=$n
for ((b = nb / 16; b < nb; b += nb / 8)); do [ $b -ge "$n" ] && want=$((want + 1)); done
run_pass "5 1 500 remaps=8 keep_remaps=1"
[ "$(remapped_count big)" = $want ] ||
	fail "after the interrupted suspend: $(remapped_count big) remaps, want $want"
log "an interrupted suspend: remapping works again ($n -> $want remaps)"

# A test on a suspended dm-remap device is refused: its I/O would wait for
# the resume and its remapping fail.
dmsetup suspend big || fail "suspend big"
mark_dmesg
expect_wr EBUSY stress_test_start "1 1 500"
expect_wr EBUSY stress_test_start "5 1 500 remaps=8"
expect_dmesg "big is suspended: resume it first"
dmsetup resume big || fail "resume big"
run_pass "1 1 500"
dm_remove big || fail "big still busy"
# The same with the target left to "auto": r0 is now the only one.
expect_wr OK target auto
dmsetup suspend r0 || fail "suspend r0"
mark_dmesg
expect_wr EBUSY stress_test_start "1 1 500"
expect_dmesg "is suspended: resume it first"
dmsetup resume r0 || fail "resume r0"
run_pass "1 1 500"
dm_remove r0 || fail "r0 still busy after the runs"
log "ok"
