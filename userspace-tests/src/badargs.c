/*
 * The bad-argument sweep: every system call number of Starling's dispatch
 * tables, called through raw syscall(2) with hostile argument vectors, each
 * call in a forked child so that a call that blocks, kills its caller or
 * changes process state cannot disturb the sweep.
 *
 * The calls: tools/syscall-table turns kernel/src/syscall/table/<arch>.rs
 * and names_<arch>.rs into badargs_table.h at build time, so a syscall added
 * to the dispatcher is swept without touching this file.
 *
 * The argument classes (one sub-test each):
 *   generic, the same value in all six argument registers:
 *     null        0 (NULL pointers, length 0, fd 0, flags 0)
 *     unmapped    a page that was mapped and unmapped again
 *     kernel      an address in the kernel's half
 *     misaligned  a valid, zeroed buffer + 1 (strings read as "")
 *     huge        a huge positive, non-canonical address (0x7ead00000000beef)
 *     allones     ~0: -1 as an int or long, SIZE_MAX, every flag bit set
 *     int_m1      0xffffffff: -1 as an int, 4 GiB - 1 as a length
 *   fds, as (fd, buf, 16, buf, 16, 0):
 *     fd_m1       -1
 *     fd_closed   5, closed
 *     fd_pipe     3, the read end of a pipe (no writer): the wrong type for
 *                 calls on directories, sockets, epoll, timers, ...
 *   lengths, fd style (1, buf, len, buf, len, 0) with fd 1 /dev/null, and
 *   pointer style (buf, len, buf, len, 0, 0):
 *     len0_fd lenm1_fd lenmax_fd len0_ptr lenm1_ptr lenmax_ptr
 *     (len 0, 0xffffffff = -1 as an int, ~0 = SIZE_MAX)
 *
 * The fixed addresses (buf 0x2010000000, the unmapped page 0x2020000000,
 * the report page 0x200e000000) are the same on every kernel, so the
 * vectors are too. The child runs with fds 0-2 on /dev/null, 3 the pipe's read end and
 * every other fd closed, its cwd a scratch directory, every signal at its
 * default action and all but SIGALRM blocked, a 200 ms ITIMER_REAL
 * (SIGALRM ends a call that blocks) and, from the parent, SIGKILL after
 * 2 s.
 * Each case gets one result token: "ok" (the call returned >= 0), the errno
 * name ("EFAULT"), "sig:SIGSEGV" (the child died of a signal), "exit:N" (it
 * exited without reporting: exit, exit_group) or "blocked" (twice in a
 * row: a busy host can stall one emulated call past the limit); and one
 * output line "name class result".
 *
 * Pass: every call returned or was resolved within the limits and the kernel
 * kept running. On x86_64 each result is also compared with Linux's, recorded
 * by this program's --record mode in the Linux 6.1 guest of make sweep-linux
 * (sweep/linux-6.1-x86_64.tsv); a difference fails unless
 * sweep/deviations.x86_64 lists it with a reason. riscv64 has no Linux table:
 * there a child killed by a signal other than from the calls that may kill
 * their caller (may_kill below) fails too.
 *
 * Never run on a host: the calls run as root. On a kernel other than
 * Starling the sub-tests skip unless STARLING_SWEEP_GUEST=1 says this is the
 * Linux guest of make sweep-linux.
 */
#include "test.h"

#include <dirent.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>

#define PAGE 4096UL
/* Far above the heap (Linux randomises a static program's break up to
 * 1 GiB past its end) and below the mmap area on both architectures
 * (riscv64 Sv39 ends at 256 GiB); the low 32 bits, which an int argument
 * sees, are 0x10000000 and 0x20000000. */
#define REPORT_ADDR 0x200e000000UL
#define BUF_ADDR 0x2010000000UL
#define BUF_LEN (2 * PAGE)
#define UNMAPPED_ADDR 0x2020000000UL
#ifdef __x86_64__
#define KERNEL_ADDR 0xffff800000000000UL
#define SWEEP_ARCH "x86_64"
#define LINUX_TABLE_REQUIRED 1
#else
#define KERNEL_ADDR 0xffffffc000000000UL
#define SWEEP_ARCH "riscv64"
#define LINUX_TABLE_REQUIRED 0
#endif
#define HUGE_ADDR 0x7ead00000000beefUL

