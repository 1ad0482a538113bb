#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the dm-remap selftests (sourced; run in the guest).
set -uo pipefail

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4
_dms=()

log() { echo "# $*"; }
fail() { echo "not ok: $*" >&2; exit $KSFT_FAIL; }
skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }

# Everything a test made goes at exit: tests run one at a time in a guest,
# and nullb() runs in a subshell, so do not rely on bookkeeping.
cleanup() {
	local d
	dmsetup remove_all --force >/dev/null 2>&1
	for d in /sys/kernel/config/nullb/*/; do
		[ -d "$d" ] || continue
		echo 0 >"$d/power" 2>/dev/null
		rmdir "$d"
	done
}
trap cleanup EXIT

# need_module NAME [PARAM...]: load NAME. Only a module this kernel lacks
# is a skip: one that is there and fails to load (its init failed) fails.
need_module() {
	local err
	modinfo "$1" >/dev/null 2>&1 || skip "$1 is not built for this kernel"
	err=$(modprobe "$@" 2>&1) || fail "modprobe $*: $err"
}

need_modules() {
	need_module dm-mod
	need_module null_blk nr_devices=0
	[ -d /sys/kernel/config/nullb ] || fail "null_blk loaded without its configfs"
	need_module dm-remap
}

# nullb NAME SIZE_MB [attr=value ...]: prints /dev/nullbN
nullb() {
	local name=$1 size=$2 d=/sys/kernel/config/nullb/$1 kv
	shift 2
	mkdir "$d" || return 1
	echo "$size" >"$d/size"
	echo 1 >"$d/memory_backed"
	for kv in "$@"; do echo "${kv#*=}" >"$d/${kv%%=*}" || return 1; done
	echo 1 >"$d/power" || return 1
	# 6.1 and later name the disk after the configfs item
	if [ -b "/dev/$name" ]; then echo "/dev/$name"; else echo "/dev/nullb$(cat "$d/index")"; fi
}

# bad_main NAME DEV: a dm-linear NAME over all of DEV whose sectors
# 1024-1087 (4 KiB blocks 128-135) fail with EIO (the error target)
bad_main() {
	local len
	len=$(sectors "$2")
	dm "$1" "0 1024 linear $2 0
1024 64 error
1088 $((len - 1088)) linear $2 1088"
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

# Status helpers parse in bash: one process each (dmsetup), not a pipeline
# of three. Under the debug kernel every process costs a lot, and tests
# read the status hundreds of times.
# status field N (1-based) of dmsetup status after the target name
status_field() {
	local s f
	s=$(dmsetup status "$1") || return
	read -r -a f <<<"$s"
	echo "${f[$((2 + $2))]:-}"
}
# named counter from the status line
status_counter() {
	local s f w
	s=$(dmsetup status "$1") || return
	read -r -a f <<<"$s"
	for w in "${f[@]}"; do
		[ "${w%%=*}" = "$2" ] && [ "$w" != "$2" ] && echo "${w#*=}"
	done
	return 0
}

# remap_dev NAME MAIN SPARE [features...]: dm-remap over the whole MAIN and
# SPARE devices
remap_dev() {
	local name=$1 main=$2 spare=$3
	shift 3
	local feat=""
	[ $# -gt 0 ] && feat=" $# $*"
	dm "$name" "0 $(sectors "$main") remap $main $spare 0 $(sectors "$spare")$feat"
}

# msg DEV ARGS...: dmsetup message, stderr kept in $MSG_ERR
msg() {
	local dev=$1
	shift
	MSG_ERR=$(dmsetup message "$dev" 0 "$@" 2>&1 >/tmp/msg.out)
	local r=$?
	cat /tmp/msg.out
	return $r
}

# msgs DEV < LINES: each line is a message to DEV, all sent by one process
# (dm-msg, one ioctl each), where dmsetup costs a process per message.
# Fails the test at the first refused one. Feed it with a redirection,
# not a pipe: in a pipeline fail() would only leave a subshell.
DMMSG=$(dirname "${BASH_SOURCE[0]}")/dm-msg
msgs() {
	local out
	out=$("$DMMSG" "$1" 2>&1) || fail "messages to $1: $out"
}

remapped_count() {
	local v
	v=$(status_field "$1" 1)
	echo "${v%%/*}"
}

# expect_dmesg PATTERN: the kernel log since the last mark holds PATTERN.
# The mark is a line of its own: clearing the log would also erase the
# runner's marker, and with it the check of this test's slice for splats.
mark_dmesg() {
	_dmesg_mark="dmr-test: mark $$.$RANDOM$RANDOM"
	echo "$_dmesg_mark" >/dev/kmsg
}
dmesg_since_mark() { dmesg | awk -v m="${_dmesg_mark:-}" 'on; m == "" || index($0, m) { on = 1 }'; }
expect_dmesg() {
	grep -q -- "$1" <<<"$(dmesg_since_mark)" ||
		fail "dmesg lacks '$1': $(dmesg_since_mark | tail -3)"
}

# Same random bytes to a device and a reference file, at 512-byte granularity.
# write_both DEV REF SECTOR COUNT SEED
write_both() {
	local dev=$1 ref=$2 sec=$3 cnt=$4 seed=$5
	awk -v s="$seed" -v n=$((cnt * 512)) 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' \
		>/tmp/wb.$$ 2>/dev/null
	dd if=/tmp/wb.$$ of="$dev" bs=512 seek="$sec" count="$cnt" oflag=direct conv=notrunc 2>/dev/null || return 1
	dd if=/tmp/wb.$$ of="$ref" bs=512 seek="$sec" count="$cnt" conv=notrunc 2>/dev/null
	rm -f /tmp/wb.$$
}

same_content() {	# same_content DEV REF BYTES
	cmp -n "$3" "$1" "$2" >/dev/null
}

DIO=$(dirname "${BASH_SOURCE[0]}")/dio
# pwrite_direct DEV OFFSET LEN: one O_DIRECT write of LEN bytes of 0x5a
pwrite_direct() {
	head -c "$3" /dev/zero | tr '\0' 'Z' >/tmp/pw.$$
	"$DIO" write "$1" "$2" "$3" /tmp/pw.$$
}
# wblk DEV BLOCK FILE [COUNT]: O_DIRECT write of 4 KiB blocks from FILE
wblk() { "$DIO" write "$1" $(($2 * 4096)) $((${4:-1} * 4096)) "$3"; }
# rblk DEV BLOCK OUT [COUNT]: O_DIRECT read of 4 KiB blocks into OUT
rblk() { "$DIO" read "$1" $(($2 * 4096)) $((${4:-1} * 4096)) "$3"; }
