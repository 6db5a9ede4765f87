/*
 * fallocate(2): allocation that extends the file or keeps its size,
 * punching holes, and vfs_fallocate's argument checks.
 */
#include "test.h"

#include <linux/falloc.h>
#include <sys/resource.h>

static int scratch(const char *name)
{
	return CHECK_OK(open(t_path(name), O_RDWR | O_CREAT | O_TRUNC, 0600));
}

static off_t size_of(int fd)
{
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	return st.st_size;
}

TEST(allocate_extends_with_zeros)
{
	int fd = scratch("fa1");
	CHECK_OK(fallocate(fd, 0, 0, 8192));
	CHECK_EQ(size_of(fd), 8192);
	char buf[8192];
	memset(buf, 1, sizeof(buf));
	CHECK_RET(pread(fd, buf, sizeof(buf), 0), 8192);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0);
	/* Inside the file the size does not change. */
	CHECK_OK(fallocate(fd, 0, 0, 100));
	CHECK_EQ(size_of(fd), 8192);
	close(fd);
}

TEST(keep_size)
{
	int fd = scratch("fa2");
	CHECK_RET(write(fd, "abc", 3), 3);
	CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536));
	CHECK_EQ(size_of(fd), 3);
	char buf[4] = { 0 };
	CHECK_RET(pread(fd, buf, 4, 0), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	close(fd);
}

TEST(punch_hole)
{
	int fd = scratch("fa3");
	char data[16384];
	memset(data, 'x', sizeof(data));
	CHECK_RET(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	/* A hole needs KEEP_SIZE. */
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 4096, 4096), EOPNOTSUPP);
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096));
	CHECK_EQ(size_of(fd), 16384);
	char buf[16384];
	CHECK_RET(pread(fd, buf, sizeof(buf), 0), 16384);
	for (int i = 0; i < 16384; i++)
		CHECK_EQ(buf[i], (i >= 4096 && i < 8192) ? 0 : 'x');
	close(fd);
}

TEST(errors)
{
	int fd = scratch("fa4");
	CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
	CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
	CHECK_ERR(fallocate(fd, 0, 0, -10), EINVAL);
	CHECK_ERR(fallocate(fd, 0x1000, 0, 10), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096), EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096),
		  EOPNOTSUPP);
	CHECK_ERR(fallocate(fd, 0, 0x7fffffffffffff00LL, 0x1000), EFBIG);
	int ro = CHECK_OK(open(t_path("fa4"), O_RDONLY));
	CHECK_ERR(fallocate(ro, 0, 0, 10), EBADF);
	close(ro);
	/* O_APPEND is no obstacle (EPERM is for append-only inodes). */
	int app = CHECK_OK(open(t_path("fa4"), O_WRONLY | O_APPEND));
	CHECK_OK(fallocate(app, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 10));
	CHECK_OK(fallocate(app, 0, 0, 10));
	close(app);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(fallocate(p[1], 0, 0, 10), ESPIPE);
	close(p[0]);
	close(p[1]);
	CHECK_ERR(fallocate(99, 0, 0, 10), EBADF);
	close(fd);
}

TEST(fsize_limit)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit r = { 4096, RLIM_INFINITY };
		CHECK_OK(setrlimit(RLIMIT_FSIZE, &r));
		int fd = scratch("fa5");
		CHECK_ERR(fallocate(fd, 0, 0, 8192), EFBIG);
		CHECK_OK(fallocate(fd, 0, 0, 4096));
		CHECK_EQ(size_of(fd), 4096);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}