/* The fds a child has: 0-2 /dev/null, PIPE_FD the pipe's read end. */
#define PIPE_FD 3
#define CLOSED_FD 5

/* The call's time limit (ITIMER_REAL in the child), and the parent's. */
#define CALL_LIMIT_US 200000
#define HARD_LIMIT_S 2
/* The signal of the parent's hard-limit timer. */
#define HARD_SIGNAL SIGUSR2

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct bad_sys {
	long nr;
	const char *name;
	int dispatched;
};

static const struct bad_sys syscalls[] = {
#include "badargs_table.h"
};
#define NSYS ((int)(sizeof(syscalls) / sizeof(syscalls[0])))

#include "badargs_cases.h"
#include "badargs_results.h"

/* What a child leaves in the shared report page. */
struct report {
	unsigned long magic;
	long ret;
	int err;
};
#define REPORT_MAGIC 0x5357454550UL

static volatile struct report *report;
static int null_fd = -1, pipe_rd = -1;
static int record_mode;
static sigset_t parent_blocked;
static timer_t hard_timer;
static volatile sig_atomic_t hard_expired;

static void on_hard_limit(int sig)
{
	(void)sig;
	hard_expired = 1;
}
static char saved_host[65], saved_domain[65];

/* ---- one call -------------------------------------------------------- */

__attribute__((noreturn)) static void child(long nr, const unsigned long a[6])
{
	signal(HARD_SIGNAL, SIG_DFL);
	/* Everything but SIGALRM blocked: a clone child's exit signal (the
	 * vectors give 1, 3 or 5) must not race the report. */
	sigset_t mask;
	sigfillset(&mask);
	sigdelset(&mask, SIGALRM);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	dup2(null_fd, 0);
	dup2(null_fd, 1);
	dup2(null_fd, 2);
	dup2(pipe_rd, PIPE_FD);
	if (syscall(SYS_close_range, PIPE_FD + 1, ~0U, 0) != 0)
		for (int fd = PIPE_FD + 1; fd < 1024; fd++)
			close(fd);
	struct itimerval it = { { 0, 0 }, { 0, CALL_LIMIT_US } };
	setitimer(ITIMER_REAL, &it, NULL);
	errno = 0;
	long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	int e = errno;
	report->ret = r;
	report->err = r < 0 ? e : 0;
	report->magic = REPORT_MAGIC;
	_exit(0);
}

static void restore_names(void)
{
	sethostname(saved_host, strlen(saved_host));
	setdomainname(saved_domain, strlen(saved_domain));
}

/* /dev/null as it was before the sweep: the child's fds 0-2 are it, so
 * fchmod, fchown and the like change the node the whole system shares. */
static struct stat saved_null;

static void restore_null(void)
{
	struct stat st;
	if (stat("/dev/null", &st) != 0)
		return;
	if ((st.st_mode & 07777) != (saved_null.st_mode & 07777))
		chmod("/dev/null", saved_null.st_mode & 07777);
	if (st.st_uid != saved_null.st_uid || st.st_gid != saved_null.st_gid)
		chown("/dev/null", saved_null.st_uid, saved_null.st_gid);
}

/* SIGKILLs every child of this process (from /proc/PID/stat's ppid). */
static void kill_children(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *de;
	pid_t self = getpid();
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		char *rp = strrchr(buf, ')');
		int ppid;
		if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == self)
			kill(atoi(de->d_name), SIGKILL);
	}
	closedir(d);
}

/*
 * The child's own children (fork, vfork, clone with a stack of zeros) come
 * to this process when the child exits, as it is a subreaper: they are
 * killed and reaped here, and the signals their deaths sent (a clone's
 * exit signal may be anything) are taken off the pending set.
 */
static void reap_strays(void)
{
	for (int round = 0; round < 400; round++) {
		pid_t r = waitpid(-1, NULL, WNOHANG | __WALL);
		if (r > 0)
			continue;
		if (r < 0)
			break;
		kill_children();
		t_sleep_ms(5);
	}
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&parent_blocked, NULL, &zero) > 0)
		;
}

/* The "name class result" lines of the running class, written in one go
 * at its end (a write per case to a file costs more than the case). */
static char *lines;
static size_t lines_len, lines_cap;

