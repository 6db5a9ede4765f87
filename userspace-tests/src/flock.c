/*
 * flock(2): advisory whole-file locks.
 *
 * A lock belongs to the open file description: descriptors made by dup and
 * fork share it, LOCK_UN through any of them releases it, and it goes away
 * when the last descriptor of the description closes.  Two open() calls of
 * one file are two descriptions whose locks conflict.  Converting a lock
 * removes the old one before asking for the new one (fs/locks.c
 * flock_lock_inode), so a failed LOCK_NB conversion leaves no lock.
 */
#include "test.h"

#include <sys/file.h>

static long raw_flock(int fd, int op)
{
	return syscall(SYS_flock, fd, op);
}

/* A fresh scratch file named `name`, opened read-write. */
static int scratch(const char *name)
{
	const char *p = t_make_file(name, "", 0600);
	return (int)CHECK_OK(open(p, O_RDWR));
}

/* Another open file description of the scratch file `name`. */
static int reopen(const char *name)
{
	return (int)CHECK_OK(open(t_path(name), O_RDWR));
}

/* State letter of process `pid` in /proc/PID/stat, or 0. */
/* Reads one byte from `fd`; returns it, or -1 at end of file. */
static int read_byte(int fd)
{
	char c;
	long n;
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		t_fail("read failed: %s", t_errname(errno));
	return n == 1 ? (unsigned char)c : -1;
}

static void write_byte(int fd, char c)
{
	CHECK_RET(write(fd, &c, 1), 1);
}

