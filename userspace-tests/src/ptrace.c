/*
 * ptrace(2): TRACEME and the post-exec SIGTRAP (and PTRACE_EVENT_EXEC),
 * ATTACH/SEIZE/DETACH and their errors, stops reported to the tracer and
 * not to the real parent, TracerPid, PEEK/POKE of data and text (and of a
 * sealed memfd's shared mapping: EIO), signal-delivery-stops (suppression,
 * delivery, replacement, group stop), fork tracing, EXITKILL, TRACEEXIT,
 * INTERRUPT. Registers, FP state, single steps and PEEKSIGINFO are in
 * ptrace_regs.c, syscall stops in ptrace_syscall.c.
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

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_WRITE 0x0008
#endif

static volatile long data_word = 0x1122334455667788L;


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
		wait_for_go(go);
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
		wait_for_go(go);
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
		wait_for_go(go);
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

int t_child_main(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "exit7") == 0)
		return 7;
	return 2;
}