static void add_line(const char *line, size_t n)
{
	if (lines_len + n > lines_cap) {
		lines_cap = (lines_len + n) * 2;
		lines = realloc(lines, lines_cap);
		if (!lines)
			t_fail("out of memory");
	}
	memcpy(lines + lines_len, line, n);
	lines_len += n;
}

static void flush_lines(void)
{
	t_write_all(lines, lines_len);
	lines_len = 0;
}

/* Runs one case; writes its result token to `out`. */
static void run_case(const struct bad_sys *s, const unsigned long a[6],
		     char *out, size_t outlen)
{
	memset((void *)report, 0, sizeof(*report));
	pid_t pid = fork();
	if (pid < 0)
		t_fail("fork failed: %s", t_errname(errno));
	if (pid == 0)
		child(s->nr, a);

	/*
	 * A blocking waitpid; the hard limit's timer signal interrupts it.
	 * Past the limit the child is SIGKILLed; a child that SIGKILL does
	 * not end within another limit is a kernel fault ("hang"): the
	 * sub-test fails at once, leaving it behind.
	 */
	struct itimerspec arm = { { 0, 0 }, { HARD_LIMIT_S, 0 } }, off = { 0 };
	hard_expired = 0;
	timer_settime(hard_timer, 0, &arm, NULL);
	int st = 0, hard_killed = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, __WALL);
		if (r == pid && (WIFEXITED(st) || WIFSIGNALED(st)))
			break;
		if (r == pid && WIFSTOPPED(st)) {
			/* Traced (PTRACE_TRACEME) or stopped: end it. */
			kill(pid, SIGKILL);
			continue;
		}
		if (r < 0 && errno != EINTR)
			t_fail("waitpid(%d): %s", (int)pid, t_errname(errno));
		if (!hard_expired)
			continue;
		if (hard_killed) {
			timer_settime(hard_timer, 0, &off, NULL);
			flush_lines();
			t_fail("%s: the child (pid %d) outlived SIGKILL by %d s "
			       "(hang)", s->name, (int)pid, HARD_LIMIT_S);
		}
		hard_killed = 1;
		kill(pid, SIGKILL);
		hard_expired = 0;
		timer_settime(hard_timer, 0, &arm, NULL);
	}
	timer_settime(hard_timer, 0, &off, NULL);
	reap_strays();
	if (!strcmp(s->name, "sethostname") || !strcmp(s->name, "setdomainname"))
		restore_names();
	restore_null();

	if (report->magic == REPORT_MAGIC) {
		if (report->ret >= 0 || report->err == 0)
			snprintf(out, outlen, "ok");
		else {
			const char *n = strerrorname_np(report->err);
			if (n)
				snprintf(out, outlen, "%s", n);
			else
				snprintf(out, outlen, "errno%d", report->err);
		}
	} else if (hard_killed ||
		   (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)) {
		snprintf(out, outlen, "blocked");
	} else if (WIFSIGNALED(st)) {
		const char *n = sigabbrev_np(WTERMSIG(st));
		if (n)
			snprintf(out, outlen, "sig:SIG%s", n);
		else
			snprintf(out, outlen, "sig:%d", WTERMSIG(st));
	} else {
		snprintf(out, outlen, "exit:%d", WEXITSTATUS(st));
	}
}

/* ---- setup ----------------------------------------------------------- */

