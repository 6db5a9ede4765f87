/*
 * Pipe capacity, from fcntl(2) F_GETPIPE_SZ/F_SETPIPE_SZ, pipe(7) and
 * fs/pipe.c: 64 KiB by default, sizes rounded up to a power-of-two number
 * of pages (at least one), EBUSY when shrinking below the data held, EPERM
 * above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE, EINVAL past
 * 2^31, EBADF for a descriptor that is no pipe, and writes limited by the
 * new capacity.
 */
#include "test.h"

#include <fcntl.h>
#include <linux/capability.h>

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif
#define PAGE 4096

static long fc(int fd, int cmd, long arg)
{
	return syscall(SYS_fcntl, fd, cmd, arg);
}

/* Whether the caller has CAP_SYS_RESOURCE in its effective set. */
static int has_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	CHECK_RET(syscall(SYS_capget, &h, d), 0);
	return (d[0].effective >> CAP_SYS_RESOURCE) & 1;
}

TEST(default_and_rounding)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_RET(fc(p[0], F_GETPIPE_SZ, 0), 65536);
	CHECK_RET(fc(p[1], F_GETPIPE_SZ, 0), 65536);
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, 1), PAGE);
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, 0), PAGE);
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, 5000), 2 * PAGE);
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, 3 * PAGE), 4 * PAGE);
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, 65537), 131072);
	/* Both ends see the one pipe's size. */
	CHECK_RET(fc(p[0], F_GETPIPE_SZ, 0), 131072);
	CHECK_ERR(fc(p[1], F_SETPIPE_SZ, (long)(1UL << 31) + 1), EINVAL);
	close(p[0]);
	close(p[1]);
}

TEST(not_a_pipe)
{
	int fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(fc(fd, F_GETPIPE_SZ, 0), EBADF);
	CHECK_ERR(fc(fd, F_SETPIPE_SZ, PAGE), EBADF);
	close(fd);
}

TEST(shrinking_below_the_data_is_ebusy)
{
	int p[2];
	CHECK_RET(pipe2(p, O_NONBLOCK), 0);
	char buf[3 * PAGE];
	memset(buf, 'x', sizeof(buf));
	CHECK_RET(write(p[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	CHECK_ERR(fc(p[1], F_SETPIPE_SZ, PAGE), EBUSY);
	CHECK_RET(fc(p[1], F_GETPIPE_SZ, 0), 65536);
	/* Enough room for what is held: fine, and the data is intact. */
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, 4 * PAGE), 4 * PAGE);
	char back[3 * PAGE];
	CHECK_RET(read(p[0], back, sizeof(back)), (ssize_t)sizeof(back));
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	close(p[0]);
	close(p[1]);
}

TEST(writes_stop_at_the_capacity)
{
	int p[2];
	CHECK_RET(pipe2(p, O_NONBLOCK), 0);
	CHECK_RET(fc(p[1], F_SETPIPE_SZ, PAGE), PAGE);
	char buf[2 * PAGE];
	memset(buf, 'y', sizeof(buf));
	CHECK_RET(write(p[1], buf, sizeof(buf)), PAGE);
	CHECK_ERR(write(p[1], buf, 1), EAGAIN);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_max_size_limits_the_unprivileged)
{
	char text[32] = { 0 };
	int fd = CHECK_OK(open("/proc/sys/fs/pipe-max-size", O_RDONLY));
	CHECK(read(fd, text, sizeof(text) - 1) > 0);
	close(fd);
	long max = strtol(text, NULL, 10);
	CHECK_EQ(max, 1048576);
	int p[2];
	CHECK_RET(pipe(p), 0);
	if (has_sys_resource())
		CHECK_RET(fc(p[1], F_SETPIPE_SZ, 2 * max), 2 * max);
	pid_t pid = t_fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		errno = 0;
		if (fc(p[1], F_SETPIPE_SZ, 2 * max) != -1 || errno != EPERM)
			_exit(4);
		if (fc(p[1], F_SETPIPE_SZ, max) != max)
			_exit(5);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	close(p[0]);
	close(p[1]);
}
