/*
 * ptrace(2): TRACEME and the post-exec SIGTRAP (and PTRACE_EVENT_EXEC),
 * ATTACH/SEIZE/DETACH and their errors, stops reported to the tracer and
 * not to the real parent, TracerPid, PEEK/POKE of data and text (and of a
 * sealed memfd's shared mapping: EIO), registers (GETREGS/SETREGS,
 * GETREGSET/SETREGSET, PEEKUSER/POKEUSER), signal-delivery-stops
 * (suppression, delivery, replacement, group stop), fork tracing, EXITKILL,
 * TRACEEXIT, INTERRUPT, single steps (x86_64; EIO on riscv64), the FP
 * registers (NT_PRFPREG) and PEEKSIGINFO.
 * Syscall stops are in ptrace_syscall.c.
 */
#include "test.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "ptrace_util.h"

#ifndef PTRACE_PEEKSIGINFO
#define PTRACE_PEEKSIGINFO 0x4209
#endif
#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_WRITE 0x0008
#endif

static volatile long data_word = 0x1122334455667788L;

/* A child that traces itself, stops with SIGSTOP and then runs `body`. */
static pid_t traced_child(int (*body)(void))
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		raise(SIGSTOP);
		_exit(body());
	}
	expect_stop(pid, SIGSTOP);
	return pid;
}

/* A child that sleeps in short steps until killed. */
static pid_t sleeper(void)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		for (;;)
			t_sleep_ms(10);
	}
	return pid;
}

static int exit_seven(void)
{
	return 7;
}

TEST(traceme_exec_sigtrap)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		/* A second TRACEME: already traced. */
		if (pt(PTRACE_TRACEME, 0, 0, 0) != -1 || errno != EPERM)
			_exit(91);
		execl("/proc/self/exe", t_argv[0], "--child", "exit7", (char *)NULL);
		_exit(92);
	}
	int st = expect_stop(pid, SIGTRAP);
	CHECK_EQ(st >> 16, 0);
	siginfo_t si;
	CHECK_RET(pt(PTRACE_GETSIGINFO, pid, 0, &si), 0);
	CHECK_EQ(si.si_signo, SIGTRAP);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}

