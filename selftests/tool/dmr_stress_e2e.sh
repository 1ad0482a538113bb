#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dmr-stress end to end, in a guest: `dmr-stress run --quick` against a
# dm-remap device on memory-backed null_blk, then checks the JSON and the
# exit status against independent facts: the module's own sysfs text (parsed
# here with awk, not by the tool), the dm device's block-layer I/O counters,
# the SQLite history, and the kernel's errnos for a busy and a refused start.
# Also Ctrl-C: SIGINT must stop the run through stress_test_stop.
#
# Knobs: DMR_TOOL_QUICK_MS (quick_validation duration if the module has a
# parameter for it, default 5000).
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
tool=$root/tools/dmr-stress/dmr-stress
sys=/sys/kernel/dm_remap_stress_test
name=dmrtool
tmp=$(mktemp -d /tmp/dmr-tool.XXXXXX)
quick_ms=${DMR_TOOL_QUICK_MS:-5000}
failures=0

say() { echo "# $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() { echo "SKIP: $*"; exit 4; }

cleanup() {
	[ -w $sys/stress_test_stop ] && echo 1 >$sys/stress_test_stop 2>/dev/null
	for _ in $(seq 50); do
		grep -qE '^state: (running|stopping)$' $sys/stress_test_status 2>/dev/null || break
		sleep 0.2
	done
	dmsetup remove --retry $name >/dev/null 2>&1
	for d in ${name}_main ${name}_spare; do
		[ -d /sys/kernel/config/nullb/$d ] || continue
		echo 0 >/sys/kernel/config/nullb/$d/power
		rmdir /sys/kernel/config/nullb/$d
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The tool is built on the host; the guest must also have its libraries.
[ -x "$tool" ] || { echo "FAIL: $tool not built (make -C tools on the host)"; exit 1; }
if ! v=$("$tool" --version 2>&1); then
	# e.g. "error while loading shared libraries: libjson-c.so.5: cannot open ..."
	echo "FAIL: dmr-stress does not start in the guest: $v"
	exit 1
fi
command -v jq >/dev/null || { echo "FAIL: jq missing in the guest"; exit 1; }

# raw KEY [FILE]: a value straight from the module's text, without the tool.
raw() { awk -v k="$1:" '$1 == k { sub(/^[^:]*: /, ""); print; exit }' "${2:-$sys/stress_test_results}"; }

nullb() {	# nullb NAME SIZE_MB
	local d=/sys/kernel/config/nullb/$1
	mkdir "$d" || return 1
	echo "$2" >"$d/size" && echo 1 >"$d/memory_backed" && echo 4096 >"$d/blocksize" &&
		echo 1 >"$d/power"
}

modprobe null_blk nr_devices=0 || { echo "FAIL: modprobe null_blk"; exit 1; }
modprobe dm-mod
# Only a module this kernel lacks is a skip; one that fails to load fails.
for m in dm-remap dm-remap-stress; do
	modinfo "$m" >/dev/null 2>&1 || skip "$m.ko not available in this build"
	modprobe "$m" || { echo "FAIL: modprobe $m"; exit 1; }
done
[ -d $sys ] || { echo "FAIL: $sys missing after modprobe"; exit 1; }

# Shorten quick_validation when the module lets us (30 s by default).
param=$(ls /sys/module/dm_remap_stress/parameters/ 2>/dev/null | grep -i quick | head -n1)
if [ -n "$param" ]; then
	p=/sys/module/dm_remap_stress/parameters/$param
	if ! echo "$quick_ms" >"$p" 2>/dev/null; then
		rmmod dm_remap_stress && modprobe dm-remap-stress "$param=$quick_ms" ||
			{ echo "FAIL: reloading dm-remap-stress with $param=$quick_ms"; exit 1; }
	fi
	say "quick_validation shortened: $param=$(cat "$p")"
else
	say "no quick_validation duration parameter: the quick run lasts its default"
fi

nullb ${name}_main 256 && nullb ${name}_spare 64 || { echo "FAIL: null_blk devices"; exit 1; }
# 6.1 and later name a configfs null_blk disk after its item
main=/dev/${name}_main spare=/dev/${name}_spare
[ -b "$main" ] || main=/dev/nullb$(cat /sys/kernel/config/nullb/${name}_main/index)
[ -b "$spare" ] || spare=/dev/nullb$(cat /sys/kernel/config/nullb/${name}_spare/index)
dmsetup create $name --table "0 $(blockdev --getsz "$main") remap $main $spare 0 $(blockdev --getsz "$spare")" ||
	{ echo "FAIL: dmsetup create $name"; exit 1; }
dev=/dev/mapper/$name
majmin=$(dmsetup info -c --noheadings -o major,minor $name | tr -d ' ')
dmblk=/sys/block/dm-${majmin#*:}
say "$dev is $majmin, main $main, spare $spare"

# --------------------------------------------------------------- run --quick
read -r -a st0 <"$dmblk/stat"
t0=$(date +%s)
"$tool" run --quick --device "$dev" --format json --output "$tmp/quick.json" \
	--db "$tmp/history.db" --save "$tmp/saved" --interval 2s 2>"$tmp/quick.err"
rc=$?
t1=$(date +%s)
read -r -a st1 <"$dmblk/stat"
sed 's/^/# tool: /' "$tmp/quick.err"
say "dmr-stress run --quick: exit $rc after $((t1 - t0)) s"

result=$(raw result)
case $result in
PASS) want=0 ;;
FAIL) want=1; echo "$(raw failed_criteria)" | grep -qxE '(iops_drop|p99_rise)(,(iops_drop|p99_rise))*' && want=2 ;;
*) want=x ;;
esac
[ "$result" = PASS ] || fail "quick_validation on a healthy device: result '$result' ($(raw failed_criteria))"
[ "$rc" = "$want" ] || fail "exit status $rc, the module says result $result (expected $want)"
grep -qE '^dmr-stress: (running|stopping) mixed [0-9]+% elapsed' "$tmp/quick.err" ||
	fail "no plain progress line on a non-terminal"
