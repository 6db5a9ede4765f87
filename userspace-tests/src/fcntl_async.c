/*
 * fcntl(2) owners and signal-driven I/O: F_SETOWN/F_GETOWN,
 * F_SETOWN_EX/F_GETOWN_EX, F_SETSIG/F_GETSIG, and O_ASYNC (F_SETFL,
 * FIOASYNC) on pipes, FIFOs, Unix sockets and pseudo-terminals.
 *
 * As fs/fcntl.c: F_SETOWN with a negative id names a process group, a
 * missing id is ESRCH, an unknown F_SETOWN_EX type EINVAL.  With
 * F_SETSIG 0 an event sends plain SIGIO (si_code SI_KERNEL, no si_fd);
 * with a signal set it sends that signal with si_code POLL_IN/POLL_OUT/
 * POLL_HUP, si_band and si_fd.  O_ASYNC given to open(2) is recorded but
 * starts nothing (open(2) BUGS); only a change through F_SETFL does.
 * Whoever set the owner must match the target's uid or saved uid, or be
 * root (sigio_perm).
 */
#include "test.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef F_SETSIG
#define F_SETSIG 10
#define F_GETSIG 11
#endif

static long fc(int fd, int cmd, long arg)
{
	return syscall(SYS_fcntl, fd, cmd, arg);
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));
}

static int is_pending(int sig)
{
	sigset_t s;
	CHECK_OK(sigpending(&s));
	return sigismember(&s, sig);
}

/* Takes `sig` (blocked), waiting up to `ms`; the signal number or -1. */
static int take(int sig, siginfo_t *si, int ms)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	memset(si, 0, sizeof(*si));
	return sigtimedwait(&s, si, &ts);
}

static void set_async(int fd, int on)
{
	int fl = (int)CHECK_OK(fc(fd, F_GETFL, 0));
	fl = on ? fl | O_ASYNC : fl & ~O_ASYNC;
	CHECK_RET(fc(fd, F_SETFL, fl), 0);
}

static pid_t reaped_pid(void)
{
	pid_t p = t_fork();
	if (p == 0)
		_exit(0);
	t_wait_exit(p, 0);
	return p;
}

TEST(owner_pid_and_group)
{
	int p[2];
	CHECK_OK(pipe(p));
	struct f_owner_ex ex = { 99, 99 };
	CHECK_RET(fc(p[0], F_GETOWN, 0), 0);
	/* Never set: F_OWNER_TID with pid 0. */
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_TID);
	CHECK_EQ(ex.pid, 0);

	CHECK_RET(fc(p[0], F_SETOWN, getpid()), 0);
	CHECK_RET(fc(p[0], F_GETOWN, 0), getpid());
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_PID);
	CHECK_EQ(ex.pid, getpid());
	/* The owner belongs to the description: the other end has none. */
	CHECK_RET(fc(p[1], F_GETOWN, 0), 0);
	int d = dup(p[0]);
	CHECK_RET(fc(d, F_GETOWN, 0), getpid());
	close(d);

	/* A negative id is a process group; glibc's F_GETOWN goes through
	 * F_GETOWN_EX and negates a group. */
	CHECK_RET(fc(p[0], F_SETOWN, -getpgrp()), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_PGRP);
	CHECK_EQ(ex.pid, getpgrp());
	CHECK_RET(fcntl(p[0], F_GETOWN), -getpgrp());

	/* 0 clears the target and keeps F_SETOWN's type. */
	CHECK_RET(fc(p[0], F_SETOWN, 0), 0);
	CHECK_RET(fc(p[0], F_GETOWN, 0), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_PID);
	CHECK_EQ(ex.pid, 0);

	struct f_owner_ex tid = { F_OWNER_TID, (pid_t)syscall(SYS_gettid) };
	CHECK_RET(fc(p[0], F_SETOWN_EX, (long)&tid), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_TID);
	CHECK_EQ(ex.pid, tid.pid);
	struct f_owner_ex grp = { F_OWNER_PGRP, getpgrp() };
	CHECK_RET(fc(p[0], F_SETOWN_EX, (long)&grp), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_PGRP);
	CHECK_EQ(ex.pid, getpgrp());
	close(p[0]);
	close(p[1]);
}

