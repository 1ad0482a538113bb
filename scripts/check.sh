#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [--quick]: the whole test suite (what `make check` runs).
#   1. builds the modules for every supported kernel with W=1 and sparse
#      (C=2), failing on any compiler or sparse warning;
#   2. the userspace tools' unit tests (make -C tools check), the
#      benchmark's report (scripts/test-bench-report.sh) and the console
#      classifier's rules (scripts/test-classify.sh);
#   3. checkpatch --strict on kernel/;
#   4. the harness proof (a broken module must be caught, per class) on
#      Debian 6.1, the kselftests in guests on Debian 6.1 and 6.12;
#   5. the harness proof's debug-kernel cases and the kselftests on the
#      debug kernel. When that kernel is not built yet, it is built in
#      the background from the start, at the lowest priority.
# --quick: 6.1 only, no harness proof. Each step prints its own
# "N passed, N failed" line; the last line sums them all. Exits non-zero
# on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cd "$DMR_ROOT" || exit 1

quick=0
[ "${1:-}" = --quick ] && quick=1
kernels=(6.1 6.12 debug)
[ $quick = 1 ] && kernels=(6.1)

P=0 F=0 S=0
t_start=$(date +%s)
summary=()

# step NAME COMMAND...: runs it, shows its output, adds its closing
# "N passed, N failed[, N skipped]" line to the totals.
step() {
	local name=$1 out rc line p f s t0
	shift
	t0=$(date +%s)
	echo "### $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$out" | tail -n1)
	rm -f "$out"
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
		f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
		s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped$/\1/p')
	else
		p=0 f=0 s=0
		[ $rc = 0 ] && p=1
	fi
	s=${s:-0}
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	P=$((P + p)) F=$((F + f)) S=$((S + s))
	summary+=("$(printf '%-28s %4d passed %4d failed %4d skipped  %5ds' "$name" "$p" "$f" "$s" $(($(date +%s) - t0)))")
}

# Module builds: W=1 and sparse on every kernel, in a private copy so that
# they never race with an in-tree build.
build_all() {
	local k kdir kver b log pass=0 fail=0
	for k in 6.1 6.12; do
		kdir=$("$here/vmtest" --kernel $k --print-kdir) || { fail=$((fail + 1)); continue; }
		kver=$(basename "$(dirname "$kdir")")
		b=$DMR_CACHE/check-build/$kver
		rm -rf "$b"
		mkdir -p "$b"
		cp -r Kbuild kernel "$b/"
		log=$b/build.log
		if make -C "$kdir" M="$b" W=1 C=2 modules >"$log" 2>&1 &&
			! grep -E 'warning:|error:' "$log" >/dev/null; then
			echo "ok - modules build for $kver with W=1 and sparse"
			pass=$((pass + 1))
		else
			grep -E 'warning:|error:' "$log" | head -n 40
			echo "not ok - modules build for $kver with W=1 and sparse"
			fail=$((fail + 1))
		fi
	done
	echo "$pass passed, $fail failed"
	[ $fail = 0 ]
}

# A cold cache: build the debug kernel (about 20 min on 2 cores) in the
# background, at the lowest priority, in the CPU time the steps before
# the debug kernel's leave idle (a guest running a shell script keeps
# about one vCPU busy). Not free: on 2026-12-07 the 6.1 and 6.12 steps
# ran 35-40 % longer next to it, and the whole run 12 min shorter. Its
# first user waits for it, and builds it again if this one failed.
bg_pid=
if [ $quick = 0 ] && ! "$here/build-debug-kernel.sh" --print-dir >/dev/null 2>&1; then
	bg_log=$DMR_CACHE/debug-kernel-bg.log
	echo "### debug kernel: not built yet; building it in the background (log: $bg_log)"
	# Its own process group, so that an interrupted check stops all of it.
	setsid nice -n 19 "$here/build-debug-kernel.sh" >"$bg_log" 2>&1 &
	bg_pid=$!
	trap '[ -n "$bg_pid" ] && kill -- -"$bg_pid" 2>/dev/null' EXIT
fi

step "build (W=1, sparse)" build_all
if [ -f tools/Makefile ]; then
	step "tools unit tests" make -s -C tools check
fi
step "bench report" bash "$here/test-bench-report.sh"
step "console classifier" bash "$here/test-classify.sh"
step "checkpatch" bash "$here/checkpatch.sh" kernel/*.c kernel/*.h
proof=0
[ $quick = 0 ] && [ -x "$here/harness-proof.sh" ] && proof=1
# Every class on Debian 6.1; on the debug kernel the cases that need it:
# lockdep (abba) and kmemleak. The debug kernel's steps come last, to give
# a background build of it the most time.
[ $proof = 1 ] && step "harness proof (6.1)" "$here/harness-proof.sh" --kernel 6.1
for k in "${kernels[@]}"; do
	if [ "$k" = debug ] && [ -n "$bg_pid" ]; then
		t0=$(date +%s)
		if wait "$bg_pid"; then
			echo "### debug kernel: waited $(($(date +%s) - t0)) s for the background build"
		else
			echo "### debug kernel: the background build failed (log: $bg_log); building it again"
		fi
		bg_pid=
	fi
	[ "$k" = debug ] && [ $proof = 1 ] &&
		step "harness proof (debug)" "$here/harness-proof.sh" --kernel debug --case abba --case kmemleak
	step "kselftests ($k)" "$here/run-selftests" --kernel "$k"
done

echo
echo "### summary ($(($(date +%s) - t_start)) s)"
printf '%s\n' "${summary[@]}"
if [ $S -gt 0 ]; then
	echo "$P passed, $F failed, $S skipped"
else
	echo "$P passed, $F failed"
fi
[ $F = 0 ]
