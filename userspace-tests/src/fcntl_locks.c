/*
 * fcntl(2) record locks: F_GETLK/F_SETLK/F_SETLKW and the OFD forms.
 *
 * A POSIX lock belongs to the process: a forked child is another owner,
 * and closing any descriptor of the file releases every POSIX lock the
 * process holds on it.  An OFD lock belongs to the open file description:
 * dup and fork share it, a new open() is another owner, and it goes with
 * the last descriptor of the description.  Locks of one owner split and
 * merge (fs/locks.c posix_lock_inode); F_GETLK reports the first
 * conflicting lock with its owner's pid (-1 for OFD locks).
 */
#include "test.h"

#include <pthread.h>
#include <sys/wait.h>

static long lk(int fd, int cmd, struct flock *fl)
{
	return syscall(SYS_fcntl, fd, cmd, fl);
}

static struct flock fl_of(short type, off_t start, off_t len)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fl;
}

static long setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = fl_of(type, start, len);
	return lk(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) for `type` over [start, start+len). */
static struct flock probe(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = fl_of(type, start, len);
	CHECK_RET(lk(fd, cmd, &fl), 0);
	return fl;
}

static void check_unlocked(int fd, short type, off_t start, off_t len)
{
	struct flock fl = probe(fd, F_GETLK, type, start, len);
	CHECK_EQ(fl.l_type, F_UNLCK);
}

static void check_locked(int fd, short type, off_t start, off_t len,
			 short held, off_t hstart, off_t hlen, pid_t pid)
{
	struct flock fl = probe(fd, F_GETLK, type, start, len);
	CHECK_EQ(fl.l_type, held);
	CHECK_EQ(fl.l_whence, SEEK_SET);
	CHECK_EQ(fl.l_start, hstart);
	CHECK_EQ(fl.l_len, hlen);
	CHECK_EQ(fl.l_pid, pid);
}

static int scratch(const char *name)
{
	const char *p = t_make_file(name, "", 0600);
	return (int)CHECK_OK(open(p, O_RDWR));
}

static int reopen(const char *name, int flags)
{
	return (int)CHECK_OK(open(t_path(name), flags));
}

