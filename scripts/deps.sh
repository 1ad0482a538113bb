#!/bin/bash
# Install everything dm-remap needs on a Debian 12 x86-64 machine.
# Idempotent: re-running it installs only what is missing.
#
# Also extracts kselftest_harness.h, kselftest.h and checkpatch.pl (with its
# data files) from linux-source-6.1 into $DMR_CACHE/ksrc so that they are
# available without unpacking the whole source tree on every run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: must run as root (apt-get)" >&2
		exit 1
	fi
}

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves
	sparse kmod cpio xz-utils zstd gzip procps patch
	qemu-system-x86 busybox-static dmsetup fio
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	libjson-c-dev libsqlite3-dev pkg-config sqlite3 jq rsync file
)

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

apt_updated=0
apt_update_once() {
	if [ $apt_updated = 0 ]; then
		apt-get update -qq
		apt_updated=1
	fi
}

# Debian names its 6.12 packages by full version and drops old ones: use
# an installed one if there is any, otherwise the newest one offered.
pick_612() {
	local v
	v=$(dpkg-query -W -f='${Package}\n' 'linux-headers-6.12.*-amd64' 2>/dev/null |
		sed -n 's/^linux-headers-\(6\.12\.[^-]*-amd64\)$/\1/p' | sort -V | tail -n1)
	if [ -z "$v" ]; then
		apt_update_once
		v=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
			awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n1)
	fi
	echo "$v"
}

need_root
export DEBIAN_FRONTEND=noninteractive
todo=$(missing_pkgs "${pkgs[@]}")
v612=$(pick_612)
if [ -n "$v612" ]; then
	todo="$todo $(missing_pkgs "linux-image-$v612" "linux-headers-$v612")"
else
	echo "deps.sh: warning: no Debian 6.12 kernel package found" >&2
fi
todo=$(echo $todo)
if [ -n "$todo" ]; then
	apt_update_once
	echo "deps.sh: installing: $todo"
	apt-get install -y -qq --no-install-recommends $todo >/dev/null
fi

# Extract kselftest headers, checkpatch and dm-dust.c (the benchmark's
# peer, built there as an external module) from linux-source-6.1.
ksrc="$DMR_CACHE/ksrc"
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
if [ -z "$tarball" ]; then
	echo "deps.sh: linux-source-6.1 tarball not found" >&2
	exit 1
fi
stamp="$ksrc/.stamp"
want="$(basename "$tarball") +dm-dust"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	rm -rf "$ksrc"
	mkdir -p "$ksrc"
	top=$(basename "$tarball" | sed "s/\.tar\..*//")
	tar -xf "$tarball" -C "$ksrc" --strip-components=1 \
		"$top/tools/testing/selftests/kselftest_harness.h" \
		"$top/tools/testing/selftests/kselftest.h" \
		"$top/scripts/checkpatch.pl" \
		"$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" \
		"$top/Documentation/dev-tools/checkpatch.rst" \
		"$top/drivers/md/dm-dust.c"
	echo "$want" >"$stamp"
fi
echo "deps.sh: ok (cache: $DMR_CACHE)"
