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
	out=$(perl "$cp_pl" --strict --no-tree --terse --show-types -f "$f" 2>&1)
	if echo "$out" | grep -qE '(ERROR|WARNING|CHECK):'; then
		echo "$out" | grep -E '(ERROR|WARNING|CHECK):'
		echo "not ok - checkpatch $f"
		fail=$((fail + 1))
	else
		echo "ok - checkpatch $f"
		pass=$((pass + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
