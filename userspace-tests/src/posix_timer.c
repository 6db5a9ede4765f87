/*
 * POSIX timers: timer_create(2), timer_settime(2), timer_gettime(2),
 * timer_getoverrun(2) and timer_delete(2), through the raw syscalls (the
 * kernel's timer_t is an int; glibc's is a pointer).
 *
 * Covers the clocks (MONOTONIC, REALTIME, BOOTTIME, the CPU-time clocks),
 * the notifications (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID, the NULL
 * default), relative and absolute expiry, interval re-arming, overruns
 * counted while the signal is pending, the siginfo of SI_TIMER, ids across
 * fork and execve, and the errors.  Timing checks are lower bounds only.
 * Everything that blocks signals or installs handlers runs in a child.
 */
#include "test.h"

#include <pthread.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

#define MS 1000000LL
#define SEC 1000000000LL

/* include/linux/posix-timers.h */
#define CPUCLOCK_SCHED 2
#define MAKE_PROCESS_CPUCLOCK(pid, clock) \
	((clockid_t)(~(unsigned)(pid) << 3 | (unsigned)(clock)))

static long tm_create(clockid_t clock, struct sigevent *sev, int *id)
{
	return syscall(SYS_timer_create, clock, sev, id);
}

static long tm_settime(int id, int flags, const struct itimerspec *nv,
		       struct itimerspec *ov)
{
	return syscall(SYS_timer_settime, id, flags, nv, ov);
}

static long tm_gettime(int id, struct itimerspec *cur)
{
	return syscall(SYS_timer_gettime, id, cur);
}

static long tm_getoverrun(int id)
{
	return syscall(SYS_timer_getoverrun, id);
}

static long tm_delete(int id)
{
	return syscall(SYS_timer_delete, id);
}

static long long ts_ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * SEC + ts->tv_nsec;
}

static struct timespec ns_ts(long long ns)
{
	struct timespec ts = { ns / SEC, ns % SEC };
	return ts;
}

static struct itimerspec its(long long value_ns, long long interval_ns)
{
	struct itimerspec v = { ns_ts(interval_ns), ns_ts(value_ns) };
	return v;
}

static long long clock_ns(clockid_t c)
{
	struct timespec ts;
	if (syscall(SYS_clock_gettime, c, &ts) != 0)
		t_fail("clock_gettime(%d) failed: %s", (int)c, t_errname(errno));
	return ts_ns(&ts);
}

static struct sigevent sev_signal(int signo, void *ptr)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_ptr = ptr;
	return sev;
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	CHECK_RET(sigprocmask(SIG_BLOCK, &s, NULL), 0);
}

/* Waits up to `ms` for blocked signal `sig`; returns it or -1. */
static int wait_sig(int sig, siginfo_t *si, long ms)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	struct timespec t = { ms / 1000, (ms % 1000) * MS };
	int r;
	do
		r = sigtimedwait(&s, si, &t);
	while (r < 0 && errno == EINTR);
	return r;
}

static int is_pending(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	if (sigpending(&s) != 0)
		return -1;
	return sigismember(&s, sig);
}

/* What the handler saw; checked after it returned. */
static volatile sig_atomic_t fired;
static siginfo_t first_info;
static volatile long long first_clock_ns;
static volatile clockid_t handler_clock = CLOCK_PROCESS_CPUTIME_ID;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (fired == 0) {
		first_info = *si;
		struct timespec ts;
		syscall(SYS_clock_gettime, handler_clock, &ts);
		first_clock_ns = ts_ns(&ts);
	}
	fired++;
}

static void catch(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_timer,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	CHECK_RET(sigaction(sig, &sa, NULL), 0);
}

static void sleep_until_fired(int count)
{
	long long end = t_now_ns() + 10 * SEC;
	while (fired < count && t_now_ns() < end)
		t_sleep_ms(2);
}

static volatile unsigned long sink;

static void spin_until_fired(int count)
{
	long long end = t_now_ns() + 20 * SEC;
	while (fired < count && t_now_ns() < end)
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
}

