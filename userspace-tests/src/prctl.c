/*
 * prctl(2): names, the parent-death signal (and its delivery), dumpable,
 * keepcaps, the capability bounding set, timer slack, child subreaper,
 * no_new_privs, the clear-tid address, and unknown options.
 */
#include "test.h"

#include <pthread.h>
#include <sys/prctl.h>

TEST(name_roundtrip_and_truncation)
{
	char name[32];
	CHECK_RET(prctl(PR_SET_NAME, "starling-test", 0, 0, 0), 0);
	memset(name, 0x55, sizeof(name));
	CHECK_RET(prctl(PR_GET_NAME, name, 0, 0, 0), 0);
	CHECK_STREQ(name, "starling-test");
	/* Names longer than 15 bytes are cut (TASK_COMM_LEN 16 with NUL). */
	CHECK_RET(prctl(PR_SET_NAME, "0123456789abcdefghij", 0, 0, 0), 0);
	CHECK_RET(prctl(PR_GET_NAME, name, 0, 0, 0), 0);
	CHECK_STREQ(name, "0123456789abcde");
	CHECK_ERR(prctl(PR_GET_NAME, (char *)8, 0, 0, 0), EFAULT);
}

TEST(name_is_per_thread)
{
	CHECK_RET(prctl(PR_SET_NAME, "main-thread", 0, 0, 0), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* A forked child starts with its parent's name. */
		char name[16];
		CHECK_RET(prctl(PR_GET_NAME, name, 0, 0, 0), 0);
		CHECK_STREQ(name, "main-thread");
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(pdeathsig_get_set_errors)
{
	int sig = -1;
	CHECK_RET(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0), 0);
	CHECK_EQ(sig, 0);
	CHECK_RET(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0), 0);
	CHECK_RET(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0), 0);
	CHECK_EQ(sig, SIGUSR1);
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 0x1000, 0, 0, 0), EINVAL);
	CHECK_ERR(prctl(PR_GET_PDEATHSIG, (int *)8, 0, 0, 0), EFAULT);
	CHECK_RET(prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0), 0);
}

TEST(pdeathsig_not_inherited_by_fork)
{
	CHECK_RET(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = -1;
		CHECK_RET(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0), 0);
		CHECK_EQ(sig, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0), 0);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

TEST(pdeathsig_delivered_when_parent_exits)
{
	/* test -> middle -> grandchild; the grandchild asks for SIGUSR1 when
	 * middle dies and reports through a pipe. */
	int pfd[2];
	CHECK_OK(pipe(pfd));
	pid_t middle = t_fork();
	if (middle == 0) {
		int ready[2];
		if (pipe(ready) != 0)
			_exit(3);
		pid_t gc = fork();
		if (gc == 0) {
			close(ready[0]);
			signal(SIGUSR1, on_usr1);
			sigset_t none;
			sigemptyset(&none);
			prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
			if (write(ready[1], "r", 1) != 1)
				_exit(4);
			for (int i = 0; i < 500 && !got_usr1; i++)
				usleep(10000);
			char c = got_usr1 ? 'y' : 'n';
			if (write(pfd[1], &c, 1) != 1)
				_exit(5);
			_exit(0);
		}
		close(ready[1]);
		char c;
		if (read(ready[0], &c, 1) != 1)
			_exit(6);
		_exit(0); /* dies: the grandchild gets its SIGUSR1 */
	}
	close(pfd[1]);
	t_wait_exit(middle, 0);
	char c = 0;
	CHECK_RET(read(pfd[0], &c, 1), 1);
	CHECK_EQ(c, 'y');
	close(pfd[0]);
}