TEST(traceexec_event)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		raise(SIGSTOP);
		execl("/proc/self/exe", t_argv[0], "--child", "exit7", (char *)NULL);
		_exit(92);
	}
	expect_stop(pid, SIGSTOP);
	CHECK_ERR(pt(PTRACE_SETOPTIONS, pid, 0, 0x80000000UL), EINVAL);
	CHECK_RET(pt(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* waitid reports a ptrace-stop as CLD_TRAPPED with its exit code. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	CHECK_EQ(si.si_code, CLD_TRAPPED);
	CHECK_EQ(si.si_status, SIGTRAP | (PTRACE_EVENT_EXEC << 8));
	int st = expect_stop(pid, SIGTRAP);
	CHECK_EQ(st >> 16, PTRACE_EVENT_EXEC);
	unsigned long msg = 0;
	CHECK_RET(pt(PTRACE_GETEVENTMSG, pid, 0, &msg), 0);
	CHECK_EQ((long)msg, (long)pid);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}

TEST(attach_errors)
{
	CHECK_ERR(pt(PTRACE_ATTACH, getpid(), 0, 0), EPERM);
	CHECK_ERR(pt(PTRACE_ATTACH, 0x3ffffff, 0, 0), ESRCH);
	pid_t pid = sleeper();
	/* Not traced by us. */
	CHECK_ERR(pt(PTRACE_CONT, pid, 0, 0), ESRCH);
	CHECK_ERR(pt(PTRACE_SEIZE, pid, 8, 0), EIO);
	CHECK_ERR(pt(PTRACE_SEIZE, pid, 0, 0x80000000UL), EIO);
	/* An unprivileged process may not attach to root's. */
	pid_t other = t_fork();
	if (other == 0) {
		if (setuid(65534) != 0)
			_exit(1);
		_exit(pt(PTRACE_ATTACH, pid, 0, 0) == -1 && errno == EPERM ? 0 : 2);
	}
	t_wait_exit(other, 0);
	CHECK_RET(pt(PTRACE_ATTACH, pid, 0, 0), 0);
	CHECK_ERR(pt(PTRACE_ATTACH, pid, 0, 0), EPERM);
	expect_stop(pid, SIGSTOP);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* Running: requests that need a stopped tracee fail. */
	long word;
	CHECK_ERR(pt(PTRACE_PEEKDATA, pid, &data_word, &word), ESRCH);
	CHECK_RET(pt(PTRACE_KILL, pid, 0, 0), 0);
	t_wait_signal(pid, SIGKILL);
}

/* TracerPid of `pid` from /proc/PID/status (-1 if unreadable). */
static int tracer_pid(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strstr(buf, "TracerPid:");
	return p ? atoi(p + 10) : -1;
}

TEST(attach_peek_poke_detach)
{
	int go[2];
	CHECK_OK(pipe(go));
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		while (read(go[0], &c, 1) != 1)
			;
		_exit(data_word == 0x0badc0ffee0ddf00L ? 0 : 1);
	}
	close(go[0]);
	CHECK_EQ(tracer_pid(pid), 0);
	CHECK_RET(pt(PTRACE_ATTACH, pid, 0, 0), 0);
	expect_stop(pid, SIGSTOP);
	CHECK_EQ(tracer_pid(pid), getpid());
	CHECK_EQ(t_proc_state(pid), 't');
	long word = 0;
	CHECK_RET(pt(PTRACE_PEEKDATA, pid, &data_word, &word), 0);
	CHECK_EQ(word, 0x1122334455667788L);
	CHECK_RET(pt(PTRACE_POKEDATA, pid, &data_word, 0x0badc0ffee0ddf00L), 0);
	CHECK_RET(pt(PTRACE_PEEKDATA, pid, &data_word, &word), 0);
	CHECK_EQ(word, 0x0badc0ffee0ddf00L);
	/* Our own copy is untouched. */
	CHECK_EQ(data_word, 0x1122334455667788L);
	CHECK_ERR(pt(PTRACE_PEEKDATA, pid, (void *)8, &word), EIO);
	CHECK_ERR(pt(PTRACE_POKEDATA, pid, (void *)8, 0), EIO);
	CHECK_ERR(pt(PTRACE_DETACH, pid, 0, 1000), EIO);
	CHECK_RET(pt(PTRACE_DETACH, pid, 0, 0), 0);
	CHECK_EQ(tracer_pid(pid), 0);
	CHECK_ERR(pt(PTRACE_CONT, pid, 0, 0), ESRCH);
	CHECK_RET(write(go[1], "x", 1), 1);
	t_wait_exit(pid, 0);
	close(go[1]);
}

static __attribute__((noinline)) int text_target(void)
{
	return 42;
}

TEST(peek_poke_text)
{
	pid_t pid = sleeper();
	CHECK_RET(pt(PTRACE_ATTACH, pid, 0, 0), 0);
	expect_stop(pid, SIGSTOP);
	long mine, word = 0;
	memcpy(&mine, (void *)text_target, sizeof(mine));
	CHECK_RET(pt(PTRACE_PEEKTEXT, pid, (void *)text_target, &word), 0);
	CHECK_EQ(word, mine);
	/* Read-only private text is written through a private copy. */
	CHECK_RET(pt(PTRACE_POKETEXT, pid, (void *)text_target, ~mine), 0);
	CHECK_RET(pt(PTRACE_PEEKTEXT, pid, (void *)text_target, &word), 0);
	CHECK_EQ(word, ~mine);
	long now;
	memcpy(&now, (void *)text_target, sizeof(now));
	CHECK_EQ(now, mine);
	CHECK_RET(pt(PTRACE_POKETEXT, pid, (void *)text_target, mine), 0);
	CHECK_RET(pt(PTRACE_KILL, pid, 0, 0), 0);
	t_wait_signal(pid, SIGKILL);
}

