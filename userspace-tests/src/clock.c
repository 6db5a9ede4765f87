/*
 * Clocks and sleeping: clock_gettime(2), clock_getres(2), nanosleep(2)
 * and clock_nanosleep(2), through the raw syscalls (no vDSO).
 *
 * Sleeps are checked against CLOCK_MONOTONIC for a lower bound only: a
 * sleep must last at least what was asked; how much longer is not tested.
 */
#include "test.h"

#include <pthread.h>

#define MS (1000000LL)

/* CPU clock ids (include/linux/posix-timers.h). */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define MAKE_PROCESS_CPUCLOCK(pid, clock) \
	((clockid_t)(~(unsigned)(pid) << 3 | (unsigned)(clock)))
#define MAKE_THREAD_CPUCLOCK(tid, clock) \
	(MAKE_PROCESS_CPUCLOCK(tid, clock) | 4)

static long raw_gettime(clockid_t c, struct timespec *ts)
{
	return syscall(SYS_clock_gettime, c, ts);
}

static long long ns_of(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static long long now(clockid_t c)
{
	struct timespec ts;
	CHECK_RET(raw_gettime(c, &ts), 0);
	CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
	return ns_of(&ts);
}

TEST(monotonic_never_decreases)
{
	long long prev = now(CLOCK_MONOTONIC);
	for (int i = 0; i < 2000; i++) {
		long long t = now(CLOCK_MONOTONIC);
		CHECK_MSG(t >= prev, "CLOCK_MONOTONIC went back %lld ns", prev - t);
		prev = t;
		/* The libc path (vDSO where present) agrees in order. */
		struct timespec ts;
		CHECK_RET(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
		CHECK(ns_of(&ts) >= prev);
		prev = ns_of(&ts);
	}
}

TEST(monotonic_advances)
{
	long long t0 = now(CLOCK_MONOTONIC);
	t_sleep_ms(20);
	CHECK(now(CLOCK_MONOTONIC) > t0);
}

TEST(realtime_plausible)
{
	long long t = now(CLOCK_REALTIME);
	/* After 2024-01-01 and before 2100-01-01. */
	CHECK_MSG(t / 1000000000LL > 1704067200LL && t / 1000000000LL < 4102444800LL,
		  "CLOCK_REALTIME is %lld s since the epoch", t / 1000000000LL);
	CHECK(time(NULL) >= 1704067200);
}

TEST(other_clocks)
{
	/* Clocks programs and runtimes use routinely. */
	static const clockid_t ids[] = {
		CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME_COARSE, CLOCK_BOOTTIME,
		CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID,
		CLOCK_THREAD_CPUTIME_ID,
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		(void)now(ids[i]);
	/* Boot time includes suspended time, so it never trails monotonic. */
	long long m = now(CLOCK_MONOTONIC);
	long long b = now(CLOCK_BOOTTIME);
	CHECK(b >= m);
}

TEST(process_cputime_counts_work)
{
	long long c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	long long end = now(CLOCK_MONOTONIC) + 5000 * MS;
	volatile unsigned long spin = 0;
	while (now(CLOCK_PROCESS_CPUTIME_ID) < c0 + 2 * MS &&
	       now(CLOCK_MONOTONIC) < end)
		for (int i = 0; i < 100000; i++)
			spin += (unsigned long)i;
	CHECK_MSG(now(CLOCK_PROCESS_CPUTIME_ID) >= c0 + 2 * MS,
		  "5 s of spinning added under 2 ms of process CPU time");
}

TEST(getres)
{
	struct timespec r = { -1, -1 };
	CHECK_RET(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r), 0);
	CHECK(r.tv_sec == 0 && r.tv_nsec > 0);
	CHECK_RET(syscall(SYS_clock_getres, CLOCK_REALTIME, &r), 0);
	CHECK(r.tv_sec == 0 && r.tv_nsec > 0);
	/* A NULL result pointer is allowed. */
	CHECK_RET(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL), 0);
	CHECK_ERR(syscall(SYS_clock_getres, 100, &r), EINVAL);
}

TEST(gettime_errors)
{
	struct timespec ts;
	CHECK_ERR(raw_gettime(100, &ts), EINVAL);
	CHECK_ERR(raw_gettime(16, &ts), EINVAL);
	CHECK_ERR(raw_gettime(CLOCK_MONOTONIC, (struct timespec *)1), EFAULT);
	CHECK_ERR(raw_gettime(CLOCK_REALTIME, NULL), EFAULT);
}

TEST(nanosleep_at_least_requested)
{
	struct timespec req = { 0, 50 * MS };
	long long t0 = now(CLOCK_MONOTONIC);
	CHECK_RET(syscall(SYS_nanosleep, &req, NULL), 0);
	long long dt = now(CLOCK_MONOTONIC) - t0;
	CHECK_MSG(dt >= 50 * MS, "nanosleep(50 ms) returned after %lld ns", dt);
	/* Whole seconds are honoured too (not just tv_nsec). */
	req.tv_sec = 1;
	req.tv_nsec = 0;
	t0 = now(CLOCK_MONOTONIC);
	CHECK_RET(syscall(SYS_nanosleep, &req, NULL), 0);
	dt = now(CLOCK_MONOTONIC) - t0;
	CHECK_MSG(dt >= 1000 * MS, "nanosleep(1 s) returned after %lld ns", dt);
}

TEST(nanosleep_zero)
{
	struct timespec req = { 0, 0 };
	CHECK_RET(syscall(SYS_nanosleep, &req, NULL), 0);
}

TEST(nanosleep_errors)
{
	struct timespec big = { 0, 1000000000L }, negn = { 0, -1 },
			negs = { -1, 0 };
	CHECK_ERR(syscall(SYS_nanosleep, &big, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, &negn, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, &negs, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, (struct timespec *)1, NULL), EFAULT);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(nanosleep_eintr_reports_remaining)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		pid_t me = getpid();
		pid_t k = fork();
		if (k == 0) {
			t_sleep_ms(100);
			kill(me, SIGUSR1);
			_exit(0);
		}
		struct timespec req = { 10, 0 }, rem = { -1, -1 };
		CHECK_ERR(syscall(SYS_nanosleep, &req, &rem), EINTR);
		/* Some, but not all, of the 10 s is left. */
		CHECK(rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000L);
		CHECK(ns_of(&rem) > 0);
		CHECK(ns_of(&rem) < ns_of(&req));
		t_wait(k);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static long raw_clock_nanosleep(clockid_t c, int flags,
				const struct timespec *req, struct timespec *rem)
{
	return syscall(SYS_clock_nanosleep, c, flags, req, rem);
}

TEST(clock_nanosleep_relative)
{
	struct timespec req = { 0, 50 * MS };
	long long t0 = now(CLOCK_MONOTONIC);
	CHECK_RET(raw_clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
	CHECK(now(CLOCK_MONOTONIC) - t0 >= 50 * MS);
	t0 = now(CLOCK_MONOTONIC);
	CHECK_RET(raw_clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL), 0);
	CHECK(now(CLOCK_MONOTONIC) - t0 >= 50 * MS);
}

TEST(clock_nanosleep_absolute)
{
	long long target = now(CLOCK_MONOTONIC) + 50 * MS;
	struct timespec ts = { target / 1000000000LL, target % 1000000000LL };
	CHECK_RET(raw_clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	long long after = now(CLOCK_MONOTONIC);
	CHECK_MSG(after >= target, "woke %lld ns before the deadline",
		  target - after);
	/* A deadline in the past returns at once with success. */
	ts.tv_sec = 1;
	ts.tv_nsec = 0;
	CHECK_RET(raw_clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	/* Against the realtime clock too. */
	target = now(CLOCK_REALTIME) + 50 * MS;
	ts.tv_sec = target / 1000000000LL;
	ts.tv_nsec = target % 1000000000LL;
	CHECK_RET(raw_clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK(now(CLOCK_REALTIME) >= target);
}

TEST(clock_nanosleep_errors)
{
	struct timespec req = { 0, MS }, bad = { 0, 1000000000L };
	CHECK_ERR(raw_clock_nanosleep(100, 0, &req, NULL), EINVAL);
	/* clock_nanosleep(2): CLOCK_THREAD_CPUTIME_ID is not permitted; the
	 * page says EINVAL, Linux 6.x answers EOPNOTSUPP (no nsleep for the
	 * clock, kernel/time/posix-timers.c).  Either refuses the sleep. */
	errno = 0;
	long r = raw_clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL);
	CHECK_MSG(r == -1 && (errno == EINVAL || errno == EOPNOTSUPP),
		  "clock_nanosleep(CLOCK_THREAD_CPUTIME_ID) returned %ld (errno %s)",
		  r, t_errname(errno));
	CHECK_ERR(raw_clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
	CHECK_ERR(raw_clock_nanosleep(CLOCK_MONOTONIC, 0, (struct timespec *)1,
				      NULL), EFAULT);
}

TEST(clock_nanosleep_flags_and_clocks)
{
	struct timespec req = { 0, MS };
	/* Linux ignores flag bits other than TIMER_ABSTIME. */
	long long t0 = now(CLOCK_MONOTONIC);
	CHECK_RET(raw_clock_nanosleep(CLOCK_MONOTONIC, 0x100, &req, NULL), 0);
	CHECK(now(CLOCK_MONOTONIC) - t0 >= MS);
	CHECK_RET(raw_clock_nanosleep(CLOCK_BOOTTIME, 0, &req, NULL), 0);
	/* Clocks without sleeping. */
	CHECK_ERR(raw_clock_nanosleep(CLOCK_MONOTONIC_RAW, 0, &req, NULL),
		  EOPNOTSUPP);
	CHECK_ERR(raw_clock_nanosleep(CLOCK_REALTIME_COARSE, 0, &req, NULL),
		  EOPNOTSUPP);
	/* The caller's own thread clock by pid-encoded id. */
	CHECK_ERR(raw_clock_nanosleep(MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), 0,
				      &req, NULL),
		  EINVAL);
}

TEST(cpu_clock_ids)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	clockid_t c = 0;
	/* The caller's own clocks: through libc, by pid and by pid 0. */
	CHECK_RET(clock_getcpuclockid(getpid(), &c), 0);
	CHECK_EQ(c, MAKE_PROCESS_CPUCLOCK(getpid(), CPUCLOCK_SCHED));
	long long a = now(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(now(c) >= a);
	CHECK(now(MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED)) >= a);
	CHECK_RET(pthread_getcpuclockid(pthread_self(), &c), 0);
	a = now(CLOCK_THREAD_CPUTIME_ID);
	CHECK(now(c) >= a);
	CHECK(now(MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)) >= a);
	CHECK(now(MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED)) >= a);
	/* User time read first never exceeds user + system time read after. */
	long long v = now(MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_VIRT));
	long long p = now(MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_PROF));
	CHECK_MSG(v <= p, "VIRT %lld ns > PROF %lld ns", v, p);
	v = now(MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_VIRT));
	p = now(MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_PROF));
	CHECK_MSG(v <= p, "thread VIRT %lld ns > PROF %lld ns", v, p);
	struct timespec r = { -1, -1 };
	CHECK_RET(syscall(SYS_clock_getres,
			  MAKE_PROCESS_CPUCLOCK(getpid(), CPUCLOCK_SCHED), &r),
		  0);
	CHECK(r.tv_sec == 0 && r.tv_nsec > 0);
	/* Bad ids: no such process, clock number 3. */
	struct timespec ts;
	CHECK_ERR(raw_gettime(MAKE_PROCESS_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED),
			      &ts),
		  EINVAL);
	CHECK_ERR(syscall(SYS_clock_getres,
			  MAKE_PROCESS_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED), &r),
		  EINVAL);
	CHECK_ERR(raw_gettime(MAKE_THREAD_CPUCLOCK(tid, 3), &ts), EINVAL);
}

