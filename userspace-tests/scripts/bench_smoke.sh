#!/bin/sh
# bench_smoke - every benchmark in $STARLING_TESTS_DIR/bench runs and prints
# well-formed lines. Timings are never checked (docs/performance.md).
#
# Each program runs once with STARLING_BENCH_QUICK=1 (a few milliseconds
# per metric, include/bench.h); it must exit 0, print at least one line,
# and every line of its stdout must be "name value unit": a name of
# [a-z0-9_], a non-negative decimal number, a unit of letters. Same
# protocol as the C tests: no argument runs every sub-test (one per
# program), "--list" names them, a name runs one.

DIR=${STARLING_TESTS_DIR:-/opt/starling-tests}
TMP=${STARLING_TEST_TMP:-${TMPDIR:-/tmp}}/bench_smoke.$$
PROGS=
for bin in "$DIR"/bench/*; do
	[ -f "$bin" ] && [ -x "$bin" ] && PROGS="$PROGS ${bin##*/}"
done

if [ "$1" = "--list" ]; then
	for p in $PROGS; do echo "$p"; done
	exit 0
fi
[ $# -gt 0 ] && PROGS=$*
mkdir -p "$TMP" || { echo "FAIL bench_smoke: cannot create $TMP"; exit 1; }
FAILED=0
for p in $PROGS; do
	out=$TMP/$p.out
	STARLING_BENCH_QUICK=1 "$DIR/bench/$p" > "$out" 2> "$TMP/$p.err"
	rc=$?
	bad=$(awk '!/^[a-z0-9_]+ [0-9]+(\.[0-9]+)? [a-z]+$/ { print; exit }' "$out")
	if [ "$rc" -ne 0 ]; then
		echo "FAIL bench_smoke.$p: exit status $rc: $(head -c 200 "$TMP/$p.err")"
		FAILED=1
	elif [ ! -s "$out" ]; then
		echo "FAIL bench_smoke.$p: printed nothing"
		FAILED=1
	elif [ -n "$bad" ]; then
		echo "FAIL bench_smoke.$p: malformed line '$bad'"
		FAILED=1
	else
		echo "PASS bench_smoke.$p"
	fi
done
rm -rf "$TMP"
exit $FAILED
