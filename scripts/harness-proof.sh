#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness-proof.sh [--kernel K]... [--case NAME]...
#
# Proves that scripts/vmtest catches and classifies kernel splats: builds
# the deliberately broken module selftests/splat/splat.ko against each
# kernel (default: 6.1 and debug) in a temporary directory outside the
# repository, then boots one guest per case and asserts vmtest's exit
# status, the class it prints and the kernel's own report in the console
# log (so that a harness timeout can never pass for a detected hang).
#
#   case        command in the guest                          expected
#   true        true                                          0
#   false       false                                         1
#   sysrq-c     echo c > /proc/sysrq-trigger                  6 CRASH
#   warn        insmod splat.ko trigger=warn                  2 WARNING
#   leak        insmod splat.ko trigger=leak; rmmod splat     3 LEAK
#   kmemleak    insmod splat.ko trigger=kmemleak; rmmod       3 LEAK
#               splat (kmemleak only): /init's scan reports it
#   null        insmod splat.ko trigger=null                  6 CRASH
#   softlockup  insmod splat.ko trigger=softlockup            5 HANG
#   hung        hung_task_timeout_secs=10; trigger=hung       5 HANG
#   abba        insmod splat.ko trigger=abba (lockdep only)   4 LOCKDEP
#   early-splat true, but the first boot (a fake QEMU) prints   0
#               a KASAN report before /init and hangs: vmtest
#               must keep that console, kill the fake and boot
#               again
#   early-panic true, but the first boot (a fake QEMU) panics   0
#               before /init and exits: booted again too
#   early-stall true, but the first boot (a fake QEMU) goes     0
#               silent before /init: vmtest's watchdog must
#               stop it and boot again
#
# Prints TAP (ok N / not ok N, diagnostics as # lines) and a closing line
# "N passed, N failed[, N skipped]"; exits non-zero on any failure.
# splat.ko is only ever loaded inside the guests.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kernels=()
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernels+=("${2:?}"); shift 2 ;;
	--kernel=*) kernels+=("${1#*=}"); shift ;;
	--case) only+=("${2:?}"); shift 2 ;;
	--case=*) only+=("${1#*=}"); shift ;;
	-h | --help) sed -n '4,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "harness-proof: unknown argument '$1'" >&2; exit 69 ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 debug)

vmtest=$here/vmtest
[ -x "$vmtest" ] || { echo "harness-proof: $vmtest not found" >&2; exit 69; }

# name|expected status|vmtest class name (- for none)|console regex (- for none)
# The guest command follows in case_cmd; @KO@ is the module's path.
cases=(
	"true|0|-|-"
	"false|1|-|-"
	"sysrq-c|6|CRASH|sysrq: Trigger a crash"
	"warn|2|WARNING|WARNING: .*fire_warn"
	"leak|3|LEAK|BUG splat_leak \(.*\): Objects remaining"
	"kmemleak|3|LEAK|unreferenced object 0x[0-9a-f]+ \(size 128\)"
	"null|6|CRASH|BUG: kernel NULL pointer dereference"
	"softlockup|5|HANG|BUG: soft lockup"
	"hung|5|HANG|task splat_hung:[0-9]+ blocked for more than"
	"abba|4|LOCKDEP|possible circular locking dependency detected"
	"early-splat|0|-|-"
	"early-panic|0|-|-"
	"early-stall|0|-|-"
)

case_cmd() {
	local ko=$1
	case $2 in
	true | early-*) echo "true" ;;
	false) echo "false" ;;
	sysrq-c) echo "echo c > /proc/sysrq-trigger; sleep 30" ;;
	warn) echo "insmod $ko trigger=warn && rmmod splat" ;;
	leak) echo "insmod $ko trigger=leak && rmmod splat" ;;
	kmemleak) echo "insmod $ko trigger=kmemleak && rmmod splat" ;;
	null) echo "insmod $ko trigger=null; sleep 30" ;;
	# Spins for 120 s, well beyond vmtest's 2 * watchdog_thresh; if nothing
	# fires, insmod returns and the case fails with status 0.
	softlockup) echo "insmod $ko trigger=softlockup seconds=120" ;;
	# Lower the hung task timeout (vmtest sets 120 s) so the case is quick;
	# if nothing fires within 90 s the command exits 0 and the case fails.
	hung) echo "echo 10 > /proc/sys/kernel/hung_task_timeout_secs && insmod $ko trigger=hung && sleep 90" ;;
	abba) echo "insmod $ko trigger=abba && rmmod splat" ;;
	esac
}

