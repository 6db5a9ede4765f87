/*
 * Process creation and reaping: fork(2), vfork(2), clone(2) in its process
 * form, wait4(2) and the wait status macros, _exit(2) vs exit_group(2).
 */

#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <sys/resource.h>

/* clone(2) as a fork: no new stack, SIGCHLD on exit.  Argument order
 * differs per arch, but with everything after `flags` zero it does not matter. */
static long raw_clone(unsigned long flags)
{
	return syscall(SYS_clone, flags, 0UL, 0UL, 0UL, 0UL);
}

static long raw_wait4(pid_t pid, int *st, int opts, struct rusage *ru)
{
	return syscall(SYS_wait4, pid, st, opts, ru);
}

TEST(fork_returns_pid_and_zero)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t parent = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		pid_t me = getpid();
		CHECK(me != parent);
		CHECK_EQ(getppid(), parent);
		CHECK_RET(write(p[1], &me, sizeof(me)), sizeof(me));
		_exit(0);
	}
	CHECK(pid > 0);
	pid_t reported = 0;
	CHECK_RET(read(p[0], &reported, sizeof(reported)), sizeof(reported));
	CHECK_EQ(reported, pid);
	t_wait_exit(pid, 0);
	close(p[0]);
	close(p[1]);
}

static int global_var = 1;

TEST(fork_copies_memory)
{
	int stack_var = 2;
	int *heap_var = malloc(sizeof(int));
	CHECK(heap_var != NULL);
	*heap_var = 3;
	global_var = 1;
	pid_t pid = t_fork();
	if (pid == 0) {
		/* The child starts with the parent's values ... */
		CHECK_EQ(global_var, 1);
		CHECK_EQ(stack_var, 2);
		CHECK_EQ(*heap_var, 3);
		global_var = 10;
		stack_var = 20;
		*heap_var = 30;
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* ... and its writes stay its own. */
	CHECK_EQ(global_var, 1);
	CHECK_EQ(stack_var, 2);
	CHECK_EQ(*heap_var, 3);
	free(heap_var);
}

TEST(fork_shares_file_offset)
{
	/* The child's descriptor refers to the same open file description. */
	int fd = CHECK_OK(open(t_path("offset"), O_RDWR | O_CREAT | O_TRUNC, 0600));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(write(fd, "abc", 3), 3);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 3);
	close(fd);
}

static volatile int vfork_flag;

TEST(vfork_shares_memory_and_suspends_parent)
{
	vfork_flag = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		/* Parent is suspended until we _exit, and sees our write. */
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		syscall(SYS_nanosleep, &ts, NULL);
		vfork_flag = 1;
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_MSG(vfork_flag == 1,
		  "parent ran before the vfork child exited, or memory not shared");
	t_wait_exit(pid, 0);
}

static volatile sig_atomic_t chld_count;
static siginfo_t chld_info;

static void on_sigchld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chld_info = *si;
	chld_count++;
}

TEST(clone_process_sigchld)
{
	struct sigaction sa = { .sa_sigaction = on_sigchld,
				.sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	CHECK_RET(sigaction(SIGCHLD, &sa, NULL), 0);
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK_RET(sigprocmask(SIG_BLOCK, &chld, &old), 0);
	chld_count = 0;
	pid_t parent = getpid();

	long pid = raw_clone(SIGCHLD);
	if (pid == 0) {
		if (getppid() != parent || getpid() == parent)
			_exit(1);
		_exit(5);
	}
	CHECK_MSG(pid > 0, "clone(SIGCHLD) failed: %s", t_errname(errno));
	int st;
	CHECK_RET(raw_wait4((pid_t)pid, &st, 0, NULL), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 5);
	/* The exit signal was SIGCHLD: pending now, delivered on unblock. */
	CHECK_RET(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	signal(SIGCHLD, SIG_DFL);
	CHECK_EQ(chld_count, 1);
	CHECK_EQ(chld_info.si_signo, SIGCHLD);
	CHECK_EQ(chld_info.si_code, CLD_EXITED);
	CHECK_EQ(chld_info.si_pid, pid);
	CHECK_EQ(chld_info.si_status, 5);
}

TEST(clone_invalid_flags)
{
	/* clone(2): CLONE_SIGHAND needs CLONE_VM, CLONE_THREAD needs
	 * CLONE_SIGHAND.  A wrongly created child exits at once (raw exit,
	 * so that a thread would not take the process down with it). */
	long r = raw_clone(CLONE_SIGHAND | SIGCHLD);
	if (r == 0)
		syscall(SYS_exit, 0);
	if (r > 0) {
		t_wait(r);
		t_fail("clone(CLONE_SIGHAND without CLONE_VM) succeeded");
	}
	CHECK_EQ(errno, EINVAL);
	r = raw_clone(CLONE_THREAD);
	if (r == 0)
		syscall(SYS_exit, 0);
	CHECK_MSG(r == -1 && errno == EINVAL,
		  "clone(CLONE_THREAD alone) returned %ld (errno %s)", r,
		  t_errname(errno));
}

TEST(status_exited)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(42);
	int st;
	CHECK_RET(raw_wait4(pid, &st, 0, NULL), pid);
	CHECK(WIFEXITED(st));
	CHECK(!WIFSIGNALED(st));
	CHECK_EQ(WEXITSTATUS(st), 42);
	/* Only the low 8 bits of the exit code are kept. */
	pid = t_fork();
	if (pid == 0)
		syscall(SYS_exit_group, 256 + 7);
	CHECK_RET(raw_wait4(pid, &st, 0, NULL), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 7);
}

TEST(status_signaled)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	int st;
	CHECK_RET(raw_wait4(pid, &st, 0, NULL), pid);
	CHECK(WIFSIGNALED(st));
	CHECK(!WIFEXITED(st));
	CHECK_EQ(WTERMSIG(st), SIGKILL);
	pid = t_fork();
	if (pid == 0) {
		kill(getpid(), SIGTERM);
		_exit(1);
	}
	CHECK_RET(raw_wait4(pid, &st, 0, NULL), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGTERM);
}

