#!/bin/sh
# userland - busybox userland over the file and process interfaces: pipes
# and redirections, find/grep/sed/awk/sort, tar, cp -r/mv/rm -r/ln -s, ps,
# mount/df, and job control (kill %1).
#
# Same protocol as the C tests: no argument runs every sub-test, "--list"
# names them, a name runs one; each prints "PASS userland.<name>" or
# "FAIL userland.<name>: <what>". Runs under busybox sh when busybox exists
# (the guest's shell; on a Linux host too, so the checks mean the same).

if [ -z "$USERLAND_IN_BUSYBOX" ] && command -v busybox > /dev/null 2>&1; then
	USERLAND_IN_BUSYBOX=1 exec busybox sh "$0" "$@"
fi

TESTS="pipes_and_redirections find_grep_sed_awk_sort tar_roundtrip cp_mv_rm_ln ps_sees_children mount_and_df job_control_kill_percent"

BASE=${STARLING_TEST_TMP:-${TMPDIR:-/tmp}}/userland.$$
FAILED=0

fail() {
	echo "FAIL userland.$CUR: $*"
	FAILED=1
	return 1
}

# expect WHAT GOT WANT
expect() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

pipes_and_redirections() {
	got=$(printf 'b\na\nc\n' | sort | tr -d '\n')
	expect "sort through a pipe" "$got" "abc" || return
	echo one > f && echo two >> f
	expect "> and >> then wc -l <" "$(wc -l < f | tr -d ' ')" "2" || return
	# stderr into stdout, and into a file of its own.
	got=$(ls /nonexistent-userland 2>&1 > /dev/null | grep -c nonexistent)
	expect "2>&1 ordering" "$got" "1" || return
	ls /nonexistent-userland 2> err > /dev/null
	[ -s err ] || fail "2> file is empty" || return
	got=$(cat <<-END | tr a-z A-Z
	here doc
	END
	)
	expect "here-document through tr" "$got" "HERE DOC" || return
	# A long pipeline moving more than a pipe buffer.
	got=$(seq 1 20000 | cat | cat | awk '{ s += $1 } END { print s }')
	expect "20000 lines through three pipes" "$got" "200010000" || return
	# Exit status of a pipeline is the last command's.
	false | true || fail "pipeline status" || return
	echo ok > /dev/null
}

find_grep_sed_awk_sort() {
	mkdir -p tree/a/b tree/c
	echo "needle one" > tree/a/x.txt
	echo "hay" > tree/a/b/y.txt
	echo "needle two" > tree/c/z.log
	expect "find -name" "$(find tree -name '*.txt' | sort | tr '\n' ' ')" "tree/a/b/y.txt tree/a/x.txt " || return
	expect "find -type d" "$(find tree -type d | wc -l | tr -d ' ')" "4" || return
	expect "grep -r -l" "$(grep -r -l needle tree | sort | tr '\n' ' ')" "tree/a/x.txt tree/c/z.log " || return
	expect "sed s///" "$(echo 'foo bar foo' | sed 's/foo/baz/g')" "baz bar baz" || return
	sed -i 's/needle/pin/' tree/a/x.txt
	expect "sed -i" "$(cat tree/a/x.txt)" "pin one" || return
	expect "awk fields" "$(printf '3 x\n1 y\n2 z\n' | awk '{ print $2 $1 }' | sort -k1.2n | tr -d '\n')" "y1z2x3" || return
	expect "sort -n -r | head" "$(printf '10\n9\n100\n' | sort -n -r | head -n 1)" "100" || return
	expect "uniq -c" "$(printf 'a\na\nb\n' | uniq -c | awk '{ print $1 $2 }' | tr -d '\n')" "2a1b" || return
}

tar_roundtrip() {
	mkdir -p src/sub
	echo alpha > src/a
	head -c 100000 /dev/urandom > src/sub/blob
	ln -s a src/link
	tar cf arch.tar src || fail "tar c" || return
	mkdir out
	(cd out && tar xf ../arch.tar) || fail "tar x" || return
	cmp src/a out/src/a || fail "file differs" || return
	cmp src/sub/blob out/src/sub/blob || fail "blob differs" || return
	expect "symlink kept" "$(readlink out/src/link)" "a" || return
	expect "tar t" "$(tar tf arch.tar | sort | tr '\n' ' ')" "src/ src/a src/link src/sub/ src/sub/blob " || return
	gzip -c arch.tar > arch.tgz && gunzip -c arch.tgz | cmp - arch.tar || fail "gzip roundtrip" || return
}

