/*
 * Interval timers: setitimer(2) and getitimer(2) for ITIMER_REAL,
 * ITIMER_VIRTUAL and ITIMER_PROF, through the raw syscalls.
 *
 * ITIMER_VIRTUAL counts the process's user CPU time and sends SIGVTALRM,
 * ITIMER_PROF counts user + system time and sends SIGPROF; neither advances
 * while the process sleeps.  Timing checks are lower bounds only: a CPU
 * timer must not fire before its CPU time was used.  Everything that arms a
 * timer runs in a child.
 */
#include "test.h"

#include <pthread.h>
#include <sys/time.h>

#define MS 1000000LL

static long set_raw(int which, const struct itimerval *nv, struct itimerval *ov)
{
	return syscall(SYS_setitimer, which, nv, ov);
}

static long get_raw(int which, struct itimerval *v)
{
	return syscall(SYS_getitimer, which, v);
}

static long long tv_ns(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000000LL + tv->tv_usec * 1000LL;
}

static long long process_cpu_ns(void)
{
	struct timespec ts;
	if (syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct itimerval itv(long long value_us, long long interval_us)
{
	struct itimerval v = {
		.it_interval = { interval_us / 1000000, interval_us % 1000000 },
		.it_value = { value_us / 1000000, value_us % 1000000 },
	};
	return v;
}

/* What the handler saw; checked after it returned. */
static volatile sig_atomic_t fired;
static volatile int first_signo, first_code;
static volatile long long first_cpu_ns;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (fired == 0) {
		first_signo = sig;
		first_code = si->si_code;
		first_cpu_ns = process_cpu_ns();
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

static volatile unsigned long sink;

/* Burns CPU until `count` signals arrived or 20 s passed; with `syscalls`
 * part of the time is spent in the kernel. */
static void spin_until_fired(int count, int syscalls)
{
	long long end = t_now_ns() + 20000 * MS;
	while (fired < count && t_now_ns() < end) {
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
		if (syscalls)
			for (int i = 0; i < 20; i++)
				(void)syscall(SYS_getppid);
	}
}

/* Burns at least `ns` of process CPU time. */
static void spin_cpu(long long ns)
{
	long long target = process_cpu_ns() + ns;
	long long end = t_now_ns() + 20000 * MS;
	while (process_cpu_ns() < target && t_now_ns() < end)
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
}

static void check_fires_on_cpu_time(int which, int sig, int syscalls)
{
	catch(sig);
	long long c0 = process_cpu_ns();
	struct itimerval v = itv(100000, 0);
	CHECK_RET(set_raw(which, &v, NULL), 0);
	/* Sleeping uses no CPU time: the timer must not fire meanwhile. */
	t_sleep_ms(300);
	CHECK_MSG(fired == 0, "the timer fired while the process slept");
	spin_until_fired(1, syscalls);
	CHECK_MSG(fired == 1, "%d signals after 20 s of spinning, expected 1",
		  (int)fired);
	CHECK_EQ(first_signo, sig);
	/* Linux sends them with SEND_SIG_PRIV. */
	CHECK_EQ(first_code, SI_KERNEL);
	/* Tick-sampled accounting on Linux may run up to a tick ahead. */
	CHECK_MSG(first_cpu_ns - c0 >= 80 * MS,
		  "fired after %lld ns of CPU time, the timer asked for 100 ms",
		  first_cpu_ns - c0);
	/* A one-shot timer is disarmed once it fired. */
	struct itimerval cur = itv(7, 7);
	CHECK_RET(get_raw(which, &cur), 0);
	CHECK_EQ(tv_ns(&cur.it_value), 0);
	CHECK_EQ(tv_ns(&cur.it_interval), 0);
}

TEST(virtual_fires_after_user_time)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		check_fires_on_cpu_time(ITIMER_VIRTUAL, SIGVTALRM, 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(prof_fires_after_cpu_time)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		check_fires_on_cpu_time(ITIMER_PROF, SIGPROF, 1);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(real_sends_sigalrm_from_kernel)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		catch(SIGALRM);
		struct itimerval v = itv(20000, 0);
		CHECK_RET(set_raw(ITIMER_REAL, &v, NULL), 0);
		long long end = t_now_ns() + 10000 * MS;
		while (!fired && t_now_ns() < end)
			t_sleep_ms(5);
		CHECK_EQ(fired, 1);
		CHECK_EQ(first_signo, SIGALRM);
		CHECK_EQ(first_code, SI_KERNEL);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(interval_rearms)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		catch(SIGPROF);
		struct itimerval v = itv(20000, 20000);
		CHECK_RET(set_raw(ITIMER_PROF, &v, NULL), 0);
		spin_until_fired(3, 0);
		CHECK_MSG(fired >= 3, "%d SIGPROF after 20 s, expected 3",
			  (int)fired);
		struct itimerval zero = itv(0, 0), old = itv(-1, -1);
		CHECK_RET(set_raw(ITIMER_PROF, &zero, &old), 0);
		CHECK_EQ(old.it_interval.tv_sec, 0);
		CHECK_EQ(old.it_interval.tv_usec, 20000);
		CHECK(tv_ns(&old.it_value) > 0 &&
		      tv_ns(&old.it_value) <= 1000 * MS);
		struct itimerval cur = itv(7, 7);
		CHECK_RET(get_raw(ITIMER_PROF, &cur), 0);
		CHECK_EQ(tv_ns(&cur.it_value), 0);
		CHECK_EQ(tv_ns(&cur.it_interval), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

static void check_counts_down(int which)
{
	struct itimerval v = itv(10000000, 500000), a = itv(-1, -1),
			 b = itv(-1, -1);
	CHECK_RET(set_raw(which, &v, NULL), 0);
	CHECK_RET(get_raw(which, &a), 0);
	CHECK_EQ(a.it_interval.tv_sec, 0);
	CHECK_EQ(a.it_interval.tv_usec, 500000);
	CHECK(a.it_value.tv_usec >= 0 && a.it_value.tv_usec < 1000000);
	/* Linux adds one tick to a CPU timer's value. */
	CHECK_MSG(tv_ns(&a.it_value) > 0 && tv_ns(&a.it_value) <= 11000 * MS,
		  "which %d: value %lld ns right after arming 10 s", which,
		  tv_ns(&a.it_value));
	if (which == ITIMER_REAL)
		t_sleep_ms(50);
	else
		spin_cpu(50 * MS);
	CHECK_RET(get_raw(which, &b), 0);
	CHECK_MSG(tv_ns(&b.it_value) < tv_ns(&a.it_value),
		  "which %d: %lld ns left, then %lld ns", which,
		  tv_ns(&a.it_value), tv_ns(&b.it_value));
	CHECK(tv_ns(&b.it_value) > 0);
	struct itimerval zero = itv(0, 0);
	CHECK_RET(set_raw(which, &zero, NULL), 0);
	CHECK_RET(get_raw(which, &b), 0);
	CHECK_EQ(tv_ns(&b.it_value), 0);
	CHECK_EQ(tv_ns(&b.it_interval), 0);
}

TEST(getitimer_counts_down)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		check_counts_down(ITIMER_REAL);
		check_counts_down(ITIMER_VIRTUAL);
		check_counts_down(ITIMER_PROF);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setitimer_returns_old_value)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		int whichs[] = { ITIMER_VIRTUAL, ITIMER_PROF };
		for (int i = 0; i < 2; i++) {
			struct itimerval v = itv(5000000, 1000000),
					 zero = itv(0, 0), old = itv(-1, -1);
			/* Disarmed: the old value is all zero. */
			CHECK_RET(set_raw(whichs[i], &v, &old), 0);
			CHECK_EQ(tv_ns(&old.it_value), 0);
			CHECK_EQ(tv_ns(&old.it_interval), 0);
			CHECK_RET(set_raw(whichs[i], &zero, &old), 0);
			CHECK_EQ(old.it_interval.tv_sec, 1);
			CHECK_EQ(old.it_interval.tv_usec, 0);
			CHECK(tv_ns(&old.it_value) > 0 &&
			      tv_ns(&old.it_value) <= 6000 * MS);
		}
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(errors)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct itimerval v = itv(1000000, 0), zero = itv(0, 0), out;
		CHECK_ERR(set_raw(3, &v, NULL), EINVAL);
		CHECK_ERR(set_raw(-1, &v, NULL), EINVAL);
		CHECK_ERR(set_raw(99, &zero, NULL), EINVAL);
		CHECK_ERR(get_raw(3, &out), EINVAL);
		CHECK_ERR(get_raw(-1, &out), EINVAL);
		for (int which = 0; which < 3; which++) {
			struct itimerval bad = v;
			bad.it_value.tv_usec = 1000000;
			CHECK_ERR(set_raw(which, &bad, NULL), EINVAL);
			bad.it_value.tv_usec = -1;
			CHECK_ERR(set_raw(which, &bad, NULL), EINVAL);
			bad = v;
			bad.it_interval.tv_usec = 1000000;
			CHECK_ERR(set_raw(which, &bad, NULL), EINVAL);
			bad = v;
			bad.it_value.tv_sec = -1;
			CHECK_ERR(set_raw(which, &bad, NULL), EINVAL);
			/* None of them armed the timer. */
			CHECK_RET(get_raw(which, &out), 0);
			CHECK_EQ(tv_ns(&out.it_value), 0);
			CHECK_ERR(set_raw(which, (struct itimerval *)1, NULL),
				  EFAULT);
			CHECK_ERR(set_raw(which, &zero, (struct itimerval *)1),
				  EFAULT);
			CHECK_ERR(get_raw(which, (struct itimerval *)1), EFAULT);
			CHECK_ERR(get_raw(which, NULL), EFAULT);
		}
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(not_inherited_by_fork)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct itimerval v = itv(100000000, 0), out;
		for (int which = 0; which < 3; which++)
			CHECK_RET(set_raw(which, &v, NULL), 0);
		pid_t child = t_fork();
		if (child == 0) {
			for (int which = 0; which < 3; which++) {
				CHECK_RET(get_raw(which, &out), 0);
				CHECK_EQ(tv_ns(&out.it_value), 0);
			}
			_exit(0);
		}
		t_wait_exit(child, 0);
		/* The parent's are still armed. */
		for (int which = 0; which < 3; which++) {
			CHECK_RET(get_raw(which, &out), 0);
			CHECK(tv_ns(&out.it_value) > 0);
		}
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

/* After execve: exits 0 if the VIRTUAL and REAL timers are still armed. */
int t_child_main(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "kept") != 0)
		return 2;
	int whichs[] = { ITIMER_REAL, ITIMER_VIRTUAL };
	for (int i = 0; i < 2; i++) {
		struct itimerval out;
		if (get_raw(whichs[i], &out) != 0 || tv_ns(&out.it_value) <= 0)
			return 1;
	}
	return 0;
}

TEST(preserved_across_execve)
{
	if (!strchr(t_argv[0], '/'))
		t_fail("argv[0] \"%s\" is not a path", t_argv[0]);
	pid_t pid = t_fork();
	if (pid == 0) {
		struct itimerval v = itv(100000000, 0);
		CHECK_RET(set_raw(ITIMER_REAL, &v, NULL), 0);
		CHECK_RET(set_raw(ITIMER_VIRTUAL, &v, NULL), 0);
		char *args[] = { t_argv[0], "--child", "kept", NULL };
		execv(args[0], args);
		_exit(127);
	}
	t_wait_exit(pid, 0);
}

static volatile int stop_spinning;

static void *spinner(void *arg)
{
	(void)arg;
	long long end = t_now_ns() + 20000 * MS;
	while (!stop_spinning && t_now_ns() < end)
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
	return NULL;
}

TEST(prof_counts_other_threads)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		catch(SIGPROF);
		long long c0 = process_cpu_ns();
		struct itimerval v = itv(100000, 0);
		CHECK_RET(set_raw(ITIMER_PROF, &v, NULL), 0);
		pthread_t t;
		CHECK_RET(pthread_create(&t, NULL, spinner, NULL), 0);
		/* This thread sleeps; only the other one uses CPU time. */
		long long end = t_now_ns() + 20000 * MS;
		while (!fired && t_now_ns() < end)
			t_sleep_ms(5);
		stop_spinning = 1;
		CHECK_RET(pthread_join(t, NULL), 0);
		CHECK_MSG(fired == 1, "%d SIGPROF, expected 1", (int)fired);
		CHECK_MSG(first_cpu_ns - c0 >= 80 * MS,
			  "fired after %lld ns of CPU time",
			  first_cpu_ns - c0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