TEST(poke_sealed_memfd)
{
	int fd = memfd_create("ptrace-seal", MFD_ALLOW_SEALING);
	CHECK(fd >= 0);
	char page[4096];
	memset(page, 'a', sizeof(page));
	CHECK_RET(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	CHECK_RET(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	volatile long *shared = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	volatile long *private = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(shared != MAP_FAILED && private != MAP_FAILED);
	int go[2];
	CHECK_OK(pipe(go));
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		while (read(go[0], &c, 1) != 1)
			;
		long file;
		if (pread(fd, &file, sizeof(file), 0) != sizeof(file))
			_exit(1);
		if (file != 0x6161616161616161L || shared[0] != file)
			_exit(2);
		_exit(private[0] == 0x4242424242424242L ? 0 : 3);
	}
	close(go[0]);
	CHECK_RET(pt(PTRACE_ATTACH, pid, 0, 0), 0);
	expect_stop(pid, SIGSTOP);
	long word = 0;
	CHECK_RET(pt(PTRACE_PEEKDATA, pid, shared, &word), 0);
	CHECK_EQ(word, 0x6161616161616161L);
	/* ptrace_access_vm: a sealed shared mapping cannot be written. */
	CHECK_ERR(pt(PTRACE_POKEDATA, pid, shared, 0x4242424242424242L), EIO);
	CHECK_RET(pt(PTRACE_POKEDATA, pid, private, 0x4242424242424242L), 0);
	CHECK_RET(pt(PTRACE_DETACH, pid, 0, 0), 0);
	CHECK_RET(write(go[1], "x", 1), 1);
	t_wait_exit(pid, 0);
	close(go[1]);
	close(fd);
}

TEST(stops_go_to_tracer_not_parent)
{
	pid_t victim = sleeper();
	int ready[2], done[2];
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(done));
	pid_t tracer = t_fork();
	if (tracer == 0) {
		char c;
		if (pt(PTRACE_ATTACH, victim, 0, 0) != 0)
			_exit(1);
		int st;
		if (waitpid(victim, &st, __WALL) != victim || !WIFSTOPPED(st) ||
		    WSTOPSIG(st) != SIGSTOP)
			_exit(2);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(3);
		_exit(pt(PTRACE_DETACH, victim, 0, 0) == 0 ? 0 : 4);
	}
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	int st;
	CHECK_RET(waitpid(victim, &st, WNOHANG | WUNTRACED), 0);
	CHECK_RET(write(done[1], "d", 1), 1);
	t_wait_exit(tracer, 0);
	CHECK_OK(kill(victim, SIGKILL));
	t_wait_signal(victim, SIGKILL);
}

static volatile sig_atomic_t usr1_count, usr2_count;

static void on_usr(int sig)
{
	if (sig == SIGUSR1)
		usr1_count++;
	else
		usr2_count++;
}

static int signal_body(void)
{
	char c;
	while (read(3, &c, 1) != 1)
		;
	return usr1_count * 10 + usr2_count;
}

TEST(signal_injection)
{
	int go[2];
	CHECK_OK(pipe(go));
	CHECK_OK(dup2(go[0], 3));
	struct sigaction sa = { .sa_handler = on_usr, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	pid_t pid = traced_child(signal_body);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	close(3);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* Suppressed: CONT with 0. */
	CHECK_OK(kill(pid, SIGUSR1));
	expect_stop(pid, SIGUSR1);
	siginfo_t si;
	CHECK_RET(pt(PTRACE_GETSIGINFO, pid, 0, &si), 0);
	CHECK_EQ(si.si_signo, SIGUSR1);
	CHECK_EQ(si.si_code, SI_USER);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* Delivered: CONT with the signal. */
	CHECK_OK(kill(pid, SIGUSR1));
	expect_stop(pid, SIGUSR1);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, SIGUSR1), 0);
	/* Replaced: CONT with another signal. */
	CHECK_OK(kill(pid, SIGUSR1));
	expect_stop(pid, SIGUSR1);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, SIGUSR2), 0);
	/* SIGKILL is never stopped for. */
	CHECK_RET(write(go[1], "x", 1), 1);
	t_wait_exit(pid, 11);
	close(go[0]);
	close(go[1]);
}