TEST(owner_errors)
{
	int p[2];
	CHECK_OK(pipe(p));
	pid_t gone = reaped_pid();
	CHECK_ERR(fc(p[0], F_SETOWN, gone), ESRCH);
	CHECK_ERR(fc(p[0], F_SETOWN, -gone), ESRCH);
	CHECK_ERR(fc(p[0], F_SETOWN, INT_MIN), EINVAL);
	/* A failed F_SETOWN changed nothing. */
	CHECK_RET(fc(p[0], F_GETOWN, 0), 0);

	struct f_owner_ex ex = { 3, getpid() };
	CHECK_ERR(fc(p[0], F_SETOWN_EX, (long)&ex), EINVAL);
	ex.type = -1;
	CHECK_ERR(fc(p[0], F_SETOWN_EX, (long)&ex), EINVAL);
	ex.type = F_OWNER_PID;
	ex.pid = gone;
	CHECK_ERR(fc(p[0], F_SETOWN_EX, (long)&ex), ESRCH);
	ex.pid = -getpid();
	CHECK_ERR(fc(p[0], F_SETOWN_EX, (long)&ex), ESRCH);
	CHECK_ERR(fc(p[0], F_SETOWN_EX, 8), EFAULT);
	CHECK_ERR(fc(p[0], F_GETOWN_EX, 8), EFAULT);
	/* Type 0 with pid 0: cleared, type TID. */
	ex.type = F_OWNER_PGRP;
	ex.pid = 0;
	CHECK_RET(fc(p[0], F_SETOWN_EX, (long)&ex), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_PGRP);
	CHECK_EQ(ex.pid, 0);

	/* A dead owner reads back as 0. */
	pid_t child = t_fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	CHECK_RET(fc(p[0], F_SETOWN, child), 0);
	CHECK_RET(fc(p[0], F_GETOWN, 0), child);
	kill(child, SIGKILL);
	t_wait_signal(child, SIGKILL);
	CHECK_RET(fc(p[0], F_GETOWN, 0), 0);

	CHECK_ERR(fc(-1, F_SETOWN, getpid()), EBADF);
	CHECK_ERR(fc(1000, F_GETOWN, 0), EBADF);
	CHECK_ERR(fc(1000, F_GETSIG, 0), EBADF);
	close(p[0]);
	close(p[1]);
}