static void spin_cpu(clockid_t c, long long ns)
{
	long long target = clock_ns(c) + ns;
	long long end = t_now_ns() + 20 * SEC;
	while (clock_ns(c) < target && t_now_ns() < end)
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
}

TEST(null_sigevent_is_sigalrm_with_id)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		block(SIGALRM);
		int id = -1;
		CHECK_RET(tm_create(CLOCK_MONOTONIC, NULL, &id), 0);
		CHECK(id >= 0);
		struct itimerspec v = its(20 * MS, 0);
		CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
		siginfo_t si;
		memset(&si, 0xa5, sizeof(si));
		CHECK_RET(wait_sig(SIGALRM, &si, 5000), SIGALRM);
		CHECK_EQ(si.si_signo, SIGALRM);
		CHECK_EQ(si.si_code, SI_TIMER);
		CHECK_EQ(si.si_timerid, id);
		CHECK_EQ(si.si_overrun, 0);
		CHECK_EQ(si.si_value.sival_int, id);
		CHECK_RET(tm_getoverrun(id), 0);
		CHECK_RET(tm_delete(id), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sigev_signal_carries_value)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = SIGRTMIN + 1;
		catch(sig);
		void *cookie = (void *)(uintptr_t)0x12345678u;
		if (sizeof(void *) == 8)
			cookie = (void *)(uintptr_t)0x1234567876543210ull;
		struct sigevent sev = sev_signal(sig, cookie);
		int id = -1;
		CHECK_RET(tm_create(CLOCK_BOOTTIME, &sev, &id), 0);
		struct itimerspec v = its(20 * MS, 0);
		CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
		sleep_until_fired(1);
		CHECK_EQ(fired, 1);
		CHECK_EQ(first_info.si_signo, sig);
		CHECK_EQ(first_info.si_code, SI_TIMER);
		CHECK_EQ(first_info.si_timerid, id);
		CHECK_EQ(first_info.si_overrun, 0);
		CHECK(first_info.si_value.sival_ptr == cookie);
		/* A fired one-shot timer reads as disarmed. */
		struct itimerspec cur = its(1, 1);
		CHECK_RET(tm_gettime(id, &cur), 0);
		CHECK_EQ(ts_ns(&cur.it_value), 0);
		CHECK_EQ(ts_ns(&cur.it_interval), 0);
		CHECK_RET(tm_delete(id), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(ids_are_distinct_small_ints)
{
	struct sigevent sev = sev_signal(SIGALRM, NULL);
	sev.sigev_notify = SIGEV_NONE;
	int ids[3];
	for (int i = 0; i < 3; i++) {
		ids[i] = -1;
		CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &ids[i]), 0);
		CHECK(ids[i] >= 0);
		for (int j = 0; j < i; j++)
			CHECK(ids[i] != ids[j]);
	}
	for (int i = 0; i < 3; i++)
		CHECK_RET(tm_delete(ids[i]), 0);
	for (int i = 0; i < 3; i++)
		CHECK_ERR(tm_delete(ids[i]), EINVAL);
}

TEST(sigev_none_counts_down_silently)
{
	struct sigevent sev = sev_signal(0, NULL);
	sev.sigev_notify = SIGEV_NONE;
	int id = -1;
	CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
	struct itimerspec v = its(10 * SEC, 0), a = its(1, 1), b = its(1, 1);
	CHECK_RET(tm_gettime(id, &a), 0);
	CHECK_EQ(ts_ns(&a.it_value), 0);
	CHECK_EQ(ts_ns(&a.it_interval), 0);
	CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
	CHECK_RET(tm_gettime(id, &a), 0);
	CHECK(ts_ns(&a.it_value) > 0 && ts_ns(&a.it_value) <= 10 * SEC);
	CHECK_EQ(ts_ns(&a.it_interval), 0);
	t_sleep_ms(30);
	CHECK_RET(tm_gettime(id, &b), 0);
	CHECK_MSG(ts_ns(&b.it_value) < ts_ns(&a.it_value),
		  "%lld ns left, 30 ms later %lld ns", ts_ns(&a.it_value),
		  ts_ns(&b.it_value));
	/* Expired one-shot SIGEV_NONE timers read 0. */
	v = its(20 * MS, 0);
	CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
	t_sleep_ms(60);
	CHECK_RET(tm_gettime(id, &b), 0);
	CHECK_EQ(ts_ns(&b.it_value), 0);
	/* Periodic ones read the time to the next period. */
	v = its(20 * MS, 20 * MS);
	CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
	t_sleep_ms(70);
	CHECK_RET(tm_gettime(id, &b), 0);
	CHECK(ts_ns(&b.it_value) > 0 && ts_ns(&b.it_value) <= 20 * MS);
	CHECK_EQ(ts_ns(&b.it_interval), 20 * MS);
	CHECK_RET(tm_getoverrun(id), 0);
	CHECK_RET(tm_delete(id), 0);
}