TEST(group_stop)
{
	pid_t pid = sleeper();
	CHECK_RET(pt(PTRACE_ATTACH, pid, 0, 0), 0);
	expect_stop(pid, SIGSTOP);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	CHECK_OK(kill(pid, SIGSTOP));
	/* The signal-delivery-stop (with a siginfo)... */
	expect_stop(pid, SIGSTOP);
	siginfo_t si;
	CHECK_RET(pt(PTRACE_GETSIGINFO, pid, 0, &si), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, SIGSTOP), 0);
	/* ...then the group-stop (none). */
	expect_stop(pid, SIGSTOP);
	CHECK_ERR(pt(PTRACE_GETSIGINFO, pid, 0, &si), EINVAL);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* SIGKILL kills without a stop. */
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
}

/* SIGCONT sent while the tracer holds a SIGSTOP: passing the SIGSTOP on
 * no longer stops the tracee (JOBCTL_STOP_DEQUEUED); SIGCONT comes next. */
TEST(stop_after_cont_does_not_stop)
{
	pid_t pid = sleeper();
	CHECK_RET(pt(PTRACE_ATTACH, pid, 0, 0), 0);
	expect_stop(pid, SIGSTOP);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	CHECK_OK(kill(pid, SIGSTOP));
	expect_stop(pid, SIGSTOP);
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_RET(pt(PTRACE_CONT, pid, 0, SIGSTOP), 0);
	expect_stop(pid, SIGCONT);
	siginfo_t si;
	CHECK_RET(pt(PTRACE_GETSIGINFO, pid, 0, &si), 0);
	CHECK_EQ(si.si_signo, SIGCONT);
	CHECK_RET(pt(PTRACE_KILL, pid, 0, 0), 0);
	t_wait_signal(pid, SIGKILL);
}

static int fork_body(void)
{
	pid_t gc = fork();
	if (gc == 0)
		_exit(5);
	int st;
	if (waitpid(gc, &st, 0) != gc)
		return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 5 ? 0 : 2;
}

TEST(tracefork_auto_attach)
{
	pid_t pid = traced_child(fork_body);
	CHECK_RET(pt(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEFORK), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	int st = expect_stop(pid, SIGTRAP);
	CHECK_EQ(st >> 16, PTRACE_EVENT_FORK);
	unsigned long gc = 0;
	CHECK_RET(pt(PTRACE_GETEVENTMSG, pid, 0, &gc), 0);
	CHECK(gc > 0);
	expect_stop((pid_t)gc, SIGSTOP);
	CHECK_EQ(tracer_pid((pid_t)gc), getpid());
	CHECK_RET(pt(PTRACE_CONT, (pid_t)gc, 0, 0), 0);
	/* The tracer (not the parent) hears of the grandchild's exit. */
	int gst;
	CHECK_RET(waitpid((pid_t)gc, &gst, __WALL), (pid_t)gc);
	CHECK(WIFEXITED(gst) && WEXITSTATUS(gst) == 5);
	/* The child's SIGCHLD stops it on the way: pass it on. */
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	expect_stop(pid, SIGCHLD);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, SIGCHLD), 0);
	t_wait_exit(pid, 0);
}

TEST(exitkill)
{
	pid_t victim = sleeper();
	pid_t tracer = t_fork();
	if (tracer == 0)
		_exit(pt(PTRACE_SEIZE, victim, 0, PTRACE_O_EXITKILL) == 0 ? 0 : 1);
	t_wait_exit(tracer, 0);
	t_wait_signal(victim, SIGKILL);
}

TEST(tracer_exit_detaches)
{
	int go[2];
	CHECK_OK(pipe(go));
	pid_t victim = t_fork();
	if (victim == 0) {
		char c;
		close(go[1]);
		while (read(go[0], &c, 1) != 1)
			;
		_exit(3);
	}
	close(go[0]);
	pid_t tracer = t_fork();
	if (tracer == 0) {
		int st;
		if (pt(PTRACE_ATTACH, victim, 0, 0) != 0)
			_exit(1);
		if (waitpid(victim, &st, __WALL) != victim)
			_exit(2);
		_exit(0);
	}
	t_wait_exit(tracer, 0);
	CHECK_EQ(tracer_pid(victim), 0);
	CHECK_RET(write(go[1], "x", 1), 1);
	t_wait_exit(victim, 3);
	close(go[1]);
}

static int exit_three(void)
{
	return 3;
}

