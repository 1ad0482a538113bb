#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of `make demo` (runs inside vmtest). Environment knobs:
# DEMO_MAIN_MB (default 1024), DEMO_SPARE_MB (default 128).
set -uo pipefail

main_mb=${DEMO_MAIN_MB:-1024}
spare_mb=${DEMO_SPARE_MB:-128}
sysfs=/sys/kernel/dm_remap_stress_test
missing=()

say() { echo "demo: $*"; }

nullb() {	# nullb NAME SIZE_MB: a memory-backed null_blk device via configfs
	local d=/sys/kernel/config/nullb/$1
	mkdir "$d" || return 1
	echo "$2" >"$d/size"
	echo 1 >"$d/memory_backed"
	echo 4096 >"$d/blocksize"
	echo 1 >"$d/power"
}

modprobe null_blk nr_devices=0 || { say "cannot load null_blk"; exit 1; }
modprobe dm-mod
nullb main "$main_mb" && nullb spare "$spare_mb" || { say "cannot create null_blk devices"; exit 1; }
# 6.1 and later name the disk after the configfs item.
main=/dev/main
spare=/dev/spare
say "main $main (${main_mb} MiB), spare $spare (${spare_mb} MiB), memory-backed null_blk"

if ! modprobe dm-remap 2>/dev/null; then
	missing+=("dm-remap.ko (the remap target)")
else
	sz=$(blockdev --getsz "$main")
	ssz=$(blockdev --getsz "$spare")
	table="0 $sz remap $main $spare 0 $ssz"
	say "dmsetup create remap0 --table '$table'"
	dmsetup create remap0 --table "$table" || exit 1
	dmsetup table remap0
	dmsetup status remap0
fi

if ! modprobe dm-remap-stress 2>/dev/null || [ ! -d $sysfs ]; then
	missing+=("dm-remap-stress.ko (the stress module)")
fi

if [ ${#missing[@]} -gt 0 ]; then
	say "not yet available, so quick_validation cannot run:"
	printf 'demo:   missing %s\n' "${missing[@]}"
	exit 0
fi

echo /dev/mapper/remap0 >$sysfs/target || exit 1
say "echo 1 > $sysfs/quick_validation"
echo 1 >$sysfs/quick_validation || exit 1
while grep -qE '^state: (running|stopping)$' $sysfs/stress_test_status; do
	sleep 5
	awk '/^(state|elapsed_ms|progress_pct|iops_1s|ios|errors):/ { printf "%s ", $0 } END { print "" }' \
		$sysfs/stress_test_status
done
cat $sysfs/comprehensive_report
dmsetup status remap0
grep -q '^result: PASS$' $sysfs/stress_test_results
