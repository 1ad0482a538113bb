#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fake-kernel.sh DIR: a stand-in for /sys/kernel/dm_remap_stress_test on the
# host (modules are never loaded there), good enough to test `dmr-stress run`.
# It polls the control files the tool writes and flips the status the way the
# module does: running with progress, then completed (or stopped after a
# write to stress_test_stop), results and histogram written before the final
# state. Every command it receives is appended to DIR/.commands.
#
# Environment: FAKE_STEPS (ticks of 0.1 s a run lasts, default 5),
# FAKE_RESULTS (results file of a completed run), FAKE_HIST, FAKE_REPORT.
# Stops when DIR/.fake-stop exists. The caller arms a run by writing a
# running status before starting the tool (see arm() in run-tests.sh): the
# real module is already running when the start write returns.
set -u
dir=$1
data=$(cd "$(dirname "$0")/data" && pwd)
steps=${FAKE_STEPS:-5}
results=${FAKE_RESULTS:-$data/results.golden}
hist=${FAKE_HIST:-$data/histogram.golden}
report=${FAKE_REPORT:-$data/comprehensive_report.golden}

status() {	# state test elapsed pct ios
	cat >"$dir/stress_test_status.tmp" <<EOF
state: $1
test: $2
elapsed_ms: $3
duration_ms: 30000
ops: 0
progress_pct: $4
ios: $5
iops_1s: 41210
inflight: 128
errors: 0
verify_mismatches: 0
EOF
	mv "$dir/stress_test_status.tmp" "$dir/stress_test_status"
}

finish() {	# completed|stopped
	if [ "$1" = completed ]; then
		cp "$results" "$dir/stress_test_results.tmp"
	else
		sed -e 's/^state: completed$/state: stopped/' -e 's/^result: PASS$/result: FAIL/' \
			-e 's/^failed_criteria: none$/failed_criteria: incomplete/' \
			"$results" >"$dir/stress_test_results.tmp"
	fi
	mv "$dir/stress_test_results.tmp" "$dir/stress_test_results"
	cp "$hist" "$dir/histogram"
	cp "$report" "$dir/comprehensive_report"
	status "$1" mixed 3000 100 1234567
}

take() {	# print and clear a control file
	local f=$dir/$1 v
	[ -f "$f" ] || return 1
	v=$(cat "$f")
	[ -n "$v" ] || return 1
	: >"$f"
	echo "$1 $v" >>"$dir/.commands"
	return 0
}

for f in stress_test_start stress_test_stop stress_test_adjust quick_validation \
	regression_test memory_pressure_test target; do
	[ -e "$dir/$f" ] || : >"$dir/$f"
done
[ -f "$dir/stress_test_status" ] || status idle none 0 0 0
[ -f "$dir/stress_test_results" ] || : >"$dir/stress_test_results"
[ -f "$dir/histogram" ] || : >"$dir/histogram"
[ -f "$dir/baseline" ] || cp "$results" "$dir/baseline"
touch "$dir/.commands"

running=0 tick=0
while [ ! -e "$dir/.fake-stop" ]; do
	for c in stress_test_start quick_validation regression_test memory_pressure_test; do
		if take $c; then
			running=1 tick=0
		fi
	done
	take target >/dev/null || true
	if take stress_test_stop && [ $running = 1 ]; then
		status stopping mixed $((tick * 100)) $((tick * 100 / steps)) $((tick * 1000))
		sleep 0.1
		finish stopped
		running=0
	fi
	if [ $running = 1 ]; then
		tick=$((tick + 1))
		if [ $tick -ge "$steps" ]; then
			finish completed
			running=0
		else
			pct=$((tick * 100 / steps))
			status running mixed $((tick * 100)) $pct $((tick * 1000))
		fi
	fi
	sleep 0.1
done