TEST(traceexit_event)
{
	pid_t pid = traced_child(exit_three);
	CHECK_RET(pt(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXIT), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	int st = expect_stop(pid, SIGTRAP);
	CHECK_EQ(st >> 16, PTRACE_EVENT_EXIT);
	unsigned long msg = 0;
	CHECK_RET(pt(PTRACE_GETEVENTMSG, pid, 0, &msg), 0);
	CHECK_EQ((long)msg, 3L << 8);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 3);
}

TEST(seize_interrupt)
{
	pid_t pid = sleeper();
	CHECK_RET(pt(PTRACE_SEIZE, pid, 0, 0), 0);
	/* No SIGSTOP after SEIZE. */
	int st;
	t_sleep_ms(30);
	CHECK_RET(waitpid(pid, &st, WNOHANG | __WALL), 0);
	CHECK_RET(pt(PTRACE_INTERRUPT, pid, 0, 0), 0);
	st = expect_stop(pid, SIGTRAP);
	CHECK_EQ(st >> 16, PTRACE_EVENT_STOP);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	/* A seized tracee's group-stop is an EVENT_STOP with the signal. */
	CHECK_OK(kill(pid, SIGSTOP));
	st = expect_stop(pid, SIGSTOP);
	CHECK_EQ(st >> 16, 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, SIGSTOP), 0);
	st = expect_stop(pid, SIGSTOP);
	CHECK_EQ(st >> 16, PTRACE_EVENT_STOP);
	siginfo_t si;
	CHECK_RET(pt(PTRACE_GETSIGINFO, pid, 0, &si), 0);
	CHECK_EQ(si.si_signo, SIGSTOP);
	CHECK_EQ(si.si_code, SIGSTOP | (PTRACE_EVENT_STOP << 8));
	/* LISTEN: stays stopped, not available to requests, until SIGCONT. */
	CHECK_RET(pt(PTRACE_LISTEN, pid, 0, 0), 0);
	CHECK_ERR(pt(PTRACE_CONT, pid, 0, 0), ESRCH);
	t_sleep_ms(20);
	CHECK_RET(waitpid(pid, &st, WNOHANG | __WALL), 0);
	/* SIGCONT re-traps it (EVENT_STOP, SIGTRAP), then it is delivered. */
	CHECK_OK(kill(pid, SIGCONT));
	st = expect_stop(pid, SIGTRAP);
	CHECK_EQ(st >> 16, PTRACE_EVENT_STOP);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	expect_stop(pid, SIGCONT);
	CHECK_RET(pt(PTRACE_DETACH, pid, 0, 0), 0);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
}

/* Debuggers relocate a PIE with AT_ENTRY from /proc/PID/auxv. */
TEST(proc_auxv)
{
	int fd = open("/proc/self/auxv", O_RDONLY);
	CHECK(fd >= 0);
	unsigned long v[128];
	ssize_t n = read(fd, v, sizeof(v));
	close(fd);
	CHECK(n > 0 && n % 16 == 0);
	int found = 0;
	for (ssize_t i = 0; i < n / 8; i += 2) {
		if (v[i] == AT_ENTRY) {
			CHECK_EQ(v[i + 1], getauxval(AT_ENTRY));
			found++;
		}
		if (v[i] == AT_PHDR) {
			CHECK_EQ(v[i + 1], getauxval(AT_PHDR));
			found++;
		}
	}
	CHECK_EQ(found, 2);
	CHECK_EQ(v[n / 8 - 2], AT_NULL);
}

/* struct ptrace_peeksiginfo_args (linux/ptrace.h). */
struct peek_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

static long peek(pid_t pid, uint64_t off, uint32_t flags, int32_t nr, void *buf)
{
	struct peek_args a = { off, flags, nr };
	return pt(PTRACE_PEEKSIGINFO, pid, &a, buf);
}

/*
 * Blocks SIGUSR1 and SIGRTMIN, queues SIGUSR1 to the thread and SIGRTMIN
 * twice (values 1 and 2) to the process, stops; once resumed, exits 0 if
 * all of them are still pending.
 */
