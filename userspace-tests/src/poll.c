/*
 * poll(2) and ppoll(2) on pipes and files: readiness, timeouts, POLLHUP,
 * POLLERR, POLLNVAL, and ppoll's temporary signal mask.
 *
 * poll() is the libc call (the poll syscall on x86_64, ppoll on riscv64,
 * which has no poll syscall); ppoll is always the raw syscall.
 */
#include "test.h"

#include <poll.h>

static long raw_ppoll(struct pollfd *fds, unsigned long n,
		      const struct timespec *ts, const sigset_t *mask)
{
	return syscall(SYS_ppoll, fds, n, ts, mask, 8);
}

static void one(struct pollfd *p, int fd, short events)
{
	p->fd = fd;
	p->events = events;
	p->revents = (short)0x7777; /* must be overwritten */
}

TEST(timeout_zero_nothing_ready)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	struct pollfd f;
	one(&f, p[0], POLLIN);
	CHECK_RET(poll(&f, 1, 0), 0);
	CHECK_EQ(f.revents, 0);
	struct timespec zero = { 0, 0 };
	one(&f, p[0], POLLIN);
	CHECK_RET(raw_ppoll(&f, 1, &zero, NULL), 0);
	CHECK_EQ(f.revents, 0);
	/* No descriptors at all is fine too. */
	CHECK_RET(poll(NULL, 0, 0), 0);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_readiness)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	struct pollfd f[2];
	one(&f[0], p[0], POLLIN);
	one(&f[1], p[1], POLLOUT);
	/* Only the write end is ready. */
	CHECK_RET(poll(f, 2, 0), 1);
	CHECK_EQ(f[0].revents, 0);
	CHECK_EQ(f[1].revents, POLLOUT);
	CHECK_RET(write(p[1], "d", 1), 1);
	one(&f[0], p[0], POLLIN);
	one(&f[1], p[1], POLLOUT);
	CHECK_RET(poll(f, 2, 0), 2);
	CHECK_EQ(f[0].revents, POLLIN);
	/* Events not asked for are not reported (POLLOUT on the read end). */
	one(&f[0], p[0], POLLOUT);
	CHECK_RET(poll(f, 1, 0), 0);
	CHECK_EQ(f[0].revents, 0);
	close(p[0]);
	close(p[1]);
}

TEST(pollhup_when_writers_closed)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(write(p[1], "x", 1), 1);
	close(p[1]);
	struct pollfd f;
	one(&f, p[0], POLLIN);
	CHECK_RET(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLIN | POLLHUP);
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	/* POLLHUP is reported even when not requested. */
	one(&f, p[0], 0);
	CHECK_RET(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLHUP);
	close(p[0]);
}

TEST(pollerr_when_readers_closed)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	close(p[0]);
	struct pollfd f;
	one(&f, p[1], POLLOUT);
	CHECK_RET(poll(&f, 1, 0), 1);
	CHECK(f.revents & POLLERR);
	close(p[1]);
}

TEST(pollnval_and_negative_fd)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	int closed = p[0];
	close(closed);
	struct pollfd f[3];
	one(&f[0], closed, POLLIN);
	one(&f[1], -1, POLLIN);
	one(&f[2], p[1], POLLOUT);
	/* The closed fd counts as ready with POLLNVAL; the negative one is
	 * ignored with revents 0. */
	CHECK_RET(poll(f, 3, 0), 2);
	CHECK_EQ(f[0].revents, POLLNVAL);
	CHECK_EQ(f[1].revents, 0);
	CHECK(f[2].revents & POLLOUT);
	close(p[1]);
}

TEST(regular_file_always_ready)
{
	int fd = (int)CHECK_OK(open(t_path("file"), O_RDWR | O_CREAT, 0600));
	struct pollfd f;
	one(&f, fd, POLLIN | POLLOUT);
	CHECK_RET(poll(&f, 1, 0), 1);
	CHECK_EQ(f.revents, POLLIN | POLLOUT);
	close(fd);
}

TEST(blocks_until_ready)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		_exit(write(p[1], "w", 1) == 1 ? 0 : 1);
	}
	struct pollfd f;
	one(&f, p[0], POLLIN);
	CHECK_RET(poll(&f, 1, -1), 1);
	CHECK_EQ(f.revents, POLLIN);
	t_wait_exit(pid, 0);
	/* ppoll with a NULL timeout blocks the same way. */
	pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		_exit(write(p[1], "w", 1) == 1 ? 0 : 1);
	}
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	one(&f, p[0], POLLIN);
	CHECK_RET(raw_ppoll(&f, 1, NULL, NULL), 1);
	CHECK_EQ(f.revents, POLLIN);
	t_wait_exit(pid, 0);
	close(p[0]);
	close(p[1]);
}

TEST(timeout_waits_at_least)
{
	/* The timeout is a lower bound; no upper bound is asserted. */
	int p[2];
	CHECK_RET(pipe(p), 0);
	struct pollfd f;
	one(&f, p[0], POLLIN);
	long long t0 = t_now_ns();
	CHECK_RET(poll(&f, 1, 100), 0);
	long long dt = t_now_ns() - t0;
	CHECK_MSG(dt >= 100000000LL, "poll(100 ms) returned after %lld ns", dt);
	struct timespec ts = { 0, 100000000L };
	t0 = t_now_ns();
	CHECK_RET(raw_ppoll(&f, 1, &ts, NULL), 0);
	dt = t_now_ns() - t0;
	CHECK_MSG(dt >= 100000000LL, "ppoll(100 ms) returned after %lld ns", dt);
	close(p[0]);
	close(p[1]);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

TEST(ppoll_sigmask)
{
	/* ppoll installs its mask for the wait only: a signal blocked in the
	 * caller but unblocked by the mask interrupts it with EINTR. */
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		sigset_t block, during, now;
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		sigprocmask(SIG_BLOCK, &block, NULL);
		int p[2];
		CHECK_RET(pipe(p), 0);
		pid_t me = getpid();
		pid_t k = fork();
		if (k == 0) {
			t_sleep_ms(100);
			kill(me, SIGUSR1);
			_exit(0);
		}
		sigemptyset(&during);
		struct pollfd f;
		one(&f, p[0], POLLIN);
		CHECK_ERR(raw_ppoll(&f, 1, NULL, &during), EINTR);
		CHECK_EQ(got_usr1, 1);
		/* The caller's mask is back in place. */
		CHECK_RET(sigprocmask(SIG_BLOCK, NULL, &now), 0);
		CHECK(sigismember(&now, SIGUSR1));
		t_wait(k);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(errors)
{
	struct pollfd f;
	one(&f, 0, POLLIN);
	struct timespec bad = { 0, 1000000000L }, neg = { -1, 0 };
	CHECK_ERR(raw_ppoll(&f, 1, &bad, NULL), EINVAL);
	CHECK_ERR(raw_ppoll(&f, 1, &neg, NULL), EINVAL);
	sigset_t m;
	sigemptyset(&m);
	struct timespec zero = { 0, 0 };
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, &zero, &m, 4), EINVAL);
	CHECK_ERR(raw_ppoll((struct pollfd *)1, 1, &zero, NULL), EFAULT);
	CHECK_ERR(raw_ppoll(&f, 1, (struct timespec *)1, NULL), EFAULT);
	/* More descriptors than RLIMIT_NOFILE allows. */
	CHECK_ERR(raw_ppoll(&f, 0x7fffffffUL, &zero, NULL), EINVAL);
}