grep -q "quick_validation <- 1" "$tmp/quick.err" || fail "the tool did not say what it wrote"

j=$tmp/quick.json
jq -e . "$j" >/dev/null || fail "output is not JSON"
jv() { jq -r "$1" "$j"; }
for k in ios bytes elapsed_ms lat_p50_ns lat_p99_ns lat_max_ns read_ios write_ios errors \
	verify_mismatches io_sequence_digest seed workers qd target_dev; do
	a=$(jv ".dm_remap_stress.$k") b=$(raw $k)
	# jq reads numbers as doubles: take 64-bit values from the JSON text
	[ $k = seed ] && a=$(tr -d ' \n' <"$j" | grep -oE '"seed":[0-9]+' | head -n1 | cut -d: -f2)
	[ "$a" = "$b" ] || fail "JSON dm_remap_stress.$k = '$a', stress_test_results says '$b'"
done
# as numbers: jq prints 26302.10 as 26302.1
awk -v a="$(jv '.dm_remap_stress.iops')" -v b="$(raw iops)" 'BEGIN { exit !(a + 0 == b + 0) }' ||
	fail "iops $(jv '.dm_remap_stress.iops') differs from the module's $(raw iops)"
[ "$(jv '.jobs[0].mixed.total_ios')" = "$(raw ios)" ] || fail "jobs[0].mixed.total_ios"
[ "$(jv '.jobs[0].mixed.io_bytes')" = "$(raw bytes)" ] || fail "jobs[0].mixed.io_bytes"
[ "$(jv '.jobs[0].read.total_ios')" = "$(raw read_ios)" ] || fail "jobs[0].read.total_ios"
[ "$(jv '.jobs[0].write.total_ios')" = "$(raw write_ios)" ] || fail "jobs[0].write.total_ios"
[ "$(jv '.jobs[0].read.clat_ns.percentile["99.000000"]')" = "$(raw read_lat_p99_ns)" ] ||
	fail "jobs[0].read.clat_ns.percentile[99] differs from read_lat_p99_ns"
[ "$(jv '.jobs[0].mixed.lat_ns.mean')" = "$(raw lat_mean_ns)" ] || fail "lat_ns.mean"
[ "$(jv '.jobs[0].read.runtime')" = "$(raw elapsed_ms)" ] || fail "runtime"
# quick_validation is documented as mixed, 4 workers, qd 32, verify on.
[ "$(jv '.dm_remap_stress.test')" = mixed ] || fail "quick test is '$(jv .dm_remap_stress.test)', not mixed"
[ "$(jv '.dm_remap_stress.workers')" = 4 ] || fail "quick workers $(jv .dm_remap_stress.workers)"
[ "$(jv '.dm_remap_stress.qd')" = 32 ] || fail "quick qd $(jv .dm_remap_stress.qd)"
[ "$(jv '.dm_remap_stress.verify')" = 1 ] || fail "quick verify off"
[ "$(jv '.dm_remap_stress.target_dev')" = "$majmin" ] || fail "target_dev is not $dev ($majmin)"
[ "$(jv '.dm_remap_stress.target_is_remap')" = 1 ] || fail "target_is_remap"
[ "$(jv '.dm_remap_stress.result')" = PASS ] || fail "JSON result"
ios=$(raw ios)
[ "${ios:-0}" -gt 0 ] || fail "no I/O counted"
[ "$(jv '.jobs[0].read.total_ios')" -gt 0 ] && [ "$(jv '.jobs[0].write.total_ios')" -gt 0 ] ||
	fail "a mixed run without both reads and writes"