/* State letter of process `pid` in /proc/PID/stat, or 0. */
TEST(getlk_reports_conflict_to_another_process)
{
	int fd = scratch("getlk");
	pid_t me = getpid();
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 10, 10), 0);
	/* The owner itself sees no conflict. */
	check_unlocked(fd, F_WRLCK, 0, 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 100, F_WRLCK, 10, 10, me);
		check_locked(fd, F_WRLCK, 19, 1, F_WRLCK, 10, 10, me);
		check_unlocked(fd, F_WRLCK, 20, 5);
		check_unlocked(fd, F_WRLCK, 0, 10);
		/* SEEK_CUR and SEEK_END ranges. */
		CHECK_RET(lseek(fd, 15, SEEK_SET), 15);
		struct flock fl = fl_of(F_RDLCK, -5, 1);
		fl.l_whence = SEEK_CUR;
		CHECK_RET(lk(fd, F_GETLK, &fl), 0);
		CHECK_EQ(fl.l_type, F_WRLCK);
		CHECK_EQ(fl.l_start, 10);
		/* The file is empty: SEEK_END is offset 0. */
		fl = fl_of(F_RDLCK, 0, 0);
		fl.l_whence = SEEK_END;
		CHECK_RET(lk(fd, F_GETLK, &fl), 0);
		CHECK_EQ(fl.l_type, F_WRLCK);
		CHECK_EQ(fl.l_start, 10);
		CHECK_EQ(fl.l_whence, SEEK_SET);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(split_and_merge_seen_from_another_process)
{
	int fd = scratch("split");
	pid_t me = getpid();
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 100), 0);
	CHECK_RET(setlk(fd, F_SETLK, F_UNLCK, 40, 10), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 0, F_WRLCK, 0, 40, me);
		check_unlocked(fd, F_WRLCK, 40, 10);
		check_locked(fd, F_RDLCK, 40, 0, F_WRLCK, 50, 50, me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* A read lock in the hole: three locks of two types. */
	CHECK_RET(setlk(fd, F_SETLK, F_RDLCK, 40, 10), 0);
	pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_WRLCK, 40, 10, F_RDLCK, 40, 10, me);
		check_unlocked(fd, F_RDLCK, 40, 10);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* A write lock over the hole merges everything into [0, 100). */
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 40, 10), 0);
	pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 0, F_WRLCK, 0, 100, me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* A lock to EOF reports l_len 0; a read lock in the middle splits. */
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 100, 0), 0);
	CHECK_RET(setlk(fd, F_SETLK, F_RDLCK, 200, 1), 0);
	pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 1, F_WRLCK, 0, 200, me);
		check_locked(fd, F_WRLCK, 200, 1, F_RDLCK, 200, 1, me);
		check_unlocked(fd, F_RDLCK, 200, 1);
		check_locked(fd, F_RDLCK, 201, 1, F_WRLCK, 201, 0, me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(setlk_conflict_eagain)
{
	int fd = scratch("eagain");
	CHECK_RET(setlk(fd, F_SETLK, F_RDLCK, 0, 10), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_ERR(setlk(fd, F_SETLK, F_WRLCK, 5, 1), EAGAIN);
		CHECK_ERR(setlk(fd, F_SETLK, F_WRLCK, 0, 0), EAGAIN);
		/* Read locks share; other bytes are free. */
		CHECK_RET(setlk(fd, F_SETLK, F_RDLCK, 0, 10), 0);
		CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 10, 10), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* The child's exit released its locks. */
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	close(fd);
}

TEST(setlkw_waits_until_unlock)
{
	int fd = scratch("setlkw");
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(p[0]);
		CHECK_RET(setlk(fd, F_SETLKW, F_WRLCK, 5, 5), 0);
		CHECK_RET(write(p[1], "x", 1), 1);
		_exit(0);
	}
	close(p[1]);
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	CHECK_RET(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	/* Unlocking other bytes does not help the waiter. */
	CHECK_RET(setlk(fd, F_SETLK, F_UNLCK, 20, 0), 0);
	t_sleep_ms(50);
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	CHECK_RET(setlk(fd, F_SETLK, F_UNLCK, 0, 20), 0);
	t_wait_exit(pid, 0);
	CHECK_RET(read(p[0], &c, 1), 1);
	close(p[0]);
	close(fd);
}

TEST(setlkw_deadlock_edeadlk)
{
	int fd = scratch("deadlk");
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 1), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(p[0]);
		CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 1, 1), 0);
		CHECK_RET(write(p[1], "x", 1), 1);
		/* Waits for the parent's byte 0. */
		CHECK_RET(setlk(fd, F_SETLKW, F_WRLCK, 0, 1), 0);
		_exit(0);
	}
	close(p[1]);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	/* Waiting for the child's byte 1 would close the cycle. */
	CHECK_ERR(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
	/* F_SETLK does not check, it just fails. */
	CHECK_ERR(setlk(fd, F_SETLK, F_WRLCK, 1, 1), EAGAIN);
	CHECK_RET(setlk(fd, F_SETLK, F_UNLCK, 0, 1), 0);
	t_wait_exit(pid, 0);
	close(p[0]);
	close(fd);
}

