/*
 * waitid(2) and wait4(2) beyond exit: P_PID/P_PGID/P_ALL, WEXITED,
 * WSTOPPED/WUNTRACED, WCONTINUED, WNOWAIT, WNOHANG, the siginfo it fills,
 * SIGCHLD's si_code/si_status, SIGSTOP/SIGCONT, SA_NOCLDSTOP, SA_NOCLDWAIT
 * and SIGCHLD ignored (automatic reaping), zombies.
 */
#include "test.h"

static pid_t sleeper(void)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

TEST(waitid_exited_fills_siginfo)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(42);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 42);
	CHECK_EQ(si.si_uid, getuid());
}

TEST(waitid_killed)
{
	pid_t pid = sleeper();
	CHECK_OK(kill(pid, SIGTERM));
	siginfo_t si;
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGTERM);
}

TEST(core_signal_without_core_file)
{
	/* No core file is written, so the status has no "core dumped" bit
	 * and waitid reports CLD_KILLED... unless the system writes cores. */
	pid_t pid = t_fork();
	if (pid == 0) {
		struct rlimit { unsigned long cur, max; } rl = { 0, 0 };
		syscall(SYS_prlimit64, 0, 4 /* RLIMIT_CORE */, &rl, NULL);
		abort();
	}
	int st;
	CHECK_RET(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGABRT);
	CHECK(!WCOREDUMP(st));
}

TEST(waitid_wnowait_leaves_child_waitable)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(3);
	siginfo_t si;
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	CHECK_EQ(si.si_pid, pid);
	memset(&si, 0, sizeof(si));
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_status, 3);
	CHECK_ERR(waitid(P_PID, pid, &si, WEXITED), ECHILD);
}

TEST(waitid_wnohang_no_change)
{
	pid_t pid = sleeper();
	siginfo_t si;
	memset(&si, 0x55, sizeof(si));
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED | WNOHANG), 0);
	/* Nothing to report: si_pid is zeroed. */
	CHECK_EQ(si.si_pid, 0);
	CHECK_OK(kill(pid, SIGKILL));
	CHECK_RET(waitid(P_PID, pid, &si, WEXITED), 0);
}

TEST(waitid_pgid_and_all)
{
	pid_t a = t_fork();
	if (a == 0) {
		setpgid(0, 0);
		t_sleep_ms(50);
		_exit(1);
	}
	setpgid(a, a);
	siginfo_t si;
	CHECK_RET(waitid(P_PGID, a, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, a);
	pid_t b = t_fork();
	if (b == 0)
		_exit(2);
	CHECK_RET(waitid(P_ALL, 0, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, b);
	CHECK_EQ(si.si_status, 2);
}

TEST(waitid_errors)
{
	siginfo_t si;
	CHECK_ERR(waitid(P_PID, getpid() + 100000, &si, WEXITED), ECHILD);
	CHECK_ERR(waitid(P_PID, 1, &si, 0), EINVAL);
	CHECK_ERR(waitid((idtype_t)99, 0, &si, WEXITED), EINVAL);
	CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED | 0x10000), EINVAL);
}

TEST(stop_and_continue_reported)
{
	pid_t pid = sleeper();
	CHECK_OK(kill(pid, SIGSTOP));
	int st;
	CHECK_RET(waitpid(pid, &st, WUNTRACED), pid);
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGSTOP);
	/* Reported once. */
	CHECK_RET(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_RET(waitpid(pid, &st, WCONTINUED), pid);
	CHECK(WIFCONTINUED(st));
	CHECK_RET(waitpid(pid, &st, WCONTINUED | WNOHANG), 0);
	/* The same through waitid. */
	CHECK_OK(kill(pid, SIGTSTP));
	siginfo_t si;
	CHECK_RET(waitid(P_PID, pid, &si, WSTOPPED), 0);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_status, SIGTSTP);
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_RET(waitid(P_PID, pid, &si, WCONTINUED), 0);
	CHECK_EQ(si.si_code, CLD_CONTINUED);
	CHECK_EQ(si.si_status, SIGCONT);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
}

TEST(sigkill_ends_a_stopped_process)
{
	pid_t pid = sleeper();
	CHECK_OK(kill(pid, SIGSTOP));
	int st;
	CHECK_RET(waitpid(pid, &st, WUNTRACED), pid);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
}

static volatile sig_atomic_t chld_code, chld_status, chld_pid, chld_count;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_pid = si->si_pid;
	chld_count++;
}

static void catch_chld(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
	chld_code = chld_status = chld_pid = chld_count = 0;
}

static void wait_sigchld(int count)
{
	for (int i = 0; i < 500 && chld_count < count; i++)
		t_sleep_ms(5);
}

TEST(sigchld_siginfo)
{
	catch_chld(0);
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(9);
	wait_sigchld(1);
	CHECK_EQ(chld_count, 1);
	CHECK_EQ(chld_code, CLD_EXITED);
	CHECK_EQ(chld_status, 9);
	CHECK_EQ(chld_pid, pid);
	t_wait_exit(pid, 9);
	/* Stop and continue are signalled too. */
	pid = sleeper();
	chld_count = 0;
	CHECK_OK(kill(pid, SIGSTOP));
	wait_sigchld(1);
	CHECK_EQ(chld_code, CLD_STOPPED);
	CHECK_EQ(chld_status, SIGSTOP);
	chld_count = 0;
	CHECK_OK(kill(pid, SIGCONT));
	wait_sigchld(1);
	CHECK_EQ(chld_code, CLD_CONTINUED);
	CHECK_EQ(chld_status, SIGCONT);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
	signal(SIGCHLD, SIG_DFL);
}

TEST(sa_nocldstop)
{
	catch_chld(SA_NOCLDSTOP);
	pid_t pid = sleeper();
	CHECK_OK(kill(pid, SIGSTOP));
	int st;
	CHECK_RET(waitpid(pid, &st, WUNTRACED), pid);
	t_sleep_ms(20);
	CHECK_EQ(chld_count, 0);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
	CHECK_EQ(chld_count, 1);
	CHECK_EQ(chld_code, CLD_KILLED);
	signal(SIGCHLD, SIG_DFL);
}

TEST(sigchld_ignored_reaps_automatically)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		signal(SIGCHLD, SIG_IGN);
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		/* The child never becomes a zombie: wait finds nothing. */
		int st;
		pid_t r = waitpid(c, &st, 0);
		_exit(r == -1 && errno == ECHILD ? 0 : 1);
	}
	t_wait_exit(pid, 0);
}

TEST(sa_nocldwait_reaps_automatically)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = SA_NOCLDWAIT;
		sigaction(SIGCHLD, &sa, NULL);
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		int st;
		pid_t r = waitpid(c, &st, 0);
		_exit(r == -1 && errno == ECHILD ? 0 : 1);
	}
	t_wait_exit(pid, 0);
}

TEST(zombie_until_reaped)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(0);
	t_sleep_ms(50);
	/* Still there (a zombie): kill with signal 0 finds it. */
	CHECK_RET(kill(pid, 0), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		char buf[256] = { 0 };
		CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
		char *paren = strrchr(buf, ')');
		CHECK(paren && paren[2] == 'Z');
		close(fd);
	}
	t_wait_exit(pid, 0);
	CHECK_ERR(kill(pid, 0), ESRCH);
}