TEST(interval_rearms)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = SIGRTMIN + 2;
		catch(sig);
		struct sigevent sev = sev_signal(sig, NULL);
		int id = -1;
		CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
		struct itimerspec v = its(10 * MS, 10 * MS), cur = its(1, 1),
				  zero = its(0, 0), old = its(1, 1);
		CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
		sleep_until_fired(3);
		CHECK_MSG(fired >= 3, "%d signals in 10 s, expected 3",
			  (int)fired);
		CHECK_RET(tm_gettime(id, &cur), 0);
		CHECK_EQ(ts_ns(&cur.it_interval), 10 * MS);
		CHECK(ts_ns(&cur.it_value) > 0 &&
		      ts_ns(&cur.it_value) <= 10 * MS);
		CHECK_RET(tm_settime(id, 0, &zero, &old), 0);
		CHECK_EQ(ts_ns(&old.it_interval), 10 * MS);
		CHECK(ts_ns(&old.it_value) > 0 &&
		      ts_ns(&old.it_value) <= 10 * MS);
		/* Disarming clears the interval too. */
		CHECK_RET(tm_gettime(id, &cur), 0);
		CHECK_EQ(ts_ns(&cur.it_value), 0);
		CHECK_EQ(ts_ns(&cur.it_interval), 0);
		CHECK_RET(tm_delete(id), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(settime_returns_old_value)
{
	struct sigevent sev = sev_signal(0, NULL);
	sev.sigev_notify = SIGEV_NONE;
	int id = -1;
	CHECK_RET(tm_create(CLOCK_REALTIME, &sev, &id), 0);
	struct itimerspec v = its(5 * SEC, 1 * SEC), old = its(1, 1),
			  cur = its(1, 1);
	CHECK_RET(tm_settime(id, 0, &v, &old), 0);
	CHECK_EQ(ts_ns(&old.it_value), 0);
	CHECK_EQ(ts_ns(&old.it_interval), 0);
	v = its(3 * SEC, 0);
	CHECK_RET(tm_settime(id, 0, &v, &old), 0);
	CHECK_EQ(ts_ns(&old.it_interval), SEC);
	CHECK(ts_ns(&old.it_value) > 0 && ts_ns(&old.it_value) <= 5 * SEC);
	CHECK(old.it_value.tv_nsec >= 0 && old.it_value.tv_nsec < SEC);
	CHECK_RET(tm_gettime(id, &cur), 0);
	CHECK_EQ(ts_ns(&cur.it_interval), 0);
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 3 * SEC);
	CHECK_RET(tm_delete(id), 0);
}

