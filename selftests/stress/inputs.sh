#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every control file refuses malformed input with the documented errno and
# changes nothing: the status, results, target and baseline read the same
# before and after the bad writes.
. "$(dirname "$0")/lib.sh"
need_stress
setup_remap 64 16

# No run yet: empty results and baseline, idle status.
[ "$(state)" = idle ] || fail "state $(state) before any run"
[ "$(val test $S/stress_test_status)" = none ] || fail "test is not none before any run"
# (sysfs files always have a size: read them)
[ -z "$(cat $S/stress_test_results)" ] || fail "results not empty before any run"
[ -z "$(cat $S/baseline)" ] || fail "baseline not empty before any run"
[ "$(cat $S/target)" = auto ] || fail "target is '$(cat $S/target)', not auto"

run_pass "1 1 300"
snap() { cat $S/stress_test_status $S/stress_test_results $S/target $S/baseline; }
before=$(snap)

# stress_test_start
while IFS='|' read -r errno text; do
	expect_wr "$errno" stress_test_start "$text"
done <<'LIST'
EINVAL|
EINVAL|1
EINVAL|1 2
EINVAL|x 1 100
EINVAL|1 x 100
EINVAL|1 1 1e3
ERANGE|6 1 100
ERANGE|1 0 100
ERANGE|1 33 100
ERANGE|1 1 0
ERANGE|1 1 86400001
ERANGE|1 1 99999999999999999999999
EINVAL|1 1 100 bs
EINVAL|1 1 100 bs=
EINVAL|1 1 100 =4096
EINVAL|1 1 100 nosuchkey=1
EINVAL|1 1 100 bs=4096 bs=4096
EINVAL|1 1 100 bs=3000
ERANGE|1 1 100 bs=256
ERANGE|1 1 100 bs=2m
EINVAL|1 1 100 bs=4q
ERANGE|1 1 100 qd=0
ERANGE|1 1 100 qd=1025
ERANGE|8 1 100 qd=1024
ERANGE|1 8 100 qd=1024
EINVAL|1 1 100 qd=-1
ERANGE|1 1 100 ops=0
ERANGE|4 1 100 rwmix=101
EINVAL|1 1 100 rwmix=50
EINVAL|1 1 100 verify=2
EINVAL|1 1 100 verify=yes
EINVAL|1 1 100 dist=normal
EINVAL|1 1 100 dist=zipf:
EINVAL|1 1 100 dist=zipf:1.234
ERANGE|1 1 100 dist=zipf:0
ERANGE|1 1 100 dist=zipf:9
EINVAL|1 1 100 cpus=x
ERANGE|1 1 100 cpus=63
EINVAL|1 1 100 remaps=10
EINVAL|4 1 100 keep_remaps=1
EINVAL|5 1 100 keep_remaps=2
ERANGE|5 1 100 remaps=0
EINVAL|1 1 100 profile=db
EINVAL|1 1 100 profile=oltp bs=8192
EINVAL|1 1 100 force=2
ERANGE|1 1 100 rate=100000001
ERANGE|1 4 100 ops=3
ERANGE|1 4 100 rate=3
ERANGE|1 4 100 qd=1024 bs=1m
LIST
# larger than one start can hold
expect_wr ERANGE stress_test_start "1 32 100 qd=128 bs=1m"

# stop, adjust, the fixed workloads, target, baseline
expect_wr EINVAL stress_test_stop 0
expect_wr EINVAL stress_test_stop "1 1"
expect_wr OK stress_test_stop 1			# idempotent when idle
expect_wr EINVAL stress_test_adjust ""
expect_wr EINVAL stress_test_adjust "qd=4"	# nothing runs
expect_wr EINVAL stress_test_adjust "depth=4"
expect_wr EINVAL stress_test_adjust "qd=4 qd=5"
expect_wr ERANGE stress_test_adjust "qd=0"
expect_wr EINVAL quick_validation 0
expect_wr EINVAL quick_validation "1 force=2"
expect_wr EINVAL regression_test yes
expect_wr EINVAL memory_pressure_test ""
expect_wr EINVAL memory_pressure_test "10"
expect_wr EINVAL memory_pressure_test "x 100"
expect_wr ERANGE memory_pressure_test "0 100"
expect_wr ERANGE memory_pressure_test "10 0"
expect_wr ENOMEM memory_pressure_test "$((1 << 20)) 100"
expect_wr ENODEV target /dev/nosuchdevice
expect_wr ENODEV target nosuchname
expect_wr ENODEV target 4294967304:0		# would wrap to 8:0
expect_wr ENODEV target 8:99999999999
expect_wr ENODEV target -1:0
expect_wr ENODEV target 1:2x
expect_wr EINVAL target "$(head -c 200 /dev/zero | tr '\0' x)"
expect_wr EINVAL baseline "nonsense"
expect_wr EINVAL baseline "$(sed 's/^state: .*/state: stopped/' $S/stress_test_results)"
expect_wr EINVAL baseline "$(grep -v '^iops:' $S/stress_test_results)"

after=$(snap)
[ "$before" = "$after" ] || fail "a refused write changed state: $(diff <(echo "$before") <(echo "$after") | head -5)"

# Busy: every start is refused while a test runs; adjust works.
expect_wr OK stress_test_start "1 2 60000"
expect_wr EBUSY stress_test_start "1 1 100"
expect_wr EBUSY quick_validation 1
expect_wr EBUSY regression_test 1
expect_wr EBUSY memory_pressure_test "1 100"
expect_wr ERANGE stress_test_adjust "qd=4096"
expect_wr ERANGE stress_test_adjust "rate=1"	# below one per worker
expect_wr OK stress_test_adjust "qd=8 rate=0"
expect_wr OK stress_test_stop 1
[ "$(state)" = stopped ] || fail "state $(state) after stop"

# Writes are root-only; reads are for everyone.
for f in target stress_test_start stress_test_stop stress_test_adjust quick_validation \
	regression_test baseline memory_pressure_test; do
	m=$(stat -c %a $S/$f)
	case $f in target | baseline) want=644 ;; *) want=200 ;; esac
	[ "$m" = $want ] || fail "$f has mode $m, expected $want"
done
for f in stress_test_status stress_test_results comprehensive_report histogram; do
	[ "$(stat -c %a $S/$f)" = 444 ] || fail "$f has mode $(stat -c %a $S/$f)"
done
asuser=$(dirname "$0")/asuser
"$asuser" 65534 sh -c "echo '1 1 100' > $S/stress_test_start" 2>/dev/null &&
	fail "a non-root user started a test"
"$asuser" 65534 sh -c "echo 1 > $S/stress_test_stop" 2>/dev/null &&
	fail "a non-root user wrote stress_test_stop"
"$asuser" 65534 cat $S/stress_test_status >/dev/null || fail "a non-root user cannot read the status"
[ "$(state)" = stopped ] || fail "state changed by the non-root attempt"
log "ok"
