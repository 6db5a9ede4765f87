/*
 * Process groups and sessions: setpgid(2), getpgid(2), setsid(2),
 * getsid(2), with the EPERM/EACCES/ESRCH/EINVAL cases of setpgid(2).
 *
 * Everything that changes a group or session happens in children.
 */
#include "test.h"

#define NO_SUCH_PID 0x3ffffff0

extern char **environ;

/* Child mode "wait": report readiness on fd 1, then wait for EOF on fd 0. */
int t_child_main(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "wait") != 0)
		return 2;
	char c;
	if (write(1, "e", 1) != 1)
		return 3;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

static pid_t raw_getpgid(pid_t pid)
{
	return (pid_t)syscall(SYS_getpgid, pid);
}

static pid_t raw_getsid(pid_t pid)
{
	return (pid_t)syscall(SYS_getsid, pid);
}

/* A child that runs until we close p[1], the write end we keep. */
static pid_t holder(int p[2])
{
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	return pid;
}

TEST(getpgid_getsid_self)
{
	/* Descendants of init that never called setsid are in group and
	 * session 0, so 0 is a valid answer here; children below check the
	 * values for groups and sessions they create. */
	pid_t pg = raw_getpgid(0);
	CHECK(pg >= 0);
	CHECK_EQ(raw_getpgid(getpid()), pg);
	CHECK_EQ(getpgrp(), pg);
	pid_t sid = raw_getsid(0);
	CHECK(sid >= 0);
	CHECK_EQ(raw_getsid(getpid()), sid);
}

TEST(fork_inherits_group_and_session)
{
	pid_t pg = raw_getpgid(0), sid = raw_getsid(0);
	int p[2];
	pid_t pid = holder(p);
	CHECK_EQ(raw_getpgid(pid), pg);
	CHECK_EQ(raw_getsid(pid), sid);
	close(p[1]);
	t_wait_exit(pid, 0);
}

TEST(errors_esrch)
{
	CHECK_ERR(raw_getpgid(NO_SUCH_PID), ESRCH);
	CHECK_ERR(raw_getsid(NO_SUCH_PID), ESRCH);
	CHECK_ERR(setpgid(NO_SUCH_PID, 0), ESRCH);
	/* Our parent is neither us nor our child. */
	CHECK_ERR(setpgid(getppid(), getppid()), ESRCH);
}

TEST(setpgid_einval)
{
	CHECK_ERR(setpgid(0, -1), EINVAL);
}

TEST(setpgid_self_and_child)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		/* setpgid(0, 0): become leader of a new group. */
		CHECK_RET(setpgid(0, 0), 0);
		CHECK_EQ(raw_getpgid(0), getpid());
		/* Doing it again is harmless. */
		CHECK_RET(setpgid(getpid(), getpid()), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* A parent moves its child into a new group, then another child
	 * into that group. */
	int p[2], q[2];
	pid = holder(p);
	CHECK_RET(setpgid(pid, 0), 0);
	CHECK_EQ(raw_getpgid(pid), pid);
	pid_t other = holder(q);
	CHECK_RET(setpgid(other, pid), 0);
	CHECK_EQ(raw_getpgid(other), pid);
	close(q[1]);
	t_wait_exit(other, 0);
	close(p[1]);
	t_wait_exit(pid, 0);
}

TEST(setpgid_eperm_no_such_group)
{
	/* Joining a group that does not exist in our session. */
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_ERR(setpgid(0, NO_SUCH_PID), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setsid_new_session)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		pid_t old_sid = raw_getsid(0);
		/* A fresh child is not a group leader, so this works. */
		CHECK_RET(setsid(), getpid());
		CHECK_EQ(raw_getsid(0), getpid());
		CHECK_EQ(raw_getpgid(0), getpid());
		CHECK(old_sid != getpid());
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setsid_eperm_group_leader)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setpgid(0, 0), 0);
		CHECK_ERR(setsid(), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setpgid_eperm_session_leader)
{
	/* setpgid(2): "change the process group ID of a session leader". */
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setsid(), getpid());
		CHECK_ERR(setpgid(0, 0), EPERM);
		CHECK_ERR(setpgid(getpid(), getpid()), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setpgid_eperm_other_session)
{
	int p[2], ready[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(pipe(ready), 0);
	pid_t a = t_fork();
	if (a == 0) {
		char c;
		close(p[1]);
		close(ready[0]);
		if (setsid() != getpid())
			_exit(1);
		(void)write(ready[1], "s", 1);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	CHECK_RET(read(ready[0], &c, 1), 1);
	/* "change the process group ID of one of the children of the calling
	 * process and the child was in a different session" */
	CHECK_ERR(setpgid(a, getpgrp()), EPERM);
	/* "move a process into a process group in a different session" */
	pid_t b = t_fork();
	if (b == 0) {
		CHECK_ERR(setpgid(0, a), EPERM);
		_exit(0);
	}
	t_wait_exit(b, 0);
	close(p[1]);
	close(ready[0]);
	t_wait_exit(a, 0);
}

TEST(setpgid_eacces_after_exec)
{
	if (!strchr(t_argv[0], '/'))
		t_fail("run the test by path so it can re-execute itself");
	int in[2], out[2];
	CHECK_RET(pipe(in), 0);
	CHECK_RET(pipe(out), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		char *argv[] = { t_argv[0], "--child", "wait", NULL };
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char c;
	CHECK_RET(read(out[0], &c, 1), 1);
	/* The child has executed a new image: its group is now fixed. */
	CHECK_ERR(setpgid(pid, pid), EACCES);
	close(in[1]);
	close(out[0]);
	t_wait_exit(pid, 0);
}
