/*
 * epoll_wait(2), epoll_pwait and epoll_pwait2: timeouts, wake-ups from
 * other processes and threads without lost wake-ups, EPOLLEXCLUSIVE, EINTR
 * (never restarted), epoll_pwait's signal mask and epoll_pwait2's timespec.
 */
#include "epoll_test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>

TEST(timeouts)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(ep, p[0], EPOLLIN);
	struct epoll_event ev;
	CHECK_RET(ewait(ep, &ev, 1, 0), 0);
	long long t0 = t_now_ns();
	CHECK_RET(ewait(ep, &ev, 1, 50), 0);
	CHECK(t_now_ns() - t0 >= 50000000LL);
	/* An empty instance just times out. */
	int empty = CHECK_OK(epoll_create1(0));
	CHECK_RET(ewait(empty, &ev, 1, 20), 0);
	close(empty), close(p[0]), close(p[1]), close(ep);
}

TEST(infinite_wait_woken_by_another_process)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(ep, p[0], EPOLLIN);
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	struct epoll_event ev = { 0 };
	CHECK_RET(ewait(ep, &ev, 1, -1), 1);
	CHECK_EQ(ev.events, EPOLLIN);
	CHECK_EQ(ev.data.u64, p[0]);
	t_wait_exit(pid, 0);
	close(p[0]), close(p[1]), close(ep);
}

/* Waits (edge-triggered, no timeout) for the one entry of `ep`, then reads
 * the byte that woke it. */
static int pong_wait(int ep, int fd)
{
	struct epoll_event ev;
	long n;
	do
		n = ewait(ep, &ev, 1, -1);
	while (n < 0 && errno == EINTR);
	char c;
	return n == 1 && ev.data.u64 == (uint64_t)fd && read(fd, &c, 1) == 1 ? 0 : -1;
}

TEST(ping_pong_loses_no_wakeup)
{
	/* Two processes hand a byte back and forth 300 times, each blocked
	 * in epoll_wait on its own edge-triggered instance: a lost wake-up
	 * hangs the test. */
	int a[2], b[2];
	CHECK_OK(pipe(a));
	CHECK_OK(pipe(b));
	pid_t pid = t_fork();
	if (pid == 0) {
		int ep = CHECK_OK(epoll_create1(0));
		add(ep, a[0], EPOLLIN | EPOLLET);
		for (int i = 0; i < 300; i++) {
			CHECK_RET(pong_wait(ep, a[0]), 0);
			CHECK_RET(write(b[1], "b", 1), 1);
		}
		_exit(0);
	}
	int ep = CHECK_OK(epoll_create1(0));
	add(ep, b[0], EPOLLIN | EPOLLET);
	for (int i = 0; i < 300; i++) {
		CHECK_RET(write(a[1], "a", 1), 1);
		CHECK_RET(pong_wait(ep, b[0]), 0);
	}
	t_wait_exit(pid, 0);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(ep);
}

static void *late_eventfd_write(void *arg)
{
	t_sleep_ms(100);
	uint64_t v = 1;
	if (write(*(int *)arg, &v, 8) != 8)
		return (void *)1;
	return NULL;
}

TEST(wait_woken_by_another_thread)
{
	int ep = CHECK_OK(epoll_create1(0));
	int efd = CHECK_OK(eventfd(0, 0));
	add(ep, efd, EPOLLIN | EPOLLET);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, late_eventfd_write, &efd) == 0);
	struct epoll_event ev = { 0 };
	CHECK_RET(ewait(ep, &ev, 1, 5000), 1);
	CHECK_EQ(ev.events, EPOLLIN);
	void *ret;
	CHECK(pthread_join(t, &ret) == 0);
	CHECK(ret == NULL);
	close(efd), close(ep);
}

struct churn {
	int ep;
	volatile int stop;
};

/* Waits on the instance until told to stop, consuming whatever comes. */
static void *churn_waiter(void *arg)
{
	struct churn *c = arg;
	struct epoll_event evs[8];
	while (!c->stop)
		if (ewait(c->ep, evs, 8, 5) < 0)
			return (void *)1;
	return NULL;
}

TEST(concurrent_ctl_close_and_wait)
{
	/* Entries added, woken and released by close while two threads wait
	 * on the instance and a nested instance is added and removed: nothing
	 * may hang, fail or report a closed descriptor's entry twice. */
	struct churn c = { .ep = CHECK_OK(epoll_create1(0)) };
	int outer = CHECK_OK(epoll_create1(0));
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, churn_waiter, &c) == 0);
	for (int i = 0; i < 300; i++) {
		int p[2];
		CHECK_OK(pipe(p));
		add(c.ep, p[0], i % 2 ? EPOLLIN | EPOLLET : EPOLLIN);
		add(c.ep, p[1], EPOLLOUT | EPOLLONESHOT);
		CHECK_RET(write(p[1], "x", 1), 1);
		if (i % 3 == 0) {
			add(outer, c.ep, EPOLLIN);
			CHECK_RET(epoll_ctl(outer, EPOLL_CTL_DEL, c.ep, NULL), 0);
		}
		close(p[1]);
		close(p[0]);
	}
	c.stop = 1;
	for (int i = 0; i < 2; i++) {
		void *ret;
		CHECK(pthread_join(t[i], &ret) == 0);
		CHECK(ret == NULL);
	}
	/* Every entry went away with its descriptions. */
	expect_none(c.ep);
	char path[64], text[256] = { 0 };
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c.ep);
	int f = CHECK_OK(open(path, O_RDONLY));
	CHECK_OK(read(f, text, sizeof(text) - 1));
	close(f);
	CHECK_MSG(!strstr(text, "tfd:"), "fdinfo: %s", text);
	close(outer), close(c.ep);
}

