#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make bench` (runs inside one vmtest guest). Prints one
# line per measurement:  BENCH <case> <rep> <key>=<value>...
# scripts/bench.sh turns them into medians, ranges and ratios.
#
# Environment: BENCH_REPS (default 5), BENCH_SECS (seconds per run,
# default 5), BENCH_CASES (space-separated subset of the case groups:
# fio remap latency stop; default all).
set -uo pipefail

reps=${BENCH_REPS:-5}
secs=${BENCH_SECS:-5}
groups=${BENCH_CASES:-fio remap latency stop}
S=/sys/kernel/dm_remap_stress_test
export DM_DISABLE_UDEV=1

log() { echo "# bench: $*" >&2; }
emit() { echo "BENCH $*"; }
has_group() { [[ " $groups " == *" $1 "* ]]; }

# ---------------------------------------------------------------- helpers

nullb_reset() {		# nullb_reset <module params...>
	local d
	dmsetup remove_all >/dev/null 2>&1
	for d in /sys/kernel/config/nullb/*/; do
		[ -d "$d" ] || continue
		echo 0 >"$d/power"
		rmdir "$d"
	done
	grep -q '^dm_remap_stress ' /proc/modules && rmmod dm_remap_stress
	grep -q '^dm_remap ' /proc/modules && rmmod dm_remap
	grep -q '^null_blk ' /proc/modules && rmmod null_blk
	modprobe null_blk "$@" || { log "modprobe null_blk $* failed"; exit 1; }
	modprobe dm-mod
}

# fio_run <dev> <rw> <engine> <qd> <jobs> <secs>: prints "iops p50 p99"
fio_run() {
	local dev=$1 rw=$2 eng=$3 qd=$4 jobs=$5 t=$6 extra=() dir
	case $eng in
	io_uring) extra=(--fixedbufs --registerfiles) ;;
	libaio) extra=(--iodepth_batch_submit=8 --iodepth_batch_complete_min=1) ;;
	esac
	dir=read
	[[ $rw == *write ]] && dir=write
	fio --name=b --filename="$dev" --rw="$rw" --bs=4k --direct=1 \
		--ioengine="$eng" --iodepth="$qd" --numjobs="$jobs" --thread \
		--group_reporting --norandommap --randrepeat=0 --time_based \
		--runtime="$t" --output-format=json "${extra[@]}" 2>/dev/null |
		jq -r ".jobs[0].$dir | \"\(.iops) \(.clat_ns.percentile[\"50.000000\"] // 0) \(.clat_ns.percentile[\"99.000000\"] // 0)\""
}

# mod_run <target> "<start line>": runs one stress test to completion,
# prints "iops p50 p99"; the results file is left in /tmp/bench-results.
mod_run() {
	local tgt=$1 line=$2 st
	echo "$tgt" >$S/target || return 1
	echo "$line" >$S/stress_test_start || { log "start '$line' refused"; return 1; }
	while :; do
		st=$(sed -n 's/^state: //p' $S/stress_test_status)
		[ "$st" = running ] || [ "$st" = stopping ] || break
		sleep 0.5
	done
	cat $S/stress_test_results >/tmp/bench-results
	awk -F': ' '$1 == "iops" { i = $2 } $1 == "lat_p50_ns" { a = $2 } $1 == "lat_p99_ns" { b = $2 }
		END { print i, a, b }' /tmp/bench-results
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ------------------------------------------------ 1. generator vs fio
bench_fio() {
	local r rw t engine best v
	nullb_reset nr_devices=1 irqmode=0 gb=16 queue_mode=2 submit_queues=2
	modprobe dm-remap-stress || { log "dm-remap-stress missing"; return 1; }
	for r in $(seq 1 "$reps"); do
		for rw in randread randwrite; do
			t=1
			[ $rw = randwrite ] && t=3
			# fio: the better of io_uring and libaio, each run measured.
			for engine in io_uring libaio; do
				set -- $(fio_run /dev/nullb0 $rw $engine 32 2 "$secs")
				emit "fio_${rw}_$engine $r iops=$1"
			done
			set -- $(mod_run /dev/nullb0 "$t 2 $((secs * 1000)) bs=4096 qd=32 force=1")
			emit "kernel_$rw $r iops=$1"
		done
		# Histogram recording on vs off (module parameter).
		for h in 1 0; do
			echo $h >/sys/module/dm_remap_stress/parameters/record_histogram 2>/dev/null ||
				{ log "record_histogram parameter missing"; break; }
			set -- $(mod_run /dev/nullb0 "1 2 $((secs * 1000)) bs=4096 qd=32")
			emit "kernel_randread_hist$h $r iops=$1"
		done
		echo 1 >/sys/module/dm_remap_stress/parameters/record_histogram 2>/dev/null
	done
}

# ------------------------------ 2. dm-remap vs dm-linear on null_blk
bench_remap() {
	local r sz ssz n rw t
	# main 8 GiB, not memory-backed; the spare must keep what is written
	# (metadata, migrated blocks): memory-backed, 6 GiB, room for
	# 1,000,000 4 KiB remaps plus metadata, only written pages use memory.
	nullb_reset nr_devices=1 irqmode=0 gb=8 queue_mode=2 submit_queues=2
	local c=/sys/kernel/config/nullb/spare
	mkdir $c && echo 6144 >$c/size && echo 1 >$c/memory_backed && echo 2 >$c/submit_queues &&
		echo 1 >$c/power || { log "memory-backed spare null_blk failed"; return 1; }
	modprobe dm-remap || { log "dm-remap missing"; return 1; }
	modprobe dm-remap-stress || return 1
	sz=$(blockdev --getsz /dev/nullb0)
	ssz=$(blockdev --getsz /dev/spare)
	dmsetup create lin --table "0 $sz linear /dev/nullb0 0" || return 1
	# Each remap device has its own spare area on the spare (sharing one would
	# share its metadata): 64 MiB, 256 MiB, and the rest for 1,000,000.
	local starts=(0 131072 655360) lens=(131072 524288 $((ssz - 655360))) i=0
	for n in 0 10000 1000000; do
		dmsetup create "remap$n" --table "0 $sz remap /dev/nullb0 /dev/spare ${starts[i]} ${lens[i]}" ||
			return 1
		i=$((i + 1))
		[ $n = 0 ] || bench_make_remaps "remap$n" "$n" || return 1
	done
	for r in $(seq 1 "$reps"); do
		for rw in randread randwrite; do
			t=1
			[ $rw = randwrite ] && t=3
			set -- $(mod_run /dev/mapper/lin "$t 2 $((secs * 1000)) bs=4096 qd=32 force=1")
			emit "linear_$rw $r iops=$1"
			for n in 0 10000 1000000; do
				dmsetup message "remap$n" 0 clear_stats
				set -- $(mod_run "/dev/mapper/remap$n" "$t 2 $((secs * 1000)) bs=4096 qd=32")
				emit "remap${n}_$rw $r iops=$1 spare_share=$(bench_spare_share "remap$n")"
			done
		done
	done
}

# ------------------------------------------------- 3. latency accuracy
bench_latency() {
	local r ns
	for ns in 20000 200000; do
		nullb_reset nr_devices=1 irqmode=2 completion_nsec=$ns gb=4
		modprobe dm-remap-stress || return 1
		for r in $(seq 1 "$reps"); do
			set -- $(fio_run /dev/nullb0 randread io_uring 1 1 "$secs")
			emit "lat${ns}_fio $r iops=$1 p50=$2 p99=$3 injected=$ns"
			set -- $(mod_run /dev/nullb0 "1 1 $((secs * 1000)) bs=4096 qd=1")
			emit "lat${ns}_kernel $r iops=$1 p50=$2 p99=$3 injected=$ns"
		done
	done
}

# ------------------------------------ 4. stop latency with 4096 in flight
bench_stop() {
	local r t0 t1 mem0 mem1 infl
	nullb_reset nr_devices=1 irqmode=2 completion_nsec=2000000 gb=4 hw_queue_depth=4096
	modprobe dm-remap-stress || return 1
	for r in $(seq 1 "$reps"); do
		mem0=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
		echo /dev/nullb0 >$S/target
		echo "1 32 60000 bs=4096 qd=128" >$S/stress_test_start || return 1
		sleep 3
		infl=$(sed -n 's/^inflight: //p' $S/stress_test_status)
		mem1=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
		t0=$EPOCHREALTIME
		echo 1 >$S/stress_test_stop
		while grep -qE '^state: (running|stopping)$' $S/stress_test_status; do :; done
		t1=$EPOCHREALTIME
		emit "stop $r stop_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }') inflight=$infl mem_kib=$((mem0 - mem1))"
	done
}

# Hooks that depend on the target's interface.
bench_make_remaps() {	# <dm name> <count>: <count> remaps spread uniformly
	local name=$1 n=$2
	echo "/dev/mapper/$name" >$S/target
	# The stress module's remap-heavy setup creates them through the
	# target's exported API; ops=1 keeps the run itself negligible.
	echo "5 1 1000 ops=1 remaps=$n keep_remaps=1" >$S/stress_test_start || return 1
	while grep -qE '^state: (running|stopping)$' $S/stress_test_status; do sleep 1; done
	log "$name: $(dmsetup status "$name" | head -c 200)"
	grep -q '^result: PASS$' $S/stress_test_results ||
		{ log "making $n remaps failed: $(grep -E '^(state|fail_reason):' $S/stress_test_results | tr '\n' ' ')"; return 1; }
}

bench_spare_share() {	# share of I/O that went to spare blocks (0..1)
	dmsetup status "$1" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(reads|writes|spare_ios)=/) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { t = v["reads"] + v["writes"]; printf "%.4f", t ? v["spare_ios"] / t : 0 }'
}

echo "BENCH_KERNEL $(uname -r)"
for g in fio remap latency stop; do
	has_group $g || continue
	log "group $g"
	"bench_$g" || log "group $g failed"
done
echo "BENCH_DONE"