static int queue_and_stop(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return 10;
	if (syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) != 0)
		return 11;
	for (int v = 1; v <= 2; v++)
		if (sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = v }) != 0)
			return 12;
	raise(SIGSTOP);
	sigset_t pending;
	sigpending(&pending);
	if (!sigismember(&pending, SIGUSR1) || !sigismember(&pending, SIGRTMIN))
		return 13;
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	/* Both SIGRTMIN instances are still queued, in order. */
	for (int v = 1; v <= 2; v++)
		if (sigtimedwait(&rt, &si, &zero) != SIGRTMIN || si.si_value.sival_int != v)
			return 14;
	return 0;
}

TEST(peeksiginfo)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		_exit(queue_and_stop());
	}
	expect_stop(pid, SIGSTOP);
	siginfo_t si[4];
	memset(si, 0, sizeof(si));
	/* The thread's queue: SIGUSR1 from tgkill. */
	CHECK_RET(peek(pid, 0, 0, 4, si), 1);
	CHECK_EQ(si[0].si_signo, SIGUSR1);
	CHECK_EQ(si[0].si_code, SI_TKILL);
	CHECK_EQ(si[0].si_pid, pid);
	/* The process's queue: both real-time instances, oldest first. */
	memset(si, 0, sizeof(si));
	CHECK_RET(peek(pid, 0, PTRACE_PEEKSIGINFO_SHARED, 4, si), 2);
	CHECK_EQ(si[0].si_signo, SIGRTMIN);
	CHECK_EQ(si[0].si_code, SI_QUEUE);
	CHECK_EQ(si[0].si_value.sival_int, 1);
	CHECK_EQ(si[1].si_signo, SIGRTMIN);
	CHECK_EQ(si[1].si_value.sival_int, 2);
	/* An offset, nr limiting the count, nothing past the end. */
	memset(si, 0, sizeof(si));
	CHECK_RET(peek(pid, 1, PTRACE_PEEKSIGINFO_SHARED, 4, si), 1);
	CHECK_EQ(si[0].si_value.sival_int, 2);
	CHECK_RET(peek(pid, 0, PTRACE_PEEKSIGINFO_SHARED, 1, si), 1);
	CHECK_EQ(si[0].si_value.sival_int, 1);
	CHECK_RET(peek(pid, 2, PTRACE_PEEKSIGINFO_SHARED, 4, si), 0);
	CHECK_RET(peek(pid, 0, 0, 0, si), 0);
	/* An offset past ULONG_MAX's reach would be 0; a huge one is too. */
	CHECK_RET(peek(pid, UINT64_MAX, 0, 4, si), 0);
	/* Unknown flags and a negative count, before the queue is looked at. */
	CHECK_ERR(peek(pid, 0, 2, 4, si), EINVAL);
	CHECK_ERR(peek(pid, 5, 2, 4, si), EINVAL);
	CHECK_ERR(peek(pid, 0, 0, -1, si), EINVAL);
	/* EFAULT for the arguments and for a buffer nothing could reach... */
	CHECK_ERR(pt(PTRACE_PEEKSIGINFO, pid, 8, si), EFAULT);
	CHECK_ERR(peek(pid, 0, 0, 4, (void *)8), EFAULT);
	/* ...but not when there is nothing to copy. */
	CHECK_RET(peek(pid, 3, 0, 4, (void *)8), 0);
	/* A buffer that ends after the first entry: one copied. */
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_OK(munmap(m + pg, pg));
	siginfo_t *last = (siginfo_t *)(m + pg - sizeof(siginfo_t));
	CHECK_RET(peek(pid, 0, PTRACE_PEEKSIGINFO_SHARED, 2, last), 1);
	CHECK_EQ(last->si_value.sival_int, 1);
	CHECK_OK(munmap(m, pg));
	/* Peeking took nothing off the queues: the tracee still has them. */
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 0);
}

/* A known double put into an FP register before the tracee stops, and the
 * one the tracer puts there instead. */
#define FP_IN 0x400921fb54442d18ULL  /* pi */
#define FP_OUT 0x4005bf0a8b145769ULL /* e */

#if defined(__x86_64__)
/* The FP register set (NT_PRFPREG): struct user_fpregs_struct, fxsave. */
typedef struct user_fpregs_struct fp_set;
#define FP_SET_SIZE 512

