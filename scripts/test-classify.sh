#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-classify.sh: checks scripts/classify-console, the rules that turn a
# kernel console into a verdict, on made-up console lines in the kernels'
# own formats: the class of each kind of report, that ordinary lines and
# our own messages pass, the --since slice, the exit status and timeout
# rules and the titles. (harness-proof.sh proves the same rules on real
# splats in guests; this covers the reports no trigger can produce.)
# Prints TAP and "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
classify=$here/classify-console
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 n=0

result() {	# result <ok 0|1> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
		pass=$((pass + 1))
	else
		echo "not ok $n - $2"
		fail=$((fail + 1))
	fi
}

# class <expected exit> <console line>...: a console with a clean boot,
# the lines and a clean end, classified as a finished run (--exit 0).
class() {
	local want=$1 got
	shift
	{
		echo "[    0.000000] Linux version 6.1.0-57-amd64"
		printf '[   12.345678] %s\n' "$@"
		echo "[   13.000000] reboot: Power down"
	} >"$tmp/log"
	"$classify" --exit 0 "$tmp/log" 2>"$tmp/err"
	got=$?
	if [ "$got" = "$want" ]; then
		result 0 "class $want: $1"
	else
		result 1 "class $want: $1 (got $got)"
	fi
}

# Memory safety (7).
class 7 "BUG: KASAN: slab-use-after-free in remap_end_io+0x1a/0x90 [dm_remap]"
class 7 "BUG: KFENCE: out-of-bounds read in dmrs_complete+0x2c/0x80 [dm_remap_stress]"
class 7 "BUG kmalloc-64 (Tainted: G    B      O): Poison overwritten"
class 7 "BUG kmalloc-128 (Not tainted): Right Redzone overwritten"
# Crashes (6).
class 6 "Kernel panic - not syncing: Fatal exception"
class 6 "BUG: kernel NULL pointer dereference, address: 0000000000000008"
class 6 "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP KASAN NOPTI"
class 6 "kernel BUG at drivers/md/dm-remap-target.c:123!"
class 6 "BUG: scheduling while atomic: kworker/0:1/12/0x00000002"
class 6 "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580"
class 6 "BUG: unable to handle page fault for address: ffffc90000a1b000"
class 6 "BUG: Bad page state in process kworker/1:2  pfn:1234a"
class 6 "BUG: Bad rss-counter state mm:00000000a1b2c3d4 type:MM_ANONPAGES val:1"
class 6 "BUG: Dentry 00000000a1b2c3d4{i=2,n=/}  still in use (1) [unmount of tmpfs tmpfs]"
# Hangs (5).
class 5 "Kernel panic - not syncing: softlockup: hung tasks"
class 5 "watchdog: BUG: soft lockup - CPU#0 stuck for 44s! [insmod:99]"
class 5 "INFO: task splat_hung:99 blocked for more than 10 seconds."
class 5 "rcu: INFO: rcu_preempt self-detected stall on CPU"
class 5 "BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 33s!"
class 5 "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21002 jiffies s: 293 root: 0x2/."
class 5 "INFO: rcu_tasks detected stalls on tasks:"
# Locking (4): lockdep's headers start with WARNING, and must not be 2.
class 4 "WARNING: possible circular locking dependency detected"
class 4 "WARNING: suspicious RCU usage"
class 4 "WARNING: bad unlock balance detected!"
class 4 "BUG: spinlock bad magic on CPU#0, insmod/99"
class 4 "BUG: rwlock wrong owner on CPU#1, kworker/1:1/40, ffff888004a1b2c0"
class 4 "BUG: workqueue leaked lock or atomic: kworker/0:1/0x00000000/12"
class 4 "DEBUG_LOCKS_WARN_ON(lock->magic != lock)"
class 4 "[ BUG: Invalid wait context ]"
# Leaks (3).
class 3 "unreferenced object 0xffff888012345678 (size 128):"
class 3 "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"
class 3 "BUG splat_leak (Tainted: G           O      ): Objects remaining in splat_leak on __kmem_cache_shutdown()"
class 3 "kmem_cache_destroy splat_leak: Slab cache still has objects when called from splat_exit+0x1e/0x30 [splat]"
class 3 "device-mapper: table: 253:2: dm_table_destroy: dm_put_device call missing for 251:0"
class 3 "kmemleak: Cannot allocate a kmemleak_object structure"
class 3 "kmemleak: Kernel memory leak detector disabled"
class 3 "kmemleak: scan refused: the detector is off, leaks go unseen"
# Warnings (2).
class 2 "WARNING: CPU: 0 PID: 99 at drivers/md/dm-remap-target.c:700 reroute+0x1/0x2 [dm_remap]"
class 2 "UBSAN: array-index-out-of-bounds in drivers/md/dm-remap-target.c:12:3"
class 2 "BUG: using smp_processor_id() in preemptible [00000000] code: insmod/99"
class 2 "BUG: using __this_cpu_add() in preemptible [00000000] code: dd/120"
class 2 "fio invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0"
class 2 "Out of memory: Killed process 321 (fio) total-vm:123456kB, anon-rss:1000kB"
# Clean (0): ordinary lines, ODEBUG (its WARNING follows), and "BUG"
# inside a message rather than starting it.
class 0 "null_blk: module loaded"
class 0 "hrtimer: interrupt took 7506120 ns"
class 0 "ODEBUG: object is on stack, but not annotated"
class 0 "dm-remap: table: bad block size (see BUG: in the docs)"
class 0 "device-mapper: remap: block 12 remapped to spare block 0"