static void check_absolute(clockid_t clock, int sig)
{
	struct sigevent sev = sev_signal(sig, NULL);
	int id = -1;
	CHECK_RET(tm_create(clock, &sev, &id), 0);
	long long target = clock_ns(clock) + 50 * MS;
	struct itimerspec v = its(target, 0), cur;
	CHECK_RET(tm_settime(id, TIMER_ABSTIME, &v, NULL), 0);
	/* Read back as the time left, not the absolute value. */
	CHECK_RET(tm_gettime(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 50 * MS);
	siginfo_t si;
	CHECK_RET(wait_sig(sig, &si, 5000), sig);
	long long now = clock_ns(clock);
	CHECK_MSG(now >= target, "clock %d: signal %lld ns before the expiry",
		  (int)clock, target - now);
	CHECK_EQ(si.si_timerid, id);
	/* An absolute time already past fires at once. */
	v = its(1 * SEC, 0);
	CHECK_RET(tm_settime(id, TIMER_ABSTIME, &v, NULL), 0);
	CHECK_RET(wait_sig(sig, &si, 5000), sig);
	CHECK_RET(tm_delete(id), 0);
}

TEST(absolute_expiry)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = SIGRTMIN + 3;
		block(sig);
		check_absolute(CLOCK_MONOTONIC, sig);
		check_absolute(CLOCK_REALTIME, sig);
		check_absolute(CLOCK_BOOTTIME, sig);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(overrun_counted_while_pending)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = SIGRTMIN + 4;
		block(sig);
		struct sigevent sev = sev_signal(sig, NULL);
		int id = -1;
		CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
		struct itimerspec v = its(5 * MS, 5 * MS);
		CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
		/* About 30 expirations while the first signal stays queued. */
		t_sleep_ms(150);
		siginfo_t si;
		CHECK_RET(wait_sig(sig, &si, 5000), sig);
		CHECK_EQ(si.si_code, SI_TIMER);
		CHECK_EQ(si.si_timerid, id);
		CHECK_MSG(si.si_overrun >= 5,
			  "si_overrun %d after 150 ms of a 5 ms timer",
			  si.si_overrun);
		/* timer_getoverrun reports the last delivered signal's count. */
		CHECK_RET(tm_getoverrun(id), si.si_overrun);
		CHECK_RET(tm_delete(id), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* SIGEV_THREAD_ID: the second thread's view, checked by the main thread. */
static volatile pid_t worker_tid;
static volatile int worker_go, worker_saw_pending, worker_got;
static siginfo_t worker_info;

static void *worker(void *arg)
{
	int sig = *(int *)arg;
	worker_tid = (pid_t)syscall(SYS_gettid);
	long long end = t_now_ns() + 10 * SEC;
	while (!worker_go && t_now_ns() < end)
		t_sleep_ms(1);
	worker_saw_pending = is_pending(sig);
	worker_got = wait_sig(sig, &worker_info, 5000);
	return NULL;
}

TEST(sigev_thread_id_targets_the_thread)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		static int sig;
		sig = SIGRTMIN + 5;
		block(sig);
		pthread_t t;
		CHECK_RET(pthread_create(&t, NULL, worker, &sig), 0);
		long long end = t_now_ns() + 10 * SEC;
		while (!worker_tid && t_now_ns() < end)
			t_sleep_ms(1);
		struct sigevent sev = sev_signal(sig, NULL);
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_notify_thread_id = worker_tid;
		int id = -1;
		CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
		struct itimerspec v = its(10 * MS, 0);
		CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
		t_sleep_ms(100);
		/* Pending for the worker only, not for the process. */
		int here = is_pending(sig);
		worker_go = 1;
		CHECK_RET(pthread_join(t, NULL), 0);
		CHECK_EQ(here, 0);
		CHECK_EQ(worker_saw_pending, 1);
		CHECK_EQ(worker_got, sig);
		CHECK_EQ(worker_info.si_code, SI_TIMER);
		CHECK_EQ(worker_info.si_timerid, id);
		CHECK_RET(tm_delete(id), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(sigev_thread_id_must_be_own_thread)
{
	struct sigevent sev = sev_signal(SIGRTMIN, NULL);
	sev.sigev_notify = SIGEV_THREAD_ID;
	int id = -1;
	/* pid 1 is a thread of another process. */
	sev.sigev_notify_thread_id = 1;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_notify_thread_id = 0x3ffffff0;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	sev.sigev_signo = 0;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_signo = SIGRTMIN;
	CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
	CHECK_RET(tm_delete(id), 0);
}

TEST(create_errors)
{
	int id = -7;
	struct sigevent sev = sev_signal(SIGALRM, NULL);
	CHECK_ERR(tm_create(100, &sev, &id), EINVAL);
	CHECK_ERR(tm_create(-1, NULL, &id), EINVAL);
	/* A CPU clock of a process that does not exist. */
	CHECK_ERR(tm_create(MAKE_PROCESS_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED),
			    NULL, &id),
		  EINVAL);
	/* The raw and coarse clocks have no timers. */
	CHECK_ERR(tm_create(CLOCK_MONOTONIC_RAW, &sev, &id), EOPNOTSUPP);
	CHECK_ERR(tm_create(CLOCK_MONOTONIC_COARSE, &sev, &id), EOPNOTSUPP);
	/* A rejected sigevent stores no id. */
	id = -7;
	sev.sigev_notify = 3;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_notify = 99;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 0;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_signo = 65;
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	CHECK_EQ(id, -7);
	/* SIGEV_NONE ignores the signal number. */
	sev.sigev_notify = SIGEV_NONE;
	CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
	CHECK_RET(tm_delete(id), 0);
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, (struct sigevent *)1, &id), EFAULT);
	CHECK_ERR(tm_create(CLOCK_MONOTONIC, NULL, (int *)1), EFAULT);
}

