#!/bin/bash
# Build (once, cached) the dm-remap debug kernel: Linux 6.1 from Debian's
# linux-source-6.1 with x86_64_defconfig + kvm_guest.config +
# scripts/debug-kernel.config (KASAN, lockdep, kmemleak, KFENCE, UBSAN, ...),
# after applying scripts/debug-kernel-patches/*.patch (kernel bug fixes the
# debug kernel needs to boot reliably; each patch says why).
#
# Usage: scripts/build-debug-kernel.sh [--print-dir] [-v]
#
# Contract (scripts/vmtest relies on it): prints exactly one line on stdout,
# the directory D, with
#   D/bzImage                      the kernel image
#   D/build/                       the configured, built kernel tree
#                                  (KDIR for make -C D/build M=...)
#   D/modules/lib/modules/<kver>/  installed, stripped modules + modules.dep
#   D/kver                         the kernel release string
# Everything else (progress, errors) goes to stderr. --print-dir prints D
# without building and exits 1 if the kernel is not built yet. -v streams
# the whole make output to stderr instead of a sampled progress line.
#
# Cache: $DMR_CACHE/debug-kernel/<key>/, key = hash of the source tarball
# (name + size), the fragment, the patches, the compiler version and
# SCRIPT_VERSION.
# The build runs in a temporary directory renamed into place on success,
# under a flock so concurrent callers build only once. Each call marks
# its build used (D/last-used); a new build removes the other builds
# (2.7 GB each) that nothing used for DMR_DEBUG_KEEP_DAYS (default 14).
set -euo pipefail

SCRIPT_VERSION=2
keep_days=${DMR_DEBUG_KEEP_DAYS:-14}

. "$(dirname "$0")/lib.sh"

print_only=0
verbose=0
for arg in "$@"; do
	case $arg in
	--print-dir) print_only=1 ;;
	-v | --verbose) verbose=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
		exit 0
		;;
	*)
		echo "build-debug-kernel: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