static void setup(void)
{
	static int done;
	if (done)
		return;
	void *p = mmap((void *)REPORT_ADDR, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)REPORT_ADDR)
		t_fail("cannot map the report page at %#lx", REPORT_ADDR);
	report = p;
	p = mmap((void *)BUF_ADDR, BUF_LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)BUF_ADDR)
		t_fail("cannot map the buffer at %#lx", BUF_ADDR);
	p = mmap((void *)UNMAPPED_ADDR, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)UNMAPPED_ADDR || munmap(p, PAGE) != 0)
		t_fail("cannot map and unmap a page at %#lx", UNMAPPED_ADDR);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		t_fail("open /dev/null: %s", t_errname(errno));
	int p2[2];
	if (pipe2(p2, O_CLOEXEC) != 0)
		t_fail("pipe: %s", t_errname(errno));
	close(p2[1]);
	pipe_rd = p2[0];
	/*
	 * The parent adopts the child's orphans (PR_SET_CHILD_SUBREAPER), so
	 * none reaches PID 1 and each is killed after its case. It blocks
	 * every signal but SIGALRM (test.h's watchdog), SIGTERM and SIGINT
	 * (run-all's timeout, an operator) and its own timer's: a reparented
	 * clone child announces its death with whatever exit signal it was
	 * given (the vectors give 1, 3 and 5) where a kernel does not reset
	 * it to SIGCHLD (reparent_exit_signal below); reap_strays discards
	 * them.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		t_fail("PR_SET_CHILD_SUBREAPER: %s", t_errname(errno));
	sigfillset(&parent_blocked);
	sigdelset(&parent_blocked, SIGALRM);
	sigdelset(&parent_blocked, SIGTERM);
	sigdelset(&parent_blocked, SIGINT);
	sigdelset(&parent_blocked, HARD_SIGNAL);
	sigprocmask(SIG_BLOCK, &parent_blocked, NULL);
	/* The hard limit: a timer whose handler (no SA_RESTART) ends the
	 * parent's waitpid with EINTR. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hard_limit;
	sigaction(HARD_SIGNAL, &sa, NULL);
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = HARD_SIGNAL;
	if (timer_create(CLOCK_MONOTONIC, &sev, &hard_timer) != 0)
		t_fail("timer_create: %s", t_errname(errno));
	gethostname(saved_host, sizeof(saved_host) - 1);
	getdomainname(saved_domain, sizeof(saved_domain) - 1);
	if (stat("/dev/null", &saved_null) != 0)
		t_fail("stat /dev/null: %s", t_errname(errno));
	if (chdir(t_tmpdir()) != 0)
		t_fail("chdir %s: %s", t_tmpdir(), t_errname(errno));
	done = 1;
}

static int guest_ok(void)
{
	const char *g = getenv("STARLING_SWEEP_GUEST");
	return on_starling() || (g && strcmp(g, "1") == 0);
}

/* Sweeps one class: prints "name class result" per call, and in the test
 * mode checks the results. */
static void sweep(const char *cls_name)
{
	const struct bad_class *c = NULL;
	for (int i = 0; i < NCLASSES; i++)
		if (strcmp(classes[i].name, cls_name) == 0)
			c = &classes[i];
	if (!c)
		t_fail("no class %s", cls_name);
	if (!record_mode && !guest_ok())
		t_skip("the sweep runs as root with hostile arguments: only on "
		       "Starling or in make sweep-linux's guest");
	setup();
	/* x86_64 compares with Linux; another architecture does when a
	 * table for it has been recorded. */
	int compare = 0;
	char tsv[300];
	snprintf(tsv, sizeof(tsv), "%s/linux-6.1-" SWEEP_ARCH ".tsv", data_dir());
	if (!record_mode && on_starling() &&
	    (LINUX_TABLE_REQUIRED || access(tsv, R_OK) == 0)) {
		load_table(&linux_table, "linux-6.1-" SWEEP_ARCH ".tsv", 0);
		load_table(&deviations, "deviations." SWEEP_ARCH, 1);
		compare = 1;
	}
	int cases = 0, bad = 0, listed = 0;
	long long t0 = t_now_ns();
	for (int i = 0; i < NSYS; i++) {
		const struct bad_sys *s = &syscalls[i];
		if (!record_mode && !s->dispatched)
			continue;
		unsigned long a[6];
		vector(c, a);
		if (skip_reason(s->name, a))
			continue;
		char res[48], line[160];
		run_case(s, a, res, sizeof(res));
		/* A busy host can stall an emulated call past 200 ms: a call
		 * that blocks blocks twice. */
		if (strcmp(res, "blocked") == 0)
			run_case(s, a, res, sizeof(res));
		cases++;
		int n = snprintf(line, sizeof(line), "%s %s %s\n", s->name,
				 c->name, res);
		add_line(line, (size_t)n);
		if (record_mode)
			continue;
		if (!compare) {
			if (!strncmp(res, "sig:", 4) && !is_may_kill(s->name)) {
				n = snprintf(line, sizeof(line), "# CRASH %s %s %s\n",
				     s->name, c->name, res);
			add_line(line, (size_t)n);
				bad++;
			}
			continue;
		}
		if (pid_dependent(s->name, c->name))
			continue;
		struct entry *l = find(&linux_table, s->name, c->name);
		if (!l) {
			n = snprintf(line, sizeof(line),
				     "# NO-LINUX %s %s %s (make sweep-linux)\n",
				     s->name, c->name, res);
			add_line(line, (size_t)n);
			bad++;
			continue;
		}
		if (strcmp(l->result, res) == 0)
			continue;
		struct entry *d = find_deviation(s->name, c->name, res, l->result);
		if (d) {
			d->used = 1;
			listed++;
			continue;
		}
		n = snprintf(line, sizeof(line), "# DEVIATION %s %s %s %s\n",
			     s->name, c->name, res, l->result);
		add_line(line, (size_t)n);
		bad++;
	}
	flush_lines();
	if (record_mode)
		return;
	t_info("%s: %d cases, %d listed deviations, %d failures, %lld ms",
	       c->name, cases, listed, bad, (t_now_ns() - t0) / 1000000);
	if (bad)
		t_fail("%d of %d cases %s", bad, cases,
		       compare ? "differ from Linux without a listed deviation"
			       : "killed their caller");
}