# The histogram the tool embeds holds every I/O, like the module's file.
hsum=$(awk '{ s += $3 } END { print s + 0 }' $sys/histogram)
[ "$(jv '[.dm_remap_stress.histogram[].count] | add')" = "$hsum" ] || fail "embedded histogram differs from the module's"
[ "$hsum" = "$ios" ] || fail "histogram holds $hsum I/Os, results ios $ios"
# Independent fact: the dm device's own block-layer counters saw at least
# that many completed I/Os and bytes (fields: reads, ..., sectors read, ...,
# writes, ..., sectors written).
dio=$(( (st1[0] - st0[0]) + (st1[4] - st0[4]) ))
dbytes=$(( ((st1[2] - st0[2]) + (st1[6] - st0[6])) * 512 ))
say "block layer: $dio I/Os, $dbytes bytes on $dev; module: $ios I/Os, $(raw bytes) bytes"
[ "$dio" -ge "$ios" ] || fail "the device completed $dio I/Os, fewer than the $ios counted"
[ "$dbytes" -ge "$(raw bytes)" ] || fail "the device moved $dbytes bytes, fewer than $(raw bytes)"

# --save, history, other formats from the live files.
cmp -s "$tmp/saved/stress_test_results" $sys/stress_test_results || fail "--save copy differs from sysfs"
"$tool" history --db "$tmp/history.db" list >"$tmp/list" 2>&1 || fail "history list: $(cat "$tmp/list")"
grep -qx '1 run(s)' "$tmp/list" || fail "history does not hold the quick run: $(cat "$tmp/list")"
if command -v sqlite3 >/dev/null; then
	[ "$(sqlite3 "$tmp/history.db" 'SELECT test || " " || result FROM runs')" = "mixed PASS" ] ||
		fail "history row"
fi
"$tool" report --format prometheus >"$tmp/prom" || fail "report --format prometheus"
grep -qx "dmr_stress_ios_total{op=\"all\"} $ios" "$tmp/prom" || fail "prometheus ios_total"
"$tool" report --format csv >"$tmp/csv" || fail "report --format csv"
[ "$(wc -l <"$tmp/csv")" = 2 ] || fail "csv is not two lines"
"$tool" hist >"$tmp/hist" || fail "hist"
grep -q "^$ios I/Os in" "$tmp/hist" || fail "hist total: $(tail -n1 "$tmp/hist")"
"$tool" status >"$tmp/status" || fail "status"
grep -q '^state completed, test mixed' "$tmp/status" || fail "status after the run: $(head -n1 "$tmp/status")"

# --------------------------------------------------------------- errors from the kernel
# A write test on a device that is not dm-remap, without --force: EPERM.
"$tool" run --device "$main" --type randwrite --runtime 1s --no-history >"$tmp/eperm" 2>&1
rc=$?
[ $rc = 3 ] || fail "write test on plain null_blk without --force: exit $rc, expected 3"
grep -q 'stress_test_start: Operation not permitted' "$tmp/eperm" ||
	fail "EPERM not named: $(cat "$tmp/eperm")"

# Busy: a second start while a test runs.
"$tool" run --device "$dev" --type randread --runtime 60s --no-history --interval 1s \
	>"$tmp/long.out" 2>&1 &
tp=$!
for _ in $(seq 50); do
	[ "$(raw state $sys/stress_test_status)" = running ] && break
	sleep 0.2
done
"$tool" run --type randread --runtime 1s --no-history >"$tmp/ebusy" 2>&1
rc=$?
[ $rc = 3 ] || fail "start while running: exit $rc, expected 3"
grep -q 'stress_test_start: Device or resource busy' "$tmp/ebusy" ||
	fail "EBUSY not named: $(cat "$tmp/ebusy")"

# Ctrl-C on the running tool: it must stop the module's run and report it.
sleep 2
kill -INT $tp
wait $tp
rc=$?
[ "$(raw state $sys/stress_test_status)" = stopped ] ||
	fail "after SIGINT the module's state is '$(raw state $sys/stress_test_status)', not stopped"
[ "$(raw state)" = stopped ] || fail "results state '$(raw state)' after SIGINT"
[ $rc = 1 ] || fail "SIGINT: exit $rc, expected 1 (a stopped run is incomplete)"
grep -q 'interrupted: stopping the test' "$tmp/long.out" || fail "SIGINT not reported"
grep -q 'rand_read on .*: stopped' "$tmp/long.out" || fail "no report after SIGINT: $(tail -n 5 "$tmp/long.out")"

if [ $failures -gt 0 ]; then
	echo "dmr_stress_e2e: $failures failure(s)"
	exit 1
fi
echo "dmr_stress_e2e: ok ($ios I/Os in the quick run)"
