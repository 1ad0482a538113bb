#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.sh FILE...: checkpatch.pl --strict --no-tree on each file;
# fails on any ERROR, WARNING or CHECK. Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cp_pl=${CHECKPATCH:-$DMR_CACHE/ksrc/scripts/checkpatch.pl}
[ -f "$cp_pl" ] || { echo "checkpatch.sh: $cp_pl missing (run scripts/deps.sh)" >&2; exit 1; }
pass=0 fail=0
for f in "$@"; do
	[ -f "$f" ] || continue
	case $f in *.mod.c) continue ;; esac	# modpost output
	# compat.h is the one place where kernel versions are compared: an
	# out-of-tree module has no other way to build against both kernels.
	ign=
	[ "$(basename "$f")" = compat.h ] && ign=--ignore=LINUX_VERSION_CODE,CONSTANT_COMPARISON
	out=$(perl "$cp_pl" --strict --no-tree --terse --show-types $ign -f "$f" 2>&1)
	rc=$?
	if [ $rc != 0 ] || echo "$out" | grep -qE '(ERROR|WARNING|CHECK):'; then
		# A checkpatch that could not run says so only in its status.
		echo "$out" | grep -E '(ERROR|WARNING|CHECK):' || echo "$out" | head -n 5 | sed 's/^/# /'
		echo "not ok - checkpatch $f (status $rc)"
		fail=$((fail + 1))
	else
		echo "ok - checkpatch $f"
		pass=$((pass + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