TEST(invalid_operation_einval)
{
	int fd = scratch("inval");
	static const int bad[] = {
		0, LOCK_NB, LOCK_SH | LOCK_EX, LOCK_SH | LOCK_UN,
		LOCK_EX | LOCK_UN, 16, LOCK_UN | LOCK_NB | LOCK_SH, 0x100 | LOCK_SH,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_ERR(raw_flock(fd, bad[i]), EINVAL);
	/* The operation is checked before the descriptor. */
	CHECK_ERR(raw_flock(-1, 0), EINVAL);
	CHECK_ERR(raw_flock(-1, 3), EINVAL);
	/* Nothing was locked by the failed calls. */
	int other = reopen("inval");
	CHECK_RET(raw_flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	close(fd);
}

TEST(bad_descriptor_ebadf)
{
	CHECK_ERR(raw_flock(-1, LOCK_SH), EBADF);
	CHECK_ERR(raw_flock(-1, LOCK_UN), EBADF);
	CHECK_ERR(raw_flock(1000000, LOCK_EX | LOCK_NB), EBADF);
	int fd = scratch("ebadf");
	close(fd);
	CHECK_ERR(raw_flock(fd, LOCK_EX), EBADF);
	/* O_PATH descriptors are invisible to flock, even for LOCK_UN. */
	int p = (int)CHECK_OK(open(t_path("ebadf"), O_PATH));
	CHECK_ERR(raw_flock(p, LOCK_SH), EBADF);
	CHECK_ERR(raw_flock(p, LOCK_EX | LOCK_NB), EBADF);
	CHECK_ERR(raw_flock(p, LOCK_UN), EBADF);
	close(p);
	int d = (int)CHECK_OK(open(t_tmpdir(), O_PATH | O_DIRECTORY));
	CHECK_ERR(raw_flock(d, LOCK_EX | LOCK_NB), EBADF);
	close(d);
}

TEST(lock_mand_is_ignored)
{
	/* LOCK_MAND (32) requests succeed without a descriptor check. */
	CHECK_RET(raw_flock(-1, 32 | 64), 0);
	int fd = scratch("mand");
	CHECK_RET(raw_flock(fd, 32 | 128), 0);
	/* ... and lock nothing. */
	int other = reopen("mand");
	CHECK_RET(raw_flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	close(fd);
}

TEST(shared_locks_coexist)
{
	int a = scratch("shared");
	int b = reopen("shared");
	int c = reopen("shared");
	CHECK_RET(raw_flock(a, LOCK_SH), 0);
	CHECK_RET(raw_flock(b, LOCK_SH | LOCK_NB), 0);
	CHECK_ERR(raw_flock(c, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(c, LOCK_SH | LOCK_NB), 0);
	/* Another file is not affected. */
	int x = scratch("shared-other");
	CHECK_RET(raw_flock(x, LOCK_EX | LOCK_NB), 0);
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	CHECK_RET(raw_flock(b, LOCK_UN), 0);
	CHECK_ERR(raw_flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(c, LOCK_UN), 0);
	CHECK_RET(raw_flock(a, LOCK_EX | LOCK_NB), 0);
	close(x);
	close(a);
	close(b);
	close(c);
}

TEST(exclusive_excludes_other_descriptions)
{
	int a = scratch("excl");
	int b = reopen("excl");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_ERR(raw_flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* The same type again on the same description changes nothing. */
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	CHECK_RET(raw_flock(a, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	/* flock(3) reports the same. */
	CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	close(a);
	close(b);
}

TEST(unlock_without_lock_succeeds)
{
	int a = scratch("unlock");
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	CHECK_RET(raw_flock(a, LOCK_UN | LOCK_NB), 0);
	int b = reopen("unlock");
	CHECK_RET(raw_flock(b, LOCK_EX), 0);
	/* Unlocking through another description does not touch b's lock. */
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	CHECK_ERR(raw_flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(a);
	close(b);
}

TEST(dup_shares_the_lock)
{
	int a = scratch("dup");
	int b = reopen("dup");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	int d = (int)CHECK_OK(dup(a));
	/* The duplicate is the same owner: no conflict. */
	CHECK_RET(raw_flock(d, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* LOCK_UN through the duplicate releases the lock taken through a. */
	CHECK_RET(raw_flock(d, LOCK_UN), 0);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	close(a);
	close(b);
	close(d);
}

TEST(last_close_releases)
{
	int a = scratch("close");
	int b = reopen("close");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	int d = (int)CHECK_OK(fcntl(a, F_DUPFD_CLOEXEC, 0));
	/* The description lives on through d: still locked. */
	CHECK_RET(close(a), 0);
	CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	/* The last descriptor closes: the lock goes away. */
	CHECK_RET(close(d), 0);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	close(b);
}

TEST(fork_shares_the_lock)
{
	int a = scratch("fork");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	/* The child's copy is the same description: it holds the lock too. */
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(raw_flock(a, LOCK_EX | LOCK_NB), 0);
		int b = reopen("fork");
		CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The child's exit closed only its descriptor: still locked. */
	int b = reopen("fork");
	CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	/* The child's LOCK_UN releases the parent's lock. */
	pid = t_fork();
	if (pid == 0) {
		CHECK_RET(raw_flock(a, LOCK_UN), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	CHECK_RET(raw_flock(b, LOCK_UN), 0);
	/* A lock the child takes through the shared description stays after
	 * the child exits. */
	pid = t_fork();
	if (pid == 0) {
		CHECK_RET(raw_flock(a, LOCK_SH | LOCK_NB), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_ERR(raw_flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(b, LOCK_SH | LOCK_NB), 0);
	close(a);
	close(b);
}

TEST(blocked_lock_granted_after_unlock)
{
	int a = scratch("block");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	int got[2], go[2];
	CHECK_RET(pipe(got), 0);
	CHECK_RET(pipe(go), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(got[0]);
		close(go[1]);
		int b = reopen("block");
		CHECK_RET(raw_flock(b, LOCK_EX), 0);
		write_byte(got[1], 'g');
		/* Hold the lock until the parent has looked. */
		read_byte(go[0]);
		_exit(0);
	}
	close(got[1]);
	close(go[0]);
	t_wait_sleeping(pid);
	/* Still blocked: nothing arrived. */
	CHECK_RET(fcntl(got[0], F_SETFL, O_NONBLOCK), 0);
	CHECK_ERR(read(got[0], &(char){ 0 }, 1), EAGAIN);
	CHECK_RET(fcntl(got[0], F_SETFL, 0), 0);
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	CHECK_EQ(read_byte(got[0]), 'g');
	/* The child holds it exclusively now. */
	CHECK_ERR(raw_flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	write_byte(go[1], 'x');
	t_wait_exit(pid, 0);
	/* Its exit closed its description and released the lock. */
	CHECK_RET(raw_flock(a, LOCK_EX | LOCK_NB), 0);
	close(got[0]);
	close(go[1]);
	close(a);
}

TEST(close_wakes_blocked_lock)
{
	int a = scratch("closewake");
	CHECK_RET(raw_flock(a, LOCK_SH), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* Only the parent's descriptor may keep the description. */
		close(a);
		int b = reopen("closewake");
		CHECK_RET(raw_flock(b, LOCK_EX), 0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	CHECK_RET(close(a), 0);
	t_wait_exit(pid, 0);
}

static volatile sig_atomic_t usr1_hits;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_hits++;
}

TEST(signal_interrupts_blocked_lock_eintr)
{
	int a = scratch("eintr");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	int done[2];
	CHECK_RET(pipe(done), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(done[0]);
		/* No SA_RESTART: the blocked flock fails with EINTR. */
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigemptyset(&sa.sa_mask);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		int b = reopen("eintr");
		CHECK_ERR(raw_flock(b, LOCK_EX), EINTR);
		CHECK(usr1_hits >= 1);
		/* The interrupted request left no lock behind. */
		int c = reopen("eintr");
		CHECK_ERR(raw_flock(c, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		write_byte(done[1], 'd');
		_exit(0);
	}
	close(done[1]);
	/* Signal until the child reports (or exits, having failed). */
	CHECK_RET(fcntl(done[0], F_SETFL, O_NONBLOCK), 0);
	for (;;) {
		char c;
		if (read(done[0], &c, 1) >= 0)
			break;
		CHECK_EQ(errno, EAGAIN);
		if (t_proc_state(pid) == 'S')
			CHECK_RET(kill(pid, SIGUSR1), 0);
		t_sleep_ms(20);
	}
	t_wait_exit(pid, 0);
	/* The parent's lock was never lost. */
	int b = reopen("eintr");
	CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(b);
	close(done[0]);
	close(a);
}

TEST(sa_restart_restarts_blocked_lock)
{
	int a = scratch("restart");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
		sigemptyset(&sa.sa_mask);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		int b = reopen("restart");
		CHECK_RET(raw_flock(b, LOCK_EX), 0);
		CHECK(usr1_hits >= 1);
		_exit(0);
	}
	t_wait_sleeping(pid);
	CHECK_RET(kill(pid, SIGUSR1), 0);
	/* The handler ran and flock went back to sleep. */
	t_wait_sleeping(pid);
	t_sleep_ms(20);
	t_wait_sleeping(pid);
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	t_wait_exit(pid, 0);
	close(a);
}

TEST(conversion_removes_old_lock_first)
{
	int a = scratch("convert");
	int b = reopen("convert");
	/* Upgrade that conflicts: a's shared lock is lost. */
	CHECK_RET(raw_flock(a, LOCK_SH), 0);
	CHECK_RET(raw_flock(b, LOCK_SH), 0);
	CHECK_ERR(raw_flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	/* Downgrade: b keeps a shared lock, others may share it. */
	CHECK_RET(raw_flock(b, LOCK_SH | LOCK_NB), 0);
	CHECK_RET(raw_flock(a, LOCK_SH | LOCK_NB), 0);
	int c = reopen("convert");
	CHECK_ERR(raw_flock(c, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* Upgrade without conflict. */
	CHECK_RET(raw_flock(a, LOCK_UN), 0);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(c, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_ERR(raw_flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(a);
	close(b);
	close(c);
}

TEST(downgrade_wakes_shared_waiter)
{
	int a = scratch("downgrade");
	CHECK_RET(raw_flock(a, LOCK_EX), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		int b = reopen("downgrade");
		CHECK_RET(raw_flock(b, LOCK_SH), 0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	CHECK_RET(raw_flock(a, LOCK_SH), 0);
	t_wait_exit(pid, 0);
	close(a);
}

TEST(directory)
{
	const char *dir = t_path("dir");
	CHECK_RET(mkdir(dir, 0700), 0);
	int a = (int)CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	int b = (int)CHECK_OK(open(dir, O_RDONLY | O_DIRECTORY));
	CHECK_RET(raw_flock(a, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(a, LOCK_SH), 0);
	CHECK_RET(raw_flock(b, LOCK_SH | LOCK_NB), 0);
	CHECK_RET(close(a), 0);
	CHECK_RET(raw_flock(b, LOCK_EX | LOCK_NB), 0);
	close(b);
	rmdir(dir);
}

TEST(read_only_and_write_only_descriptions)
{
	int a = scratch("modes");
	int r = (int)CHECK_OK(open(t_path("modes"), O_RDONLY));
	int w = (int)CHECK_OK(open(t_path("modes"), O_WRONLY));
	CHECK_RET(raw_flock(r, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(w, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(raw_flock(r, LOCK_UN), 0);
	CHECK_RET(raw_flock(w, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(a);
	close(r);
	close(w);
}

TEST(pipe_ends_share_one_lock)
{
	/* Both ends of a pipe are one inode. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(raw_flock(p[0], LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(raw_flock(p[1], LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_RET(close(p[0]), 0);
	CHECK_RET(raw_flock(p[1], LOCK_EX | LOCK_NB), 0);
	close(p[1]);
}