TEST(cpu_clock_of_another_process)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		/* Uses CPU time, then idles until killed. */
		long long c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		long long end = now(CLOCK_MONOTONIC) + 20000 * MS;
		volatile unsigned long spin = 0;
		while (now(CLOCK_PROCESS_CPUTIME_ID) < c0 + 60 * MS &&
		       now(CLOCK_MONOTONIC) < end)
			for (int i = 0; i < 100000; i++)
				spin += (unsigned long)i;
		for (;;)
			t_sleep_ms(1000);
	}
	/* No checks until the child is gone: it would idle forever. */
	clockid_t c = MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED);
	long long end = t_now_ns() + 20000 * MS;
	long long seen = 0;
	long got = 0;
	int got_errno = 0;
	struct timespec ts;
	while (t_now_ns() < end) {
		got = raw_gettime(c, &ts);
		got_errno = errno;
		if (got != 0)
			break;
		seen = ns_of(&ts);
		if (seen >= 50 * MS)
			break;
		t_sleep_ms(10);
	}
	/* Another process's thread clocks are not the caller's to read. */
	long r = raw_gettime(MAKE_THREAD_CPUCLOCK(pid, CPUCLOCK_SCHED), &ts);
	int e = errno;
	kill(pid, SIGKILL);
	t_wait_signal(pid, SIGKILL);
	CHECK_MSG(got == 0, "reading the child's CPU clock: %ld (errno %s)",
		  got, t_errname(got_errno));
	CHECK_MSG(seen >= 50 * MS, "the child's CPU clock read %lld ns", seen);
	CHECK_MSG(r == -1 && e == EINVAL,
		  "another process's thread clock: %ld (errno %s)", r,
		  t_errname(e));
}

/* A stop and SIGCONT run no handler: an absolute sleep goes on to its
 * deadline instead of failing with EINTR (Linux restarts it). */
TEST(clock_nanosleep_absolute_survives_stop)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		long long target = now(CLOCK_REALTIME) + 400 * MS;
		struct timespec ts = { target / 1000000000LL,
				       target % 1000000000LL };
		CHECK_RET(raw_clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME,
					      &ts, NULL),
			  0);
		CHECK(now(CLOCK_REALTIME) >= target);
		_exit(0);
	}
	t_sleep_ms(100);
	CHECK_RET(kill(pid, SIGSTOP), 0);
	t_sleep_ms(50);
	CHECK_RET(kill(pid, SIGCONT), 0);
	t_wait_exit(pid, 0);
}
