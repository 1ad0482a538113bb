#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh UNIT_BIN TOOL_BIN: the tool's tests on the host (what
# `make check` runs), both binaries built with AddressSanitizer + UBSan.
#   1. UNIT_BIN: parser/formatter unit tests, truncation and mutation fuzzing;
#   2. the command line against saved files, a fake sysfs directory
#      (tests/fake-kernel.sh) and a scratch SQLite history.
# Prints TAP-style lines and ends with "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
unit=$(realpath "$1")
tool=$(realpath "$2")
data=$here/data
tmp=$(mktemp -d /tmp/dmr-stress-tests.XXXXXX)
fake_pid=
cleanup() {
	[ -n "$fake_pid" ] && { touch "$sys/.fake-stop"; wait "$fake_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT

# Sanitizer findings exit 99, so that they are never mistaken for a verdict.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:exitcode=99
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1:exitcode=99
export SOURCE_DATE_EPOCH=1700000000
unset DMR_STRESS_SYSFS DMR_STRESS_DB

pass=0 fail=0 n=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' <<<"$2" | head -n 20; }

# t NAME EXPECTED_STATUS PATTERN -- COMMAND...: runs COMMAND (stdout+stderr
# captured in $out), checks its exit status and that the output matches the
# extended regexp PATTERN (empty: no check).
out=
t() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		not_ok "$name (exit $rc, expected $want)" "$out"
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" <<<"$out"; then
		not_ok "$name (output lacks /$pat/)" "$out"
	elif grep -q 'Sanitizer\|runtime error:' <<<"$out"; then
		not_ok "$name (sanitizer report)" "$out"
	else
		ok "$name"
	fi
}

# check NAME COMMAND...: a plain assertion.
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}

