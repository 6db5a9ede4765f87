/*
 * test.h - the one shared header of the Starling in-guest C tests.
 *
 * A test program is one C file with several named sub-tests:
 *
 *     #include "test.h"
 *
 *     TEST(read_eof) {
 *         int fd = CHECK_OK(open("/dev/null", O_RDONLY));
 *         char c;
 *         CHECK_RET(read(fd, &c, 1), 0);
 *         CHECK_ERR(read(-1, &c, 1), EBADF);
 *     }
 *
 * The header supplies main().  Each sub-test prints exactly one result line,
 * written straight to fd 1 with write(2) so nothing is lost in a stdio buffer
 * when a test crashes or forks:
 *
 *     PASS <prog>.<sub>
 *     FAIL <prog>.<sub>: <file>:<line>: <what>
 *     SKIP <prog>.<sub>: <why>
 *
 * <prog> is the program name (the file name without ".c", or TEST_PROG when the
 * Makefile builds one source twice).  The first failed check ends the sub-test.
 *
 * Command line:  prog            run every sub-test
 *                prog SUB...     run the named sub-tests only
 *                prog --list     print the sub-test names, one a line
 *                prog --child …  call t_child_main() (for programs that execve
 *                                themselves, e.g. execve.c)
 *
 * Work done in a child process: create it with t_fork().  A failed check in the
 * child prints the FAIL line itself and exits with T_CHILD_FAILED; the parent's
 * t_wait_exit()/t_wait_signal() then ends the parent's sub-test without a second
 * line.  Children end with _exit(), never return into the framework.
 *
 * Include test.h before any system header (it defines _GNU_SOURCE).
 *
 * Rules for tests (see docs/testing.md): assert the return value AND errno; use
 * raw syscall(SYS_...) where libc would hide what the kernel did; never assert
 * on how long something took; no checks inside signal handlers (record, then
 * check after the handler returned).
 */
#ifndef STARLING_TEST_H
#define STARLING_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/klog.h>

/* Exit code of a t_fork() child whose check failed (it printed FAIL already). */
#define T_CHILD_FAILED 113
/* Exit code of a t_fork() child that skipped (it printed SKIP already). */
#define T_CHILD_SKIPPED 114

#define T_MAX_TESTS 128

/* Helpers are static and may go unused in a given program. */
#define T_HELPER static __attribute__((unused))

struct t_case {
	const char *name;
	void (*fn)(void);
	int line;
};

static struct t_case *t_cases[T_MAX_TESTS];
static int t_ncases;
static const struct t_case *t_current;
static jmp_buf t_abort;
static int t_in_child;
static int t_failed_any;
static char **t_argv;

/* Provided by a program that re-executes itself with "--child ..." (optional). */
int t_child_main(int argc, char **argv) __attribute__((weak));

T_HELPER void t_register(struct t_case *c)
{
	if (t_ncases < T_MAX_TESTS)
		t_cases[t_ncases++] = c;
}

/* Defines sub-test NAME; registration runs before main (constructor). */
#define TEST(name)                                                             \
	static void t_fn_##name(void);                                         \
	static struct t_case t_case_##name = { #name, t_fn_##name, __LINE__ }; \
	__attribute__((constructor)) static void t_reg_##name(void)            \
	{                                                                      \
		t_register(&t_case_##name);                                    \
	}                                                                      \
	static void t_fn_##name(void)

/* ---- output ---------------------------------------------------------- */

T_HELPER void t_write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

T_HELPER const char *t_prog_name(void)
{
#ifdef TEST_PROG
	return TEST_PROG;
#else
	static char name[64];
	if (!name[0]) {
		const char *base = strrchr(__BASE_FILE__, '/');
		base = base ? base + 1 : __BASE_FILE__;
		size_t n = strcspn(base, ".");
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, base, n);
		name[n] = '\0';
	}
	return name;
#endif
}

/* Writes `head`, then ": " and the formatted message if any, as one line
 * (newlines in the message become spaces, so a line is one result). */
T_HELPER void t_vline(const char *head, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s", head);
	if (fmt && n >= 0 && (size_t)n < sizeof(buf))
		n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n++] = '\n';
	t_write_all(buf, (size_t)n);
}

