/*
 * System-wide and accounting calls: sysinfo, getrandom, umask, times and
 * getrusage (RUSAGE_SELF/CHILDREN/THREAD).
 */
#include "test.h"

#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

static void burn_cpu_ms(long ms)
{
	long long end = t_now_ns() + ms * 1000000LL;
	volatile unsigned long x = 0;
	while (t_now_ns() < end)
		x++;
}

TEST(sysinfo_fields)
{
	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	CHECK_RET(sysinfo(&si), 0);
	CHECK(si.uptime >= 0);
	CHECK(si.totalram > 0);
	CHECK(si.freeram <= si.totalram);
	CHECK(si.procs >= 1);
	CHECK(si.mem_unit >= 1);
	CHECK_ERR(sysinfo((struct sysinfo *)8), EFAULT);
}

TEST(getrandom_fills_and_differs)
{
	unsigned char a[64], b[64];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_RET(getrandom(a, sizeof(a), 0), sizeof(a));
	CHECK_RET(getrandom(b, sizeof(b), GRND_NONBLOCK), sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK_RET(getrandom(a, 0, 0), 0);
}

TEST(getrandom_errors)
{
	unsigned char a[8];
	CHECK_ERR(getrandom(a, sizeof(a), 0x100), EINVAL);
	CHECK_ERR(getrandom(a, sizeof(a), GRND_RANDOM | GRND_INSECURE), EINVAL);
	CHECK_ERR(syscall(SYS_getrandom, (void *)8, 8, 0), EFAULT);
}

TEST(umask_applies_to_creation)
{
	mode_t old = umask(027);
	CHECK_EQ(umask(027), 027);
	char path[256];
	snprintf(path, sizeof(path), "%s/umask-%d", t_tmpdir(), getpid());
	int fd = CHECK_OK(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0666));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 0777, 0640);
	close(fd);
	unlink(path);
	/* Only the permission bits are kept. */
	CHECK_EQ(umask(0777777), 027);
	CHECK_EQ(umask(old), 0777);
}

TEST(times_counts_own_and_children)
{
	struct tms before, after;
	clock_t t0 = times(&before);
	CHECK(t0 != (clock_t)-1);
	burn_cpu_ms(200);
	pid_t pid = t_fork();
	if (pid == 0) {
		burn_cpu_ms(200);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	clock_t t1 = times(&after);
	CHECK(t1 >= t0);
	long hz = sysconf(_SC_CLK_TCK);
	/* At least half of the burnt time shows (scheduling noise aside). */
	CHECK((after.tms_utime + after.tms_stime) - (before.tms_utime + before.tms_stime) >=
	      hz / 10);
	CHECK((after.tms_cutime + after.tms_cstime) - (before.tms_cutime + before.tms_cstime) >=
	      hz / 10);
}

static long tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

TEST(getrusage_self_children_thread)
{
	struct rusage self0, self1, kids0, kids1, thr;
	CHECK_RET(getrusage(RUSAGE_SELF, &self0), 0);
	CHECK_RET(getrusage(RUSAGE_CHILDREN, &kids0), 0);
	burn_cpu_ms(150);
	pid_t pid = t_fork();
	if (pid == 0) {
		burn_cpu_ms(150);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	CHECK_RET(getrusage(RUSAGE_SELF, &self1), 0);
	CHECK_RET(getrusage(RUSAGE_CHILDREN, &kids1), 0);
	CHECK_RET(getrusage(RUSAGE_THREAD, &thr), 0);
	long own = tv_ms(self1.ru_utime) + tv_ms(self1.ru_stime) -
		   (tv_ms(self0.ru_utime) + tv_ms(self0.ru_stime));
	long kids = tv_ms(kids1.ru_utime) + tv_ms(kids1.ru_stime) -
		    (tv_ms(kids0.ru_utime) + tv_ms(kids0.ru_stime));
	CHECK_MSG(own >= 75, "own cpu %ld ms", own);
	CHECK_MSG(kids >= 75, "children cpu %ld ms", kids);
	CHECK(tv_ms(thr.ru_utime) + tv_ms(thr.ru_stime) >= 75);
	CHECK_ERR(getrusage(12345, &thr), EINVAL);
	CHECK_ERR(getrusage(RUSAGE_SELF, (struct rusage *)8), EFAULT);
}

TEST(user_and_system_time_split)
{
	/* A user-mode loop shows as user time, a syscall loop as system
	 * time (times(2) and getrusage(2) alike). */
	struct tms t0, t1;
	struct rusage r0, r1;
	CHECK(times(&t0) != (clock_t)-1);
	CHECK_OK(getrusage(RUSAGE_SELF, &r0));
	burn_cpu_ms(200);
	CHECK(times(&t1) != (clock_t)-1);
	CHECK_MSG(t1.tms_utime > t0.tms_utime, "utime %ld -> %ld", (long)t0.tms_utime,
		  (long)t1.tms_utime);
	long long start = t_now_ns();
	do {
		for (int i = 0; i < 10000; i++)
			syscall(SYS_getppid);
		CHECK(times(&t1) != (clock_t)-1);
	} while (t1.tms_stime == t0.tms_stime && t_now_ns() - start < 10000000000LL);
	CHECK_MSG(t1.tms_stime > t0.tms_stime, "stime stayed %ld", (long)t0.tms_stime);
	CHECK_OK(getrusage(RUSAGE_SELF, &r1));
	CHECK(tv_ms(r1.ru_utime) > tv_ms(r0.ru_utime));
	CHECK(tv_ms(r1.ru_stime) > tv_ms(r0.ru_stime));
}

TEST(maxrss_self_and_children)
{
	/* ru_maxrss (KiB): ours covers what we touched; a reaped child's
	 * peak shows under RUSAGE_CHILDREN, and not before it is reaped. */
	struct rusage r;
	CHECK_OK(getrusage(RUSAGE_SELF, &r));
	CHECK(r.ru_maxrss > 0);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &r));
	long before = r.ru_maxrss;
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = t_fork();
	if (pid == 0) {
		size_t len = 48 << 20;
		char *m = malloc(len);
		if (!m)
			_exit(2);
		memset(m, 1, len);
		/* Keep the stores: the memory is never read. */
		__asm__ volatile("" ::"r"(m) : "memory");
		struct rusage me;
		if (getrusage(RUSAGE_SELF, &me) != 0 || me.ru_maxrss < 48 * 1024)
			_exit(3);
		/* A child of this child starts with nothing reaped. */
		if (getrusage(RUSAGE_CHILDREN, &me) != 0 || me.ru_maxrss != 0)
			_exit(4);
		if (write(p[1], "x", 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(p[1]);
	char c;
	/* 0 (EOF) if the child failed a check and exited without writing. */
	CHECK_RET(read(p[0], &c, 1), 1);
	/* Exited but not reaped yet: nothing changes. */
	siginfo_t si;
	CHECK_OK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT));
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &r));
	CHECK_EQ(r.ru_maxrss, before);
	t_wait_exit(pid, 0);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &r));
	CHECK_MSG(r.ru_maxrss >= 48 * 1024, "children maxrss %ld KiB", r.ru_maxrss);
	close(p[0]);
}
