/*
 * kill(2): to oneself, to a child, to a process group (negative pid and
 * pid 0), the existence check with signal 0, and its errors.
 */
#include "test.h"

#include <pthread.h>

/* A pid no process can have: above PID_MAX_LIMIT (4194304). */
#define NO_SUCH_PID 0x3ffffff0

static volatile sig_atomic_t hits;

static void on_usr1(int sig)
{
	(void)sig;
	hits++;
}

/* A child that waits (up to 10 s) to be killed. */
static pid_t sleeper(void)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		for (int i = 0; i < 100; i++)
			t_sleep_ms(100);
		_exit(99);
	}
	return pid;
}

TEST(to_self)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		CHECK_RET(kill(getpid(), SIGUSR1), 0);
		CHECK_EQ(hits, 1);
		CHECK_RET(kill(getpid(), 0), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(to_child)
{
	pid_t pid = sleeper();
	CHECK_RET(kill(pid, SIGTERM), 0);
	t_wait_signal(pid, SIGTERM);
	pid = sleeper();
	CHECK_RET(kill(pid, SIGKILL), 0);
	t_wait_signal(pid, SIGKILL);
}

TEST(sigkill_ends_a_process_that_blocks_everything)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (int s = 1; s < 32; s++)
			signal(s, SIG_IGN);
		(void)write(p[1], "r", 1);
		for (int i = 0; i < 100; i++)
			t_sleep_ms(100);
		_exit(99);
	}
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	CHECK_RET(kill(pid, SIGTERM), 0);
	CHECK_RET(kill(pid, SIGKILL), 0);
	t_wait_signal(pid, SIGKILL);
	close(p[0]);
	close(p[1]);
}

TEST(signal_zero_checks_existence)
{
	pid_t pid = sleeper();
	CHECK_RET(kill(pid, 0), 0);
	kill(pid, SIGKILL);
	t_wait(pid);
	/* Reaped: the pid no longer names a process. */
	CHECK_ERR(kill(pid, 0), ESRCH);
}

TEST(esrch)
{
	CHECK_ERR(kill(NO_SUCH_PID, SIGTERM), ESRCH);
	CHECK_ERR(kill(NO_SUCH_PID, 0), ESRCH);
	CHECK_ERR(kill(-NO_SUCH_PID, SIGTERM), ESRCH);
}

TEST(einval_bad_signal)
{
	CHECK_ERR(kill(getpid(), 65), EINVAL);
	CHECK_ERR(kill(getpid(), -1), EINVAL);
}

TEST(to_process_group)
{
	/* Two children in a new group led by the first; the test process
	 * stays outside it and must survive kill(-pgid). */
	pid_t a = sleeper();
	CHECK_RET(setpgid(a, a), 0);
	pid_t b = t_fork();
	if (b == 0) {
		setpgid(0, a);
		for (int i = 0; i < 100; i++)
			t_sleep_ms(100);
		_exit(99);
	}
	/* Set it from both sides, as shells do, so neither order races. */
	CHECK_RET(setpgid(b, a), 0);
	CHECK_RET(getpgid(b), a);
	CHECK_RET(kill(-a, SIGTERM), 0);
	t_wait_signal(a, SIGTERM);
	t_wait_signal(b, SIGTERM);
	/* The group is gone with its members. */
	CHECK_ERR(kill(-a, 0), ESRCH);
}

TEST(pid_zero_is_own_group)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setpgid(0, 0), 0);
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		int p[2];
		CHECK_RET(pipe(p), 0);
		pid_t gc = fork();
		if (gc == 0) {
			signal(SIGUSR1, SIG_DFL);
			(void)write(p[1], "r", 1);
			for (int i = 0; i < 100; i++)
				t_sleep_ms(100);
			_exit(99);
		}
		char c;
		CHECK_RET(read(p[0], &c, 1), 1);
		/* Our group: us (handler) and the grandchild (default: dies). */
		hits = 0;
		CHECK_RET(kill(0, SIGUSR1), 0);
		CHECK_EQ(hits, 1);
		t_wait_signal(gc, SIGUSR1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(eperm_unprivileged)
{
	/* An unprivileged process may not signal a process of another user. */
	pid_t target = sleeper();
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setuid(65534), 0);
		CHECK_ERR(kill(target, SIGTERM), EPERM);
		CHECK_ERR(kill(target, 0), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The target was untouched. */
	CHECK_RET(kill(target, 0), 0);
	kill(target, SIGKILL);
	t_wait(target);
}

static int tid_pipe[2];

static void *idle_thread(void *arg)
{
	(void)arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	if (write(tid_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		_exit(98);
	for (;;)
		pause();
	return NULL;
}

TEST(thread_id_names_its_process)
{
	/* kill(2) and rt_sigqueueinfo(2) look a positive id up as any task:
	 * a non-leader thread's id signals its whole process. */
	CHECK_OK(pipe(tid_pipe));
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, idle_thread, NULL);
		for (;;)
			pause();
	}
	pid_t tid;
	CHECK_RET(read(tid_pipe[0], &tid, sizeof(tid)), (ssize_t)sizeof(tid));
	CHECK(tid != pid);
	CHECK_OK(kill(tid, SIGTERM));
	t_wait_signal(pid, SIGTERM);
	close(tid_pipe[0]);
	close(tid_pipe[1]);
}

TEST(tkill_tgkill_errors)
{
	/* tgkill: both ids must be positive; a tid outside the group: ESRCH. */
	CHECK_ERR(syscall(SYS_tgkill, -1, getpid(), 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, 0, getpid(), 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), getpid(), 65), EINVAL);
	CHECK_RET(syscall(SYS_tgkill, getpid(), getpid(), 0), 0);
	pid_t child = sleeper();
	CHECK_ERR(syscall(SYS_tgkill, getpid(), child, 0), ESRCH);
	CHECK_RET(syscall(SYS_tkill, child, 0), 0);
	CHECK_ERR(syscall(SYS_tkill, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tkill, -5, 0), EINVAL);
	kill(child, SIGKILL);
	t_wait_signal(child, SIGKILL);
}
