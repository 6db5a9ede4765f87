#!/bin/sh
# run-debian - checks programs of the Debian image (make test-debian): each
# check runs a command and compares its output with what Debian's programs
# print on Linux. Prints PASS/FAIL per check and "debian: N passed, N
# failed"; exits 1 if any failed.
pass=0
fail=0
T=$(mktemp -d /tmp/run-debian.XXXXXX)

# check NAME EXPECTED COMMAND...: COMMAND's stdout must equal EXPECTED.
check() {
	name=$1 want=$2
	shift 2
	got=$("$@" 2>"$T/err")
	status=$?
	if [ "$status" -eq 0 ] && [ "$got" = "$want" ]; then
		echo "PASS debian.$name"
		pass=$((pass + 1))
	else
		echo "FAIL debian.$name: exit $status"
		echo "  want: $want"
		echo "  got:  $got"
		sed 's/^/  stderr: /' "$T/err" | head -5
		fail=$((fail + 1))
	fi
}

check bash_script "6 x-y-z 3" bash -c '
	sum=0; for i in 1 2 3; do sum=$((sum + i)); done
	arr=(x y z); IFS=-; joined="${arr[*]}"; unset IFS
	declare -A m=([a]=1 [b]=2); echo "$sum $joined $(( ${m[a]} + ${m[b]} ))"'
check bash_interactive "hello" bash -i -c 'echo hello'
check bash_pipeline_subshell "3" bash -c 'printf "a\nb\nc\n" | (wc -l)'
check coreutils "3 c 2.txt 8" bash -c "
	cd $T && mkdir d && printf 'b\na\nc\nb\n' > d/1.txt && cp d/1.txt d/2.txt &&
	echo \$(sort -u d/1.txt | wc -l) \$(sort d/1.txt | tail -1) \$(ls d | tail -1) \$(stat -c %s d/2.txt)"
check findutils "./d/sub/x.txt" bash -c "cd $T && mkdir -p d/sub && touch d/sub/x.txt && find . -name 'x.*' -type f"
check grep_sed "A-2" bash -c "printf 'a 1\nb 2\na 2\n' | grep '^a' | tail -1 | sed -e 's/a /A-/'"
check gawk "6" gawk 'BEGIN { s = 0; for (i = 1; i <= 3; i++) s += i; print s }'
check mawk "b" mawk -F: '{ print $2 }' <<EOF2
a:b:c
EOF2
check tar_gzip "hello" bash -c "cd $T && mkdir t && echo hello > t/f && tar czf t.tgz t && rm -r t && tar xzf t.tgz && cat t/f"
check dpkg_query "install ok installed" dpkg-query -W -f='${Status}\n' coreutils
check perl "2,4,6 ok" perl -e 'my @a = map { $_ * 2 } 1..3; my %h = (k => "ok"); print join(",", @a), " $h{k}\n"'
check python3_c "45" python3 -c 'print(sum(range(10)))'
cat > "$T/py.py" <<'EOF2'
import mmap, os, subprocess, threading
from multiprocessing import Process, Value, shared_memory

# subprocess: a child's output through a pipe.
out = subprocess.run(["echo", "hi"], capture_output=True, text=True, check=True).stdout.strip()

# threading: four threads and a lock.
count = 0
lock = threading.Lock()
def work():
    global count
    for _ in range(1000):
        with lock:
            count += 1
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()

# mmap: anonymous and file-backed.
m = mmap.mmap(-1, 4096)
m[:5] = b"hello"
path = os.path.join(os.path.dirname(__file__), "data")
with open(path, "wb") as f:
    f.write(b"x" * 4096)
with open(path, "r+b") as f:
    fm = mmap.mmap(f.fileno(), 4096)
    fm[0:3] = b"abc"
    fm.flush()
    fm.close()
with open(path, "rb") as f:
    head = f.read(3).decode()

# multiprocessing: shared memory and a shared counter across processes.
shm = shared_memory.SharedMemory(create=True, size=16)
v = Value("i", 0)
def child(name, v):
    s = shared_memory.SharedMemory(name=name)
    s.buf[0] = 42
    s.close()
    with v.get_lock():
        v.value += 7
ps = [Process(target=child, args=(shm.name, v)) for _ in range(2)]
for p in ps: p.start()
for p in ps: p.join()
shared = shm.buf[0]
shm.close(); shm.unlink()

print(out, count, m[:5].decode(), head, shared, v.value)
EOF2
check python3_script "hi 4000 hello abc 42 14" python3 "$T/py.py"
# AF_INET on loopback: python's http.server answers a fetch in the same
# guest (busybox wget when the image has it, else python's urllib).
cat > "$T/http.sh" <<'EOF2'
d=$1
mkdir -p "$d/www" && echo "served by python" > "$d/www/file" && cd "$d/www" || exit 1
python3 -m http.server 8000 --bind 127.0.0.1 >"$d/http.log" 2>&1 &
srv=$!
up=
for _ in $(seq 1 300); do
	if (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null; then up=1; break; fi
	sleep 0.1
done
if [ -z "$up" ]; then kill "$srv"; cat "$d/http.log" >&2; exit 1; fi
if command -v busybox >/dev/null; then
	got=$(busybox wget -q -O - http://127.0.0.1:8000/file)
else
	got=$(python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:8000/file").read().decode(), end="")')
fi
status=$?
kill "$srv"
wait "$srv" 2>/dev/null
printf '%s\n' "$got"
exit "$status"
EOF2
check http_server "served by python" bash "$T/http.sh" "$T"
check apt_simulate "Inst hello" bash -c "apt-get --simulate install hello 2>/dev/null | grep -o '^Inst hello' | head -1"

# strace (ptrace): the syscalls of ls, by name and with decoded arguments.
check strace_ls "ok" bash -c "strace -f -o $T/strace.log ls / >/dev/null &&
	grep -q '^[0-9]* *execve(\"[^\"]*/ls\", \\[\"ls\", \"/\"\\]' $T/strace.log &&
	grep -q 'openat(AT_FDCWD, \"/\", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3' $T/strace.log &&
	grep -q 'exit_group(0) *= ?' $T/strace.log && echo ok"
# gdb (ptrace, breakpoints, single steps) on a dynamically linked test
# program: stop in main, step one instruction, read a register, kill it.
check gdb_break_step "ok" bash -c "gdb -nx -batch -ex 'break main' -ex run -ex stepi \
	-ex 'info registers pc' -ex kill --args /opt/starling-tests/bin/dynlink --list \
	> $T/gdb.log 2>&1; grep -q '^Breakpoint 1, .* in main ()' $T/gdb.log &&
	grep -q '^pc ' $T/gdb.log && echo ok || { cat $T/gdb.log >&2; false; }"

rm -rf "$T"
echo "debian: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
