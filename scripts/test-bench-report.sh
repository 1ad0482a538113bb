#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-bench-report.sh: checks scripts/bench-report.sh (the tables of
# `make bench`) on made-up guest output whose medians and ratios are
# worked out by hand below. Prints TAP and "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
report=$here/bench-report.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 n=0

ok() {	# ok <description> <command...>
	local d=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $d"
		pass=$((pass + 1))
	else
		echo "not ok $n - $d"
		fail=$((fail + 1))
	fi
}

# jq_is <description> <jq filter> <expected>: the filter's value in bench.json.
jq_is() {
	local got
	got=$(jq -c "$2" "$tmp/out/bench.json" 2>&1)
	n=$((n + 1))
	if [ "$got" = "$3" ]; then
		echo "ok $n - $1"
		pass=$((pass + 1))
	else
		echo "not ok $n - $1: got '$got', expected '$3'"
		fail=$((fail + 1))
	fi
}

# Cases in the order the guest interleaves them; a noise line, a value
# that is not a number and an empty one, which the report leaves out.
cat >"$tmp/raw.txt" <<'EOF'
vmtest: kernel 6.1.0-57-amd64, console log x
BENCH_KERNEL 6.1.0-57-amd64
BENCH kernel_randread 1 iops=300
BENCH kernel_randread 2 iops=100
BENCH kernel_randread 3 iops=200
BENCH fio_randread_io_uring 1 iops=50
BENCH fio_randread_io_uring 2 iops=70
BENCH fio_randread_libaio 1 iops=80
BENCH fio_randread_libaio 2 iops=40
BENCH kernel_randwrite 1 iops=90
BENCH fio_randwrite_libaio 1 iops=30
BENCH kernel_randread_hist1 1 iops=99
BENCH kernel_randread_hist0 1 iops=100
BENCH linear_randread 1 iops=1000
BENCH linear_randread 2 iops=1000
BENCH linear_randwrite 1 iops=800
BENCH remap0_randread 1 iops=990
BENCH remap0_randread 2 iops=970 spare_share=0.0000
BENCH remap0_randwrite 1 iops=784 spare_share=0.0000
BENCH linear_stacked_randread 1 iops=600
BENCH linear_stacked_randwrite 1 iops=500
BENCH remap1000000_randread 1 iops=570 spare_share=0.4770
BENCH remap1000000_randwrite 1 iops=460 spare_share=0.4770
BENCH dust1000000_randread 1 iops=300 error_rate=0.5 all_iops=600.00
BENCH stop 1 stop_ms=27.125 inflight=3960 mem_kib=1.2.3 module_kib=
BENCH stop 2 stop_ms=1e1 inflight=- mem_kib=-5
BENCH_DONE
EOF
mkdir "$tmp/out"
"$report" "$tmp/raw.txt" "$tmp/out" 3 5 >"$tmp/md" 2>"$tmp/err"
ok "bench-report.sh succeeds on a complete guest output" test $? = 0
ok "it writes bench.json and bench.md" test -s "$tmp/out/bench.json" -a -s "$tmp/out/bench.md"
ok "it prints the Markdown it writes" cmp -s "$tmp/md" "$tmp/out/bench.md"

jq_is "kernel, reps and seconds are recorded" '[.kernel, .reps, .seconds_per_run]' '["6.1.0-57-amd64",3,5]'
jq_is "median of an odd count is the middle value" '.cases.kernel_randread.iops.median' '200'
jq_is "min, max and every value in run order" '.cases.kernel_randread.iops | [.min, .max, .values]' '[100,300,[300,100,200]]'
jq_is "median of an even count is the mean of the middle two" '.cases.remap0_randread.iops.median' '980'
jq_is "other metrics of a case are kept" '.cases.remap1000000_randread.spare_share.median' '0.477'
jq_is "fio's reference is the better engine's median" '.ratios.kernel_vs_fio_randread' '3.333'
jq_is "a missing engine leaves the other as the reference" '.ratios.kernel_vs_fio_randwrite' '3'
jq_is "ratios are rounded to 3 decimals" '.ratios.hist_on_vs_off' '0.99'
jq_is "a target ratio is the lower of read and write" '.ratios.remap0_vs_linear' '0.98'
jq_is "both per-operation ratios are kept" '.ratios_by_op | [.remap0_vs_linear_randread, .remap0_vs_linear_randwrite]' '[0.98,0.98]'
jq_is "1,000,000 remaps are compared with the stacked linear" '.ratios.remap1m_vs_linear' '0.92'
jq_is "a ratio whose cases are missing is null" '.ratios | [.remap10k_vs_linear, .linear_b_vs_linear]' '[null,null]'
jq_is "dm-dust counts the failed reads in its all_iops ratio" '.ratios_by_op.dust1000000_all_vs_linear_stacked_randread' '1'
jq_is "values that are not plain numbers are left out" '.cases.stop | [.mem_kib.values, (.module_kib | type), .inflight.values]' '[[-5],"null",[3960]]'
jq_is "an exponent is a number" '.cases.stop.stop_ms.values' '[27.125,10]'
jq_is "the goals are part of the output" '.goals | [.remap0_vs_linear, .remap1m_vs_linear]' '[0.97,0.95]'
ok "the Markdown shows each ratio with its goal" grep -qxF '| remap1m_vs_linear | 0.92 | >= 0.95 | linear_stacked |' "$tmp/out/bench.md"
ok "the Markdown shows a missing ratio as n/a" grep -qxF '| remap10k_vs_linear | n/a |  | linear |' "$tmp/out/bench.md"
ok "the Markdown has a row per case and metric" grep -qxF '| kernel_randread | iops | 200 | 100 | 300 |' "$tmp/out/bench.md"

# Bad use: a precise message and no output.
mkdir "$tmp/bad"
"$report" "$tmp/raw.txt" "$tmp/bad" x 5 >/dev/null 2>"$tmp/err"
ok "reps that are not a number are refused" test $? = 1
ok "... saying why" grep -q "reps and seconds must be whole numbers" "$tmp/err"
ok "... before writing anything" test ! -e "$tmp/bad/bench.json"
"$report" "$tmp/none.txt" "$tmp/bad" 3 5 >/dev/null 2>"$tmp/err"
ok "a missing raw file is refused" grep -q "cannot read" "$tmp/err"
"$report" "$tmp/raw.txt" >/dev/null 2>"$tmp/err"
ok "a wrong argument count prints the usage" grep -q "^usage: bench-report.sh" "$tmp/err"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