TEST(wnohang)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		/* Block until the parent closes its end. */
		_exit(read(p[0], &c, 1) == 0 ? 3 : 4);
	}
	close(p[0]);
	int st = 0x5a5a;
	CHECK_RET(raw_wait4(pid, &st, WNOHANG, NULL), 0);
	close(p[1]);
	CHECK_RET(raw_wait4(pid, &st, 0, NULL), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 3);
}

TEST(echild)
{
	/* In a fresh child, which has no children of its own. */
	pid_t pid = t_fork();
	if (pid == 0) {
		int st;
		CHECK_ERR(raw_wait4(-1, &st, 0, NULL), ECHILD);
		CHECK_ERR(raw_wait4(-1, &st, WNOHANG, NULL), ECHILD);
		/* The parent exists but is not our child. */
		CHECK_ERR(raw_wait4(getppid(), &st, 0, NULL), ECHILD);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* A reaped child cannot be waited for twice. */
	int st;
	CHECK_ERR(raw_wait4(pid, &st, 0, NULL), ECHILD);
}

TEST(wait_any_and_specific)
{
	pid_t a = t_fork();
	if (a == 0)
		_exit(11);
	pid_t b = t_fork();
	if (b == 0)
		_exit(12);
	int st;
	CHECK_RET(raw_wait4(b, &st, 0, NULL), b);
	CHECK_EQ(WEXITSTATUS(st), 12);
	CHECK_RET(raw_wait4(-1, &st, 0, NULL), a);
	CHECK_EQ(WEXITSTATUS(st), 11);
}

TEST(rusage_accepted)
{
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(0);
	struct rusage ru;
	memset(&ru, 0xff, sizeof(ru));
	int st;
	CHECK_RET(raw_wait4(pid, &st, 0, &ru), pid);
	CHECK_EQ(WEXITSTATUS(st), 0);
	/* The structure was written with sane times. */
	CHECK(ru.ru_utime.tv_sec >= 0);
	CHECK(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
	CHECK(ru.ru_stime.tv_sec >= 0);
	CHECK(ru.ru_stime.tv_usec >= 0 && ru.ru_stime.tv_usec < 1000000);
	/* A NULL status pointer is accepted too. */
	pid = t_fork();
	if (pid == 0)
		_exit(0);
	CHECK_RET(raw_wait4(pid, NULL, 0, &ru), pid);
}

TEST(wait4_errors)
{
	int st;
	CHECK_ERR(raw_wait4(-1, &st, 0x10000, NULL), EINVAL);
	/* WNOWAIT belongs to waitid(2) only. */
	CHECK_ERR(raw_wait4(-1, &st, WNOWAIT, NULL), EINVAL);
	/* INT_MIN would be the group -INT_MIN, which cannot exist: ESRCH
	 * (ahead of ECHILD, which a caller without children would get). */
	CHECK_ERR(raw_wait4(INT_MIN, &st, 0, NULL), ESRCH);
	pid_t pid = t_fork();
	if (pid == 0)
		_exit(0);
	CHECK_ERR(raw_wait4(pid, (int *)1, 0, NULL), EFAULT);
	/* Linux has reaped the child before it fails to store the status;
	 * either way it must not be left waitable by someone else. */
	raw_wait4(pid, &st, 0, NULL);
}

TEST(single_thread_exit)
{
	/* _exit(2) (SYS_exit) of the only thread ends the process with its
	 * status, like exit_group would. */
	pid_t pid = t_fork();
	if (pid == 0)
		syscall(SYS_exit, 7);
	t_wait_exit(pid, 7);
}

static void *thread_exits(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return NULL;
}

TEST(exit_ends_only_the_thread)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_exits, NULL) != 0)
			_exit(2);
		/* The kernel clears the thread's tid and wakes the futex at
		 * thread exit, which is what pthread_join waits for. */
		pthread_join(t, NULL);
		syscall(SYS_exit_group, 8);
	}
	t_wait_exit(pid, 8);
}

static void *thread_exit_group(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 9);
	return NULL;
}

TEST(exit_group_ends_all_threads)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_exit_group, NULL) != 0)
			_exit(2);
		/* The main thread would exit 1 after 10 s if left alive. */
		for (int i = 0; i < 100; i++)
			t_sleep_ms(100);
		_exit(1);
	}
	t_wait_exit(pid, 9);
}

static void *thread_outlives_main(void *arg)
{
	(void)arg;
	t_sleep_ms(50);
	syscall(SYS_exit_group, 10);
	return NULL;
}

TEST(main_thread_exit_process_lives)
{
	/* When the main thread leaves with SYS_exit, the process goes on
	 * until its last thread ends, and reports that thread's status. */
	pid_t pid = t_fork();
	if (pid == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_outlives_main, NULL) != 0)
			_exit(2);
		syscall(SYS_exit, 1);
	}
	t_wait_exit(pid, 10);
}
