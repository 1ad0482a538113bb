#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Latency against an independent fact: null_blk completes each I/O after
# completion_nsec (irqmode=2, a timer). At qd 1 the module's p50 must land
# at the injected value, within the histogram's 0.78 % plus the overhead
# fio measures on the same device (20 us of slack for run-to-run noise).
. "$(dirname "$0")/lib.sh"
need_stress

p50_on() {	# p50_on DEV
	expect_wr OK target "$1"
	run_pass "1 1 2000 qd=1 seed=3"
	[ "$(val lat_min_ns)" -le "$(val lat_p50_ns)" ] &&
		[ "$(val lat_p50_ns)" -le "$(val lat_p99_ns)" ] &&
		[ "$(val lat_p99_ns)" -le "$(val lat_max_ns)" ] || fail "percentiles out of order"
	val lat_p50_ns
}
# fio on the same device measures what the delay really is in this guest
# (timers fire late under emulation): its clat p50 less the injected value
# is the overhead the module may add to the injected value.
fio_p50() {	# fio_p50 DEV
	fio --name=lat --filename="$1" --rw=randread --bs=4k --iodepth=1 --direct=1 \
		--ioengine=psync --time_based --runtime=2 --randseed=3 --output-format=json \
		>/tmp/fio.json 2>/dev/null || fail "fio on $1"
	jq -r '.jobs[0].read.clat_ns.percentile["50.000000"]' /tmp/fio.json
}
for inj in 200000 1000000; do
	n=$(nullb "slow$inj" 64 irqmode=2 completion_nsec=$inj memory_backed=0) || fail "null_blk slow"
	p50=$(p50_on "$n") || exit
	f=$(fio_p50 "$n") || exit
	over=$((f > inj ? f - inj : 0))
	lo=$((inj - inj * 78 / 10000))
	hi=$(((inj + over) + (inj + over) * 78 / 10000 + 20000))
	log "injected $inj ns: module p50 $p50 ns, fio clat p50 $f ns (accepted [$lo, $hi])"
	[ "$p50" -ge "$lo" ] && [ "$p50" -le "$hi" ] || fail "p50 $p50 outside [$lo, $hi] for $inj ns injected"
done
log "ok"