/* Prints "<kind> <prog>.<sub>[: [<file>:<line>: ]<message>]". */
__attribute__((format(printf, 4, 5))) T_HELPER void
t_result(const char *kind, const char *file, int line, const char *fmt, ...)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "%s %s.%s", kind, t_prog_name(),
			 t_current ? t_current->name : "?");
	if (fmt && n >= 0 && (size_t)n < sizeof(head)) {
		if (file)
			snprintf(head + n, sizeof(head) - (size_t)n, ": %s:%d: ",
				 file, line);
		else
			snprintf(head + n, sizeof(head) - (size_t)n, ": ");
	}
	va_list ap;
	va_start(ap, fmt);
	t_vline(head, fmt, ap);
	va_end(ap);
}

/* Diagnostic line ("# ..."), ignored by the runner's counting. */
__attribute__((format(printf, 1, 2))) T_HELPER void t_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_vline("# ", fmt, ap);
	va_end(ap);
}

T_HELPER const char *t_errname(int e)
{
	switch (e) {
#define T_E(x) case x: return #x
	T_E(EPERM); T_E(ENOENT); T_E(ESRCH); T_E(EINTR); T_E(EIO);
	T_E(ENXIO); T_E(E2BIG); T_E(ENOEXEC); T_E(EBADF); T_E(ECHILD);
	T_E(EAGAIN); T_E(ENOMEM); T_E(EACCES); T_E(EFAULT); T_E(EBUSY);
	T_E(EEXIST); T_E(EXDEV); T_E(ENODEV); T_E(ENOTDIR); T_E(EISDIR);
	T_E(EINVAL); T_E(ENFILE); T_E(EMFILE); T_E(ENOTTY); T_E(EFBIG);
	T_E(ENOSPC); T_E(ESPIPE); T_E(EROFS); T_E(EMLINK); T_E(EPIPE);
	T_E(ERANGE); T_E(ENAMETOOLONG); T_E(ENOSYS); T_E(ENOTEMPTY);
	T_E(ELOOP); T_E(EOVERFLOW); T_E(EOPNOTSUPP);
#undef T_E
	case 0:
		return "0";
	default: {
		static char num[16];
		snprintf(num, sizeof(num), "errno %d", e);
		return num;
	}
	}
}

/* Ends the current sub-test after a failure has been reported. */
__attribute__((noreturn)) static void t_bail(void)
{
	t_failed_any = 1;
	if (t_in_child)
		_exit(T_CHILD_FAILED);
	longjmp(t_abort, 1);
}

#define t_fail(...)                                                            \
	do {                                                                   \
		t_result("FAIL", __FILE__, __LINE__, __VA_ARGS__);             \
		t_bail();                                                      \
	} while (0)

/* Ends the sub-test as SKIP; only for missing preconditions, never to hide a bug. */
#define t_skip(...)                                                            \
	do {                                                                   \
		t_result("SKIP", NULL, 0, __VA_ARGS__);                        \
		if (t_in_child)                                                \
			_exit(T_CHILD_SKIPPED);                                \
		longjmp(t_abort, 2);                                           \
	} while (0)

/* ---- checks ---------------------------------------------------------- */

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			t_fail("CHECK(%s) failed", #cond);                     \
	} while (0)

/* Like CHECK, with a printf-style explanation. */
#define CHECK_MSG(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond))                                                   \
			t_fail(__VA_ARGS__);                                   \
	} while (0)

/* `call` must return exactly `want` (errno is shown if it did not). */
#define CHECK_RET(call, want)                                                  \
	do {                                                                   \
		errno = 0;                                                     \
		long t_r_ = (long)(call);                                      \
		int t_e_ = errno;                                              \
		long t_w_ = (long)(want);                                      \
		if (t_r_ != t_w_)                                              \
			t_fail("%s returned %ld (errno %s), expected %ld",     \
			       #call, t_r_, t_errname(t_e_), t_w_);            \
	} while (0)

/* `call` must fail: return -1 with errno == `err`. */
#define CHECK_ERR(call, err)                                                   \
	do {                                                                   \
		errno = 0;                                                     \
		long t_r_ = (long)(call);                                      \
		int t_e_ = errno;                                              \
		if (t_r_ != -1 || t_e_ != (err))                               \
			t_fail("%s returned %ld (errno %s), expected -1 "      \
			       "with %s",                                      \
			       #call, t_r_, t_errname(t_e_),                   \
			       t_errname(err));                                \
	} while (0)

/* `call` must succeed (not return -1); evaluates to its return value. */
#define CHECK_OK(call)                                                         \
	({                                                                     \
		errno = 0;                                                     \
		long t_r_ = (long)(call);                                      \
		if (t_r_ == -1)                                                \
			t_fail("%s failed: %s (%s)", #call,                    \
			       t_errname(errno), strerror(errno));             \
		t_r_;                                                          \
	})

/* Integer equality with both values shown. */
#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);        \
		if (t_a_ != t_b_)                                              \
			t_fail("%s == %s failed: %lld != %lld (0x%llx != "     \
			       "0x%llx)",                                      \
			       #a, #b, t_a_, t_b_, (unsigned long long)t_a_,   \
			       (unsigned long long)t_b_);                      \
	} while (0)

