/*
 * fcntl(2) leases: F_SETLEASE and F_GETLEASE, and the lease break an
 * open(2) performs.
 *
 * As fs/locks.c: a lease needs the file's owner or CAP_LEASE (EACCES) and
 * a regular file (EINVAL); a read lease needs the file open for writing
 * nowhere, a write lease no open but the caller's (EAGAIN); F_UNLCK
 * without a lease is EAGAIN.  Setting a lease sets O_ASYNC and makes the
 * caller the owner if there was none.  An open for writing breaks every
 * lease (F_GETLEASE then reports F_UNLCK), an open for reading write
 * leases (F_RDLCK); the holder gets SIGIO or its F_SETSIG signal with
 * si_code POLL_MSG; the opener fails with EWOULDBLOCK under O_NONBLOCK,
 * else waits until the holder gives way or lease-break-time runs out.
 */
#include "test.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

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

static int take(int sig, siginfo_t *si, int ms)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	memset(si, 0, sizeof(*si));
	return sigtimedwait(&s, si, &ts);
}

static const char *fresh(const char *name)
{
	const char *path = t_path(name);
	unlink(path);
	t_make_file(name, "data", 0644);
	return path;
}

/* Whether /proc/locks has a lease line ending in `rest` for `fd`'s file. */
static int lease_line(int fd, const char *rest)
{
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	char want[200];
	snprintf(want, sizeof(want), "LEASE  %s %d %02x:%02x:%lu 0 EOF", rest, getpid(),
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
	FILE *f = fopen("/proc/locks", "r");
	CHECK(f != NULL);
	char line[256];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *p = strchr(line, ':');
		if (p && strcmp(p + 2, want) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

TEST(setlease_errors)
{
	const char *path = fresh("le");
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_ERR(fc(fd, F_SETLEASE, 7), EINVAL);
	CHECK_ERR(fc(fd, F_SETLEASE, -1), EINVAL);
	CHECK_RET(fc(fd, F_GETLEASE, 0), F_UNLCK);
	CHECK_ERR(fc(fd, F_SETLEASE, F_UNLCK), EAGAIN);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(fc(p[0], F_SETLEASE, F_RDLCK), EINVAL);
	CHECK_RET(fc(p[0], F_GETLEASE, 0), F_UNLCK);
	CHECK_ERR(fc(p[0], F_SETLEASE, 7), EINVAL);
	int dir = (int)CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(fc(dir, F_SETLEASE, F_RDLCK), EINVAL);
	int o = (int)CHECK_OK(open(path, O_PATH));
	CHECK_ERR(fc(o, F_SETLEASE, F_RDLCK), EBADF);
	CHECK_ERR(fc(o, F_GETLEASE, 0), EBADF);
	CHECK_ERR(fc(999, F_GETLEASE, 0), EBADF);
	if (geteuid() == 0) {
		/* Not the owner, no CAP_LEASE: EACCES, after the type. */
		CHECK_OK(chmod(t_tmpdir(), 0755));
		pid_t pid = t_fork();
		if (pid == 0) {
			CHECK_OK(setresuid(1000, 1000, 1000));
			int x = (int)CHECK_OK(open(path, O_RDONLY));
			CHECK_ERR(fc(x, F_SETLEASE, F_RDLCK), EACCES);
			CHECK_ERR(fc(x, F_SETLEASE, F_UNLCK), EACCES);
			CHECK_ERR(fc(x, F_SETLEASE, 7), EINVAL);
			CHECK_RET(fc(x, F_GETLEASE, 0), F_UNLCK);
			_exit(0);
		}
		t_wait_exit(pid, 0);
	}
	close(fd);
	close(p[0]);
	close(p[1]);
	close(dir);
	close(o);
}

TEST(lease_preconditions)
{
	const char *path = fresh("lp");
	int rw = (int)CHECK_OK(open(path, O_RDWR));
	/* A read lease on a description open for writing: EAGAIN. */
	CHECK_ERR(fc(rw, F_SETLEASE, F_RDLCK), EAGAIN);
	/* The only open may take a write lease. */
	CHECK_RET(fc(rw, F_SETLEASE, F_WRLCK), 0);
	CHECK_RET(fc(rw, F_GETLEASE, 0), F_WRLCK);
	CHECK_EQ(fc(rw, F_GETFL, 0) & O_ASYNC, O_ASYNC);
	CHECK_RET(fc(rw, F_GETOWN, 0), getpid());
	CHECK(lease_line(rw, "ACTIVE    WRITE"));
	CHECK_RET(fc(rw, F_SETLEASE, F_WRLCK), 0);
	CHECK_ERR(fc(rw, F_SETLEASE, F_RDLCK), EAGAIN);
	CHECK_RET(fc(rw, F_SETLEASE, F_UNLCK), 0);
	CHECK_RET(fc(rw, F_GETLEASE, 0), F_UNLCK);
	CHECK_EQ(fc(rw, F_GETFL, 0) & O_ASYNC, 0);
	CHECK(!lease_line(rw, "ACTIVE    WRITE"));

	int r1 = (int)CHECK_OK(open(path, O_RDONLY));
	/* Open for writing elsewhere: no read lease. */
	CHECK_ERR(fc(r1, F_SETLEASE, F_RDLCK), EAGAIN);
	close(rw);
	CHECK_RET(fc(r1, F_SETLEASE, F_RDLCK), 0);
	CHECK_RET(fc(r1, F_GETLEASE, 0), F_RDLCK);
	CHECK(lease_line(r1, "ACTIVE    READ"));
	/* Readers share read leases; a write lease needs the only open. */
	int r2 = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_RET(fc(r2, F_SETLEASE, F_RDLCK), 0);
	CHECK_ERR(fc(r2, F_SETLEASE, F_WRLCK), EAGAIN);
	CHECK_ERR(fc(r1, F_SETLEASE, F_WRLCK), EAGAIN);
	/* The lease goes with its description. */
	close(r1);
	CHECK_RET(fc(r2, F_GETLEASE, 0), F_RDLCK);
	close(r2);
	int r3 = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_RET(fc(r3, F_SETLEASE, F_WRLCK), 0);
	/* The owner set by someone else stays. */
	CHECK_RET(fc(r3, F_SETLEASE, F_UNLCK), 0);
	CHECK_RET(fc(r3, F_SETOWN, -getpgrp()), 0);
	CHECK_RET(fc(r3, F_SETLEASE, F_RDLCK), 0);
	CHECK_RET(fcntl(r3, F_GETOWN), -getpgrp());
	close(r3);
}

TEST(nonblocking_opens_break_leases)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		siginfo_t si;
		int sig = SIGRTMIN + 1;
		block(sig);
		block(SIGIO);
		const char *path = fresh("lb");
		int h = (int)CHECK_OK(open(path, O_RDONLY));
		CHECK_RET(fc(h, F_SETSIG, sig), 0);
		CHECK_RET(fc(h, F_SETLEASE, F_WRLCK), 0);
		/* A reader breaks a write lease to a read lease. */
		CHECK_ERR(open(path, O_RDONLY | O_NONBLOCK), EWOULDBLOCK);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_MSG);
		CHECK_EQ(si.si_fd, h);
		CHECK_EQ(si.si_band, POLLIN | POLLRDNORM | POLLMSG);
		CHECK_RET(fc(h, F_GETLEASE, 0), F_RDLCK);
		CHECK(lease_line(h, "BREAKING  READ"));
		/* Signalled once per break. */
		CHECK_ERR(open(path, O_RDONLY | O_NONBLOCK), EWOULDBLOCK);
		CHECK_RET(take(sig, &si, 100), -1);
		CHECK_RET(fc(h, F_SETLEASE, F_RDLCK), 0);
		CHECK_RET(fc(h, F_GETLEASE, 0), F_RDLCK);
		CHECK(lease_line(h, "ACTIVE    READ"));
		int r = (int)CHECK_OK(open(path, O_RDONLY | O_NONBLOCK));
		close(r);
		/* A writer breaks a read lease to nothing. */
		CHECK_ERR(open(path, O_WRONLY | O_NONBLOCK), EWOULDBLOCK);
		CHECK_RET(take(sig, &si, 1000), sig);
		CHECK_EQ(si.si_code, POLL_MSG);
		CHECK_RET(fc(h, F_GETLEASE, 0), F_UNLCK);
		CHECK(lease_line(h, "BREAKING  UNLCK"));
		/* Downgrading does not end an unlock break. */
		CHECK_RET(fc(h, F_SETLEASE, F_RDLCK), 0);
		CHECK_RET(fc(h, F_GETLEASE, 0), F_UNLCK);
		/* Nor may another description lease meanwhile. */
		int other = (int)CHECK_OK(open(path, O_RDONLY | O_NONBLOCK));
		CHECK_ERR(fc(other, F_SETLEASE, F_RDLCK), EAGAIN);
		CHECK_RET(fc(h, F_SETLEASE, F_UNLCK), 0);
		int w = (int)CHECK_OK(open(path, O_WRONLY | O_NONBLOCK));
		close(w);
		close(other);
		close(h);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(blocking_open_waits_for_the_holder)
{
	const char *path = fresh("lw");
	block(SIGIO);
	int h = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK_RET(fc(h, F_SETLEASE, F_RDLCK), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* The inherited holder description would keep the lease. */
		close(h);
		int w = (int)CHECK_OK(open(path, O_WRONLY));
		close(w);
		_exit(0);
	}
	siginfo_t si;
	/* Plain SIGIO: SI_KERNEL, no si_fd. */
	CHECK_RET(take(SIGIO, &si, 5000), SIGIO);
	CHECK_EQ(si.si_code, SI_KERNEL);
	t_wait_sleeping(pid);
	t_sleep_ms(100);
	CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	CHECK_RET(fc(h, F_GETLEASE, 0), F_UNLCK);
	CHECK_RET(fc(h, F_SETLEASE, F_UNLCK), 0);
	t_wait_exit(pid, 0);
	/* Closing the holder's description also lets an opener in. */
	CHECK_RET(fc(h, F_SETLEASE, F_RDLCK), 0);
	pid = t_fork();
	if (pid == 0) {
		close(h);
		int w = (int)CHECK_OK(open(path, O_RDWR));
		close(w);
		_exit(0);
	}
	CHECK_RET(take(SIGIO, &si, 5000), SIGIO);
	t_wait_sleeping(pid);
	close(h);
	t_wait_exit(pid, 0);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGIO);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
}

static void write_sysctl(const char *path, const char *value)
{
	int fd = (int)CHECK_OK(open(path, O_WRONLY));
	CHECK_RET(write(fd, value, strlen(value)), (long)strlen(value));
	close(fd);
}

TEST(break_time_runs_out)
{
	if (geteuid() != 0)
		t_skip("needs root to set lease-break-time");
	const char *bt = "/proc/sys/fs/lease-break-time";
	char old[32] = { 0 };
	int fd = (int)CHECK_OK(open(bt, O_RDONLY));
	CHECK(read(fd, old, sizeof(old) - 1) > 0);
	close(fd);
	CHECK_EQ(atoi(old), 45);
	write_sysctl(bt, "1\n");
	pid_t pid = t_fork();
	if (pid == 0) {
		block(SIGIO);
		const char *path = fresh("lt");
		int h = (int)CHECK_OK(open(path, O_RDONLY));
		CHECK_RET(fc(h, F_SETLEASE, F_RDLCK), 0);
		long long t0 = t_now_ns();
		/* The holder never answers: the open goes ahead after the break
		 * time and the lease is gone. */
		int w = (int)CHECK_OK(open(path, O_WRONLY));
		long long ms = (t_now_ns() - t0) / 1000000;
		CHECK_MSG(ms >= 900 && ms < 5000, "waited %lld ms", ms);
		CHECK_RET(fc(h, F_GETLEASE, 0), F_UNLCK);
		CHECK_EQ(fc(h, F_GETFL, 0) & O_ASYNC, 0);
		CHECK_ERR(fc(h, F_SETLEASE, F_UNLCK), EAGAIN);
		close(w);
		close(h);
		_exit(0);
	}
	int status = t_wait(pid);
	write_sysctl(bt, old);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}