TEST(setsig_values)
{
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_RET(fc(p[0], F_GETSIG, 0), 0);
	CHECK_RET(fc(p[0], F_SETSIG, SIGUSR1), 0);
	CHECK_RET(fc(p[0], F_GETSIG, 0), SIGUSR1);
	CHECK_ERR(fc(p[0], F_SETSIG, 65), EINVAL);
	CHECK_ERR(fc(p[0], F_SETSIG, -1), EINVAL);
	CHECK_RET(fc(p[0], F_GETSIG, 0), SIGUSR1);
	CHECK_RET(fc(p[0], F_SETSIG, 64), 0);
	CHECK_RET(fc(p[0], F_GETSIG, 0), 64);
	/* The upper half of the argument is not looked at (argi). */
	CHECK_RET(fc(p[0], F_SETSIG, 0x100000000L | SIGUSR2), 0);
	CHECK_RET(fc(p[0], F_GETSIG, 0), SIGUSR2);
	CHECK_RET(fc(p[0], F_SETSIG, 0), 0);
	CHECK_RET(fc(p[0], F_GETSIG, 0), 0);
	/* F_SETSIG does not touch the owner. */
	CHECK_RET(fc(p[0], F_GETOWN, 0), 0);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_plain_sigio)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int p[2];
		siginfo_t si;
		CHECK_OK(pipe(p));
		block(SIGIO);
		CHECK_RET(fc(p[0], F_SETOWN, getpid()), 0);
		/* No O_ASYNC: no signal. */
		CHECK_RET(write(p[1], "a", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 0);
		set_async(p[0], 1);
		CHECK_RET(write(p[1], "b", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 1);
		CHECK_RET(take(SIGIO, &si, 1000), SIGIO);
		CHECK_EQ(si.si_code, SI_KERNEL);
		CHECK_EQ(si.si_fd, 0);
		/* Reading signals the writers' side only. */
		char c[2];
		CHECK_RET(read(p[0], c, 2), 2);
		CHECK_EQ(is_pending(SIGIO), 0);
		/* FIOASYNC off: no more signals. */
		int off = 0;
		CHECK_RET(ioctl(p[0], FIOASYNC, &off), 0);
		CHECK_EQ(fc(p[0], F_GETFL, 0) & O_ASYNC, 0);
		CHECK_RET(write(p[1], "c", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 0);
		int on = 1;
		CHECK_RET(ioctl(p[0], FIOASYNC, &on), 0);
		CHECK_EQ(fc(p[0], F_GETFL, 0) & O_ASYNC, O_ASYNC);
		CHECK_RET(write(p[1], "d", 1), 1);
		CHECK_RET(take(SIGIO, &si, 1000), SIGIO);
		/* Without an owner nothing is sent. */
		CHECK_RET(fc(p[0], F_SETOWN, 0), 0);
		CHECK_RET(write(p[1], "e", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(pipe_setsig_siginfo)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int p[2];
		siginfo_t si;
		int sig = SIGRTMIN + 1;
		CHECK_OK(pipe(p));
		block(sig);
		block(SIGIO);
		/* High descriptor numbers show si_fd is the one F_SETFL used. */
		int r = (int)CHECK_OK(fcntl(p[0], F_DUPFD, 40));
		int w = (int)CHECK_OK(fcntl(p[1], F_DUPFD, 50));
		CHECK_RET(fc(r, F_SETOWN, getpid()), 0);
		CHECK_RET(fc(r, F_SETSIG, sig), 0);
		set_async(r, 1);
		CHECK_RET(write(w, "xy", 2), 2);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_IN);
		CHECK_EQ(si.si_fd, r);
		CHECK_EQ(si.si_band, POLLIN | POLLRDNORM);
		CHECK_EQ(is_pending(SIGIO), 0);

		/* The write end: POLL_OUT at each read. */
		CHECK_RET(fc(w, F_SETOWN, getpid()), 0);
		CHECK_RET(fc(w, F_SETSIG, sig), 0);
		set_async(w, 1);
		char c;
		CHECK_RET(read(r, &c, 1), 1);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_OUT);
		CHECK_EQ(si.si_fd, w);
		CHECK_EQ(si.si_band, POLLOUT | POLLWRNORM | POLLWRBAND);

		/* F_SETSIG SIGIO is SIGPOLL itself: POLL_IN with the fields. */
		CHECK_RET(fc(r, F_SETSIG, SIGIO), 0);
		CHECK_RET(write(w, "z", 1), 1);
		CHECK_RET(take(SIGIO, &si, 1000), SIGIO);
		CHECK_EQ(si.si_code, POLL_IN);
		CHECK_EQ(si.si_fd, r);

		/* The last writer leaving: POLL_IN to the readers. */
		close(p[1]);
		CHECK_RET(fc(r, F_SETSIG, sig), 0);
		close(w);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_IN);
		CHECK_EQ(si.si_fd, r);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(open_o_async_starts_nothing)
{
	const char *dir = t_tmpdir();
	char path[300];
	snprintf(path, sizeof(path), "%s/fifo", dir);
	unlink(path);
	CHECK_OK(mkfifo(path, 0600));
	pid_t pid = t_fork();
	if (pid == 0) {
		block(SIGIO);
		int fd = (int)CHECK_OK(open(path, O_RDWR | O_NONBLOCK | O_ASYNC));
		CHECK_EQ(fc(fd, F_GETFL, 0) & O_ASYNC, O_ASYNC);
		CHECK_RET(fc(fd, F_SETOWN, getpid()), 0);
		CHECK_RET(write(fd, "a", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 0);
		/* Only the fasync operation changes the flag, and it clears
		 * it only for a description it had registered: the flag from
		 * open(2) sticks, and no signal ever comes (setfl). */
		set_async(fd, 0);
		CHECK_EQ(fc(fd, F_GETFL, 0) & O_ASYNC, O_ASYNC);
		set_async(fd, 1);
		CHECK_RET(write(fd, "a", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 0);
		/* Another open of the FIFO works. */
		int fd2 = (int)CHECK_OK(open(path, O_RDWR | O_NONBLOCK));
		CHECK_RET(fc(fd2, F_SETOWN, getpid()), 0);
		set_async(fd2, 1);
		CHECK_EQ(fc(fd2, F_GETFL, 0) & O_ASYNC, O_ASYNC);
		CHECK_RET(write(fd, "a", 1), 1);
		CHECK_EQ(is_pending(SIGIO), 1);
		set_async(fd2, 0);
		CHECK_EQ(fc(fd2, F_GETFL, 0) & O_ASYNC, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	unlink(path);
}

TEST(regular_file_has_no_fasync)
{
	/* No fasync operation: F_SETFL leaves O_ASYNC clear, FIOASYNC is
	 * ENOTTY. */
	int fd = (int)CHECK_OK(open(t_make_file("plain", "x", 0600), O_RDWR));
	CHECK_RET(fc(fd, F_SETFL, O_ASYNC), 0);
	CHECK_EQ(fc(fd, F_GETFL, 0) & O_ASYNC, 0);
	int on = 1;
	CHECK_ERR(ioctl(fd, FIOASYNC, &on), ENOTTY);
	int off = 0;
	CHECK_RET(ioctl(fd, FIOASYNC, &off), 0);
	close(fd);
}

/* A child that blocks SIGIO, reports ready on `ready`, then expects
 * (or, with want 0, does not expect) SIGIO within a short time. */
static pid_t waiter(const int sync[2], int want, int new_group)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		siginfo_t si;
		if (new_group)
			CHECK_OK(setpgid(0, 0));
		block(SIGIO);
		CHECK_RET(write(sync[1], "r", 1), 1);
		int got = take(SIGIO, &si, want ? 5000 : 300);
		if (want)
			CHECK_EQ(got, SIGIO);
		else
			CHECK_EQ(got, -1);
		_exit(0);
	}
	char c;
	CHECK_RET(read(sync[0], &c, 1), 1);
	return pid;
}

TEST(sigio_to_another_process_and_group)
{
	int sync[2], p[2];
	CHECK_OK(pipe(sync));
	CHECK_OK(pipe(p));
	pid_t a = waiter(sync, 1, 0);
	CHECK_RET(fc(p[0], F_SETOWN, a), 0);
	set_async(p[0], 1);
	CHECK_RET(write(p[1], "x", 1), 1);
	t_wait_exit(a, 0);

	pid_t g = waiter(sync, 1, 1);
	CHECK_RET(fc(p[0], F_SETOWN, -g), 0);
	CHECK_RET(write(p[1], "x", 1), 1);
	t_wait_exit(g, 0);
	close(p[0]);
	close(p[1]);
	close(sync[0]);
	close(sync[1]);
}

static pid_t sigio_tid;
static int sigio_thread_ok;
static int thread_pipe[2];

static void *tid_waiter(void *arg)
{
	(void)arg;
	siginfo_t si;
	sigio_tid = (pid_t)syscall(SYS_gettid);
	char c = 'r';
	if (write(thread_pipe[1], &c, 1) != 1)
		return NULL;
	sigio_thread_ok = take(SIGIO, &si, 5000) == SIGIO;
	return NULL;
}

TEST(owner_tid_signals_that_thread)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int p[2];
		char c;
		block(SIGIO);
		CHECK_OK(pipe(p));
		CHECK_OK(pipe(thread_pipe));
		pthread_t t;
		CHECK_EQ(pthread_create(&t, NULL, tid_waiter, NULL), 0);
		CHECK_RET(read(thread_pipe[0], &c, 1), 1);
		struct f_owner_ex ex = { F_OWNER_TID, sigio_tid };
		CHECK_RET(fc(p[0], F_SETOWN_EX, (long)&ex), 0);
		set_async(p[0], 1);
		CHECK_RET(write(p[1], "x", 1), 1);
		CHECK_EQ(pthread_join(t, NULL), 0);
		CHECK_EQ(sigio_thread_ok, 1);
		/* Thread-directed: nothing for the process or this thread. */
		CHECK_EQ(is_pending(SIGIO), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sigio_permission)
{
	if (geteuid() != 0)
		t_skip("needs root to change uids");
	int sync[2];
	CHECK_OK(pipe(sync));
	/* The target runs as uid 1000. */
	pid_t a = t_fork();
	if (a == 0) {
		siginfo_t si;
		CHECK_OK(setresuid(1000, 1000, 1000));
		block(SIGIO);
		CHECK_RET(write(sync[1], "r", 1), 1);
		/* Only the second owner's signal arrives. */
		CHECK_RET(take(SIGIO, &si, 5000), SIGIO);
		CHECK_RET(take(SIGIO, &si, 300), -1);
		_exit(0);
	}
	char c;
	CHECK_RET(read(sync[0], &c, 1), 1);
	for (int uid = 2000; uid >= 1000; uid -= 1000) {
		/* An owner set by uid 2000 may not signal uid 1000; one set by
		 * uid 1000 may.  F_SETOWN itself checks nothing. */
		pid_t s = t_fork();
		if (s == 0) {
			int p[2];
			CHECK_OK(pipe(p));
			CHECK_OK(setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid));
			CHECK_RET(fc(p[0], F_SETOWN, a), 0);
			set_async(p[0], 1);
			CHECK_RET(write(p[1], "x", 1), 1);
			/* Off again, so that closing the write end at exit
			 * (pipe_release) sends no second signal. */
			set_async(p[0], 0);
			_exit(0);
		}
		t_wait_exit(s, 0);
		t_sleep_ms(100);
	}
	t_wait_exit(a, 0);
	close(sync[0]);
	close(sync[1]);
}

TEST(unix_socket_in_and_hup)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int sv[2];
		siginfo_t si;
		int sig = SIGRTMIN + 2;
		CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		block(sig);
		block(SIGIO);
		CHECK_RET(fc(sv[0], F_SETOWN, getpid()), 0);
		CHECK_RET(fc(sv[0], F_SETSIG, sig), 0);
		set_async(sv[0], 1);
		CHECK_RET(write(sv[1], "hi", 2), 2);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_IN);
		CHECK_EQ(si.si_fd, sv[0]);
		CHECK_EQ(si.si_band, POLLIN | POLLRDNORM);
		close(sv[1]);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_HUP);
		CHECK_EQ(si.si_band, POLLHUP | POLLERR);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(pty_master_and_slave)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		siginfo_t si;
		int sig = SIGRTMIN + 3;
		int m = (int)CHECK_OK(posix_openpt(O_RDWR | O_NOCTTY));
		CHECK_OK(grantpt(m));
		CHECK_OK(unlockpt(m));
		int s = (int)CHECK_OK(open(ptsname(m), O_RDWR | O_NOCTTY));
		block(sig);
		CHECK_RET(fc(m, F_SETOWN, getpid()), 0);
		CHECK_RET(fc(m, F_SETSIG, sig), 0);
		set_async(m, 1);
		CHECK_RET(write(s, "out", 3), 3);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_IN);
		CHECK_EQ(si.si_fd, m);
		while (take(sig, &si, 100) == sig)
			;
		CHECK_RET(fc(s, F_SETOWN, getpid()), 0);
		CHECK_RET(fc(s, F_SETSIG, sig), 0);
		set_async(s, 1);
		CHECK_RET(write(m, "line\n", 5), 5);
		/* The slave's input completes a line: POLL_IN on s (the echo
		 * may also signal the master). */
		int found = 0;
		while (take(sig, &si, 1000) == sig)
			if (si.si_fd == s && si.si_code == POLL_IN)
				found = 1;
		CHECK_EQ(found, 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static volatile pid_t other_tid;
static volatile int other_stop;

static void *idle_thread(void *arg)
{
	(void)arg;
	other_tid = (pid_t)syscall(SYS_gettid);
	while (!other_stop)
		t_sleep_ms(5);
	return NULL;
}

TEST(owner_of_a_non_leader_thread)
{
	int p[2];
	struct f_owner_ex ex;
	CHECK_OK(pipe(p));
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, idle_thread, NULL), 0);
	while (!other_tid)
		t_sleep_ms(1);
	/* F_SETOWN with a thread's id targets its group, but F_GETOWN only
	 * reports a group leader's id (pid_task(pid, PIDTYPE_TGID)). */
	CHECK_RET(fc(p[0], F_SETOWN, other_tid), 0);
	CHECK_RET(fc(p[0], F_GETOWN, 0), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_PID);
	CHECK_EQ(ex.pid, 0);
	/* F_OWNER_TID with the process id names the leader thread. */
	struct f_owner_ex leader = { F_OWNER_TID, getpid() };
	CHECK_RET(fc(p[0], F_SETOWN_EX, (long)&leader), 0);
	CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
	CHECK_EQ(ex.type, F_OWNER_TID);
	CHECK_EQ(ex.pid, getpid());
	/* A thread owner that exited reads back as 0. */
	struct f_owner_ex th = { F_OWNER_TID, other_tid };
	CHECK_RET(fc(p[0], F_SETOWN_EX, (long)&th), 0);
	other_stop = 1;
	CHECK_EQ(pthread_join(t, NULL), 0);
	/* The kernel clears the tid word before the thread is gone. */
	for (int i = 0; i < 200; i++) {
		CHECK_RET(fc(p[0], F_GETOWN_EX, (long)&ex), 0);
		if (ex.pid == 0)
			break;
		t_sleep_ms(5);
	}
	CHECK_EQ(ex.type, F_OWNER_TID);
	CHECK_EQ(ex.pid, 0);
	close(p[0]);
	close(p[1]);
}

