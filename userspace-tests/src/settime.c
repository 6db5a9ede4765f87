/*
 * Setting the wall clock, from clock_settime(2) and settimeofday(2): only
 * CLOCK_REALTIME is settable (EINVAL for the others, EPERM for a pid's CPU clock),
 * EFAULT/EINVAL for bad values (including a time before the monotonic
 * clock), EPERM without CAP_SYS_TIME; a change moves CLOCK_REALTIME,
 * gettimeofday, time and new file times, never CLOCK_MONOTONIC; the
 * timezone settimeofday stores is what gettimeofday returns. The parts that
 * change the clock run only on Starling (never on a host).
 */
#include "test.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

static long long ns_of(clockid_t c)
{
	struct timespec ts;
	CHECK_RET(clock_gettime(c, &ts), 0);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int settime(clockid_t c, const struct timespec *ts)
{
	return (int)syscall(SYS_clock_settime, c, ts);
}

TEST(only_realtime_is_settable)
{
	struct timespec now;
	CHECK_RET(clock_gettime(CLOCK_MONOTONIC, &now), 0);
	CHECK_ERR(settime(CLOCK_MONOTONIC, &now), EINVAL);
	CHECK_ERR(settime(CLOCK_REALTIME_COARSE, &now), EINVAL);
	CHECK_ERR(settime(CLOCK_BOOTTIME, &now), EINVAL);
	CHECK_ERR(settime(1000, &now), EINVAL);
	CHECK_ERR(settime(CLOCK_PROCESS_CPUTIME_ID, &now), EINVAL);
	CHECK_ERR(settime(CLOCK_THREAD_CPUTIME_ID, &now), EINVAL);
	/* A process's CPU clock by pid: EPERM, after the value was read. */
	clockid_t cpu;
	CHECK_RET(clock_getcpuclockid(getpid(), &cpu), 0);
	CHECK_ERR(settime(cpu, &now), EPERM);
	CHECK_ERR(settime(cpu, NULL), EFAULT);
}

TEST(bad_values)
{
	CHECK_ERR(settime(CLOCK_REALTIME, NULL), EFAULT);
	struct timespec bad = { .tv_sec = 1, .tv_nsec = 1000000000 };
	CHECK_ERR(settime(CLOCK_REALTIME, &bad), EINVAL);
	bad = (struct timespec){ .tv_sec = -1, .tv_nsec = 0 };
	CHECK_ERR(settime(CLOCK_REALTIME, &bad), EINVAL);
	struct timeval tv = { .tv_sec = 1, .tv_usec = 1000000 };
	CHECK_ERR(syscall(SYS_settimeofday, &tv, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_settimeofday, (void *)8, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_settimeofday, NULL, (void *)8), EFAULT);
	if (geteuid() == 0) {
		/* A wall time before the monotonic clock (uptime > 0): EINVAL. */
		struct timespec epoch = { 0, 0 };
		CHECK_ERR(settime(CLOCK_REALTIME, &epoch), EINVAL);
		struct timezone far = { .tz_minuteswest = 16 * 60 };
		CHECK_ERR(syscall(SYS_settimeofday, NULL, &far), EINVAL);
	}
}

TEST(needs_cap_sys_time)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		errno = 0;
		if (settime(CLOCK_REALTIME, &now) != -1 || errno != EPERM)
			_exit(4);
		struct timeval tv = { now.tv_sec, 0 };
		errno = 0;
		if (syscall(SYS_settimeofday, &tv, NULL) != -1 || errno != EPERM)
			_exit(5);
		errno = 0;
		if (syscall(SYS_settimeofday, NULL, NULL) != -1 || errno != EPERM)
			_exit(6);
		/* The value is checked before the capability. */
		struct timespec bad = { 1, 1000000000 };
		errno = 0;
		if (settime(CLOCK_REALTIME, &bad) != -1 || errno != EINVAL)
			_exit(7);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(setting_moves_the_wall_clock)
{
	if (!on_starling())
		t_skip("changes the machine's clock: run on Starling only");
	if (geteuid() != 0)
		t_skip("needs root");
	long long mono0 = ns_of(CLOCK_MONOTONIC);
	long long real0 = ns_of(CLOCK_REALTIME);
	const long long hour = 3600LL * 1000000000LL;
	struct timespec later = { .tv_sec = (time_t)((real0 + hour) / 1000000000LL),
				  .tv_nsec = (long)((real0 + hour) % 1000000000LL) };
	CHECK_RET(settime(CLOCK_REALTIME, &later), 0);
	long long real1 = ns_of(CLOCK_REALTIME);
	long long mono1 = ns_of(CLOCK_MONOTONIC);
	/* An hour ahead, give or take the time the calls took. */
	CHECK_MSG(real1 - real0 >= hour && real1 - real0 < hour + 10 * 1000000000LL,
		  "realtime moved by %lld ns", real1 - real0);
	CHECK_MSG(mono1 - mono0 < 10 * 1000000000LL, "monotonic moved by %lld ns", mono1 - mono0);
	struct timeval tv;
	CHECK_RET(gettimeofday(&tv, NULL), 0);
	CHECK(tv.tv_sec >= later.tv_sec);
	CHECK(time(NULL) >= later.tv_sec);
	/* A file made now carries the new time. */
	const char *f = t_make_file("stamp", "x", 0644);
	struct stat st;
	CHECK_RET(stat(f, &st), 0);
	CHECK_MSG(st.st_mtime >= later.tv_sec, "mtime %lld before %lld", (long long)st.st_mtime,
		  (long long)later.tv_sec);
	/* settimeofday sets it back (with what elapsed meanwhile), and keeps
	 * the timezone for gettimeofday. */
	long long back = real0 + (ns_of(CLOCK_MONOTONIC) - mono0);
	struct timeval restore = { .tv_sec = (time_t)(back / 1000000000LL),
				   .tv_usec = (suseconds_t)(back % 1000000000LL / 1000) };
	struct timezone tz = { .tz_minuteswest = -120, .tz_dsttime = 0 };
	CHECK_RET(syscall(SYS_settimeofday, &restore, &tz), 0);
	struct timezone got;
	CHECK_RET(syscall(SYS_gettimeofday, &tv, &got), 0);
	CHECK_EQ(got.tz_minuteswest, -120);
	CHECK_MSG(tv.tv_sec - restore.tv_sec < 10, "restored to %lld, reads %lld",
		  (long long)restore.tv_sec, (long long)tv.tv_sec);
	tz.tz_minuteswest = 0;
	CHECK_RET(syscall(SYS_settimeofday, NULL, &tz), 0);
}
