#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every test type, on dm-remap and on plain null_blk, completes and PASSes
# with results that agree with each other (ios = read + write = histogram =
# per-CPU sum, bytes = ios x bs, iops = ios / elapsed) and with the block
# layer's own count of completed I/O on the device.
. "$(dirname "$0")/lib.sh"
need_stress
setup_remap 256 64
PLAIN=$(nullb plain 128 blocksize=512) || fail "null_blk plain"

disk_ios() {	# completed reads + writes of a block device, from sysfs
	local mm
	mm=$(stat -L -c '%t:%T' "$1") || return 1
	awk '{ print $1 + $5 }' "/sys/dev/block/$((16#${mm%:*})):$((16#${mm#*:}))/stat"
}

names=(seq_read rand_read seq_write rand_write mixed remap_heavy)
for dev in "$DEV" "$PLAIN"; do
	expect_wr OK target "$dev"
	for t in 0 1 2 3 4 5; do
		extra="" bs=4096
		[ "$dev" = "$PLAIN" ] && [ $t -ge 2 ] && extra="force=1"
		[ "$dev" = "$PLAIN" ] && [ $t = 5 ] && { expect_wr EINVAL stress_test_start "5 1 100"; continue; }
		[ $t = 5 ] && extra="remaps=500"
		[ $t = 1 ] && [ "$dev" = "$PLAIN" ] && { extra="bs=512"; bs=512; }
		[ $t = 3 ] && { extra="$extra bs=64k"; bs=65536; }
		d0=$(disk_ios "$dev")
		run_pass "$t 2 1500 qd=8 $extra"
		d1=$(disk_ios "$dev")
		[ "$(val test)" = "${names[t]}" ] || fail "type $t reported as $(val test)"
		[ "$(val target)" = "$dev" ] || fail "target reported as $(val target)"
		check_consistent $bs
		[ $((d1 - d0)) -ge "$(val ios)" ] ||
			fail "type $t on $dev: the device completed $((d1 - d0)) I/Os, the module counted $(val ios)"
		case $t in
		0 | 1) [ "$(val write_ios)" = 0 ] || fail "type $t wrote" ;;
		2 | 3) [ "$(val read_ios)" = 0 ] || fail "type $t read" ;;
		*) [ "$(val read_ios)" -gt 0 ] && [ "$(val write_ios)" -gt 0 ] || fail "type $t is not mixed" ;;
		esac
		log "type $t on $dev: $(val ios) I/Os, $(val iops) IOPS, p99 $(val lat_p99_ns) ns"
	done
done
[ "$(val target_is_remap)" = 0 ] || fail "null_blk reported as dm-remap"

# Remap-heavy: the remaps exist during the run and are gone after it; about
# half of the I/O went to spare blocks (the target's own counters).
expect_wr OK target r0
run_pass "5 2 2000 remaps=1000 qd=8"
[ "$(val remaps)" = 1000 ] || fail "remaps $(val remaps)"
spare=$(val dm_spare_ios) ios=$(val ios)
[ "$(remapped_count r0)" = 0 ] || fail "$(remapped_count r0) remaps left after the run"
awk -v s="$spare" -v n="$ios" 'BEGIN { exit !(s >= 0.35 * n && s <= 0.65 * n) }' ||
	fail "remap-heavy: $spare of $ios I/Os went to the spare area, not about half"
grep -q 'remaps made for the run: 1000 of 1000 (removed after it)' $S/comprehensive_report || fail "report lacks the remap count"
grep -qE '^lookups +[0-9]+ +[0-9]+ +[1-9]' $S/comprehensive_report || fail "report shows no lookups"

# Blocks remapped before the run are not the run's: they stay after it.
# 1000 remaps over 65536 blocks go to blocks 32 + 65 k; 32 and 97 are
# taken already, 33 is not in the plan.
for b in 32 33 97; do msg r0 remap $((b * 8)) >/dev/null || fail "remap block $b: $MSG_ERR"; done
run_pass "5 2 1000 remaps=1000 qd=8"
grep -q 'remaps made for the run: 998 of 1000 (removed after it)' $S/comprehensive_report ||
	fail "report: $(grep 'remaps made' $S/comprehensive_report)"
listed() { msg "$1" list 0 4 | awk '{ printf "%s %s ", $1, $3 }'; }
[ "$(listed r0)" = "32 remapped 33 remapped 97 remapped " ] ||
	fail "the remaps made before the run: $(listed r0)"
msg r0 unremap 0 "$(($(sectors "$DEV") / 8))" >/dev/null || fail "unremap: $MSG_ERR"

# A block remapped from an unreadable main is lost and cannot be
# unremapped; the run's other remaps still go. 2 remaps over 512 blocks:
# 128 (unreadable, see bad_main) and 384.
LM=$(nullb lmain 2 blocksize=4096) && LS=$(nullb lspare 1 blocksize=4096) ||
	fail "null_blk for the lost-block case"
bad_main lbad "$LM" && remap_dev lr /dev/mapper/lbad "$LS" || fail "dm-remap over a failing main"
expect_wr OK target lr
mark_dmesg
expect_wr OK stress_test_start "5 1 1000 ops=1 remaps=2 rwmix=100"
wait_done
[ "$(listed lr)" = "128 lost " ] || fail "after the run on a failing main: $(listed lr)"
expect_dmesg "1 of the run's remapped blocks hold lost data and stay remapped"
expect_wr OK target r0