TEST(close_of_any_descriptor_releases_posix_locks)
{
	int fd = scratch("close");
	pid_t me = getpid();
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	/* Closing another description of the file drops the locks. */
	int other = reopen("close", O_RDONLY);
	pid_t pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 0, F_WRLCK, 0, 10, me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(close(other), 0);
	pid = t_fork();
	if (pid == 0) {
		check_unlocked(fd, F_WRLCK, 0, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* So does closing a duplicate. */
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	int d = (int)CHECK_OK(dup(fd));
	CHECK_RET(close(d), 0);
	pid = t_fork();
	if (pid == 0) {
		check_unlocked(fd, F_WRLCK, 0, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* A child closing its copy releases only its own locks. */
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	pid = t_fork();
	if (pid == 0) {
		CHECK_RET(close(fd), 0);
		int again = reopen("close", O_RDWR);
		CHECK_ERR(setlk(again, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(ofd_locks_belong_to_the_description)
{
	int a = scratch("ofd");
	int b = reopen("ofd", O_RDWR);
	CHECK_RET(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	/* Another description of the same process conflicts, OFD or POSIX. */
	CHECK_ERR(setlk(b, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	CHECK_ERR(setlk(b, F_SETLK, F_RDLCK, 5, 1), EAGAIN);
	struct flock fl = probe(b, F_OFD_GETLK, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 10);
	CHECK_EQ(fl.l_pid, -1);
	fl = probe(b, F_GETLK, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, -1);
	/* A duplicate is the same owner. */
	int d = (int)CHECK_OK(dup(a));
	CHECK_RET(setlk(d, F_OFD_SETLK, F_WRLCK, 5, 10), 0);
	/* So is a forked child using the inherited description. */
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_RET(setlk(a, F_OFD_SETLK, F_RDLCK, 0, 15), 0);
		int c = reopen("ofd", O_RDWR);
		CHECK_RET(setlk(c, F_OFD_SETLK, F_RDLCK, 0, 1), 0);
		CHECK_ERR(setlk(c, F_OFD_SETLK, F_WRLCK, 14, 1), EAGAIN);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* Closing one descriptor keeps the lock; it now is a read lock. */
	CHECK_RET(close(a), 0);
	CHECK_RET(setlk(b, F_OFD_SETLK, F_RDLCK, 0, 1), 0);
	CHECK_ERR(setlk(b, F_OFD_SETLK, F_WRLCK, 2, 1), EAGAIN);
	CHECK_RET(close(d), 0);
	CHECK_RET(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	close(b);
}

TEST(ofd_requires_zero_pid)
{
	int fd = scratch("ofdpid");
	struct flock fl = fl_of(F_WRLCK, 0, 0);
	fl.l_pid = 1;
	CHECK_ERR(lk(fd, F_OFD_SETLK, &fl), EINVAL);
	CHECK_ERR(lk(fd, F_OFD_SETLKW, &fl), EINVAL);
	CHECK_ERR(lk(fd, F_OFD_GETLK, &fl), EINVAL);
	/* POSIX commands ignore l_pid. */
	CHECK_RET(lk(fd, F_SETLK, &fl), 0);
	close(fd);
}

TEST(lock_type_needs_open_mode_ebadf)
{
	scratch("mode");
	int r = reopen("mode", O_RDONLY);
	int w = reopen("mode", O_WRONLY);
	CHECK_ERR(setlk(r, F_SETLK, F_WRLCK, 0, 1), EBADF);
	CHECK_ERR(setlk(r, F_OFD_SETLK, F_WRLCK, 0, 1), EBADF);
	CHECK_RET(setlk(r, F_SETLK, F_RDLCK, 0, 1), 0);
	CHECK_ERR(setlk(w, F_SETLK, F_RDLCK, 2, 1), EBADF);
	CHECK_ERR(setlk(w, F_SETLKW, F_RDLCK, 2, 1), EBADF);
	CHECK_RET(setlk(w, F_SETLK, F_WRLCK, 2, 1), 0);
	CHECK_RET(setlk(r, F_SETLK, F_UNLCK, 0, 0), 0);
	/* F_GETLK does not look at the open mode. */
	struct flock fl = probe(r, F_GETLK, F_WRLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);
	int p = reopen("mode", O_PATH);
	CHECK_ERR(setlk(p, F_GETLK, F_RDLCK, 0, 0), EBADF);
	fl = fl_of(F_RDLCK, 0, 0);
	CHECK_ERR(lk(-1, F_SETLK, &fl), EBADF);
	CHECK_ERR(lk(-1, F_GETLK, &fl), EBADF);
	close(p);
	close(r);
	close(w);
}

TEST(bad_arguments_einval_efault)
{
	int fd = scratch("inval");
	CHECK_ERR(setlk(fd, F_SETLK, 7, 0, 0), EINVAL);
	CHECK_ERR(setlk(fd, F_GETLK, 7, 0, 0), EINVAL);
	CHECK_ERR(setlk(fd, F_GETLK, F_UNLCK, 0, 0), EINVAL);
	struct flock fl = fl_of(F_WRLCK, 0, 0);
	fl.l_whence = 5;
	CHECK_ERR(lk(fd, F_SETLK, &fl), EINVAL);
	CHECK_ERR(setlk(fd, F_SETLK, F_WRLCK, -1, 1), EINVAL);
	CHECK_ERR(setlk(fd, F_SETLK, F_WRLCK, 5, -6), EINVAL);
	/* A negative length locks the bytes before l_start. */
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 5, -5), 0);
	pid_t me = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 0, F_WRLCK, 0, 5, me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_ERR(lk(fd, F_SETLK, (struct flock *)1), EFAULT);
	CHECK_ERR(lk(fd, F_GETLK, NULL), EFAULT);
	CHECK_ERR(lk(fd, F_OFD_SETLKW, (struct flock *)8), EFAULT);
	close(fd);
}

static volatile sig_atomic_t usr1_hits;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_hits++;
}

TEST(signal_interrupts_setlkw_eintr)
{
	int fd = scratch("eintr");
	CHECK_RET(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	int done[2];
	CHECK_RET(pipe(done), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		close(done[0]);
		/* No SA_RESTART: the blocked F_SETLKW fails with EINTR. */
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigemptyset(&sa.sa_mask);
		CHECK_RET(sigaction(SIGUSR1, &sa, NULL), 0);
		CHECK_ERR(setlk(fd, F_SETLKW, F_RDLCK, 0, 1), EINTR);
		CHECK(usr1_hits >= 1);
		/* The interrupted request left no lock and no wait behind. */
		CHECK_ERR(setlk(fd, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
		CHECK_RET(write(done[1], "d", 1), 1);
		_exit(0);
	}
	close(done[1]);
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
	close(done[0]);
	close(fd);
}

static int thread_fd;
static long thread_ret;

static void *thread_setlk(void *arg)
{
	(void)arg;
	thread_ret = setlk(thread_fd, F_SETLK, F_WRLCK, 0, 10);
	return NULL;
}

TEST(threads_share_posix_locks)
{
	int fd = scratch("threads");
	CHECK_RET(setlk(fd, F_SETLK, F_RDLCK, 0, 10), 0);
	/* Another thread is the same owner: it converts the lock. */
	thread_fd = fd;
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, thread_setlk, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(thread_ret, 0);
	pid_t me = getpid();
	pid_t pid = t_fork();
	if (pid == 0) {
		check_locked(fd, F_RDLCK, 0, 0, F_WRLCK, 0, 10, me);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(fd);
}

TEST(ofd_setlkw_waits_for_another_description)
{
	int a = scratch("ofdw");
	int b = reopen("ofdw", O_RDWR);
	CHECK_RET(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 1), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		/* b is another owner even in the same process tree. */
		CHECK_RET(setlk(b, F_OFD_SETLKW, F_WRLCK, 0, 1), 0);
		_exit(0);
	}
	t_wait_sleeping(pid);
	t_sleep_ms(50);
	CHECK_EQ(waitpid(pid, NULL, WNOHANG), 0);
	CHECK_RET(setlk(a, F_OFD_SETLK, F_UNLCK, 0, 0), 0);
	t_wait_exit(pid, 0);
	/* The child's exit left b's lock: b is still open here. */
	CHECK_ERR(setlk(a, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);
	close(b);
	CHECK_RET(setlk(a, F_OFD_SETLK, F_RDLCK, 0, 1), 0);
	close(a);
}