log() { echo "build-debug-kernel: $*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
[[ $keep_days =~ ^[0-9]+$ ]] || die "DMR_DEBUG_KEEP_DAYS must be a number of days"

# Set but empty: kbuild's setlocalversion then adds no "+" suffix.
export LOCALVERSION=

fragment="$DMR_ROOT/scripts/debug-kernel.config"
patchdir="$DMR_ROOT/scripts/debug-kernel-patches"
tarball=${DMR_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
top="$DMR_CACHE/debug-kernel"

# The tarball is installed by scripts/deps.sh (package linux-source-6.1),
# which may still be running: wait until it is complete.
wait_for_tarball() {
	local waited=0 limit=${DMR_DEPS_WAIT:-1800}
	while :; do
		if [ -f "$tarball" ]; then
			# dpkg unpacks to a temporary name and renames: an installed
			# package means a complete file. Otherwise check the archive.
			if dpkg-query -W -f='${Status}\n' linux-source-6.1 2>/dev/null |
				grep -q '^install ok installed$'; then
				return 0
			fi
			if grep -q '^deps.sh: ok' /tmp/deps.log 2>/dev/null; then
				return 0
			fi
			if [ -z "${DMR_LINUX_SOURCE:-}" ] && [ $waited -lt "$limit" ] &&
				pgrep -x dpkg >/dev/null 2>&1; then
				: # dpkg is busy: keep waiting
			elif xz -t "$tarball" 2>/dev/null; then
				return 0
			fi
		fi
		if [ $waited -ge "$limit" ]; then
			die "$tarball missing or incomplete after ${limit}s (run scripts/deps.sh)"
		fi
		[ $((waited % 60)) = 0 ] && log "waiting for $tarball (scripts/deps.sh, /tmp/deps.log)"
		sleep 10
		waited=$((waited + 10))
	done
}

cache_key() {
	{
		echo "script-version $SCRIPT_VERSION"
		echo "tarball $(basename "$tarball") $(stat -c %s "$tarball")"
		echo "cc $(${CC:-gcc} --version | head -n1)"
		cat "$fragment"
		cat "$patchdir"/*.patch
	} | sha256sum | cut -c1-16
}

is_complete() {
	local d=$1 kver
	[ -f "$d/kver" ] && [ -f "$d/bzImage" ] && [ -f "$d/build/Module.symvers" ] || return 1
	kver=$(cat "$d/kver")
	[ -f "$d/modules/lib/modules/$kver/modules.dep" ]
}

# Every option of the fragment must have its value in the final .config.
# "# CONFIG_X is not set" is satisfied by an unset or absent option.
check_config() {
	local cfg=$1 line sym bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			if ! grep -qxF -- "$line" "$cfg"; then
				sym=${line%%=*}
				log "config: wanted '$line', got '$(grep -E "^(# )?${sym}[= ]" "$cfg" || echo "$sym absent")'"
				bad=1
			fi
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -q "^$sym=" "$cfg"; then
				log "config: wanted '$line', got '$(grep "^$sym=" "$cfg")'"
				bad=1
			fi
			;;
		esac
	done <"$fragment"
	return $bad
}

run_make() {
	# Full output goes to the build log; stderr gets a sampled line so the
	# caller sees progress without 30000 lines of CC.
	local logf=$1
	shift
	echo "+ make $*" >>"$logf"
	if [ $verbose = 1 ]; then
		make "$@" 2>&1 | tee -a "$logf" >&2
	else
		make "$@" 2>&1 | tee -a "$logf" |
			awk 'NR % 500 == 0 { print "build-debug-kernel:   ... " $0 > "/dev/stderr"; fflush("/dev/stderr") }'
	fi
}

build() {
	local tmp=$1 final=$2 src="$1/build" logf="$1/build.log" kver t0 jobs
	t0=$(date +%s)
	jobs=$(nproc)
	mkdir -p "$src"
	: >"$logf"
	log "extracting $tarball"
	tar -xf "$tarball" -C "$src" --strip-components=1
	for p in "$patchdir"/*.patch; do
		log "applying $(basename "$p")"
		patch -d "$src" -p1 --forward --batch -i "$p" >>"$logf" 2>&1 ||
			die "$(basename "$p") does not apply to $(basename "$tarball") (log: $logf)"
	done

	log "configuring (x86_64_defconfig + kvm_guest.config + $(basename "$fragment"))"
	cp "$fragment" "$tmp/debug-kernel.config"
	(
		cd "$src"
		run_make "$logf" x86_64_defconfig &&
			scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config \
				"$tmp/debug-kernel.config" >>"$logf" 2>&1 &&
			run_make "$logf" olddefconfig
	) || die "configuration failed (log: $logf)"
	check_config "$src/.config" ||
		die "fragment options did not survive olddefconfig (see above; log: $logf)"

	log "building bzImage and modules with make -j$jobs (log: $logf)"
	(
		cd "$src"
		run_make "$logf" -j"$jobs" bzImage modules
	) || {
		tail -n 40 "$logf" >&2
		die "kernel build failed (log: $logf)"
	}
	kver=$(cd "$src" && make -s kernelrelease)
	[ -n "$kver" ] || die "cannot determine the kernel release"

	log "installing modules for $kver"
	(
		cd "$src"
		run_make "$logf" modules_install INSTALL_MOD_PATH="$tmp/modules" INSTALL_MOD_STRIP=1
	) || die "modules_install failed (log: $logf)"
	# The symlinks modules_install made point into the temporary directory.
	rm -f "$tmp/modules/lib/modules/$kver/build" "$tmp/modules/lib/modules/$kver/source"
	ln -s "$final/build" "$tmp/modules/lib/modules/$kver/build"
	ln -s "$final/build" "$tmp/modules/lib/modules/$kver/source"

	cp "$src/arch/x86/boot/bzImage" "$tmp/bzImage"
	cp "$src/.config" "$tmp/config"
	echo "$kver" >"$tmp/kver"

	# Sanity: the modules the tests load must be there.
	local m missing=""
	for m in dm-mod dm-flakey dm-delay dm-dust dm-zero null_blk brd loop; do
		grep -q "/$m\.ko:" "$tmp/modules/lib/modules/$kver/modules.dep" || missing="$missing $m"
	done
	[ -z "$missing" ] || die "modules missing after modules_install:$missing"
	echo "$(($(date +%s) - t0))" >"$tmp/build-seconds"
	log "built $kver in $(($(date +%s) - t0)) s"
}

# Remove complete builds other than $final unused for keep_days. Called
# under the lock; a build in use by another checkout was marked lately.
prune() {
	local d used now
	now=$(date +%s)
	for d in "$top"/*/; do
		d=${d%/}
		[ "$d" != "$final" ] && is_complete "$d" || continue
		used=$(stat -c %Y "$d/last-used" 2>/dev/null || stat -c %Y "$d")
		[ $((now - used)) -gt $((keep_days * 86400)) ] || continue
		log "removing $d: unused for more than $keep_days days"
		rm -rf "$d"
	done
}

[ -f "$fragment" ] || die "missing $fragment"
if [ $print_only = 1 ]; then
	[ -f "$tarball" ] || exit 1
	d="$top/$(cache_key)"
	is_complete "$d" || exit 1
	echo "$d"
	exit 0
fi

wait_for_tarball
key=$(cache_key)
final="$top/$key"
mkdir -p "$top"

if ! is_complete "$final"; then
	exec 9>"$top/.lock"
	if ! flock -n 9; then
		log "another build is running; waiting for its lock"
		flock 9
	fi
	if ! is_complete "$final"; then
		# We hold the lock: leftovers of interrupted builds are dead.
		rm -rf "$top/.tmp.$key".* "$final"
		tmp=$(mktemp -d "$top/.tmp.$key.XXXXXX")
		# On failure keep the log (the temporary tree is removed).
		trap 'cp -f "$tmp/build.log" "$top/failed-build.log" 2>/dev/null &&
			log "build log kept in $top/failed-build.log"; rm -rf "$tmp"' EXIT
		log "building Linux 6.1 debug kernel into $final (about 15 min on 2 cores)"
		build "$tmp" "$final"
		mv -T "$tmp" "$final"
		trap - EXIT
		rm -f "$top/failed-build.log"
		prune
	fi
	flock -u 9
	exec 9>&-
fi

touch "$final/last-used"
echo "$final"
