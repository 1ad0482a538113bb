#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# With ops= the run does exactly that many I/Os, and the same seed gives
# the same generated sequence (io_sequence_digest) whatever the timing;
# another seed, size or type gives another sequence.
. "$(dirname "$0")/lib.sh"
need_stress
setup_remap 128 16

digest_of() {	# digest_of START-TEXT
	run_pass "$1"
	[ "$(val ios)" = "$(val ops)" ] || fail "'$1': ios $(val ios) != ops $(val ops)"
	val io_sequence_digest
}
a=$(digest_of "4 3 1000 ops=20000 seed=11 qd=16") || exit
b=$(digest_of "4 3 1000 ops=20000 seed=11 qd=1") || exit
c=$(digest_of "4 3 1000 ops=20000 seed=12 qd=16") || exit
d=$(digest_of "4 3 1000 ops=20000 seed=11 qd=16 bs=8192") || exit
e=$(digest_of "1 3 1000 ops=20000 seed=11 qd=16") || exit
log "digests: $a (seed 11), $b (seed 11, qd 1), $c (seed 12), $d (bs 8k), $e (randread)"
[ "$a" = "$b" ] || fail "same seed and ops, different digest: $a vs $b"
[ "$a" != "$c" ] || fail "seeds 11 and 12 gave the same digest"
[ "$a" != "$d" ] || fail "bs 4k and 8k gave the same digest"
[ "$a" != "$e" ] || fail "mixed and randread gave the same digest"
[ "$(val seed)" = 11 ] || fail "seed not reported"
# ops split over workers: 20000 over 3 = 6667 + 6667 + 6666
grep -q 'submitted 6667, completed 6667' $S/comprehensive_report &&
	grep -q 'submitted 6666, completed 6666' $S/comprehensive_report ||
	fail "ops not split over the workers: $(grep submitted $S/comprehensive_report)"
log "ok"