#define CLASS_TEST(n)      \
	TEST(n)            \
	{                  \
		sweep(#n); \
	}

CLASS_TEST(null)
CLASS_TEST(unmapped)
CLASS_TEST(kernel)
CLASS_TEST(misaligned)
CLASS_TEST(huge)
CLASS_TEST(allones)
CLASS_TEST(int_m1)
CLASS_TEST(fd_m1)
CLASS_TEST(fd_closed)
CLASS_TEST(fd_pipe)
CLASS_TEST(len0_fd)
CLASS_TEST(lenm1_fd)
CLASS_TEST(lenmax_fd)
CLASS_TEST(len0_ptr)
CLASS_TEST(lenm1_ptr)
CLASS_TEST(lenmax_ptr)

/*
 * Linux gives a reparented orphan the exit signal SIGCHLD (kernel/exit.c,
 * reparent_leader: "We don't want people slaying init"): a clone child made
 * with exit signal SIGHUP whose parent dies announces its own death to its
 * new reaper with SIGCHLD. The sweep's clone cases make such orphans (exit
 * signals 1, 3, 5); without the reset they killed PID 1.
 */
TEST(reparent_exit_signal)
{
	pid_t reaper = t_fork();
	if (reaper == 0) {
		CHECK_RET(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, NULL);
		int go[2];
		CHECK_RET(pipe(go), 0);
		pid_t mid = fork();
		if (mid == 0) {
			long g = syscall(SYS_clone, SIGHUP, 0, 0, 0, 0);
			if (g == 0) {
				/* Dies once its parent has gone. */
				char c;
				close(go[1]);
				while (read(go[0], &c, 1) < 0 && errno == EINTR)
					;
				_exit(0);
			}
			_exit(g > 0 ? 0 : 1);
		}
		CHECK(mid > 0);
		t_wait_exit(mid, 0);
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
		close(go[1]); /* the orphan, now this process's child, ends */
		close(go[0]);
		siginfo_t si;
		struct timespec limit = { 10, 0 };
		int sig = sigtimedwait(&set, &si, &limit);
		CHECK_MSG(sig == SIGCHLD,
			  "the orphan's death was signalled with %d, expected "
			  "SIGCHLD (%d)", sig, SIGCHLD);
		int st;
		CHECK(waitpid(si.si_pid, &st, __WALL) == si.si_pid);
		_exit(0);
	}
	t_wait_exit(reaper, 0);
}

/*
 * --record: the Linux side (make sweep-linux runs it in the Linux guest):
 * every named syscall of the architecture in every class, "name class
 * result" lines only. glibc hands constructors main's arguments, so the
 * option is seen before test.h's main() runs the sub-tests.
 */
__attribute__((constructor)) static void record_main(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--record") != 0)
		return;
	t_argv = argv;
	record_mode = 1;
	if (!guest_ok()) {
		static const char msg[] = "badargs --record: only in make "
					  "sweep-linux's guest "
					  "(STARLING_SWEEP_GUEST=1)\n";
		t_write_all(msg, sizeof(msg) - 1);
		_exit(2);
	}
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (setjmp(t_abort))
		_exit(1);
	for (int i = 0; i < NCLASSES; i++)
		sweep(classes[i].name);
	_exit(0);
}
