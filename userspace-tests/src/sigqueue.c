/*
 * Queued signals: rt_sigqueueinfo, rt_tgsigqueueinfo, real-time signal
 * queueing and order, rt_sigtimedwait, rt_sigsuspend, and per-thread versus
 * process-wide pending sets.
 */
#include "test.h"

#include <pthread.h>

static int sigqueueinfo(pid_t pid, int sig, siginfo_t *si)
{
	return (int)syscall(SYS_rt_sigqueueinfo, pid, sig, si);
}

static int tgsigqueueinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *si)
{
	return (int)syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, si);
}

static void block(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
}

static void unblock(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static siginfo_t queued(int code, int value)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_code = code;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	return si;
}

static int timedwait(int sig, siginfo_t *out, long ms)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	return sigtimedwait(&set, out, &ts);
}

TEST(sigqueueinfo_to_self_carries_value)
{
	block(SIGRTMIN);
	siginfo_t si = queued(SI_QUEUE, 1234);
	CHECK_RET(sigqueueinfo(getpid(), SIGRTMIN, &si), 0);
	siginfo_t got;
	CHECK_RET(timedwait(SIGRTMIN, &got, 1000), SIGRTMIN);
	CHECK_EQ(got.si_signo, SIGRTMIN);
	CHECK_EQ(got.si_code, SI_QUEUE);
	CHECK_EQ(got.si_pid, getpid());
	CHECK_EQ(got.si_value.sival_int, 1234);
	unblock(SIGRTMIN);
}

TEST(realtime_signals_queue_in_order)
{
	block(SIGRTMIN + 1);
	for (int i = 0; i < 5; i++) {
		siginfo_t si = queued(SI_QUEUE, 100 + i);
		CHECK_RET(sigqueueinfo(getpid(), SIGRTMIN + 1, &si), 0);
	}
	for (int i = 0; i < 5; i++) {
		siginfo_t got;
		CHECK_RET(timedwait(SIGRTMIN + 1, &got, 1000), SIGRTMIN + 1);
		CHECK_EQ(got.si_value.sival_int, 100 + i);
	}
	siginfo_t got;
	CHECK_ERR(timedwait(SIGRTMIN + 1, &got, 0), EAGAIN);
	unblock(SIGRTMIN + 1);
}

TEST(standard_signals_coalesce)
{
	block(SIGUSR1);
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_OK(kill(getpid(), SIGUSR1));
	siginfo_t got;
	CHECK_RET(timedwait(SIGUSR1, &got, 1000), SIGUSR1);
	CHECK_EQ(got.si_code, SI_USER);
	CHECK_ERR(timedwait(SIGUSR1, &got, 0), EAGAIN);
	unblock(SIGUSR1);
}

TEST(lowest_signal_first)
{
	block(SIGUSR2);
	block(SIGRTMIN + 2);
	siginfo_t si = queued(SI_QUEUE, 1);
	CHECK_RET(sigqueueinfo(getpid(), SIGRTMIN + 2, &si), 0);
	CHECK_OK(kill(getpid(), SIGUSR2));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 2);
	struct timespec ts = { 1, 0 };
	siginfo_t got;
	CHECK_RET(sigtimedwait(&set, &got, &ts), SIGUSR2);
	CHECK_RET(sigtimedwait(&set, &got, &ts), SIGRTMIN + 2);
	unblock(SIGUSR2);
	unblock(SIGRTMIN + 2);
}

TEST(sigqueueinfo_errors)
{
	siginfo_t si = queued(SI_QUEUE, 0);
	CHECK_ERR(sigqueueinfo(getpid(), 0x1000, &si), EINVAL);
	CHECK_ERR(sigqueueinfo(getpid(), SIGUSR1, (siginfo_t *)8), EFAULT);
	CHECK_ERR(sigqueueinfo(0x3ffffff, SIGUSR1, &si), ESRCH);
	/* Signal 0 checks only that the target exists. */
	CHECK_RET(sigqueueinfo(getpid(), 0, &si), 0);
}

TEST(forged_kernel_code_only_to_self)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	/* SI_USER (0) and SI_KERNEL (> 0) pretend to be kill() or the
	 * kernel: refused towards another process. */
	siginfo_t si = queued(SI_USER, 0);
	CHECK_ERR(sigqueueinfo(pid, SIGUSR1, &si), EPERM);
	si = queued(SI_KERNEL, 0);
	CHECK_ERR(sigqueueinfo(pid, SIGUSR1, &si), EPERM);
	si = queued(SI_TKILL, 0);
	CHECK_ERR(sigqueueinfo(pid, SIGUSR1, &si), EPERM);
	CHECK_OK(kill(pid, SIGKILL));
	t_wait_signal(pid, SIGKILL);
	/* Towards oneself it is allowed. */
	block(SIGUSR1);
	si = queued(SI_USER, 0);
	CHECK_RET(sigqueueinfo(getpid(), SIGUSR1, &si), 0);
	siginfo_t got;
	CHECK_RET(timedwait(SIGUSR1, &got, 1000), SIGUSR1);
	unblock(SIGUSR1);
}