TEST(settime_gettime_errors)
{
	struct sigevent sev = sev_signal(0, NULL);
	sev.sigev_notify = SIGEV_NONE;
	int id = -1;
	CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
	struct itimerspec v = its(10 * SEC, 0), cur;
	CHECK_ERR(tm_settime(0x7ffffff0, 0, &v, NULL), EINVAL);
	CHECK_ERR(tm_settime(-1, 0, &v, NULL), EINVAL);
	CHECK_ERR(tm_settime(id, 0, NULL, NULL), EINVAL);
	struct itimerspec bad = v;
	bad.it_value.tv_nsec = SEC;
	CHECK_ERR(tm_settime(id, 0, &bad, NULL), EINVAL);
	bad.it_value.tv_nsec = -1;
	CHECK_ERR(tm_settime(id, 0, &bad, NULL), EINVAL);
	bad = v;
	bad.it_interval.tv_nsec = SEC;
	CHECK_ERR(tm_settime(id, 0, &bad, NULL), EINVAL);
	bad = v;
	bad.it_value.tv_sec = -1;
	CHECK_ERR(tm_settime(id, 0, &bad, NULL), EINVAL);
	CHECK_ERR(tm_settime(id, 0, (struct itimerspec *)1, NULL), EFAULT);
	/* None of those armed it. */
	CHECK_RET(tm_gettime(id, &cur), 0);
	CHECK_EQ(ts_ns(&cur.it_value), 0);
	/* Flag bits other than TIMER_ABSTIME are ignored (relative here). */
	CHECK_RET(tm_settime(id, 0x100, &v, NULL), 0);
	CHECK_RET(tm_gettime(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 10 * SEC);
	struct itimerspec zero = its(0, 0);
	CHECK_RET(tm_settime(id, 0, &zero, NULL), 0);
	/* A bad old-value pointer fails after the timer was set. */
	CHECK_ERR(tm_settime(id, 0, &v, (struct itimerspec *)1), EFAULT);
	CHECK_RET(tm_gettime(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0);
	CHECK_ERR(tm_gettime(0x7ffffff0, &cur), EINVAL);
	CHECK_ERR(tm_gettime(id, (struct itimerspec *)1), EFAULT);
	CHECK_ERR(tm_gettime(id, NULL), EFAULT);
	CHECK_ERR(tm_getoverrun(0x7ffffff0), EINVAL);
	CHECK_ERR(tm_getoverrun(-1), EINVAL);
	CHECK_ERR(tm_delete(0x7ffffff0), EINVAL);
	CHECK_RET(tm_delete(id), 0);
	CHECK_ERR(tm_gettime(id, &cur), EINVAL);
	CHECK_ERR(tm_getoverrun(id), EINVAL);
	CHECK_ERR(tm_delete(id), EINVAL);
}

static void check_cpu_timer(clockid_t clock, int sig, int absolute)
{
	fired = 0;
	handler_clock = clock;
	struct sigevent sev = sev_signal(sig, NULL);
	int id = -1;
	CHECK_RET(tm_create(clock, &sev, &id), 0);
	long long c0 = clock_ns(clock);
	struct itimerspec v = its(absolute ? c0 + 100 * MS : 100 * MS, 0);
	CHECK_RET(tm_settime(id, absolute ? TIMER_ABSTIME : 0, &v, NULL), 0);
	/* Sleeping uses no CPU time: the timer must not fire meanwhile. */
	t_sleep_ms(300);
	CHECK_MSG(fired == 0, "clock %d: fired while the process slept",
		  (int)clock);
	spin_until_fired(1);
	CHECK_MSG(fired == 1, "clock %d: %d signals after 20 s of spinning",
		  (int)clock, (int)fired);
	CHECK_EQ(first_info.si_code, SI_TIMER);
	CHECK_EQ(first_info.si_timerid, id);
	CHECK_MSG(first_clock_ns - c0 >= 100 * MS,
		  "clock %d: fired after %lld ns of CPU time, asked 100 ms",
		  (int)clock, first_clock_ns - c0);
	CHECK_RET(tm_delete(id), 0);
}

TEST(cpu_clock_timers)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = SIGRTMIN + 6;
		catch(sig);
		check_cpu_timer(CLOCK_PROCESS_CPUTIME_ID, sig, 0);
		check_cpu_timer(CLOCK_THREAD_CPUTIME_ID, sig, 0);
		check_cpu_timer(CLOCK_PROCESS_CPUTIME_ID, sig, 1);
		check_cpu_timer(MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), sig, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(cpu_timer_counts_down_with_cpu_time)
{
	struct sigevent sev = sev_signal(0, NULL);
	sev.sigev_notify = SIGEV_NONE;
	int id = -1;
	CHECK_RET(tm_create(CLOCK_THREAD_CPUTIME_ID, &sev, &id), 0);
	struct itimerspec v = its(10 * SEC, 0), a, b;
	CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
	CHECK_RET(tm_gettime(id, &a), 0);
	CHECK(ts_ns(&a.it_value) > 0 && ts_ns(&a.it_value) <= 10 * SEC);
	spin_cpu(CLOCK_THREAD_CPUTIME_ID, 30 * MS);
	CHECK_RET(tm_gettime(id, &b), 0);
	CHECK_MSG(ts_ns(&a.it_value) - ts_ns(&b.it_value) >= 30 * MS,
		  "%lld ns left, after 30 ms of CPU time %lld ns",
		  ts_ns(&a.it_value), ts_ns(&b.it_value));
	CHECK_RET(tm_delete(id), 0);
}

TEST(not_inherited_by_fork)
{
	struct sigevent sev = sev_signal(0, NULL);
	sev.sigev_notify = SIGEV_NONE;
	int id = -1;
	CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
	struct itimerspec v = its(10 * SEC, 0), cur;
	CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_ERR(tm_gettime(id, &cur), EINVAL);
		CHECK_ERR(tm_delete(id), EINVAL);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(tm_gettime(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0);
	CHECK_RET(tm_delete(id), 0);
}

/* After execve: exits 0 if timer argv[1] no longer exists. */
int t_child_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[0], "gone") != 0)
		return 2;
	struct itimerspec cur;
	errno = 0;
	if (tm_gettime(atoi(argv[1]), &cur) != -1 || errno != EINVAL)
		return 1;
	/* The queued signal of the deleted timer was discarded too. */
	if (is_pending(SIGRTMIN + 7) != 0)
		return 3;
	return 0;
}

TEST(deleted_on_execve)
{
	if (!strchr(t_argv[0], '/'))
		t_fail("argv[0] \"%s\" is not a path", t_argv[0]);
	pid_t pid = t_fork();
	if (pid == 0) {
		int sig = SIGRTMIN + 7;
		block(sig);
		struct sigevent sev = sev_signal(sig, NULL);
		int id = -1;
		CHECK_RET(tm_create(CLOCK_MONOTONIC, &sev, &id), 0);
		struct itimerspec v = its(1 * MS, 0);
		CHECK_RET(tm_settime(id, 0, &v, NULL), 0);
		t_sleep_ms(50);
		CHECK_EQ(is_pending(sig), 1);
		char num[16];
		snprintf(num, sizeof(num), "%d", id);
		char *args[] = { t_argv[0], "--child", "gone", num, NULL };
		execv(args[0], args);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}
