#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [vmtest options]: `make bench`. Boots ONE guest (2 vCPUs) and
# runs scripts/guest-bench.sh there: every case BENCH_REPS (default 5)
# times, the cases interleaved so that drift hits all of them alike. Writes
# bench/results/<date>/bench.md (a Markdown table of medians, min-max and
# ratios) and bench.json with scripts/bench-report.sh, and prints the
# table. Method: Documentation/benchmark.rst.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
profile=${BENCH_PROFILE:-0}
case $profile in
0 | 1) ;;
*) echo "bench: BENCH_PROFILE must be 0 or 1, not '$profile'" >&2; exit 1 ;;
esac

out=$DMR_ROOT/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
raw=$out/raw.txt
reps=${BENCH_REPS:-5}
secs=${BENCH_SECS:-5}
# Generous: every case, every rep, plus creating 1,000,000 remaps.
tmo=$((600 + reps * secs * 40))

# The dm-dust peer: the kernel's own bad-block target, built as an external
# module from the linux-source tarball's dm-dust.c (deps.sh extracts it)
# against the bench kernel, in the results directory (never committed),
# with dm-msg to load its bad blocks. Without it the bench runs on.
dust=$out/dust
build_dust() {
	local kdir src=$DMR_CACHE/ksrc/drivers/md/dm-dust.c
	kdir=$("$here/vmtest" "$@" --print-kdir 2>/dev/null | tail -n1)
	if [ ! -f "$src" ] || [ -z "$kdir" ] || [ ! -d "$kdir" ]; then
		echo "bench: no dm-dust source or kernel build directory: no dm-dust peer" >&2
		return 1
	fi
	mkdir -p "$dust" && cp "$src" "$dust/" && echo 'obj-m := dm-dust.o' >"$dust/Kbuild" &&
		make -s -C "$kdir" M="$dust" modules >"$dust/build.log" 2>&1 && [ -f "$dust/dm-dust.ko" ] &&
		cc -O2 -Wall -Wextra -Werror -static -o "$dust/dm-msg" "$here/dm-msg.c" >>"$dust/build.log" 2>&1 ||
		{ echo "bench: building the dm-dust peer failed (see $dust/build.log): no dm-dust peer" >&2; return 1; }
}
build_dust "$@" || dust=""

# BENCH_PROFILE=1: a host-side perf profile of QEMU for every measured
# run (cpu-clock samples, from 0.5 s after its start for BENCH_SECS - 1
# seconds), in $out/perf/<n>.data, listed in $out/perf/index.txt
# ("<n> <what ran>"). The guest marks each run on its console
# (guest-bench.sh, mark); the console log streams, COMMAND's output does
# not. Method and findings: Documentation/benchmark.rst, "Profiling".
profiler() {	# until QEMU exits; killed if no guest ever starts
	local log="" n=0 l qpid p
	mkdir -p "$out/perf"
	while [ -z "$log" ]; do
		sleep 0.5
		log=$(ls "$DMR_LOGDIR"/vmtest-*.log 2>/dev/null | head -n1)
	done
	for p in $(pgrep -f -- "file:$log"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] && qpid=$p
	done
	[ -n "${qpid:-}" ] || { echo "bench: no QEMU for $log: no profile" >&2; return 1; }
	tail -n +1 -s 0.2 --pid="$qpid" -F "$log" 2>/dev/null | while read -r l; do
		l=${l%$'\r'}
		[[ $l == *"bench-run "* ]] || continue
		n=$((n + 1))
		echo "$n ${l#*bench-run }" >>"$out/perf/index.txt"
		(sleep 0.5
		 perf record -q -e cpu-clock -F 999 -p "$qpid" -o "$out/perf/$n.data" \
			-- sleep $((secs > 1 ? secs - 1 : 1)) </dev/null >>"$out/perf/perf.log" 2>&1) &
	done
}
if [ "$profile" = 1 ]; then
	command -v perf >/dev/null || { echo "bench: BENCH_PROFILE=1 needs perf (apt-get install linux-perf)" >&2; exit 1; }
	export DMR_LOGDIR=$out/logs
	profiler &
	ppid=$!
fi

# tsc=reliable: TCG's TSC is one host clock, but the guest's boot-time sync
# check fails under emulation and falls back to the HPET, whose every read
# traps to QEMU under its global lock: a third of all CPU time at these
# rates, in the module's timestamps and in fio's alike (measured,
# Documentation/benchmark.rst).
"$here/vmtest" --timeout "$tmo" --mem 8G --append tsc=reliable "$@" -- \
	env BENCH_REPS="$reps" BENCH_SECS="$secs" BENCH_PROFILE="$profile" \
	${BENCH_CASES:+BENCH_CASES="$BENCH_CASES"} \
	${dust:+BENCH_DUST="$dust"} \
	scripts/guest-bench.sh | tee "$raw"
vrc=${PIPESTATUS[0]}
if [ "$profile" = 1 ]; then
	kill "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	echo "bench: perf profiles in $out/perf (index.txt)" >&2
fi
grep -q '^BENCH_DONE' "$raw" || { echo "bench: the guest run did not finish (vmtest $vrc)" >&2; exit 1; }

exec "$here/bench-report.sh" "$raw" "$out" "$reps" "$secs"