# The slice after --since: a splat before the marker is not this test's.
{
	echo "[    1.000000] WARNING: CPU: 0 PID: 1 at x.c:1 early+0x1/0x2"
	echo "[    2.000000] dmr-ksft: begin dm-remap/a.sh #1.42"
	echo "[    3.000000] null_blk: module loaded"
} >"$tmp/slice"
"$classify" --since "dmr-ksft: begin dm-remap/a.sh #1.42" "$tmp/slice" 2>/dev/null
result $? "--since: a splat before the marker is ignored"
echo "[    4.000000] UBSAN: shift-out-of-bounds in y.c:2:3" >>"$tmp/slice"
"$classify" --since "dmr-ksft: begin dm-remap/a.sh #1.42" "$tmp/slice" 2>/dev/null
[ $? = 2 ]
result $? "--since: a splat after the marker counts"
"$classify" --since "dmr-ksft: begin dm-remap/b.sh #2.7" "$tmp/slice" 2>/dev/null
result $? "--since: a marker never written means an empty slice"

# Exit status and timeouts, on a clean console.
echo "[    1.000000] reboot: Power down" >"$tmp/clean"
"$classify" --exit 0 "$tmp/clean" 2>/dev/null
result $? "clean console, command exit 0: pass"
"$classify" --exit 3 "$tmp/clean" 2>"$tmp/err"
[ $? = 1 ] && grep -q 'COMMAND exited with status 3' "$tmp/err"
result $? "clean console, command exit 3: failure (1), status named"
"$classify" "$tmp/clean" 2>"$tmp/err"
[ $? = 6 ] && grep -q 'without reporting' "$tmp/err"
result $? "no exit status (the guest stopped early): crash (6)"
"$classify" --timeout 600 "$tmp/clean" 2>/dev/null
[ $? = 5 ]
result $? "no exit status after the timeout: hang (5)"
printf '%s\n' "[    1.000000] BUG: KASAN: use-after-free in f+0x1/0x2" >"$tmp/k"
"$classify" --timeout 600 "$tmp/k" 2>/dev/null
[ $? = 7 ]
result $? "a timeout never hides a worse class"

# The highest class wins; each report is printed once, with a title.
{
	echo "[    1.000000] WARNING: CPU: 1 PID: 7 at drivers/md/x.c:9 fire_warn+0x5/0x10 [splat]"
	echo "[    1.000001] Call Trace:"
	echo "[    1.000002]  <TASK>"
	echo "[    1.000003]  dump_stack_lvl+0x1/0x2"
	echo "[    1.000004]  do_thing+0x10/0x20 [splat]"
	echo "[    2.000000] unreferenced object 0xffff888012345678 (size 128):"
	echo "[    2.000001]   comm \"insmod\", pid 99, jiffies 4294773788"
	echo "[    2.000002]   backtrace:"
	echo "[    2.000003]     [<00000000304639f4>] kmalloc_trace+0x21/0xc0"
	echo "[    2.000004]     [<00000000224f10b4>] remap_ctr+0x361/0x900 [dm_remap]"
	echo "[    3.000000] WARNING: CPU: 1 PID: 7 at drivers/md/x.c:9 fire_warn+0x5/0x10 [splat]"
} >"$tmp/many"
"$classify" --exit 0 "$tmp/many" 2>"$tmp/err"
[ $? = 3 ]
result $? "a leak and a warning: the leak's class (3)"
[ "$(grep -c '^vmtest: WARNING: ' "$tmp/err")" = 1 ]
result $? "the same report twice is printed once"
grep -q '^vmtest: WARNING: .*\[do_thing\]$' "$tmp/err"
result $? "a WARNING's title names the first function of its trace"
grep -q '^vmtest: LEAK: unreferenced object .*\[remap_ctr\]$' "$tmp/err"
result $? "a kmemleak title names the allocator's caller, not kmalloc"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