# ---------------------------------------------------------------- unit tests
uout=$("$unit" "$data" 2>&1)
urc=$?
echo "$uout" | grep -v '^unit: '
up=$(sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$uout")
uf=$(sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$uout")
if [ -z "$up" ]; then
	echo "$uout" | tail -n 30
	not_ok "unit test binary did not finish (exit $urc)"
else
	pass=$((pass + up)) fail=$((fail + uf)) n=$((n + up + uf))
	[ $urc = 0 ] || [ "$uf" -gt 0 ] || not_ok "unit test binary exit $urc"
fi

# ---------------------------------------------------------------- usage
t "no command: usage, exit 3" 3 "usage: dmr-stress" -- "$tool"
t "--help exits 0" 0 "Exit status: 0 PASS" -- "$tool" --help
t "--version" 0 "^dmr-stress [0-9]" -- "$tool" --version
t "unknown command names it" 3 "unknown command 'frobnicate'" -- "$tool" frobnicate
t "unknown option names it" 3 "unknown option '--bogus'" -- "$tool" run --bogus
t "--bs 3k rejected" 3 "--bs: 3k is not a power of two" -- "$tool" --sysfs "$tmp/none" run --bs 3k
t "--bs 2M rejected" 3 "not a power of two between 512 and 1M" -- "$tool" run --bs 2M
t "--runtime 25h rejected" 3 "outside 1ms..24h" -- "$tool" run --runtime 25h
t "--runtime 1.5s rejected" 3 "unknown time suffix" -- "$tool" run --runtime 1.5s
t "--iodepth 0 rejected" 3 "--iodepth: 0 is out of range 1..1024" -- "$tool" run --iodepth 0
t "--type unknown rejected" 3 "unknown test type 'sideways'" -- "$tool" run --type sideways
t "--quick with --type rejected" 3 "fixed workloads" -- "$tool" run --quick --type mixed
t "--quick with --regression rejected" 3 "exclude each other" -- "$tool" run --quick --regression
t "--rwmix needs mixed" 3 "--rwmix applies to --type mixed" -- "$tool" run --type randread --rwmix 50
t "workers x iodepth > 4096 rejected" 3 "more than 4096" -- "$tool" run --workers 8 --iodepth 1024
t "--memory-pressure 0 rejected" 3 "less than 1 MB" -- "$tool" run --memory-pressure 0
t "option without value" 3 "option --seed needs a value" -- "$tool" run --seed
t "compare needs two files" 3 "need BASELINE and CURRENT" -- "$tool" compare "$data/results.golden"
t "report format checked" 3 "unknown format 'xml'" -- "$tool" report --format xml "$data/results.golden"

# ---------------------------------------------------------------- module missing
t "run: module not loaded, exit 4" 4 "dm-remap-stress is not loaded: $tmp/none: No such file or directory" -- \
	"$tool" --sysfs "$tmp/none" run --type mixed
t "status: module not loaded, exit 4" 4 "not loaded" -- env DMR_STRESS_SYSFS="$tmp/none" "$tool" status
t "report: module not loaded, exit 4" 4 "not loaded" -- "$tool" --sysfs "$tmp/none" report

# ---------------------------------------------------------------- report on saved copies
saved=$tmp/saved
mkdir -p "$saved"
cp "$data/results.golden" "$saved/stress_test_results"
cp "$data/histogram.golden" "$saved/histogram"
cp "$data/comprehensive_report.golden" "$saved/comprehensive_report"
t "report FILE (text)" 0 "result PASS" -- "$tool" report "$data/results.golden"
t "report DIR shows the histogram" 0 "\[2M, 4M\) +592492 \|@+\|" -- "$tool" report "$saved"
t "report --full appends comprehensive_report" 0 "== Throughput ==" -- "$tool" report --full "$saved"
t "report - reads stdin" 0 "iops=41135.77" -- sh -c "\"$tool\" report - <\"$data/results.golden\""
t "report --format json" 0 '"99.000000": 7340032' -- "$tool" report --format json "$saved"
t "report: SOURCE_DATE_EPOCH past year 9999 is not used" 0 "past year 9999; using the current time" -- \
	env SOURCE_DATE_EPOCH=18446744073709551615 "$tool" report --format json "$saved"
check "... and the report keeps a time of today" \
	sh -c "SOURCE_DATE_EPOCH=253402300800 \"$tool\" report --format json \"$saved\" 2>/dev/null | grep -q '\"timestamp\": 1[0-9]\{9\},'"
t "report: SOURCE_DATE_EPOCH of the last second of 9999 is used" 0 '"time": "Fri Dec 31 23:59:59 9999"' -- \
	env SOURCE_DATE_EPOCH=253402300799 "$tool" report --format json "$saved"
if command -v jq >/dev/null; then
	t "JSON: jq reads jobs[0].read.iops" 0 '^28795.04$' -- sh -c "\"$tool\" report --format json \"$saved\" | jq -r '.jobs[0].read.iops'"
	t "JSON: unknown keys under dm_remap_stress" 0 '^77$' -- sh -c "\"$tool\" report --format=json \"$data/results-unknown.golden\" | jq -r '.dm_remap_stress.future_count'"
	t "JSON: histogram buckets sum to ios" 0 '^1234567$' -- sh -c "\"$tool\" report --format json \"$saved\" | jq '[.dm_remap_stress.histogram[].count] | add'"
fi
t "report --format csv: header and row" 0 "^partial,state,test," -- "$tool" report --format csv "$data/results.golden"
t "CSV has exactly two lines" 0 "^2$" -- sh -c "\"$tool\" report --format csv \"$data/results-unknown.golden\" | wc -l"
t "report --format prometheus" 0 '^dmr_stress_latency_quantile_seconds\{op="all",quantile="0.99"\} 0.007340032$' -- \
	"$tool" report --format prometheus "$data/results.golden"
# The official client's parser, when installed (python3-prometheus-client).
if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
	t "Prometheus: the client library's parser reads every family" 0 "^25 families, 62 samples, counters ok$" -- \
		sh -c "\"$tool\" report --format prometheus \"$data/results-regression.golden\" | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as p
f = list(p(sys.stdin.read()))
ok = all((x.type == \"counter\") == all(s.name.endswith(\"_total\") for s in x.samples) for x in f)
print(len(f), \"families,\", sum(len(x.samples) for x in f), \"samples, counters\", \"ok\" if ok else \"wrong\")'"
fi
t "report --output FILE" 0 "" -- "$tool" report --format prometheus --output "$tmp/dmr.prom" "$data/results.golden"
check "--output wrote the textfile" grep -q '^# TYPE dmr_stress_ios_total counter$' "$tmp/dmr.prom"
t "report of a missing file names it" 3 "$tmp/missing: No such file or directory" -- "$tool" report "$tmp/missing"
t "report of a partial result says so" 0 "completed|running \(partial\)" -- "$tool" report "$data/results-partial.golden"

# Every corrupted file: exit 3 and the expected message.
while IFS=$'\t' read -r f msg; do
	case $f in
	histogram*) t "hist rejects corrupt/$f" 3 "$(printf '%s' "$msg" | sed 's/[][\.*^$(){}?+|]/\\&/g')" -- "$tool" hist "$data/corrupt/$f" ;;
	status*) ;;	# the unit tests cover them; status reads live only
	*) t "report rejects corrupt/$f" 3 "$(printf '%s' "$msg" | sed 's/[][\.*^$(){}?+|]/\\&/g')" -- "$tool" report "$data/corrupt/$f" ;;
	esac
done <"$data/corrupt/EXPECTED"

# Through the whole program: prefixes and byte flips of the golden file.
g=$data/results.golden
len=$(stat -c %s "$g")
bad=0 cnt=0
for ((i = 0; i < len; i += 13)); do
	head -c $i "$g" >"$tmp/prefix"
	"$tool" report "$tmp/prefix" >/dev/null 2>"$tmp/err"
	rc=$?
	cnt=$((cnt + 1))
	if [ $rc != 3 ] || ! grep -q "$tmp/prefix: " "$tmp/err"; then
		bad=$((bad + 1))
		echo "# prefix $i: exit $rc: $(head -c 300 "$tmp/err")"
	fi
done
[ $bad = 0 ] && ok "report on $cnt truncations of results.golden: each exit 3 with a message" ||
	not_ok "report on truncations: $bad of $cnt wrong"
bad=0 cnt=0
for ((i = 0; i < len; i += 7)); do
	for b in '\000' '\001' '\377' 'x'; do
		{ head -c $i "$g"; printf "$b"; tail -c +$((i + 2)) "$g"; } >"$tmp/flip"
		cmp -s "$tmp/flip" "$g" && continue	# the byte was already that
		"$tool" report --format csv "$tmp/flip" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		cnt=$((cnt + 1))
		# 'x' may land in free text (the target path): then the value must be exact.
		if [ $rc = 0 ] && [ "$b" = x ]; then
			cut -d, -f5 "$tmp/out" | tail -n1 | grep -q x || { bad=$((bad + 1)); echo "# flip $i $b accepted"; }
		elif [ $rc != 3 ]; then
			bad=$((bad + 1))
			echo "# flip $i $b: exit $rc: $(head -c 300 "$tmp/err")"
		fi
	done
done
[ $bad = 0 ] && ok "report on $cnt byte flips of results.golden: rejected with exit 3 (or exact)" ||
	not_ok "report on byte flips: $bad of $cnt wrong"

# ---------------------------------------------------------------- hist
t "hist FILE: bpftrace-style rows" 0 "^@latency_ns:" -- "$tool" hist "$data/histogram.golden"
t "hist: overflow row" 0 "^\[16G, inf\) +2 \|" -- "$tool" hist "$data/histogram-overflow.golden"
t "hist --raw: the module's buckets" 0 "^\[17179869184, inf\) +2 " -- "$tool" hist --raw "$data/histogram-overflow.golden"
t "hist --svg FILE" 0 "wrote $tmp/h.svg \(57 buckets, 1234567 I/Os\)" -- "$tool" hist --svg "$tmp/h.svg" "$saved"
check "SVG is a complete document" grep -q '</svg>' "$tmp/h.svg"
check "SVG marks p99 from the results" grep -q 'p99 7.34003' "$tmp/h.svg"
if command -v xmllint >/dev/null; then
	check "SVG is well-formed XML" xmllint --noout "$tmp/h.svg"
elif command -v python3 >/dev/null; then
	check "SVG is well-formed XML" python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$tmp/h.svg"
fi

# ---------------------------------------------------------------- compare
mkres() {	# mkres OUT key value [key value]...
	local o=$1 s=() ; shift
	while [ $# -gt 0 ]; do s+=(-e "s/^$1: .*/$1: $2/"); shift 2; done
	sed "${s[@]}" "$data/results.golden" >"$o"
}
mkres "$tmp/base" iops 1000.00 lat_p99_ns 1000000
mkres "$tmp/drop10" iops 900.00 lat_p99_ns 1000000
mkres "$tmp/drop10x" iops 899.99 lat_p99_ns 1000000
mkres "$tmp/rise20" iops 1000.00 lat_p99_ns 1200000
mkres "$tmp/rise20x" iops 1000.00 lat_p99_ns 1200001
t "compare: same run, no regression" 0 "no regression" -- "$tool" compare "$tmp/base" "$tmp/base"
t "compare: iops -10.00% is not beyond 10%" 0 "no regression" -- "$tool" compare "$tmp/base" "$tmp/drop10"
t "compare: iops -10.001% is a regression, exit 2" 2 "REGRESSION: iops dropped by more than 10.00%" -- "$tool" compare "$tmp/base" "$tmp/drop10x"
t "compare --iops-drop 15%" 0 "no regression" -- "$tool" compare "$tmp/base" "$tmp/drop10x" --iops-drop 15%
t "compare: p99 +20% is not beyond 20%" 0 "no regression" -- "$tool" compare "$tmp/base" "$tmp/rise20"
t "compare: p99 just over +20%, exit 2" 2 "REGRESSION: p99 latency rose" -- "$tool" compare "$tmp/base" "$tmp/rise20x"
t "compare --p99-rise=25" 0 "" -- "$tool" compare --p99-rise=25 "$tmp/base" "$tmp/rise20x"
t "compare: side-by-side table" 0 "^iops +1000\.00 +899\.99 +-10\.00%$" -- "$tool" compare "$tmp/base" "$tmp/drop10x" --iops-drop 50
t "compare: current FAIL, exit 1" 1 "current run: FAIL \(verify_mismatches\)" -- "$tool" compare "$data/results.golden" "$data/results-fail.golden"
t "compare: corrupt input, exit 3" 3 "results-reordered: line 23" -- "$tool" compare "$data/results.golden" "$data/corrupt/results-reordered"

# ---------------------------------------------------------------- history
db=$tmp/hist/runs.db
t "history list without a database" 3 "no history database" -- "$tool" history --db "$db" list
i=0
for p99 in 1000000 1010000 990000 1005000 995000 1300000; do
	i=$((i + 1))
	mkres "$tmp/h$i" lat_p99_ns $p99
	t "history add run $i" 0 "added run $i to $db" -- "$tool" history --db "$db" add "$tmp/h$i" --time $((1700000000 + i * 3600))
done
t "history list shows 6 runs" 0 "^6 run\(s\)$" -- "$tool" history --db "$db" list
t "history list: p99 in usec" 0 "1300\.000" -- "$tool" --db "$db" history list
t "history show ID" 0 "99th=1005\.000" -- "$tool" history --db "$db" show 4
t "history show ID --format json" 0 '"lat_p99_ns": 995000' -- "$tool" history --db "$db" show 5 --format json
t "history show unknown ID" 3 "no run with id 42" -- "$tool" history --db "$db" show 42
t "history trend flags the latest run, exit 2" 2 "latest run DRIFTED" -- "$tool" history --db "$db" trend --metric p99
t "history trend: DRIFT on run 6 only" 0 "^1 run\(s\) drifted" -- sh -c "\"$tool\" history --db \"$db\" trend --metric p99; true"
t "history trend --threshold 40%" 0 "latest run within threshold" -- "$tool" history --db "$db" trend --metric p99 --threshold 40%
t "history trend --last 3" 2 "over 3 run\(s\)" -- "$tool" history --db "$db" trend --metric lat_p99_ns --last 3
t "history trend on iops: stable" 0 "0 run\(s\) drifted" -- "$tool" history --db "$db" trend --metric iops
# A metric that goes negative: no bar for it, no overflow.
db2=$tmp/hist/neg.db
mkres "$tmp/neg1" regression_iops_change_pct 15.00
mkres "$tmp/neg2" regression_iops_change_pct -12.50
t "history add a positive change" 0 "added run 1" -- "$tool" history --db "$db2" add "$tmp/neg1"
t "history add a negative change" 0 "added run 2" -- "$tool" history --db "$db2" add "$tmp/neg2"
t "history trend of a negative value: no bar" 2 "^2 .* -12\.50 +-183\.33% +DRIFT$" -- "$tool" history --db "$db2" trend --metric regression_iops_change_pct
t "history trend: the largest value has the full bar" 2 "15\.00 +#{40}$" -- "$tool" history --db "$db2" trend --metric regression_iops_change_pct
t "history trend: unknown metric" 3 "unknown metric 'speed'" -- "$tool" history --db "$db" trend --metric speed
t "history trend needs --metric" 3 "--metric is required" -- "$tool" history --db "$db" trend
t "history rejects a corrupt file" 3 "results-nul: NUL byte" -- "$tool" history --db "$db" add "$data/corrupt/results-nul"
t "DMR_STRESS_DB selects the database" 0 "^6 run\(s\)$" -- env DMR_STRESS_DB="$db" "$tool" history list
if command -v sqlite3 >/dev/null; then
	t "history stores the results text verbatim" 0 "^1$" -- \
		sqlite3 "$db" "SELECT results = CAST(readfile('$tmp/h6') AS TEXT) FROM runs WHERE id = 6"
	cp "$db" "$tmp/edited.db"
	sqlite3 "$tmp/edited.db" "UPDATE runs SET time = 9223372036854775807 WHERE id = 1"
	t "history list: a time with no calendar date shows as @seconds" 0 "^1 +@9223372036854775807 " -- \
		"$tool" history --db "$tmp/edited.db" list
fi

# ---------------------------------------------------------------- run against a fake sysfs
sys=$tmp/sys
mkdir -p "$sys"
start_fake() {
	rm -f "$sys/.fake-stop"
	bash "$here/fake-kernel.sh" "$sys" &
	fake_pid=$!
	for _ in $(seq 50); do [ -f "$sys/.commands" ] && break; sleep 0.05; done
}
stop_fake() {
	touch "$sys/.fake-stop"
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}
# The module is running as soon as the start write returns; the fake only
# notices the write at its next poll, so the test arms the running state.
arm() {
	sed -e 's/^state: .*/state: running/' -e 's/^progress_pct: .*/progress_pct: 0/' \
		"$data/status.golden" >"$sys/stress_test_status"
	: >"$sys/.commands"
}
rundb=$tmp/run.db
start_fake
t "status (idle)" 0 "^state idle, test none" -- "$tool" --sysfs "$sys" status
t "report before any run: exit 3, says so" 3 "no test has run since the module was loaded" -- "$tool" --sysfs "$sys" report
arm
t "run: completes, PASS, exit 0" 0 "result PASS" -- \
	"$tool" --sysfs "$sys" run --device /dev/mapper/remap0 --type randwrite --workers 2 \
	--runtime 2m --bs 64k --iodepth 16 --seed 7 --verify --force --interval 100ms --db "$rundb"
check "run wrote target" grep -qx 'target /dev/mapper/remap0' "$sys/.commands"
check "run wrote the start line fio-style options translated" \
	grep -qx 'stress_test_start 3 2 120000 bs=65536 qd=16 seed=7 verify=1 force=1' "$sys/.commands"
check "plain progress lines when not on a terminal" grep -Eq '^dmr-stress: running mixed [0-9]+% elapsed' <<<"$out"
check "run recorded the completed run in the history" grep -q 'recorded as run 1 in' <<<"$out"
t "history has the run" 0 "^1 run\(s\)$" -- "$tool" history --db "$rundb" list
arm
t "run --format json --output" 0 "" -- "$tool" --sysfs "$sys" run --type mixed --rwmix 60 --ops 100k \
	--format json --output "$tmp/run.json" --interval 100ms --quiet --no-history --save "$tmp/save1"
check "ops without runtime: duration is only a cap" grep -qx 'stress_test_start 4 4 86400000 ops=102400 rwmix=60' "$sys/.commands"
if command -v jq >/dev/null; then
	check "run JSON: fio fields" jq -e '.jobs[0].mixed.total_ios == 1234567 and .dm_remap_stress.result == "PASS"' "$tmp/run.json"
fi
check "--save kept results" cmp "$tmp/save1/stress_test_results" "$data/results.golden"
check "--save kept the histogram" cmp "$tmp/save1/histogram" "$data/histogram.golden"
check "--quiet: no history line" test ! -e "$rundb-nothing"
: >"$sys/.commands"
t "run: a start command longer than a page is refused, exit 3" 3 "start command is longer than 4095 bytes" -- \
	"$tool" --sysfs "$sys" run --type randwrite --force --cpus "$(seq -s, 0 1499)"
check "the refused command was not written" test ! -s "$sys/.commands"
arm
t "run --quick writes quick_validation" 0 "result PASS" -- "$tool" --sysfs "$sys" run --quick --device remap0 --interval 100ms --no-history
check "--quick wrote 1 to quick_validation" grep -qx 'quick_validation 1' "$sys/.commands"
arm
t "run --regression" 0 "" -- "$tool" --sysfs "$sys" run --regression --interval 100ms --no-history
check "--regression wrote regression_test" grep -qx 'regression_test 1' "$sys/.commands"
arm
t "run --timeout: the largest value does not wrap to 'now'" 0 "result PASS" -- \
	"$tool" --sysfs "$sys" run --type mixed --interval 100ms --timeout 18446744073709551615ms --no-history
arm
t "run --memory-pressure 256 --runtime 10s" 0 "" -- "$tool" --sysfs "$sys" run --memory-pressure 256 --runtime 10s --interval 100ms --no-history
check "--memory-pressure wrote '<mb> <ms>'" grep -qx 'memory_pressure_test 256 10000' "$sys/.commands"
stop_fake

FAKE_RESULTS=$data/results-regression.golden start_fake
arm
t "run: regression verdict, exit 2" 2 "regression: fail" -- "$tool" --sysfs "$sys" run --regression --interval 100ms --no-history
stop_fake
FAKE_RESULTS=$data/results-fail.golden start_fake
arm
t "run: verify mismatches, FAIL, exit 1" 1 "failed criteria: verify_mismatches" -- "$tool" --sysfs "$sys" run --type mixed --verify --interval 100ms --db "$rundb"
t "a failed run is still recorded" 0 "^2 run\(s\)$" -- "$tool" history --db "$rundb" list
stop_fake

# Ctrl-C: the tool writes 1 to stress_test_stop, waits for the stopped state
# and prints the report of the stopped run.
FAKE_STEPS=100000 start_fake
arm
"$tool" --sysfs "$sys" run --type mixed --interval 100ms --no-history >"$tmp/int.out" 2>&1 &
tp=$!
for _ in $(seq 100); do grep -q '^stress_test_start' "$sys/.commands" && break; sleep 0.05; done
sleep 0.3
kill -INT $tp
wait $tp
rc=$?
[ $rc = 1 ] && grep -q 'interrupted: stopping the test' "$tmp/int.out" && grep -q 'stopped, result FAIL' "$tmp/int.out" &&
	grep -qx 'stress_test_stop 1' "$sys/.commands" && ! grep -q Sanitizer "$tmp/int.out" &&
	ok "SIGINT: stop written, stopped state awaited, report printed, exit 1" ||
	not_ok "SIGINT handling (exit $rc)" "$(cat "$tmp/int.out")"
# SIGTERM, and a hangup (ssh dropped, terminal closed), stop the test
# like Ctrl-C.
for sig in TERM HUP; do
	arm
	"$tool" --sysfs "$sys" run --type mixed --interval 100ms --no-history >"$tmp/$sig.out" 2>&1 &
	tp=$!
	for _ in $(seq 100); do grep -q '^stress_test_start' "$sys/.commands" && break; sleep 0.05; done
	kill -"$sig" $tp
	wait $tp
	rc=$?
	[ $rc = 1 ] && grep -qx 'stress_test_stop 1' "$sys/.commands" &&
		ok "SIG$sig stops the test the same way" ||
		not_ok "SIG$sig handling (exit $rc)" "$(cat "$tmp/$sig.out")"
done
# A reader that goes away (| head) does not kill the tool mid-run: the
# test is stopped by the signal that follows, not left running.
arm
rm -f "$tmp/pipe.rc"
{ "$tool" --sysfs "$sys" run --type mixed --interval 100ms --no-history 2>&1; echo "rc=$?" >"$tmp/pipe.rc"; } |
	head -c 1 >/dev/null &
for _ in $(seq 100); do grep -q '^stress_test_start' "$sys/.commands" && break; sleep 0.05; done
sleep 0.5
tp=$(pgrep -f -- "--sysfs $sys run --type mixed" | head -n1)
[ -n "$tp" ] && kill -INT "$tp"
for _ in $(seq 100); do [ -s "$tmp/pipe.rc" ] && break; sleep 0.1; done
grep -qx 'stress_test_stop 1' "$sys/.commands" && [ -n "$tp" ] &&
	ok "a closed pipe does not kill the run; the stop still gets written" ||
	not_ok "closed pipe (pid '$tp', $(cat "$tmp/pipe.rc" 2>/dev/null))" "$(cat "$sys/.commands")"
arm
t "run --timeout: stops a test that overruns, exit 4" 4 "still running .* stopping it" -- \
	"$tool" --sysfs "$sys" run --type mixed --interval 100ms --timeout 500ms --no-history
: >"$sys/.commands"
t "run --output into a missing directory: refused before the start, exit 3" 3 "nodir/out.json" -- \
	"$tool" --sysfs "$sys" run --type mixed --output "$tmp/nodir/out.json" --no-history
check "... and no test was started" test ! -s "$sys/.commands"
stop_fake

# A lost result is not a clean exit: a failed --save turns 0 into 4. With
# a run that completes: the fake above never ends, and a run there got
# its exit 4 from the default deadline (twice the fake's 30 s duration
# plus 120 s, 169 s of the suite's 290 s), whatever --save did.
start_fake
arm
t "run: a failed --save is not a clean exit (4)" 4 "--save: mkdir .*/run.json/sub: Not a directory" -- \
	"$tool" --sysfs "$sys" run --type mixed --interval 100ms --no-history --save "$tmp/run.json/sub"
grep -q 'result PASS' <<<"$out" && ! grep -q 'still running' <<<"$out" &&
	ok "... after the run completed and passed" || not_ok "failed --save: the run did not complete" "$out"
stop_fake

# A live results file the tool cannot parse is a kernel error (exit 4).
cp "$data/corrupt/results-reordered" "$sys/stress_test_results"
t "report: corrupt live results, exit 4" 4 "stress_test_results: line 23" -- "$tool" --sysfs "$sys" report
cp "$data/status.golden" "$sys/stress_test_status"
t "status: running, text" 0 "^state running, test mixed, 40% after 12.034 s of 30.000 s" -- "$tool" --sysfs "$sys" status
t "status --format json" 0 '"progress_pct": 40' -- "$tool" --sysfs "$sys" status --format json
if command -v jq >/dev/null; then
	t "status JSON parses" 0 '^495012$' -- sh -c "\"$tool\" --sysfs \"$sys\" status --format json | jq .ios"
fi
cp "$data/corrupt/status-bad-state" "$sys/stress_test_status"
t "status: corrupt live status, exit 4" 4 "state: 'paused' is not one of" -- "$tool" --sysfs "$sys" status

# A failing sysfs write reports the file and the errno string.
ln -sf /dev/full "$sys/stress_test_start"
cp "$data/status.golden" "$sys/stress_test_status"
t "failed start write: file and errno named, exit 3" 3 "stress_test_start: No space left on device" -- \
	"$tool" --sysfs "$sys" run --type mixed --no-history
rm -f "$sys/stress_test_start"
mkdir "$sys/stress_test_start"
t "start file not writable: named" 3 "stress_test_start: Is a directory" -- "$tool" --sysfs "$sys" run --no-history
rmdir "$sys/stress_test_start"
rm -f "$sys/target"
t "missing target file: named" 3 "target: No such file or directory" -- "$tool" --sysfs "$sys" run --device /dev/nullb0 --no-history

# ---------------------------------------------------------------- baseline
cp "$data/results-regression.golden" "$sys/baseline"
t "baseline save FILE" 0 "baseline saved to $tmp/bl" -- "$tool" --sysfs "$sys" baseline save "$tmp/bl"
check "saved baseline is the kernel's, byte for byte" cmp "$tmp/bl" "$data/results-regression.golden"
: >"$sys/baseline"
t "baseline load FILE" 0 "baseline loaded from $tmp/bl" -- "$tool" --sysfs "$sys" baseline load "$tmp/bl"
check "loaded baseline written whole" cmp "$sys/baseline" "$data/results-regression.golden"
t "baseline load refuses a corrupt file" 3 "results-digest-case: line" -- "$tool" --sysfs "$sys" baseline load "$data/corrupt/results-digest-case"
check "...and leaves the kernel's baseline alone" cmp "$sys/baseline" "$data/results-regression.golden"
t "baseline show" 0 "regression: fail" -- "$tool" --sysfs "$sys" baseline show
t "baseline set" 0 "baseline set" -- "$tool" --sysfs "$sys" baseline set
check "baseline set wrote save" grep -qx save "$sys/baseline"
t "baseline clear" 0 "cleared" -- "$tool" --sysfs "$sys" baseline clear
: >"$sys/baseline"
t "baseline save with none in the kernel" 3 "holds no baseline" -- "$tool" --sysfs "$sys" baseline save "$tmp/bl2"
t "baseline show with none in the kernel" 3 "holds no baseline" -- "$tool" --sysfs "$sys" baseline show
cp "$data/corrupt/results-digest-case" "$sys/baseline"
t "baseline show of a corrupt baseline: exit 4, names it" 4 "$sys/baseline: line" -- "$tool" --sysfs "$sys" baseline show
t "baseline: bad subcommand" 3 "baseline save FILE" -- "$tool" --sysfs "$sys" baseline frob

# ---------------------------------------------------------------- man page
if command -v groff >/dev/null; then
	t "man page renders without warnings" 0 "" -- sh -c "groff -man -Tutf8 -ww -z \"$here/../dmr-stress.8\" 2>&1 | grep . && exit 1; exit 0"
fi
# Every command and every output format is documented.
for w in 'SS run' 'SS status' 'SS report' 'SS compare' 'SS baseline' 'SS history' 'SS hist' \
	'SS text' 'SS json' 'SS csv' 'SS prometheus' 'SS history database' 'SH EXIT STATUS'; do
	check "man page has .$w" grep -qx ".$w" "$here/../dmr-stress.8"
done

echo "$pass passed, $fail failed"
[ $fail = 0 ]
