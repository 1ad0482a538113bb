#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helpers of the dm-remap-stress selftests (sourced; run in the guest). The
# device helpers (nullb, dm, remap_dev, cleanup) are the dm-remap area's.
. "$(dirname "${BASH_SOURCE[0]}")/../dm-remap/lib.sh"

S=/sys/kernel/dm_remap_stress_test

# A run left behind would hold the devices cleanup() removes.
stress_cleanup() {
	[ -w $S/stress_test_stop ] && echo 1 >$S/stress_test_stop 2>/dev/null
	cleanup
}
trap stress_cleanup EXIT

need_stress() {
	need_modules
	need_module dm-remap-stress
	[ -d $S ] || fail "$S missing after modprobe"
}

# wr FILE TEXT: write TEXT and a newline to FILE in one write(2) (bash's
# echo may split a long text); prints OK or the errno's name.
wr() {
	local err
	printf '%s\n' "$2" >/tmp/wr.$$
	err=$(dd if=/tmp/wr.$$ of="$S/$1" bs=1M 2>&1) && { rm -f /tmp/wr.$$; echo OK; return; }
	rm -f /tmp/wr.$$
	case $err in
	*"Invalid argument"*) echo EINVAL ;;
	*"out of range"*) echo ERANGE ;;
	*"resource busy"*) echo EBUSY ;;
	*"No such device"*) echo ENODEV ;;
	*"not permitted"*) echo EPERM ;;
	*"Permission denied"*) echo EACCES ;;
	*"allocate memory"*) echo ENOMEM ;;
	*"No space"*) echo ENOSPC ;;
	*) echo "other($err)" ;;
	esac
}

# expect_wr ERRNO FILE TEXT: the write fails (or succeeds) as documented.
expect_wr() {
	local got
	got=$(wr "$2" "$3")
	[ "$got" = "$1" ] || fail "echo '$3' > $2: got $got, expected $1"
}

# val KEY [FILE]: a value of a key: value file (default stress_test_results).
# In bash, without a process: wait_done() polls it ten times a second,
# and on the debug kernel a process each time takes CPU from the run.
# One read(2) loop to the end, so the file is one snapshot.
val() {
	local t l
	IFS= read -r -d '' t <"${2:-$S/stress_test_results}"
	while IFS= read -r l; do
		l=${l#"${l%%[![:space:]]*}"}
		case $l in "$1: "*)
			echo "${l#"$1: "}"
			return
			;;
		esac
	done <<<"$t"
}
state() { val state $S/stress_test_status; }

# wait_done [SECONDS]: until no test runs; fails on timeout
wait_done() {
	local i n=$((${1:-120} * 10))
	for ((i = 0; i < n; i++)); do
		case $(state) in running | stopping) sleep 0.1 ;; *) return 0 ;; esac
	done
	fail "the test still runs after ${1:-120} s: $(cat $S/stress_test_status | tr '\n' ' ')"
}

# run_test TEXT: start, wait, and expect a completed PASS
run_pass() {
	expect_wr OK stress_test_start "$1"
	wait_done "${2:-120}"
	[ "$(val state)" = completed ] || fail "'$1': state $(val state)"
	[ "$(val result)" = PASS ] || fail "'$1': result $(val result) ($(val failed_criteria)) $(val fail_reason)"
}

# check_consistent BS: the results agree with each other and the histogram
check_consistent() {
	local bs=$1 ios bytes el iops hsum csum r w
	ios=$(val ios) bytes=$(val bytes) el=$(val elapsed_ms) iops=$(val iops)
	r=$(val read_ios) w=$(val write_ios)
	[ "$ios" -gt 0 ] || fail "no I/O counted"
	[ $((r + w)) = "$ios" ] || fail "read_ios $r + write_ios $w != ios $ios"
	hsum=$(awk '{ s += $3 } END { print s + 0 }' $S/histogram)
	[ "$hsum" = "$ios" ] || fail "histogram holds $hsum I/Os, ios is $ios"
	csum=$(awk '/^cpu +[0-9]+: reads/ { gsub(/,/, ""); s += $4 + $6 } END { print s + 0 }' \
		$S/comprehensive_report)
	[ "$csum" = "$ios" ] || fail "per-CPU lines sum to $csum, ios is $ios"
	[ -z "$bs" ] || [ "$bytes" = $((ios * bs)) ] || fail "bytes $bytes != ios $ios x bs $bs"
	# iops = ios / elapsed, to 1 % (elapsed_ms is rounded down)
	awk -v i="$iops" -v n="$ios" -v ms="$el" 'BEGIN {
		e = n * 1000 / ms; d = (i - e) / e; if (d < 0) d = -d; exit !(d < 0.01) }' ||
		fail "iops $iops is not ios $ios over $el ms"
	[ "$(val errors)" = 0 ] || fail "errors $(val errors)"
}

# A dm-remap device "r0" on memory-backed null_blk; sets MAIN SPARE DEV
setup_remap() {
	MAIN=$(nullb main "${1:-256}" blocksize=4096) || fail "null_blk main"
	SPARE=$(nullb spare "${2:-64}" blocksize=4096) || fail "null_blk spare"
	remap_dev r0 "$MAIN" "$SPARE" || fail "dmsetup create r0"
	DEV=/dev/mapper/r0
}