/* xmm7's low quadword in fxsave layout. */
static uint64_t *fp_word(fp_set *f)
{
	return (uint64_t *)&f->xmm_space[7 * 4];
}

/* Puts FP_IN in xmm7, stops with kill(SIGSTOP) (the syscall keeps xmm7),
 * then returns 0 if the tracer left FP_OUT there. */
static int fp_child(void)
{
	uint64_t in = FP_IN, out;
	long ret;
	__asm__ volatile("movq %[in], %%xmm7\n\t"
			 "syscall\n\t"
			 "movq %%xmm7, %[out]\n\t"
			 : [out] "=&r"(out), "=a"(ret)
			 : [in] "r"(in), "a"((long)SYS_kill), "D"((long)getpid()),
			   "S"((long)SIGSTOP)
			 : "rcx", "r11", "xmm7", "memory");
	return ret == 0 && out == FP_OUT ? 0 : 1;
}

static void fp_check_extra(fp_set *f)
{
	CHECK_EQ(f->mxcsr, 0x1f80);
}

static void fp_set_extra(fp_set *f)
{
	(void)f;
}
#elif defined(__riscv)
/* struct __riscv_d_ext_state, padded to the regset's 33 words. */
typedef struct {
	uint64_t f[32];
	uint32_t fcsr;
	uint32_t pad;
} fp_set;
#define FP_SET_SIZE 264

static uint64_t *fp_word(fp_set *f)
{
	return &f->f[9]; /* fs1 */
}

/* Puts FP_IN in fs1 and 0x41 (rounding mode RDN, NX) in fcsr, stops with
 * kill(SIGSTOP), then returns 0 if the tracer left FP_OUT and 0x30 (RTZ,
 * NV) there. */
static int fp_child(void)
{
	register long a0 __asm__("a0") = getpid();
	register long a1 __asm__("a1") = SIGSTOP;
	register long a7 __asm__("a7") = SYS_kill;
	uint64_t in = FP_IN, out, fcsr;
	__asm__ volatile("fmv.d.x fs1, %[in]\n\t"
			 "csrw fcsr, %[csr]\n\t"
			 "ecall\n\t"
			 "fmv.x.d %[out], fs1\n\t"
			 "frcsr %[fcsr]\n\t"
			 : [out] "=&r"(out), [fcsr] "=&r"(fcsr), "+r"(a0)
			 : [in] "r"(in), [csr] "r"(0x41L), "r"(a1), "r"(a7)
			 : "fs1", "memory");
	return a0 == 0 && out == FP_OUT && fcsr == 0x30 ? 0 : 1;
}

static void fp_check_extra(fp_set *f)
{
	CHECK_EQ(f->fcsr, 0x41);
	CHECK_EQ(f->pad, 0);
}

static void fp_set_extra(fp_set *f)
{
	f->fcsr = 0x30;
}
#endif

TEST(fp_regset_round_trip)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		_exit(fp_child());
	}
	expect_stop(pid, SIGSTOP);
	_Static_assert(sizeof(fp_set) == FP_SET_SIZE, "NT_PRFPREG layout");
	fp_set f[2];
	memset(f, 0xa5, sizeof(f));
	/* A larger buffer: the set's size comes back, the rest is untouched. */
	struct iovec iov = { f, sizeof(f) };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, FP_SET_SIZE);
	CHECK_EQ(*fp_word(&f[0]), FP_IN);
	fp_check_extra(&f[0]);
	CHECK_EQ(((unsigned char *)&f[1])[0], 0xa5);
	/* A short read, and lengths that are not whole words. */
	uint64_t head[2];
	iov = (struct iovec){ head, sizeof(head) };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, sizeof(head));
	CHECK(memcmp(head, &f[0], sizeof(head)) == 0);
	iov = (struct iovec){ head, 12 };
	CHECK_ERR(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), EINVAL);
	CHECK_ERR(pt(PTRACE_SETREGSET, pid, NT_PRFPREG, &iov), EINVAL);
	iov = (struct iovec){ head, 4 };
	CHECK_ERR(pt(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov), EINVAL);
	/* The new value is what the tracee finds when it runs again. */
	*fp_word(&f[0]) = FP_OUT;
	fp_set_extra(&f[0]);
	iov = (struct iovec){ &f[0], FP_SET_SIZE };
	CHECK_RET(pt(PTRACE_SETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, FP_SET_SIZE);
	memset(&f[1], 0, sizeof(f[1]));
	iov = (struct iovec){ &f[1], FP_SET_SIZE };
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(*fp_word(&f[1]), FP_OUT);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 0);
}

