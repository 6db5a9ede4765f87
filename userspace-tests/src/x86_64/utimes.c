/*
 * The x86_64-only time setters: utimes(2), futimesat(2) (a path relative
 * to a directory, or NULL for the directory itself) and utime(2).
 */
#include "test.h"

#include <sys/time.h>
#include <utime.h>

static void times_of(const char *p, struct stat *st)
{
	CHECK_OK(stat(p, st));
}

TEST(utimes_sets_microseconds)
{
	const char *p = t_make_file("u1", "", 0644);
	struct timeval tv[2] = { { 1000, 250000 }, { 2000, 500000 } };
	CHECK_OK(syscall(SYS_utimes, p, tv));
	struct stat st;
	times_of(p, &st);
	CHECK_EQ(st.st_atim.tv_sec, 1000);
	CHECK_EQ(st.st_atim.tv_nsec, 250000000);
	CHECK_EQ(st.st_mtim.tv_sec, 2000);
	CHECK_EQ(st.st_mtim.tv_nsec, 500000000);
	/* NULL: both to now. */
	CHECK_OK(syscall(SYS_utimes, p, NULL));
	times_of(p, &st);
	CHECK(st.st_mtim.tv_sec > 2000);
	/* Microseconds out of range: EINVAL; a missing file: ENOENT. */
	struct timeval bad[2] = { { 1, 1000000 }, { 1, 0 } };
	CHECK_ERR(syscall(SYS_utimes, p, bad), EINVAL);
	bad[0].tv_usec = -1;
	CHECK_ERR(syscall(SYS_utimes, p, bad), EINVAL);
	CHECK_ERR(syscall(SYS_utimes, t_path("missing"), tv), ENOENT);
}

TEST(futimesat_relative_and_null_path)
{
	t_make_file("u2", "", 0644);
	int dir = CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct timeval tv[2] = { { 3000, 0 }, { 4000, 0 } };
	CHECK_OK(syscall(SYS_futimesat, dir, "u2", tv));
	struct stat st;
	times_of(t_path("u2"), &st);
	CHECK_EQ(st.st_mtim.tv_sec, 4000);
	/* A NULL path sets the directory's own times. */
	CHECK_OK(syscall(SYS_futimesat, dir, NULL, tv));
	times_of(t_tmpdir(), &st);
	CHECK_EQ(st.st_atim.tv_sec, 3000);
	CHECK_ERR(syscall(SYS_futimesat, 999, "u2", tv), EBADF);
	close(dir);
}

TEST(utime_whole_seconds)
{
	const char *p = t_make_file("u3", "", 0644);
	struct utimbuf ub = { .actime = 5000, .modtime = 6000 };
	CHECK_OK(syscall(SYS_utime, p, &ub));
	struct stat st;
	times_of(p, &st);
	CHECK_EQ(st.st_atim.tv_sec, 5000);
	CHECK_EQ(st.st_mtim.tv_sec, 6000);
	CHECK_EQ(st.st_mtim.tv_nsec, 0);
	/* Another user may not set explicit times: EPERM. */
	CHECK_OK(chmod(t_tmpdir(), 0755));
	pid_t pid = t_fork();
	if (pid == 0) {
		CHECK_OK(setuid(65534));
		CHECK_ERR(syscall(SYS_utime, p, &ub), EPERM);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