cp_mv_rm_ln() {
	mkdir -p d1/inner
	echo data > d1/inner/f
	cp -r d1 d2 || fail "cp -r" || return
	expect "cp -r copy" "$(cat d2/inner/f)" "data" || return
	mv d2 d3 || fail "mv" || return
	[ ! -e d2 ] && [ -d d3/inner ] || fail "mv left d2 or lost d3" || return
	ln -s d3/inner/f lnk || fail "ln -s" || return
	expect "through the symlink" "$(cat lnk)" "data" || return
	expect "readlink" "$(readlink lnk)" "d3/inner/f" || return
	ln d3/inner/f hard || fail "ln" || return
	expect "link count" "$(stat -c %h hard)" "2" || return
	rm -r d3 || fail "rm -r" || return
	[ ! -e d3 ] || fail "rm -r left d3" || return
	# The symlink now dangles; the hard link keeps the data.
	[ -L lnk ] && [ ! -e lnk ] || fail "dangling symlink" || return
	expect "hard link survives" "$(cat hard)" "data" || return
	rm lnk hard
}

ps_sees_children() {
	sleep 30 &
	pid=$!
	# The child shows as "sleep" once it has exec'd: poll for that (up to
	# 10 s; on several CPUs ps may run first).
	i=0
	while [ $i -lt 100 ]; do
		ps -o pid,args > ps.out
		awk -v p="$pid" '$1 == p && /sleep/ { found = 1 } END { exit !found }' ps.out && break
		sleep 0.1
		i=$((i + 1))
	done
	kill $pid
	wait $pid 2> /dev/null
	awk -v p="$pid" '$1 == p && /sleep/ { found = 1 } END { exit !found }' ps.out ||
		fail "ps does not list sleep ($pid): $(grep -E "^ *$pid " ps.out)" || return
	awk -v p="$$" '$1 == p { found = 1 } END { exit !found }' ps.out ||
		fail "ps does not list the shell ($$)" || return
}

mount_and_df() {
	mount > mounts.out || fail "mount exit status" || return
	awk '$3 == "/" { found = 1 } END { exit !found }' mounts.out ||
		fail "mount lists no /: $(head -n 3 mounts.out | tr '\n' '|')" || return
	grep -q '^proc on /proc type proc' mounts.out || fail "mount lists no /proc" || return
	df / > df.out || fail "df /" || return
	awk 'NR == 2 && $2 > 0 { ok = 1 } END { exit !ok }' df.out ||
		fail "df / size: $(tr '\n' '|' < df.out)" || return
	df -k . > /dev/null || fail "df -k ." || return
}

job_control_kill_percent() {
	sleep 30 &
	pid=$!
	expect "jobs -p" "$(jobs -p)" "$pid" || return
	kill %1 || fail "kill %1" || return
	wait $pid 2> /dev/null
	expect "status of the killed job" "$?" "143" || return
	sleep 30 &
	pid=$!
	kill -STOP $pid
	kill -CONT $pid
	kill -KILL $pid
	wait $pid 2> /dev/null
	expect "status after SIGKILL" "$?" "137" || return
}

run_one() {
	CUR=$1
	dir=$BASE/$1
	rm -rf "$dir"
	mkdir -p "$dir" || { echo "FAIL userland.$1: cannot create $dir"; FAILED=1; return; }
	before=$FAILED
	FAILED=0
	(cd "$dir" && "$1")
	rc=$?
	# The sub-test runs in a subshell: its fail() lines are its report.
	if [ "$rc" -eq 0 ]; then
		echo "PASS userland.$1"
	fi
	rm -rf "$dir"
	[ "$rc" -eq 0 ] || FAILED=1
	[ "$before" -eq 0 ] || FAILED=1
}

case "$1" in
--list)
	for t in $TESTS; do echo "$t"; done
	exit 0
	;;
"")
	set -- $TESTS
	;;
esac
mkdir -p "$BASE"
for t in "$@"; do
	case " $TESTS " in
	*" $t "*) run_one "$t" ;;
	*) echo "FAIL userland.$t: no such sub-test"; FAILED=1 ;;
	esac
done
rmdir "$BASE" 2> /dev/null
exit $FAILED