#define CHECK_STREQ(a, b)                                                      \
	do {                                                                   \
		const char *t_a_ = (a), *t_b_ = (b);                           \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0)                 \
			t_fail("%s == %s failed: \"%s\" != \"%s\"", #a, #b,    \
			       t_a_ ? t_a_ : "(null)",                         \
			       t_b_ ? t_b_ : "(null)");                        \
	} while (0)

/* ---- processes ------------------------------------------------------- */

/* fork() for a sub-test: failed checks in the child end the child only. */
T_HELPER pid_t t_fork(void)
{
	pid_t pid = fork();
	if (pid < 0)
		t_fail("fork failed: %s", t_errname(errno));
	if (pid == 0)
		t_in_child = 1;
	return pid;
}

/* Reaps `pid` (retrying on EINTR) and returns its wait status. */
T_HELPER int t_wait(pid_t pid)
{
	int st = 0;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r != pid)
		t_fail("waitpid(%d) returned %d (errno %s)", (int)pid, (int)r,
		       t_errname(errno));
	return st;
}

/*
 * Reaps `pid` and checks it exited with `code` (sig == 0) or died of `sig`.
 * A child that reported a failure or skip itself ends this sub-test too,
 * without a second line.
 */
T_HELPER void t_wait_for(pid_t pid, int code, int sig, const char *file, int line)
{
	int st = t_wait(pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == T_CHILD_FAILED)
		t_bail();
	if (WIFEXITED(st) && WEXITSTATUS(st) == T_CHILD_SKIPPED) {
		if (t_in_child)
			_exit(T_CHILD_SKIPPED);
		longjmp(t_abort, 2);
	}
	if (sig ? WIFSIGNALED(st) && WTERMSIG(st) == sig
		: WIFEXITED(st) && WEXITSTATUS(st) == code)
		return;
	char got[48];
	if (WIFEXITED(st))
		snprintf(got, sizeof(got), "exited with %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(got, sizeof(got), "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(got, sizeof(got), "has wait status 0x%x", st);
	t_result("FAIL", file, line, "child %d %s, expected %s %d", (int)pid,
		 got, sig ? "death by signal" : "exit", sig ? sig : code);
	t_bail();
}

#define t_wait_exit(pid, code) t_wait_for((pid), (code), 0, __FILE__, __LINE__)
#define t_wait_signal(pid, sig) t_wait_for((pid), 0, (sig), __FILE__, __LINE__)

/* ---- small utilities ------------------------------------------------- */

/* Monotonic clock in nanoseconds (raw syscall, so no vDSO is involved). */
T_HELPER long long t_now_ns(void)
{
	struct timespec ts;
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
		t_fail("clock_gettime(CLOCK_MONOTONIC) failed: %s",
		       t_errname(errno));
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

T_HELPER void t_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The state letter of process `pid` in /proc/PID/stat, or 0 if it has none
 * (gone, or no /proc). */
T_HELPER char t_proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/*
 * Waits until `pid` sleeps (it is blocked in the call it made last) or has
 * exited (a failed check; the caller's t_wait_exit reports it).
 */
T_HELPER void t_wait_sleeping(pid_t pid)
{
	for (;;) {
		char state = t_proc_state(pid);
		if (state == 'S' || state == 'Z' || state == 0)
			return;
		t_sleep_ms(5);
	}
}

/*
 * A scratch directory for this program: $STARLING_TEST_TMP (set by run-all)
 * or /tmp, plus "/<prog>.<pid>".  Created on first use; removed (best effort,
 * unchecked) when the program ends.
 */
static char t_tmp_dir[256];

T_HELPER const char *t_tmpdir(void)
{
	if (!t_tmp_dir[0]) {
		const char *base = getenv("STARLING_TEST_TMP");
		if (!base || !*base)
			base = "/tmp";
		snprintf(t_tmp_dir, sizeof(t_tmp_dir), "%s/%s.%d", base,
			 t_prog_name(), (int)getpid());
		if (mkdir(t_tmp_dir, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			t_tmp_dir[0] = '\0';
			t_fail("cannot create scratch directory under %s: %s",
			       base, t_errname(e));
		}
	}
	return t_tmp_dir;
}

/*
 * A scratch directory on the disk file system for this program:
 * $STARLING_TEST_DISK_TMP (default /var/tmp) plus "/<prog>.<pid>", created
 * on first use and removed when the program ends.  Skips the sub-test when
 * that file system is tmpfs.
 */
static char t_disk_tmp_dir[256];

T_HELPER const char *t_disk_dir(void)
{
	if (t_disk_tmp_dir[0])
		return t_disk_tmp_dir;
	const char *base = getenv("STARLING_TEST_DISK_TMP");
	if (!base || !*base)
		base = "/var/tmp";
	struct statfs st;
	if (statfs(base, &st) != 0)
		t_fail("statfs %s: %s", base, t_errname(errno));
	if (st.f_type == 0x01021994 /* TMPFS_MAGIC */)
		t_skip("%s is tmpfs, not a disk file system", base);
	snprintf(t_disk_tmp_dir, sizeof(t_disk_tmp_dir), "%s/%s.%d", base,
		 t_prog_name(), (int)getpid());
	if (mkdir(t_disk_tmp_dir, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		t_disk_tmp_dir[0] = '\0';
		t_fail("cannot create a directory under %s: %s", base, t_errname(e));
	}
	return t_disk_tmp_dir;
}

/* Path of `name` inside the scratch directory (static buffer, 4 in rotation). */
/* The number the /proc or /sys file `path` starts with (the test fails
 * if the file cannot be read). */
T_HELPER long t_read_long(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY);
	CHECK_MSG(fd >= 0, "open %s: %s", path, t_errname(errno));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	return strtol(buf, NULL, 10);
}

/* t_read_long for values above LONG_MAX (kernel.shmmax). */
T_HELPER unsigned long t_read_ulong(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY);
	CHECK_MSG(fd >= 0, "open %s: %s", path, t_errname(errno));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	return strtoul(buf, NULL, 10);
}

/* Writes `s` to the /proc or /sys file `path`: what write(2) returned,
 * -1 with errno also when the file cannot be opened. */
T_HELPER long t_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return n;
}

/* 0 when `s` was written to `path` whole, else the errno (EIO for a short
 * write). */
T_HELPER int t_put_str(const char *path, const char *s)
{
	long n = t_write_str(path, s);
	if (n < 0)
		return errno;
	return n == (long)strlen(s) ? 0 : EIO;
}

/* The kernel log as dmesg reads it (syslog(2) READ_ALL, NUL-terminated,
 * malloc'd); root or dmesg_restrict 0. */
T_HELPER char *t_kernel_log(void)
{
	enum { SIZE = 1 << 20 };
	char *buf = malloc(SIZE + 1);
	CHECK(buf != NULL);
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, SIZE);
	CHECK_MSG(n >= 0, "syslog READ_ALL: %s", t_errname(errno));
	buf[n] = 0;
	return buf;
}