/* The state letter of process `pid` in /proc/<pid>/stat. */
TEST(exclusive_entries_wake_one_instance)
{
	/* Four processes block in epoll_wait, each on its own instance with
	 * an EPOLLEXCLUSIVE entry for one pipe: each write wakes one. */
	enum { N = 4 };
	int p[2], done[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(done));
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			int ep = CHECK_OK(epoll_create1(0));
			add(ep, p[0], EPOLLIN | EPOLLET | EPOLLEXCLUSIVE);
			struct epoll_event ev;
			CHECK_RET(ewait(ep, &ev, 1, 20000), 1);
			CHECK_RET(write(done[1], "w", 1), 1);
			_exit(0);
		}
	}
	for (int i = 0; i < N; i++) {
		int tries = 0;
		while (t_proc_state(pids[i]) != 'S' && tries++ < 1000)
			t_sleep_ms(10);
		CHECK_EQ(t_proc_state(pids[i]), 'S');
	}
	for (int round = 1; round <= N; round++) {
		char c;
		CHECK_RET(write(p[1], "x", 1), 1);
		CHECK_RET(read(done[0], &c, 1), 1);
		/* Give a wrongly woken second waiter time to report. */
		t_sleep_ms(100);
		struct pollfd more = { .fd = done[0], .events = POLLIN };
		CHECK_MSG(poll(&more, 1, 0) == 0, "write %d woke more than one waiter", round);
		CHECK_RET(read(p[0], &c, 1), 1);
	}
	for (int i = 0; i < N; i++)
		t_wait_exit(pids[i], 0);
	close(p[0]), close(p[1]), close(done[0]), close(done[1]);
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

TEST(signal_interrupts_even_with_sa_restart)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
		CHECK_OK(sigaction(SIGALRM, &sa, NULL));
		int ep = CHECK_OK(epoll_create1(0));
		int p[2];
		CHECK_OK(pipe(p));
		add(ep, p[0], EPOLLIN);
		struct itimerval it = { { 0, 50000 }, { 0, 50000 } };
		CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
		struct epoll_event ev;
		CHECK_ERR(ewait(ep, &ev, 1, -1), EINTR);
		CHECK_EQ(got_signal, SIGALRM);
		/* With a timeout too. */
		CHECK_ERR(ewait(ep, &ev, 1, 10000), EINTR);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(pwait_signal_mask)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_signal };
		CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
		sigset_t usr1, none, now;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigemptyset(&none);
		CHECK_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));
		CHECK_OK(raise(SIGUSR1));
		int ep = CHECK_OK(epoll_create1(0));
		int p[2];
		CHECK_OK(pipe(p));
		add(ep, p[0], EPOLLIN);
		struct epoll_event ev;
		CHECK_ERR(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &none, 4), EINVAL);
		/* The signal stays blocked under a mask that blocks it. */
		CHECK_RET(syscall(SYS_epoll_pwait, ep, &ev, 1, 10, &usr1, 8), 0);
		CHECK_EQ(got_signal, 0);
		/* Timeout 0 never fails with EINTR. */
		CHECK_RET(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &none, 8), 0);
		CHECK_EQ(got_signal, 0);
		/* Under an empty mask it is delivered: EINTR. */
		CHECK_ERR(syscall(SYS_epoll_pwait, ep, &ev, 1, -1, &none, 8), EINTR);
		CHECK_EQ(got_signal, SIGUSR1);
		/* And the old mask is back. */
		CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &now));
		CHECK(sigismember(&now, SIGUSR1));
		/* Events win over a pending signal. */
		got_signal = 0;
		CHECK_OK(raise(SIGUSR1));
		CHECK_RET(write(p[1], "a", 1), 1);
		CHECK_RET(syscall(SYS_epoll_pwait, ep, &ev, 1, -1, &none, 8), 1);
		CHECK_EQ(got_signal, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(pwait2_timespec)
{
	int ep = CHECK_OK(epoll_create1(0));
	int p[2];
	CHECK_OK(pipe(p));
	add(ep, p[0], EPOLLIN);
	struct epoll_event ev;
	struct timespec zero = { 0, 0 }, ts = { 0, 50000000 };
	CHECK_RET(syscall(SYS_epoll_pwait2, ep, &ev, 1, &zero, NULL, 8), 0);
	long long t0 = t_now_ns();
	CHECK_RET(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8), 0);
	CHECK(t_now_ns() - t0 >= 50000000LL);
	struct timespec bad = { 0, 1000000000 }, neg = { -1, 0 };
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 1, &bad, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 1, &neg, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 1, (void *)8, NULL, 8), EFAULT);
	/* The timeout is read before maxevents is checked. */
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 0, &bad, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, &ev, 0, (void *)8, NULL, 8), EFAULT);
	CHECK_RET(write(p[1], "a", 1), 1);
	CHECK_RET(syscall(SYS_epoll_pwait2, ep, &ev, 1, NULL, NULL, 8), 1);
	CHECK_EQ(ev.data.u64, p[0]);
	close(p[0]), close(p[1]), close(ep);
}