#if defined(__x86_64__)
/* 1 + 2 * 5 instructions from step_start to step_end. */
__asm__(".text\n"
	"step_start:\n"
	"	mov $5, %ecx\n"
	"1:	dec %ecx\n"
	"	jnz 1b\n"
	"step_end:\n"
	"	ud2\n");
extern char step_start[], step_end[];

TEST(singlestep)
{
	pid_t pid = traced_child(exit_seven);
	struct user_regs_struct saved, r;
	CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &saved), 0);
	r = saved;
	r.rip = (unsigned long)step_start;
	CHECK_RET(pt(PTRACE_SETREGS, pid, 0, &r), 0);
	int steps = 0;
	for (;;) {
		CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &r), 0);
		if (r.rip == (unsigned long)step_end || steps > 100)
			break;
		CHECK_RET(pt(PTRACE_SINGLESTEP, pid, 0, 0), 0);
		expect_stop(pid, SIGTRAP);
		steps++;
	}
	CHECK_EQ(steps, 11);
	CHECK_EQ(r.rcx & 0xffffffff, 0);
	CHECK_RET(pt(PTRACE_SETREGS, pid, 0, &saved), 0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}

TEST(peekuser_pokeuser)
{
	pid_t pid = traced_child(exit_seven);
	struct user_regs_struct r;
	CHECK_RET(pt(PTRACE_GETREGS, pid, 0, &r), 0);
	long v = 0;
	size_t off = offsetof(struct user_regs_struct, rip);
	CHECK_RET(pt(PTRACE_PEEKUSER, pid, off, &v), 0);
	CHECK_EQ((unsigned long)v, r.rip);
	CHECK_ERR(pt(PTRACE_PEEKUSER, pid, 3, &v), EIO);
	CHECK_ERR(pt(PTRACE_PEEKUSER, pid, 4096, &v), EIO);
	off = offsetof(struct user_regs_struct, r12);
	CHECK_RET(pt(PTRACE_POKEUSER, pid, off, 0x5a5a), 0);
	CHECK_RET(pt(PTRACE_PEEKUSER, pid, off, &v), 0);
	CHECK_EQ(v, 0x5a5a);
	CHECK_RET(pt(PTRACE_POKEUSER, pid, off, r.r12), 0);
	/* A 64-bit tracee has Linux's user code selector. */
	CHECK_EQ(r.cs, 0x33);
	/* The x87/SSE state: defaults, and a change read back. */
	struct user_fpregs_struct fp;
	CHECK_RET(pt(PTRACE_GETFPREGS, pid, 0, &fp), 0);
	CHECK_EQ(fp.cwd, 0x37f);
	CHECK_EQ(fp.mxcsr, 0x1f80);
	fp.mxcsr = 0x1fc0;
	CHECK_RET(pt(PTRACE_SETFPREGS, pid, 0, &fp), 0);
	struct iovec iov = { &fp, sizeof(fp) };
	memset(&fp, 0, sizeof(fp));
	CHECK_RET(pt(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov), 0);
	CHECK_EQ(iov.iov_len, sizeof(fp));
	CHECK_EQ(fp.mxcsr, 0x1fc0);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}
#else
TEST(singlestep_unsupported)
{
	pid_t pid = traced_child(exit_seven);
	CHECK_ERR(pt(PTRACE_SINGLESTEP, pid, 0, 0), EIO);
	long v;
	CHECK_ERR(pt(PTRACE_PEEKUSER, pid, 0, &v), EIO);
	CHECK_RET(pt(PTRACE_CONT, pid, 0, 0), 0);
	t_wait_exit(pid, 7);
}
#endif

int t_child_main(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "exit7") == 0)
		return 7;
	return 2;
}