/* Waits up to 5 s (the kernel log is written by a kernel thread) until the
 * log's text after the last occurrence of `start` holds every string of
 * `want`; 1 if it did. */
T_HELPER int t_wait_kernel_log(const char *start, const char *const *want, int n)
{
	for (int tries = 0; tries < 100; tries++) {
		char *log = t_kernel_log();
		char *from = NULL;
		for (char *p = strstr(log, start); p; p = strstr(p + 1, start))
			from = p;
		int all = from != NULL;
		for (int i = 0; all && i < n; i++)
			all = strstr(from, want[i]) != NULL;
		free(log);
		if (all)
			return 1;
		t_sleep_ms(50);
	}
	return 0;
}

/* Whether the kernel is Starling (its uname release ends in
 * "-starling"): checks of Starling's own extensions, and of settings that
 * must not be changed on a host, run only there. */
T_HELPER int on_starling(void)
{
	struct utsname u;
	if (uname(&u) != 0)
		return 0;
	size_t n = strlen(u.release);
	return n >= 9 && strcmp(u.release + n - 9, "-starling") == 0;
}

T_HELPER const char *t_path(const char *name)
{
	static char bufs[4][320];
	static int next;
	char *b = bufs[next++ & 3];
	snprintf(b, sizeof(bufs[0]), "%s/%s", t_tmpdir(), name);
	return b;
}

