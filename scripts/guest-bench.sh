#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make bench` (runs inside one vmtest guest). Prints one
# line per measurement:  BENCH <case> <rep> <key>=<value>...
# scripts/bench.sh turns them into medians, ranges and ratios.
#
# Environment: BENCH_REPS (default 5), BENCH_SECS (seconds per run,
# default 5), BENCH_CASES (space-separated subset of the case groups:
# fio remap latency stop; default all), BENCH_PROFILE (1: mark each run
# on the console for bench.sh's host-side profile).
set -uo pipefail

reps=${BENCH_REPS:-5}
secs=${BENCH_SECS:-5}
groups=${BENCH_CASES:-fio remap latency stop}
S=/sys/kernel/dm_remap_stress_test
export DM_DISABLE_UDEV=1

log() { echo "# bench: $*" >&2; }
# With BENCH_PROFILE=1 every measured run is announced on the console,
# where bench.sh starts a host-side perf profile of QEMU for it.
mark() { [ "${BENCH_PROFILE:-0}" = 1 ] && echo "bench-run $*" >/dev/kmsg; :; }
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

# A run that yields no figures prints "nan nan nan" (and says so): the
# callers' "set --" then still has its three words, and bench.sh drops
# values that are not numbers, so one failed run only leaves its median.
nan_if_empty() {	# nan_if_empty <what>: stdin "iops p50 p99" or nothing
	local what=$1 l
	read -r l
	set -- $l
	if [ $# -ge 1 ] && [ "$1" != null ]; then
		echo "$l"
	else
		log "$what: no figures"
		echo "nan nan nan"
	fi
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
	mark "fio $dev $rw $eng qd=$qd jobs=$jobs"
	fio --name=b --filename="$dev" --rw="$rw" --bs=4k --direct=1 \
		--ioengine="$eng" --iodepth="$qd" --numjobs="$jobs" --thread \
		--group_reporting --norandommap --randrepeat=0 --time_based \
		--runtime="$t" --output-format=json "${extra[@]}" 2>/dev/null |
		jq -r ".jobs[0].$dir | \"\(.iops) \(.clat_ns.percentile[\"50.000000\"] // 0) \(.clat_ns.percentile[\"99.000000\"] // 0)\"" |
		nan_if_empty "fio $rw $eng on $dev"
}

# mod_run <target> "<start line>": runs one stress test to completion,
# prints "iops p50 p99"; the results file is left in /tmp/bench-results.
mod_run() {
	local tgt=$1 line=$2 st
	rm -f /tmp/bench-results
	echo "$tgt" >$S/target || { echo "nan nan nan"; return 1; }
	mark "$tgt $line"
	echo "$line" >$S/stress_test_start || { log "start '$line' refused"; echo "nan nan nan"; return 1; }
	while :; do
		st=$(sed -n 's/^state: //p' $S/stress_test_status)
		[ "$st" = running ] || [ "$st" = stopping ] || break
		sleep 0.5
	done
	cat $S/stress_test_results >/tmp/bench-results
	awk -F': ' '$1 == "iops" { i = $2 } $1 == "lat_p50_ns" { a = $2 } $1 == "lat_p99_ns" { b = $2 }
		END { if (i != "") print i, a, b }' /tmp/bench-results | nan_if_empty "module run '$line' on $tgt"
}

# rotate N ITEM...: the items, starting at item N mod their count, so that
# every case runs first, second, ... equally often across the reps.
rotate() {
	local n=$1 i
	shift
	for i in $(seq 0 $(($# - 1))); do
		echo "${@:$(( (n + i) % $# + 1 )):1}"
	done
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
			for engine in $(rotate "$r" io_uring libaio kernel); do
				if [ $engine = kernel ]; then
					set -- $(mod_run /dev/nullb0 "$t 2 $((secs * 1000)) bs=4096 qd=32 force=1")
					emit "kernel_$rw $r iops=$1"
					continue
				fi
				set -- $(fio_run /dev/nullb0 $rw $engine 32 2 "$secs")
				emit "fio_${rw}_$engine $r iops=$1"
			done
		done
		# Histogram recording on vs off (module parameter).
		for h in $(rotate "$r" 1 0); do
			echo $h >/sys/module/dm_remap_stress/parameters/record_histogram 2>/dev/null ||
				{ log "record_histogram parameter missing"; break; }
			set -- $(mod_run /dev/nullb0 "1 2 $((secs * 1000)) bs=4096 qd=32")
			emit "kernel_randread_hist$h $r iops=$1"
		done
		echo 1 >/sys/module/dm_remap_stress/parameters/record_histogram 2>/dev/null
	done
}

# md_start <spare blocks>: the sectors of metadata before the data of a
# spare area with that many 4 KiB spare blocks: the two copies, rounded up
# to a block (dm-remap.rst, "Limits and memory").
md_start() {
	local t=$(($1 * 8 > 4096 ? ($1 * 8 + 4095) / 4096 * 4096 : 4096))
	echo $(((2 * (8 + t / 512) + 7) / 8 * 8))
}

# md_sectors <spare len>: sets md_blocks to the spare blocks of a spare
# area of that many sectors, the most that fit next to their metadata.
md_sectors() {
	local len=$1 n
	n=$((len * 512 / (4096 + 16)))
	while [ "$n" -gt 0 ] && [ $(($(md_start "$n") + n * 8)) -gt "$len" ]; do n=$((n - 1)); done
	while [ $(($(md_start $((n + 1))) + (n + 1) * 8)) -le "$len" ]; do n=$((n + 1)); done
	md_blocks=$n
}

# bench_spare_area <name> <len> <md offset> <nullb0 offset>: the spare area
# <name>, a dm-linear of <len> sectors: its metadata on md, its data on nullb0.
bench_spare_area() {
	local m
	md_sectors "$2"
	m=$(md_start "$md_blocks")
	dmsetup create "$1" --table "0 $m linear /dev/md $3
$m $(($2 - m)) linear /dev/nullb0 $4"
}

# bench_check_spare <remap device> <spare len>: the kernel's spare capacity
# must be md_sectors', or spare data would spill onto md.
bench_check_spare() {
	local got
	md_sectors "$2"
	got=$(dmsetup status "$1" | awk '{ split($4, a, "/"); print a[2] }')
	[ "$got" = "$md_blocks" ] ||
		{ log "$1: ${got:-no} spare blocks, md_sectors assumed $md_blocks"; return 1; }
}

# ------------------------------ 2. dm-remap vs dm-linear on null_blk
#
# nullb0 (16 GiB, not memory-backed) holds every main area and all spare
# data. A spare area's metadata must read back what was written, so it
# lives on "md", a memory-backed null_blk, and nothing else does: I/O there
# copies 4 KiB in emulated code and runs 5-7 times slower than on nullb0
# (measured), so spare blocks on md would measure null_blk's memory
# backing, not the target. Each spare area is a dm-linear concatenation
# whose first segment is exactly the metadata (bench_spare_area, above):
#   linear          nullb0[0, 8G)
#   linear_b        the same again: a control (linear_b vs linear shows how
#                   far two identical devices differ in one boot)
#   remap0          main nullb0[0, 8G), spare area md, 64 MiB (no spare I/O)
#   remap10000      main nullb0[0, 8G), spare area spare10000 (256 MiB):
#                   metadata on md, spare data on nullb0[12.5G, ...)
#   linear_stacked  linear over linm (linm: linear over nullb0[0, 8G))
#   remap1000000    main linm, spare area spare1000000: metadata on md,
#                   spare data on nullb0[8G, ...)
# remap1000000 reaches both its main and its spare data through one
# dm-linear (linm, spare1000000), and its baseline is the same two-level
# linear stack. remap10000's spare data (0.5 % of its I/O) is one dm-linear
# further away than its main.
# With BENCH_DUST (a directory holding dm-dust.ko and dm-msg, built by
# bench.sh), the kernel's dm-dust joins the random reads as a peer:
#   dust10000       dust over nullb0[0, 8G)   } 4 KiB blocks, that many bad
#   dust1000000     dust over linm (stacked,  } blocks spread uniformly,
#                   like remap1000000's main) } enabled
# Enabled dm-dust fails reads of a bad block with EIO without any I/O, and
# a write drops the block: it runs reads only.
bench_remap() {
	local r n rw t g8=16777216 sp=$((1100000 * 8)) name c=/sys/kernel/config/nullb/md
	local dusts=() peers extra
	nullb_reset nr_devices=1 irqmode=0 gb=16 queue_mode=2 submit_queues=2
	mkdir $c && echo 1024 >$c/size && echo 1 >$c/memory_backed && echo 2 >$c/submit_queues &&
		echo 1 >$c/power || { log "memory-backed null_blk failed"; return 1; }
	modprobe dm-remap || { log "dm-remap missing"; return 1; }
	modprobe dm-remap-stress || return 1
	dmsetup create linear --table "0 $g8 linear /dev/nullb0 0" &&
		dmsetup create linear_b --table "0 $g8 linear /dev/nullb0 0" &&
		dmsetup create remap0 --table "0 $g8 remap /dev/nullb0 /dev/md 0 131072" &&
		bench_spare_area spare10000 524288 131072 $((g8 * 25 / 16)) &&
		dmsetup create remap10000 --table "0 $g8 remap /dev/nullb0 /dev/mapper/spare10000 0 524288" &&
		dmsetup create linm --table "0 $g8 linear /dev/nullb0 0" &&
		dmsetup create linear_stacked --table "0 $g8 linear /dev/mapper/linm 0" &&
		bench_spare_area spare1000000 "$sp" 655360 "$g8" &&
		dmsetup create remap1000000 --table "0 $g8 remap /dev/mapper/linm /dev/mapper/spare1000000 0 $sp" &&
		bench_check_spare remap10000 524288 && bench_check_spare remap1000000 "$sp" ||
		{ log "creating the devices failed"; return 1; }
	for n in 10000 1000000; do
		bench_make_remaps "remap$n" "$n" || return 1
		t=/dev/nullb0
		[ "$n" = 1000000 ] && t=/dev/mapper/linm
		bench_make_dust "$n" "$t" "$g8" && dusts+=("dust$n")
	done
	for r in $(seq 1 "$reps"); do
		for rw in randread randwrite; do
			t=1
			[ $rw = randwrite ] && t=3
			peers=()
			[ $rw = randread ] && peers=("${dusts[@]}")
			for name in $(rotate "$r" linear remap0 remap10000 linear_stacked remap1000000 linear_b "${peers[@]}"); do
				case $name in
				linear* | dust*)
					set -- $(mod_run "/dev/mapper/$name" "$t 2 $((secs * 1000)) bs=4096 qd=32 force=1")
					# dm-dust: iops counts reads that succeeded;
					# all_iops adds the failed ones (no I/O below).
					extra=""
					[[ $name == dust* ]] && extra=$(awk -F': ' -v i="$1" '$1 == "error_rate" {
						printf " error_rate=%s all_iops=%.2f", $2, ($2 < 1 ? i / (1 - $2) : 0) }' /tmp/bench-results)
					emit "${name}_$rw $r iops=$1$extra"
					;;
				*)
					dmsetup message "$name" 0 clear_stats
					set -- $(mod_run "/dev/mapper/$name" "$t 2 $((secs * 1000)) bs=4096 qd=32")
					emit "${name}_$rw $r iops=$1 spare_share=$(bench_spare_share "$name")"
					;;
				esac
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
	local r t0 t1 mem0 mem1 infl own
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
		# mem_kib: the drop in MemAvailable (measured, noisy: pages freed
		# by the previous rep may still be on their way back);
		# module_kib: what the module accounts for the run.
		own=$(sed -n 's/^module memory for this run: \([0-9]*\) bytes.*/\1/p' $S/comprehensive_report)
		emit "stop $r stop_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }') inflight=$infl mem_kib=$((mem0 - mem1)) module_kib=$((${own:-0} / 1024))"
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

bench_make_dust() {	# <count> <dev> <sectors>: dm-dust device dust<count> on <dev>
	local n=$1 dev=$2 blocks=$(($3 / 8)) d=${BENCH_DUST:-} t0 sent
	[ -n "$d" ] || return 1
	grep -q '^dm_dust ' /proc/modules || insmod "$d/dm-dust.ko" ||
		{ log "insmod dm-dust.ko failed: no dm-dust peer"; return 1; }
	dmsetup create "dust$n" --table "0 $((blocks * 8)) dust $dev 0 4096" &&
		dmsetup message "dust$n" 0 quiet || { log "creating dust$n failed"; return 1; }
	t0=$(date +%s)
	sent=$(awk -v n="$n" -v b="$blocks" 'BEGIN { for (i = 0; i < n; i++) printf "addbadblock %d\n", int(i * b / n) }' |
		"$d/dm-msg" "dust$n") && [ "$sent" = "$n" ] ||
		{ log "adding $n bad blocks to dust$n failed (sent ${sent:-0})"; return 1; }
	dmsetup message "dust$n" 0 enable || return 1
	log "dust$n: $(dmsetup message "dust$n" 0 countbadblocks), added in $(($(date +%s) - t0)) s"
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