TEST(sigqueue_to_child_delivers_value)
{
	int pfd[2];
	CHECK_OK(pipe(pfd));
	block(SIGRTMIN);
	pid_t pid = t_fork();
	if (pid == 0) {
		siginfo_t got;
		int r = timedwait(SIGRTMIN, &got, 10000);
		int v = (r == SIGRTMIN && got.si_code == SI_QUEUE) ? got.si_value.sival_int : -1;
		if (write(pfd[1], &v, sizeof(v)) != sizeof(v))
			_exit(2);
		_exit(0);
	}
	unblock(SIGRTMIN);
	union sigval val = { .sival_int = 77 };
	CHECK_OK(sigqueue(pid, SIGRTMIN, val));
	int v = 0;
	CHECK_RET(read(pfd[0], &v, sizeof(v)), sizeof(v));
	CHECK_EQ(v, 77);
	t_wait_exit(pid, 0);
	close(pfd[0]);
	close(pfd[1]);
}

static volatile pid_t waiter_tid;
static volatile int waiter_value = -1;

static void *wait_in_thread(void *arg)
{
	(void)arg;
	waiter_tid = (pid_t)syscall(SYS_gettid);
	siginfo_t got;
	int r = timedwait(SIGRTMIN + 3, &got, 10000);
	waiter_value = r == SIGRTMIN + 3 ? got.si_value.sival_int : -2;
	return NULL;
}

TEST(tgsigqueueinfo_targets_one_thread)
{
	block(SIGRTMIN + 3);
	waiter_tid = 0;
	pthread_t th;
	CHECK_RET(pthread_create(&th, NULL, wait_in_thread, NULL), 0);
	while (!waiter_tid)
		sched_yield();
	siginfo_t si = queued(SI_QUEUE, 55);
	CHECK_RET(tgsigqueueinfo(getpid(), waiter_tid, SIGRTMIN + 3, &si), 0);
	CHECK_RET(pthread_join(th, NULL), 0);
	CHECK_EQ(waiter_value, 55);
	/* It was the thread's own pending signal: nothing is left for us. */
	siginfo_t got;
	CHECK_ERR(timedwait(SIGRTMIN + 3, &got, 0), EAGAIN);
	unblock(SIGRTMIN + 3);
}

TEST(tgsigqueueinfo_errors)
{
	siginfo_t si = queued(SI_QUEUE, 0);
	pid_t me = getpid();
	CHECK_ERR(tgsigqueueinfo(0, me, SIGUSR1, &si), EINVAL);
	CHECK_ERR(tgsigqueueinfo(me, 0, SIGUSR1, &si), EINVAL);
	CHECK_ERR(tgsigqueueinfo(me, me, 0x1000, &si), EINVAL);
	CHECK_ERR(tgsigqueueinfo(me, 0x3ffffff, SIGUSR1, &si), ESRCH);
	CHECK_ERR(tgsigqueueinfo(me + 100000, me, SIGUSR1, &si), ESRCH);
}

TEST(thread_pending_vs_process_pending)
{
	block(SIGUSR1);
	/* Thread-directed: pending for this thread. */
	CHECK_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
	sigset_t pend;
	CHECK_OK(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR1));
	siginfo_t got;
	CHECK_RET(timedwait(SIGUSR1, &got, 1000), SIGUSR1);
	/* si_code: SI_TKILL per signal(7); Linux 6.18 reports SI_USER. */
	CHECK(got.si_code == SI_TKILL || got.si_code == SI_USER);
	/* Process-directed: pending for the process, seen by sigpending. */
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_OK(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR1));
	CHECK_RET(timedwait(SIGUSR1, &got, 1000), SIGUSR1);
	CHECK_EQ(got.si_code, SI_USER);
	CHECK_OK(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR1));
	unblock(SIGUSR1);
}

TEST(sigtimedwait_timeout_and_errors)
{
	block(SIGUSR2);
	siginfo_t got;
	long long t0 = t_now_ns();
	CHECK_ERR(timedwait(SIGUSR2, &got, 50), EAGAIN);
	CHECK(t_now_ns() - t0 >= 50 * 1000000LL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	struct timespec bad = { 0, 1000000000L };
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, &got, &bad, 8), EINVAL);
	struct timespec ts = { 0, 0 };
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, &got, &ts, 4), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigtimedwait, (void *)8, &got, &ts, 8), EFAULT);
	unblock(SIGUSR2);
}

static volatile int usr1_handled;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_handled++;
}

TEST(sigsuspend_waits_with_temporary_mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	block(SIGUSR1);
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(50);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	usr1_handled = 0;
	sigset_t during;
	sigemptyset(&during);
	CHECK_ERR(sigsuspend(&during), EINTR);
	CHECK_EQ(usr1_handled, 1);
	/* The old mask (SIGUSR1 blocked) is back. */
	sigset_t now;
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &now));
	CHECK(sigismember(&now, SIGUSR1));
	t_wait_exit(pid, 0);
	unblock(SIGUSR1);
	signal(SIGUSR1, SIG_DFL);
}