# has_config KDIR OPTION: lockdep and kmemleak exist only where the kernel
# was built with them.
has_config() {
	grep -q "^$2=y" "$1/.config" 2>/dev/null ||
		grep -q "^$2=y" "$1/include/config/auto.conf" 2>/dev/null
}

selected() {
	local c
	[ ${#only[@]} -eq 0 ] && return 0
	for c in "${only[@]}"; do
		[ "$c" = "$1" ] && return 0
	done
	return 1
}

n=0 pass=0 fail=0 skip=0
total=0
for k in "${kernels[@]}"; do
	for c in "${cases[@]}"; do
		selected "${c%%|*}" && total=$((total + 1))
	done
done
echo "TAP version 13"
echo "1..$total"

ok() {
	n=$((n + 1))
	pass=$((pass + 1))
	echo "ok $n - $*"
}
notok() {
	n=$((n + 1))
	fail=$((fail + 1))
	echo "not ok $n - $*"
}
skipped() {
	n=$((n + 1))
	skip=$((skip + 1))
	echo "ok $n - $* # SKIP"
}
diag() { sed 's/^/# /'; }

work=$(mktemp -d /tmp/harness-proof.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The early-* cases' QEMU: the first run writes a console with an
# early-boot KASAN report (as the debug kernel under TCG now and then
# prints) and "Run /init", then hangs like a guest (early-splat), or a
# panic before /init and exits (early-panic), or the start of a boot that
# then goes silent (early-stall: the unpatched 6.1 debug kernel did so in
# half of its boots); later runs are real.
cat >"$work/early-qemu" <<EOF
#!/bin/bash
if [ ! -e "$work/early-done" ]; then
	: >"$work/early-done"
	for a in "\$@"; do
		case \$a in file:*) con=\${a#file:}; break ;; esac
	done
	if [ "\$(cat "$work/early-mode")" = early-panic ]; then
		printf '%s\n' '[    0.500000] Kernel panic - not syncing: early' >"\$con"
		exit 1
	fi
	if [ "\$(cat "$work/early-mode")" = early-stall ]; then
		printf '%s\n' '[    3.000000] Running RCU-tasks wait API self tests' >"\$con"
		exec -a dmr-fake-guest sleep 600
	fi
	printf '%s\n' \\
		'[    0.004000] BUG: KASAN: wild-memory-access in do_raw_spin_lock+0x11a/0x270' \\
		'[    0.004000] Read of size 4 at addr 1fffffff85bf9b54 by task swapper/0' \\
		'[    1.000000] Run /init as init process' >"\$con"
	exec -a dmr-fake-guest sleep 600
fi
exec qemu-system-x86_64 "\$@"
EOF
chmod 755 "$work/early-qemu"

for k in "${kernels[@]}"; do
	echo "# === kernel $k"
	kdir=$("$vmtest" --kernel "$k" --print-kdir 2>"$work/kdir.err" | tail -n1)
	bdir=$work/splat-$k
	built=0
	if [ -z "$kdir" ] || [ ! -d "$kdir" ]; then
		diag <"$work/kdir.err"
		echo "# cannot get the build directory of kernel $k"
	else
		mkdir -p "$bdir"
		cp "$DMR_ROOT"/selftests/splat/{Kbuild,splat.c} "$bdir/"
		if make -C "$kdir" M="$bdir" modules >"$bdir/build.log" 2>&1 &&
			[ -f "$bdir/splat.ko" ]; then
			built=1
		else
			diag <"$bdir/build.log"
			echo "# building splat.ko against $kdir failed"
		fi
	fi

	for c in "${cases[@]}"; do
		IFS='|' read -r name want cls re <<<"$c"
		selected "$name" || continue
		title="$k $name: expect $want"
		[ "$cls" != - ] && title="$title $cls"
		case $name in
		true | false | sysrq-c | early-*) ;;
		*)
			if [ $built = 0 ]; then
				notok "$title (splat.ko not built)"
				continue
			fi
			;;
		esac
		if [ "$name" = abba ] && ! has_config "$kdir" CONFIG_LOCKDEP; then
			skipped "$title (kernel $k has no lockdep)"
			continue
		fi
		if [ "$name" = kmemleak ] && ! has_config "$kdir" CONFIG_DEBUG_KMEMLEAK; then
			skipped "$title (kernel $k has no kmemleak)"
			continue
		fi

		tmo=300
		[ "$k" = debug ] && tmo=900
		t0=$(date +%s)
		qemu_env=()
		case $name in
		early-*)
			rm -f "$work/early-done"
			echo "$name" >"$work/early-mode"
			qemu_env=(DMR_QEMU="$work/early-qemu")
			# The debug kernel is legitimately silent for 30 s
			# while booting; the others are not.
			[ "$name" = early-stall ] && [ "$k" != debug ] &&
				qemu_env+=(DMR_BOOT_QUIET=20)
			;;
		esac
		env "${qemu_env[@]}" DMR_KEEP_GOING=1 "$vmtest" --kernel "$k" --timeout $tmo --share "$bdir" \
			-- sh -c "$(case_cmd "$bdir/splat.ko" "$name")" \
			>"$work/out" 2>"$work/err" </dev/null
		rc=$?
		secs=$(($(date +%s) - t0))
		log=$(sed -n 's/^vmtest: console log \(.*\)$/\1/p' "$work/err" | tail -n1)

		why=""
		[ "$rc" = "$want" ] || why="exit $rc, expected $want"
		if [ "$cls" != - ] && ! grep -q "^vmtest: $cls: " "$work/err"; then
			why="${why:+$why; }vmtest printed no $cls finding"
		fi
		if [ "$want" = 0 ] && grep -q -E '^vmtest: (WARNING|LEAK|LOCKDEP|HANG|CRASH|MEMORY-SAFETY): ' "$work/err"; then
			why="${why:+$why; }vmtest reported a splat"
		fi
		if [ "$re" != - ]; then
			if [ -z "$log" ] || [ ! -f "$log" ]; then
				why="${why:+$why; }no console log"
			elif ! grep -a -q -E -- "$re" "$log"; then
				why="${why:+$why; }console lacks /$re/"
			fi
		fi
		if [ -n "$log" ] && [ -f "$log" ] && grep -a -q 'vmtest: harness timeout' "$log" &&
			[ "$name" != true ]; then
			why="${why:+$why; }the harness timed out (not a detection)"
		fi

		case $name in early-*)
			if [ ! -f "$work/early-done" ]; then
				why="${why:+$why; }the fake QEMU never ran"
			elif [ "$name" = early-stall ]; then
				if ! grep -a -q 'Running RCU-tasks wait API self tests' "$log.stalled-boot-1" 2>/dev/null; then
					why="${why:+$why; }no $log.stalled-boot-1 with the fake boot"
				elif ! grep -q '^vmtest: boot stalled before /init.*booting again' "$work/err"; then
					why="${why:+$why; }vmtest did not say it boots again"
				fi
			elif ! grep -a -q -E 'BUG: KASAN: wild-memory-access|Kernel panic - not syncing: early' "$log.splat-boot-1" 2>/dev/null; then
				why="${why:+$why; }no $log.splat-boot-1 with the early report"
			elif ! grep -q '^vmtest: splat before /init.*booting again' "$work/err"; then
				why="${why:+$why; }vmtest did not say it boots again"
			fi
			if ! command -v pgrep >/dev/null; then
				why="${why:+$why; }pgrep (procps) is missing"
			elif pgrep -f dmr-fake-guest >/dev/null; then
				pkill -KILL -f dmr-fake-guest
				why="${why:+$why; }the first (fake) guest was left running"
			fi
			;;
		esac
		if [ -z "$why" ]; then
			ok "$title: got $rc in ${secs}s"
		else
			notok "$title: $why (${secs}s)"
			echo "#   guest command: $(case_cmd "$bdir/splat.ko" "$name")"
			diag <"$work/out" | tail -n 20
		fi
		grep -E '^vmtest: ' "$work/err" | grep -v -E '^vmtest: (console log|kernel .*console log)' | diag
		[ -n "$log" ] && echo "# console log: $log"
		if [ "$name" = true ] && [ -n "$log" ] && [ -f "$log" ]; then
			b=$(grep -a -m1 'Run /init as init process' "$log" |
				sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
			[ -n "$b" ] && echo "# $k: /init started at ${b}s kernel time, whole run ${secs}s"
		fi
	done
done

if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail = 0 ]
