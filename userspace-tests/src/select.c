/*
 * select(2) and pselect6(2): readiness of pipes in the three sets, the
 * timeout (and its update), errors, and pselect's temporary signal mask.
 */
#include "test.h"

#include <sys/select.h>

/* Raw pselect6: the kernel's 6th argument is { sigset_t *, size_t }. */
static long raw_pselect6(int n, fd_set *r, fd_set *w, fd_set *e, struct timespec *ts,
			 const sigset_t *mask)
{
	struct {
		const sigset_t *ss;
		size_t len;
	} arg = { mask, 8 };
	return syscall(SYS_pselect6, n, r, w, e, ts, mask ? &arg : NULL);
}

TEST(pipe_readiness)
{
	int p[2];
	CHECK_OK(pipe(p));
	fd_set r, w;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timespec zero = { 0, 0 };
	/* Empty pipe: nothing ready, the set comes back empty. */
	CHECK_RET(raw_pselect6(p[0] + 1, &r, NULL, NULL, &zero, NULL), 0);
	CHECK(!FD_ISSET(p[0], &r));
	/* The write end is writable. */
	FD_ZERO(&w);
	FD_SET(p[1], &w);
	CHECK_RET(raw_pselect6(p[1] + 1, NULL, &w, NULL, &zero, NULL), 1);
	CHECK(FD_ISSET(p[1], &w));
	/* Data: readable; both sets count. */
	CHECK_RET(write(p[1], "x", 1), 1);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	int n = p[0] > p[1] ? p[0] : p[1];
	CHECK_RET(raw_pselect6(n + 1, &r, &w, NULL, &zero, NULL), 2);
	CHECK(FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w));
	/* No exceptional conditions on a pipe. */
	fd_set e;
	FD_ZERO(&e);
	FD_SET(p[0], &e);
	CHECK_RET(raw_pselect6(p[0] + 1, NULL, NULL, &e, &zero, NULL), 0);
	/* A hung-up pipe reads as ready (EOF). */
	char c;
	CHECK_RET(read(p[0], &c, 1), 1);
	close(p[1]);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK_RET(raw_pselect6(p[0] + 1, &r, NULL, NULL, NULL, NULL), 1);
	close(p[0]);
}

TEST(timeout_expires_and_is_updated)
{
	int p[2];
	CHECK_OK(pipe(p));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	CHECK_RET(raw_pselect6(p[0] + 1, &r, NULL, NULL, &ts, NULL), 0);
	/* The kernel writes back the time not slept: none. */
	CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0);
#ifdef SYS_select
	struct timeval tv = { 0, 20 * 1000 };
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK_RET(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv), 0);
	CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
	/* select carries microseconds past a second over. */
	tv.tv_sec = 0;
	tv.tv_usec = 1000000;
	CHECK_RET(write(p[1], "x", 1), 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK_RET(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv), 1);
#endif
	close(p[0]);
	close(p[1]);
}

TEST(errors)
{
	int p[2];
	CHECK_OK(pipe(p));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timespec zero = { 0, 0 };
	CHECK_ERR(raw_pselect6(-1, &r, NULL, NULL, &zero, NULL), EINVAL);
	struct timespec bad = { 0, 1000000000 };
	CHECK_ERR(raw_pselect6(p[0] + 1, &r, NULL, NULL, &bad, NULL), EINVAL);
	struct timespec neg = { -1, 0 };
	CHECK_ERR(raw_pselect6(p[0] + 1, &r, NULL, NULL, &neg, NULL), EINVAL);
	/* A closed descriptor in a set: EBADF. */
	int closed = CHECK_OK(dup(p[0]));
	close(closed);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	CHECK_ERR(raw_pselect6(closed + 1, &r, NULL, NULL, &zero, NULL), EBADF);
	/* A bad set pointer: EFAULT. */
	CHECK_ERR(raw_pselect6(p[0] + 1, (fd_set *)8, NULL, NULL, &zero, NULL), EFAULT);
	/* Bits beyond nfds are not looked at. */
	FD_ZERO(&r);
	FD_SET(closed, &r);
	CHECK_RET(raw_pselect6(0, &r, NULL, NULL, &zero, NULL), 0);
	close(p[0]);
	close(p[1]);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

TEST(pselect_temporary_mask)
{
	/* SIGUSR1 is blocked; pselect6 unblocks it for the wait only. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	sigset_t blocked, none, now;
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	sigemptyset(&none);
	CHECK_OK(sigprocmask(SIG_BLOCK, &blocked, NULL));
	pid_t me = getpid();
	pid_t k = t_fork();
	if (k == 0) {
		t_sleep_ms(100);
		kill(me, SIGUSR1);
		_exit(0);
	}
	int p[2];
	CHECK_OK(pipe(p));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	got_usr1 = 0;
	CHECK_ERR(raw_pselect6(p[0] + 1, &r, NULL, NULL, NULL, &none), EINTR);
	CHECK_EQ(got_usr1, 1);
	/* The caller's mask is back. */
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &now));
	CHECK(sigismember(&now, SIGUSR1));
	t_wait_exit(k, 0);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &blocked, NULL));
	signal(SIGUSR1, SIG_DFL);
	close(p[0]);
	close(p[1]);
}