TEST(dumpable)
{
	CHECK_RET(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	CHECK_RET(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0);
	CHECK_RET(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	CHECK_ERR(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
	CHECK_RET(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
}

TEST(keepcaps)
{
	CHECK_RET(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
	CHECK_RET(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
	CHECK_RET(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);
	CHECK_ERR(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
	CHECK_RET(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), 0);
}

TEST(capability_bounding_set)
{
	if (geteuid() != 0)
		t_skip("needs root");
	CHECK_RET(prctl(PR_CAPBSET_READ, 0 /* CAP_CHOWN */, 0, 0, 0), 1);
	CHECK_ERR(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0), EINVAL);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(prctl(PR_CAPBSET_DROP, 0, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_CAPBSET_READ, 0, 0, 0, 0), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The child's drop did not affect this process. */
	CHECK_RET(prctl(PR_CAPBSET_READ, 0, 0, 0, 0), 1);
}

TEST(timerslack)
{
	long def = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	CHECK(def > 0);
	CHECK_RET(prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0), 0);
	CHECK_RET(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 1000);
	/* 0 restores the default. */
	CHECK_RET(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0), 0);
	CHECK_RET(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), def);
}

TEST(timerslack_inherited_as_default)
{
	/* A child starts with its creator's slack, and that is also the
	 * "default" its PR_SET_TIMERSLACK 0 goes back to. */
	CHECK_RET(prctl(PR_SET_TIMERSLACK, 70000, 0, 0, 0), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 70000);
		CHECK_RET(prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 70000);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0), 0);
}

TEST(securebits)
{
	/* SECBIT_KEEP_CAPS (1 << 4) is the PR_SET_KEEPCAPS flag. */
	CHECK_RET(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 1 << 4);
		/* Unknown bits: EPERM. */
		CHECK_ERR(prctl(PR_SET_SECUREBITS, 1 << 14, 0, 0, 0), EPERM);
		/* Lock KEEP_CAPS off: PR_SET_KEEPCAPS is refused from now on,
		 * and the lock cannot be released. */
		CHECK_RET(prctl(PR_SET_SECUREBITS, 1 << 5, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
		CHECK_ERR(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), EPERM);
		CHECK_ERR(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0), EPERM);
		CHECK_ERR(prctl(PR_SET_SECUREBITS, (1 << 5) | (1 << 4), 0, 0, 0), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		/* Without CAP_SETPCAP nothing may change. */
		CHECK_OK(setuid(65534));
		CHECK_ERR(prctl(PR_SET_SECUREBITS, 1 << 0, 0, 0, 0), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(no_new_privs)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
		CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
		CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
		CHECK_RET(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
		/* Inherited by children. */
		pid_t gc = fork();
		if (gc == 0)
			_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
		int st;
		CHECK_RET(waitpid(gc, &st, 0), gc);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(child_subreaper_adopts_orphans)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int flag = -1;
		CHECK_RET(prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0), 0);
		CHECK_EQ(flag, 0);
		CHECK_RET(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
		CHECK_RET(prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0), 0);
		CHECK_EQ(flag, 1);
		int pfd[2];
		CHECK_OK(pipe(pfd));
		pid_t sub = getpid();
		pid_t mid = fork();
		if (mid == 0) {
			pid_t gc = fork();
			if (gc == 0) {
				/* Wait until orphaned, then report the new parent. */
				for (int i = 0; i < 500 && getppid() != sub; i++)
					usleep(10000);
				pid_t pp = getppid();
				if (write(pfd[1], &pp, sizeof(pp)) != sizeof(pp))
					_exit(3);
				_exit(7);
			}
			_exit(0);
		}
		int st;
		CHECK_RET(waitpid(mid, &st, 0), mid);
		pid_t pp = 0;
		CHECK_RET(read(pfd[0], &pp, sizeof(pp)), sizeof(pp));
		CHECK_EQ(pp, getpid());
		/* The subreaper reaps the orphan. */
		pid_t r = wait(&st);
		CHECK(r > 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(tid_address)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		static int word;
		CHECK_RET(syscall(SYS_set_tid_address, &word), getpid());
		int *addr = NULL;
		CHECK_RET(prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0), 0);
		CHECK_EQ((uintptr_t)addr, (uintptr_t)&word);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(unknown_option_einval)
{
	CHECK_ERR(prctl(0x7fff0000, 0, 0, 0, 0), EINVAL);
}