# keep_remaps=1 leaves them for other tools (the benchmark uses it).
run_pass "5 1 1000 ops=10 remaps=300 keep_remaps=1"
[ "$(remapped_count r0)" = 300 ] || fail "keep_remaps=1: $(remapped_count r0) remaps left, not 300"

# Profiles: mixed sizes, bs reported as 0; zipf and cpus are accepted and echoed.
run_pass "4 2 1500 profile=oltp qd=4"
[ "$(val bs)" = 0 ] && [ "$(val profile)" = oltp ] || fail "profile run reports bs $(val bs), profile $(val profile)"
check_consistent ""
run_pass "1 2 1000 dist=zipf:1.2 cpus=0-1 rate=2000"
[ "$(val dist)" = zipf:1.20 ] && [ "$(val cpus)" = 0-1 ] || fail "dist $(val dist), cpus $(val cpus)"
awk -v i="$(val iops)" 'BEGIN { exit !(i <= 2000 * 1.05) }' || fail "rate=2000 gave $(val iops) IOPS"
grep -q 'worker  0: cpu 0' $S/comprehensive_report && grep -q 'worker  1: cpu 1' $S/comprehensive_report ||
	fail "workers not bound to cpus 0 and 1"
# The cap is shared out exactly: 7 IOPS over 4 workers is 2+2+2+1, not
# 4 x 1 (21 I/Os in 3 s, plus one at the start of each share's clock).
run_pass "1 4 3000 rate=7 qd=1"
[ "$(val ios)" -ge 19 ] && [ "$(val ios)" -le 26 ] || fail "rate=7 over 4 workers for 3 s: $(val ios) I/Os"
log "ok"

# Zipf shape, counted by the target: with exactly one bin of the 1024
# remapped, its share of the reads (spare_ios / reads) must match zipf's,
# 1 / H for the hottest bin and 1024^-theta / H for the coldest, where
# H = sum of k^-theta, k = 1..1024. Bin rank k sits at position
# (713 k + seed) mod 1024, 64 blocks each on this 65536-block device.
msg r0 unremap 0 "$(($(sectors "$DEV") / 8))" >/dev/null || fail "unremap: $MSG_ERR"
[ "$(remapped_count r0)" = 0 ] || fail "$(remapped_count r0) remaps left"
zipf_share() {	# zipf_share THETA RANK
	local pos=$((($2 * 713 + 7) % 1024)) r0 s0 r1 s1 ok
	msg r0 remap $((pos * 512)) 64 >/dev/null || fail "remap bin $pos: $MSG_ERR"
	r0=$(status_counter r0 reads) s0=$(status_counter r0 spare_ios)
	run_pass "1 1 1000 qd=8 seed=7 dist=zipf:$1"
	r1=$(status_counter r0 reads) s1=$(status_counter r0 spare_ios)
	msg r0 unremap $((pos * 512)) 64 >/dev/null || fail "unremap bin $pos: $MSG_ERR"
	# busybox awk has no ^ or sqrt here; jq has.
	ok=$(jq -nr --argjson t "$1" --argjson k "$2" --argjson n $((r1 - r0)) --argjson c $((s1 - s0)) '
		([range(1; 1025) | pow(.; -$t)] | add) as $h | ($n * pow($k + 1; -$t) / $h) as $e |
		"\($e * 10 | floor / 10) \($n > 1000 and ($c - $e | fabs) <= 5 * ($e | sqrt) + 0.05 * $e)"')
	log "zipf:$1 rank $2: $((s1 - s0)) of $((r1 - r0)) reads, expected ${ok% *}"
	[ "${ok#* }" = true ] || fail "zipf:$1 rank $2: the bin got $((s1 - s0)) of $((r1 - r0)) reads, not ${ok% *}"
}
zipf_share 3 0
zipf_share 0.1 1023
zipf_share 1.2 0
log "zipf ok"

# Zipf covers the whole region when it is not a multiple of 1024 blocks:
# on 1536 blocks, the last 512 (a third) get about a third of the reads
# at theta 0.1 (bins of 1 and 2 blocks, near uniform).
zm=$(nullb zmain 6 blocksize=4096) && zs=$(nullb zspare 4 blocksize=4096) || fail "null_blk"
remap_dev rz "$zm" "$zs" || fail "dmsetup create rz"
msg rz remap $((1024 * 8)) 512 >/dev/null || fail "remap the last 512 blocks: $MSG_ERR"
echo /dev/mapper/rz >$S/target
run_pass "1 1 1000 qd=8 seed=7 dist=zipf:0.1"
r1=$(status_counter rz reads) s1=$(status_counter rz spare_ios)
log "zipf on 1536 blocks: $s1 of $r1 reads in the last 512"
[ "$r1" -gt 300 ] && [ $((s1 * 100 / r1)) -ge 20 ] && [ $((s1 * 100 / r1)) -le 45 ] ||
	fail "zipf on 1536 blocks: $s1 of $r1 reads in the last 512 blocks, not about a third"
log "zipf coverage ok"
