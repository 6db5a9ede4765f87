/*
 * PID namespaces (pid_namespaces(7)): CLONE_NEWPID and unshare(CLONE_NEWPID),
 * nested numbering (init is 1, its parent 0), what the parent sees, signals
 * to the namespace's init, orphans reaped by it, and the end of the
 * namespace with its init.
 */
#include "test.h"

#include <sched.h>

static long fork_newpid(void)
{
#if defined(__x86_64__)
	return syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
#else
	return syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
#endif
}

static void need_root(void)
{
	if (geteuid() != 0)
		t_skip("needs CAP_SYS_ADMIN");
}

/* Child side helpers report through the exit status. */
#define EXPECT(cond, code)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			_exit(code);                                           \
	} while (0)

TEST(init_is_one_and_parent_is_zero)
{
	need_root();
	long pid = fork_newpid();
	if (pid == 0) {
		EXPECT(getpid() == 1, 10);
		EXPECT(getppid() == 0, 11);
		EXPECT(syscall(SYS_gettid) == 1, 12);
		pid_t c = fork();
		if (c == 0) {
			EXPECT(getpid() == 2, 20);
			EXPECT(getppid() == 1, 21);
			_exit(0);
		}
		EXPECT(c == 2, 13);
		int st;
		EXPECT(waitpid(c, &st, 0) == c, 14);
		EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, 15);
		_exit(0);
	}
	CHECK(pid > 1);
	/* The parent sees the child's number in its own namespace. */
	CHECK(pid != 1);
	t_wait_exit((pid_t)pid, 0);
}

TEST(errors)
{
	CHECK_ERR(syscall(SYS_clone, CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0,
			  0, 0),
		  EINVAL);
	if (geteuid() != 0)
		t_skip("needs root to drop privileges");
	pid_t p = t_fork();
	if (p == 0) {
		CHECK_RET(setresuid(1000, 1000, 1000), 0);
		CHECK_ERR(fork_newpid(), EPERM);
		CHECK_ERR(unshare(CLONE_NEWPID), EPERM);
		_exit(0);
	}
	t_wait_exit(p, 0);
}

static volatile sig_atomic_t got_usr1_pid = -1;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_usr1_pid = si->si_pid;
}

TEST(signals_to_init)
{
	need_root();
	int ready[2];
	CHECK_OK(pipe(ready));
	long pid = fork_newpid();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_usr1;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGUSR1, &sa, NULL);
		/* From inside: a default-action signal to init is dropped. */
		pid_t c = fork();
		if (c == 0) {
			EXPECT(kill(1, SIGTERM) == 0, 30);
			_exit(0);
		}
		int st;
		waitpid(c, &st, 0);
		EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, 31);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(32);
		/* Wait for SIGUSR1 from the parent, outside: si_pid is 0. */
		for (int i = 0; i < 1000 && got_usr1_pid == -1; i++)
			usleep(10000);
		EXPECT(got_usr1_pid == 0, 33);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	CHECK_OK(kill((pid_t)pid, SIGUSR1));
	t_sleep_ms(100);
	/* SIGKILL from the parent namespace ends the init. */
	CHECK_OK(kill((pid_t)pid, SIGKILL));
	t_wait_signal((pid_t)pid, SIGKILL);
	close(ready[0]);
}

TEST(orphans_go_to_the_namespace_init)
{
	need_root();
	long pid = fork_newpid();
	if (pid == 0) {
		int p[2];
		EXPECT(pipe(p) == 0, 40);
		pid_t mid = fork();
		if (mid == 0) {
			pid_t gc = fork();
			if (gc == 0) {
				for (int i = 0; i < 500 && getppid() != 1; i++)
					usleep(10000);
				pid_t pp = getppid();
				if (write(p[1], &pp, sizeof(pp)) != sizeof(pp))
					_exit(3);
				_exit(0);
			}
			_exit(0);
		}
		int st;
		waitpid(mid, &st, 0);
		pid_t pp = -1;
		EXPECT(read(p[0], &pp, sizeof(pp)) == sizeof(pp), 41);
		EXPECT(pp == 1, 42);
		/* The init reaps the orphan. */
		EXPECT(wait(&st) > 0, 43);
		_exit(0);
	}
	t_wait_exit((pid_t)pid, 0);
}

TEST(init_exit_kills_the_namespace)
{
	need_root();
	int p[2];
	CHECK_OK(pipe(p));
	long pid = fork_newpid();
	if (pid == 0) {
		close(p[0]);
		pid_t c = fork();
		if (c == 0) {
			/* Holds the pipe open until killed. */
			for (;;)
				pause();
		}
		_exit(7);
	}
	close(p[1]);
	t_wait_exit((pid_t)pid, 7);
	/* Every writer is gone: EOF. */
	char buf;
	CHECK_RET(read(p[0], &buf, 1), 0);
	close(p[0]);
}

TEST(unshare_moves_only_future_children)
{
	need_root();
	pid_t outer = t_fork();
	if (outer == 0) {
		pid_t me = getpid();
		CHECK_RET(unshare(CLONE_NEWPID), 0);
		CHECK_EQ(getpid(), me);
		pid_t a = fork();
		if (a == 0)
			_exit(getpid() == 1 && getppid() == 0 ? 0 : 1);
		CHECK(a > 1);
		int st;
		CHECK_RET(waitpid(a, &st, 0), a);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		/* Its init is gone: the namespace takes no new process. */
		CHECK_ERR(fork(), ENOMEM);
		_exit(0);
	}
	t_wait_exit(outer, 0);
}

TEST(waitid_reports_the_parents_view)
{
	need_root();
	long pid = fork_newpid();
	if (pid == 0)
		_exit(5);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_RET(waitid(P_PID, (id_t)pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 5);
}

TEST(nested_namespaces)
{
	need_root();
	long pid = fork_newpid();
	if (pid == 0) {
		long inner = fork_newpid();
		if (inner == 0) {
			EXPECT(getpid() == 1, 50);
			EXPECT(getppid() == 0, 51);
			_exit(0);
		}
		/* Seen from the first namespace, the inner init is number 2. */
		EXPECT(inner == 2, 52);
		int st;
		EXPECT(waitpid((pid_t)inner, &st, 0) == inner, 53);
		EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, 54);
		_exit(0);
	}
	t_wait_exit((pid_t)pid, 0);
}