TEST(waiter_in_sigtimedwait_shows_sleeping)
{
	/* LTP fcntl31's pattern: the writer waits until the owner sleeps in
	 * sigtimedwait (state S, TASK_INTERRUPTIBLE), then writes. */
	pid_t pid = t_fork();
	if (pid == 0) {
		int p[2];
		siginfo_t si;
		CHECK_OK(pipe(p));
		block(SIGUSR1);
		block(SIGIO);
		CHECK_RET(fc(p[0], F_SETOWN, getpid()), 0);
		CHECK_RET(fc(p[0], F_SETSIG, SIGUSR1), 0);
		set_async(p[0], 1);
		pid_t w = t_fork();
		if (w == 0) {
			int i;
			for (i = 0; i < 600; i++) {
				if (t_proc_state(getppid()) == 'S')
					break;
				t_sleep_ms(5);
			}
			CHECK_MSG(i < 600, "owner never showed S: %c", t_proc_state(getppid()));
			CHECK_RET(write(p[1], "c", 1), 1);
			_exit(0);
		}
		CHECK_RET(take(SIGUSR1, &si, 5000), SIGUSR1);
		CHECK_EQ(si.si_code, POLL_IN);
		t_wait_exit(w, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(terminal_fasync_sets_an_owner)
{
	/* tty_fasync: a terminal description without an owner gets the
	 * foreground group or, without one, the caller; one with an owner
	 * keeps it.  Pipes set none.  In a child ignoring SIGIO, which the
	 * hang-ups at the end send to it. */
	pid_t pid = t_fork();
	if (pid == 0) {
		struct f_owner_ex ex;
		signal(SIGIO, SIG_IGN);
		int m = (int)CHECK_OK(posix_openpt(O_RDWR | O_NOCTTY));
		CHECK_OK(grantpt(m));
		CHECK_OK(unlockpt(m));
		int s = (int)CHECK_OK(open(ptsname(m), O_RDWR | O_NOCTTY));
		CHECK_RET(fc(m, F_GETOWN, 0), 0);
		set_async(m, 1);
		CHECK_RET(fc(m, F_GETOWN, 0), getpid());
		CHECK_RET(fc(m, F_GETOWN_EX, (long)&ex), 0);
		CHECK_EQ(ex.type, F_OWNER_PID);
		struct f_owner_ex tid = { F_OWNER_TID, (pid_t)syscall(SYS_gettid) };
		CHECK_RET(fc(s, F_SETOWN_EX, (long)&tid), 0);
		set_async(s, 1);
		CHECK_RET(fc(s, F_GETOWN_EX, (long)&ex), 0);
		CHECK_EQ(ex.type, F_OWNER_TID);
		CHECK_EQ(ex.pid, tid.pid);
		int p[2];
		CHECK_OK(pipe(p));
		set_async(p[0], 1);
		CHECK_RET(fc(p[0], F_GETOWN, 0), 0);
		close(m);
		close(s);
		close(p[0]);
		close(p[1]);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(unix_socket_out_after_a_full_send)
{
	/* sk_write_space: POLL_OUT only after a send found no room
	 * (SOCKWQ_ASYNC_NOSPACE), once room is back. */
	pid_t pid = t_fork();
	if (pid == 0) {
		int sv[2];
		siginfo_t si;
		int sig = SIGRTMIN + 4;
		char buf[4096];
		memset(buf, 'x', sizeof(buf));
		CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		block(sig);
		CHECK_RET(fc(sv[0], F_SETOWN, getpid()), 0);
		CHECK_RET(fc(sv[0], F_SETSIG, sig), 0);
		set_async(sv[0], 1);
		CHECK_RET(fc(sv[0], F_SETFL, O_NONBLOCK | O_ASYNC), 0);
		/* Room freed without a failed send: nothing. */
		CHECK_RET(write(sv[0], buf, 100), 100);
		CHECK_RET(read(sv[1], buf, sizeof(buf)), 100);
		CHECK_RET(take(sig, &si, 200), -1);
		long sent = 0;
		for (;;) {
			ssize_t n = write(sv[0], buf, sizeof(buf));
			if (n < 0) {
				CHECK_EQ(errno, EAGAIN);
				break;
			}
			sent += n;
		}
		CHECK(sent > 0);
		CHECK_RET(take(sig, &si, 100), -1);
		while (sent > 0) {
			ssize_t n = read(sv[1], buf, sizeof(buf));
			CHECK(n > 0);
			sent -= n;
		}
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_OUT);
		CHECK_EQ(si.si_fd, sv[0]);
		CHECK_EQ(si.si_band, POLLOUT | POLLWRNORM | POLLWRBAND);
		/* Once per failed send. */
		CHECK_RET(write(sv[0], buf, 10), 10);
		CHECK_RET(read(sv[1], buf, sizeof(buf)), 10);
		CHECK_RET(take(sig, &si, 200), -1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
