#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh [vmtest options]: the main job. Builds the modules, boots a
# guest, creates memory-backed null_blk main and spare devices and a
# dm-remap device over them, runs quick_validation and prints the
# comprehensive_report (scripts/guest-demo.sh does the guest part).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -f "$DMR_ROOT/tools/Makefile" ] && make -s -C "$DMR_ROOT/tools" >/dev/null
exec "$here/vmtest" --timeout 600 "$@" -- scripts/guest-demo.sh
