#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh <raw.txt> <out dir> <reps> <seconds per run>: the tables
# of `make bench` from the guest's output. Reads the "BENCH <case> <rep>
# <key>=<value>..." and "BENCH_KERNEL <release>" lines of <raw.txt>,
# writes <out dir>/bench.json and bench.md and prints the Markdown. A
# value that is not a plain number is left out; a ratio whose cases are
# missing is null ("n/a" in the Markdown). Format:
# Documentation/benchmark.rst. Tested by scripts/test-bench-report.sh.
set -uo pipefail
[ $# = 4 ] || { echo "usage: bench-report.sh <raw.txt> <out dir> <reps> <seconds per run>" >&2; exit 2; }
raw=$1 out=$2 reps=$3 secs=$4
[ -r "$raw" ] || { echo "bench: cannot read '$raw'" >&2; exit 1; }
[ -d "$out" ] || { echo "bench: no directory '$out'" >&2; exit 1; }
[[ $reps =~ ^[0-9]+$ && $secs =~ ^[0-9]+$ ]] ||
	{ echo "bench: reps and seconds must be whole numbers, not '$reps' and '$secs'" >&2; exit 1; }

kver=$(sed -n 's/^BENCH_KERNEL //p' "$raw")
# One JSON object per case: {case: {key: {median, min, max, values}}}.
cases=$(awk '$1 == "BENCH" {
		c = $2
		for (i = 4; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[2] !~ /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/) continue
			k = c SUBSEP kv[1]
			# (awk creates vals[k] before the right side is evaluated)
			if (k in seen)
				vals[k] = vals[k] "," kv[2]
			else
				vals[k] = kv[2]
			seen[k] = 1
		}
	}
	END {
		for (k in vals) {
			split(k, p, SUBSEP)
			printf "{\"case\":\"%s\",\"key\":\"%s\",\"values\":[%s]}\n", p[1], p[2], vals[k]
		}
	}' "$raw" | jq -s '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	reduce .[] as $r ({}; .[$r.case][$r.key] =
		{median: ($r.values | median), min: ($r.values | min), max: ($r.values | max), values: $r.values})')

jq -n --argjson c "$cases" --arg kver "$kver" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--argjson reps "$reps" --argjson secs "$secs" '
	def m(c; k): ($c[c][k].median // null);
	def ratio(a; b): if a == null or b == null or b == 0 then null else ((a / b) * 1000 | round) / 1000 end;
	def best(a; b): [a, b] | map(select(. != null)) | max;
	def lower(a; b): [a, b] | map(select(. != null)) | min;
	{
		kernel: $kver, date: $date, reps: $reps, seconds_per_run: $secs,
		ratios: {
			kernel_vs_fio_randread: ratio(m("kernel_randread"; "iops");
				best(m("fio_randread_io_uring"; "iops"); m("fio_randread_libaio"; "iops"))),
			kernel_vs_fio_randwrite: ratio(m("kernel_randwrite"; "iops");
				best(m("fio_randwrite_io_uring"; "iops"); m("fio_randwrite_libaio"; "iops"))),
			hist_on_vs_off: ratio(m("kernel_randread_hist1"; "iops"); m("kernel_randread_hist0"; "iops")),
			remap0_vs_linear: lower(ratio(m("remap0_randread"; "iops"); m("linear_randread"; "iops"));
				ratio(m("remap0_randwrite"; "iops"); m("linear_randwrite"; "iops"))),
			remap10k_vs_linear: lower(ratio(m("remap10000_randread"; "iops"); m("linear_randread"; "iops"));
				ratio(m("remap10000_randwrite"; "iops"); m("linear_randwrite"; "iops"))),
			remap1m_vs_linear: lower(ratio(m("remap1000000_randread"; "iops"); m("linear_stacked_randread"; "iops"));
				ratio(m("remap1000000_randwrite"; "iops"); m("linear_stacked_randwrite"; "iops"))),
			linear_b_vs_linear: lower(ratio(m("linear_b_randread"; "iops"); m("linear_randread"; "iops"));
				ratio(m("linear_b_randwrite"; "iops"); m("linear_randwrite"; "iops")))
		},
		# Each ratio of the target per operation (the ratios above take
		# the lower of read and write).
		ratios_by_op: (([["remap0", "linear"], ["remap10000", "linear"],
			["remap1000000", "linear_stacked"], ["linear_b", "linear"],
			["dust10000", "linear"], ["dust1000000", "linear_stacked"]] |
			map(. as [$a, $b] | ["randread", "randwrite"] |
				map(. as $op | {key: "\($a)_vs_\($b)_\($op)",
					value: ratio(m("\($a)_\($op)"; "iops"); m("\($b)_\($op)"; "iops"))})) |
			flatten | map(select(.value != null)) | from_entries) +
			# dm-dust fails reads of bad blocks without I/O: counting
			# those too (all_iops) bounds its cost from the other side.
			{dust1000000_all_vs_linear_stacked_randread:
				ratio(m("dust1000000_randread"; "all_iops"); m("linear_stacked_randread"; "iops"))} |
			with_entries(select(.value != null))),
		baselines: {remap0_vs_linear: "linear", remap10k_vs_linear: "linear",
			remap1m_vs_linear: "linear_stacked", linear_b_vs_linear: "linear (control)"},
		guest: {cpus: 2, clocksource: "tsc (tsc=reliable)"},
		goals: {kernel_vs_fio_randread: 3, kernel_vs_fio_randwrite: 3, hist_on_vs_off: 0.98,
			remap0_vs_linear: 0.97, remap1m_vs_linear: 0.95},
		cases: $c
	}' >"$out/bench.json" || { echo "bench: building the JSON failed" >&2; exit 1; }

{
	echo "Benchmark, kernel $kver, $(date -u +%Y-%m-%d), $reps runs of ${secs} s per case, interleaved, one guest (2 vCPUs, TCG)."
	echo
	echo "| case | metric | median | min | max |"
	echo "|---|---|---:|---:|---:|"
	jq -r '.cases | to_entries[] | .key as $c | .value | to_entries[] |
		"| \($c) | \(.key) | \(.value.median) | \(.value.min) | \(.value.max) |"' "$out/bench.json" | sort
	echo
	echo "| ratio | value | goal | baseline |"
	echo "|---|---:|---:|---|"
	jq -r '.goals as $g | .baselines as $b | .ratios | to_entries[] |
		"| \(.key) | \(.value // "n/a") | \(if $g[.key] then ">= \($g[.key])" else "" end) | \($b[.key] // "") |"' "$out/bench.json"
	echo
	echo "| ratio per operation | value |"
	echo "|---|---:|"
	jq -r '.ratios_by_op | to_entries[] | "| \(.key) | \(.value // "n/a") |"' "$out/bench.json"
} >"$out/bench.md"
cat "$out/bench.md"
echo "bench: results in $out" >&2
