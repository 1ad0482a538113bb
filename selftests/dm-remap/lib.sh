#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the dm-remap selftests (sourced; run in the guest).
set -uo pipefail

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4
_nbs=()
_dms=()

log() { echo "# $*"; }
fail() { echo "not ok: $*" >&2; exit $KSFT_FAIL; }
skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }

cleanup() {
	local i
	for ((i = ${#_dms[@]} - 1; i >= 0; i--)); do
		dmsetup remove --retry "${_dms[i]}" 2>/dev/null
	done
	for i in "${_nbs[@]}"; do
		[ -d "/sys/kernel/config/nullb/$i" ] || continue
		echo 0 >"/sys/kernel/config/nullb/$i/power" 2>/dev/null
		rmdir "/sys/kernel/config/nullb/$i"
	done
}
trap cleanup EXIT

need_modules() {
	modprobe dm-mod || skip "dm-mod missing"
	modprobe null_blk nr_devices=0 2>/dev/null || true
	[ -d /sys/kernel/config/nullb ] || skip "null_blk configfs missing"
	modprobe dm-remap || skip "dm-remap.ko not built for this kernel"
}

# nullb NAME SIZE_MB [attr=value ...]: prints /dev/nullbN
nullb() {
	local name=$1 size=$2 d=/sys/kernel/config/nullb/$1 kv
	shift 2
	mkdir "$d" || return 1
	_nbs+=("$name")
	echo "$size" >"$d/size"
	echo 1 >"$d/memory_backed"
	for kv in "$@"; do echo "${kv#*=}" >"$d/${kv%%=*}" || return 1; done
	echo 1 >"$d/power" || return 1
	# 6.1 and later name the disk after the configfs item
	if [ -b "/dev/$name" ]; then echo "/dev/$name"; else echo "/dev/nullb$(cat "$d/index")"; fi
}

# dm NAME TABLE: create a device mapper device, removed at exit
dm() {
	dmsetup create "$1" --table "$2" || return 1
	_dms+=("$1")
}

dm_remove() {
	local n=$1 i
	dmsetup remove --retry "$n" || return 1
	for i in "${!_dms[@]}"; do [ "${_dms[i]}" = "$n" ] && unset '_dms[i]'; done
	_dms=("${_dms[@]}")
}

sectors() { blockdev --getsz "$1"; }

# status field N (1-based) of dmsetup status after the target name
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(3 + n) }'; }
# named counter from the status line
status_counter() { dmsetup status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