/* Creates (truncating) a file in the scratch directory holding `data`. */
T_HELPER const char *t_make_file(const char *name, const char *data, mode_t mode)
{
	const char *p = t_path(name);
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		t_fail("cannot create %s: %s", p, t_errname(errno));
	size_t len = strlen(data);
	if (write(fd, data, len) != (ssize_t)len)
		t_fail("cannot write %s: %s", p, t_errname(errno));
	close(fd);
	/* open() applies the umask; tests want exactly `mode`. */
	chmod(p, mode);
	return p;
}

T_HELPER void t_rm_rf(const char *dir, int depth)
{
	if (depth > 4)
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return;
	char buf[2048];
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			const char *nm = buf + off + 19;
			if (strcmp(nm, ".") && strcmp(nm, "..")) {
				char p[512];
				snprintf(p, sizeof(p), "%s/%s", dir, nm);
				if (unlink(p) != 0)
					t_rm_rf(p, depth + 1);
			}
			off += reclen;
		}
	}
	close(fd);
	rmdir(dir);
}

/* ---- main ------------------------------------------------------------ */

/*
 * Seconds a sub-test may take before SIGALRM ends the program
 * ($STARLING_SUBTEST_TIMEOUT; otherwise T_SUBTEST_SECONDS, which a program
 * doing long work under emulation defines before including this file;
 * default 30); run-all then reports the hung sub-test and runs the
 * remaining ones. A watchdog against hangs, never a timing assertion.
 */
#ifndef T_SUBTEST_SECONDS
#define T_SUBTEST_SECONDS 30
#endif
T_HELPER unsigned int t_subtest_limit(void)
{
	const char *v = getenv("STARLING_SUBTEST_TIMEOUT");
	int n = v ? atoi(v) : 0;
	return n > 0 ? (unsigned int)n : T_SUBTEST_SECONDS;
}

T_HELPER int t_run_one(const struct t_case *c)
{
	t_current = c;
	int r = setjmp(t_abort);
	if (r == 0) {
		alarm(t_subtest_limit());
		c->fn();
		alarm(0);
		t_result("PASS", NULL, 0, NULL);
	}
	alarm(0);
	t_current = NULL;
	return r == 1;
}

T_HELPER int t_by_line(const void *a, const void *b)
{
	const struct t_case *x = *(const struct t_case *const *)a;
	const struct t_case *y = *(const struct t_case *const *)b;
	return x->line - y->line;
}

int main(int argc, char **argv)
{
	t_argv = argv;
	/* Run sub-tests in the order they appear in the file. */
	qsort(t_cases, (size_t)t_ncases, sizeof(t_cases[0]), t_by_line);

	if (argc >= 2 && strcmp(argv[1], "--child") == 0) {
		if (!t_child_main)
			return 2;
		return t_child_main(argc - 2, argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < t_ncases; i++) {
			char line[128];
			int n = snprintf(line, sizeof(line), "%s\n",
					 t_cases[i]->name);
			t_write_all(line, (size_t)n);
		}
		return 0;
	}

	/* A test expects default signal handling: undo anything inherited
	 * (a -c shell hands SIGQUIT down ignored, background jobs SIGINT). */
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	int any_failed = 0;
	if (argc >= 2) {
		for (int a = 1; a < argc; a++) {
			int found = 0;
			for (int i = 0; i < t_ncases; i++) {
				if (strcmp(argv[a], t_cases[i]->name) == 0) {
					any_failed |= t_run_one(t_cases[i]);
					found = 1;
				}
			}
			if (!found) {
				char line[160];
				int n = snprintf(line, sizeof(line),
						 "FAIL %s.%s: no such sub-test\n",
						 t_prog_name(), argv[a]);
				t_write_all(line, (size_t)n);
				any_failed = 1;
			}
		}
	} else {
		for (int i = 0; i < t_ncases; i++)
			any_failed |= t_run_one(t_cases[i]);
	}
	if (t_tmp_dir[0])
		t_rm_rf(t_tmp_dir, 0);
	if (t_disk_tmp_dir[0])
		t_rm_rf(t_disk_tmp_dir, 0);
	return any_failed || t_failed_any ? 1 : 0;
}

#endif /* STARLING_TEST_H */
