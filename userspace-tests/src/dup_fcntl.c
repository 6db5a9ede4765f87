/*
 * Descriptor duplication and flags: dup(2), dup3(2) and fcntl(2) with
 * F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD and F_GETFL/F_SETFL.
 *
 * Descriptor flags (FD_CLOEXEC) belong to one descriptor; status flags
 * (O_APPEND, O_NONBLOCK) and the offset belong to the open file description
 * shared by duplicates.
 */
#include "test.h"

static long raw_dup3(int oldfd, int newfd, int flags)
{
	return syscall(SYS_dup3, oldfd, newfd, flags);
}

static int scratch_file(const char *name)
{
	const char *p = t_path(name);
	unlink(p);
	return (int)CHECK_OK(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
}

/* Is `fd` open? */
static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

TEST(dup_lowest_free_and_shared_offset)
{
	int fd = scratch_file("dup");
	int d = (int)CHECK_OK(syscall(SYS_dup, fd));
	CHECK(d != fd);
	/* The lowest free number is used. */
	int hole = (int)CHECK_OK(syscall(SYS_dup, fd));
	close(d);
	CHECK_RET(syscall(SYS_dup, fd), d);
	/* Offset is shared: a write through one moves the other. */
	CHECK_RET(write(fd, "12345", 5), 5);
	CHECK_RET(lseek(d, 0, SEEK_CUR), 5);
	CHECK_RET(lseek(d, 1, SEEK_SET), 1);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 1);
	/* dup clears FD_CLOEXEC on the copy. */
	CHECK_RET(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	int e = (int)CHECK_OK(syscall(SYS_dup, fd));
	CHECK_RET(fcntl(e, F_GETFD), 0);
	/* Closing one leaves the other usable. */
	close(fd);
	CHECK_RET(write(d, "x", 1), 1);
	close(d);
	close(e);
	close(hole);
}

TEST(dup_ebadf)
{
	CHECK_ERR(syscall(SYS_dup, -1), EBADF);
	CHECK_ERR(syscall(SYS_dup, 1000000), EBADF);
}

TEST(dup3_onto_open_fd)
{
	int a = scratch_file("dup3-a");
	int b = scratch_file("dup3-b");
	CHECK_RET(write(a, "AAAA", 4), 4);
	/* b is closed silently and now refers to a's file. */
	CHECK_RET(raw_dup3(a, b, 0), b);
	CHECK_RET(lseek(b, 0, SEEK_CUR), 4);
	CHECK_RET(write(b, "B", 1), 1);
	CHECK_RET(lseek(a, 0, SEEK_CUR), 5);
	struct stat sa, sb;
	CHECK_RET(fstat(a, &sa), 0);
	CHECK_RET(fstat(b, &sb), 0);
	CHECK_EQ(sa.st_ino, sb.st_ino);
	close(a);
	close(b);
}

TEST(dup3_cloexec_flag)
{
	int a = scratch_file("dup3-c");
	int target = 200;
	close(target);
	CHECK_RET(raw_dup3(a, target, O_CLOEXEC), target);
	CHECK_RET(fcntl(target, F_GETFD), FD_CLOEXEC);
	CHECK_RET(raw_dup3(a, target, 0), target);
	CHECK_RET(fcntl(target, F_GETFD), 0);
	close(target);
	close(a);
}

TEST(dup3_einval)
{
	int a = scratch_file("dup3-e");
	/* dup3(2): oldfd == newfd is EINVAL (unlike dup2). */
	CHECK_ERR(raw_dup3(a, a, 0), EINVAL);
	CHECK_ERR(raw_dup3(a, a, O_CLOEXEC), EINVAL);
	/* Flags other than O_CLOEXEC are EINVAL. */
	CHECK_ERR(raw_dup3(a, 201, O_NONBLOCK), EINVAL);
	CHECK(!is_open(201));
	/* The failed calls did not close the descriptor. */
	CHECK(is_open(a));
	close(a);
}

TEST(dup3_ebadf)
{
	int a = scratch_file("dup3-b2");
	CHECK_ERR(raw_dup3(-1, 202, 0), EBADF);
	CHECK_ERR(raw_dup3(1000000, 202, 0), EBADF);
	/* newfd out of the allowed range. */
	CHECK_ERR(raw_dup3(a, -1, 0), EBADF);
	CHECK_ERR(raw_dup3(a, 0x7fffffff, 0), EBADF);
	close(a);
}

TEST(f_dupfd)
{
	int a = scratch_file("dupfd");
	int d = (int)CHECK_OK(fcntl(a, F_DUPFD, 100));
	CHECK(d >= 100);
	/* The lowest free number at or above the argument. */
	int e = (int)CHECK_OK(fcntl(a, F_DUPFD, d));
	CHECK_EQ(e, d + 1);
	close(d);
	CHECK_RET(fcntl(a, F_DUPFD, 100), d);
	CHECK_RET(fcntl(d, F_GETFD), 0);
	int c = (int)CHECK_OK(fcntl(a, F_DUPFD_CLOEXEC, 100));
	CHECK(c > e);
	CHECK_RET(fcntl(c, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(fcntl(a, F_DUPFD, -1), EINVAL);
	/* At or above RLIMIT_NOFILE. */
	CHECK_ERR(fcntl(a, F_DUPFD, 0x7fffffff), EINVAL);
	close(a);
	close(c);
	close(d);
	close(e);
}

TEST(f_getfd_setfd)
{
	int a = scratch_file("getfd");
	CHECK_RET(fcntl(a, F_GETFD), 0);
	CHECK_RET(fcntl(a, F_SETFD, FD_CLOEXEC), 0);
	CHECK_RET(fcntl(a, F_GETFD), FD_CLOEXEC);
	/* Per descriptor: a duplicate does not share it. */
	int d = (int)CHECK_OK(fcntl(a, F_DUPFD, 0));
	CHECK_RET(fcntl(d, F_GETFD), 0);
	CHECK_RET(fcntl(a, F_SETFD, 0), 0);
	CHECK_RET(fcntl(a, F_GETFD), 0);
	close(a);
	close(d);
}

TEST(f_getfl_access_mode)
{
	int a = scratch_file("getfl");
	CHECK_EQ(fcntl(a, F_GETFL) & O_ACCMODE, O_RDWR);
	close(a);
	int r = (int)CHECK_OK(open(t_path("getfl"), O_RDONLY));
	CHECK_EQ(fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
	/* F_SETFL cannot change the access mode. */
	CHECK_RET(fcntl(r, F_SETFL, O_WRONLY), 0);
	CHECK_EQ(fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_ERR(write(r, "x", 1), EBADF);
	close(r);
	int w = (int)CHECK_OK(open(t_path("getfl"), O_WRONLY | O_APPEND));
	int fl = (int)CHECK_OK(fcntl(w, F_GETFL));
	CHECK_EQ(fl & O_ACCMODE, O_WRONLY);
	CHECK(fl & O_APPEND);
	close(w);
}

TEST(f_setfl_nonblock)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	CHECK_RET(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	/* Status flags live in the open file description: a dup sees them. */
	int d = (int)CHECK_OK(syscall(SYS_dup, p[0]));
	CHECK(fcntl(d, F_GETFL) & O_NONBLOCK);
	CHECK_ERR(read(d, &c, 1), EAGAIN);
	CHECK_RET(fcntl(p[0], F_SETFL, 0), 0);
	CHECK_EQ(fcntl(d, F_GETFL) & O_NONBLOCK, 0);
	close(d);
	close(p[0]);
	close(p[1]);
}

TEST(f_setfl_append)
{
	int a = scratch_file("append");
	CHECK_RET(write(a, "0123456789", 10), 10);
	CHECK_RET(fcntl(a, F_SETFL, O_APPEND), 0);
	CHECK(fcntl(a, F_GETFL) & O_APPEND);
	CHECK_RET(lseek(a, 2, SEEK_SET), 2);
	CHECK_RET(write(a, "X", 1), 1);
	CHECK_RET(lseek(a, 0, SEEK_CUR), 11);
	/* Turned off again, writes go to the offset. */
	CHECK_RET(fcntl(a, F_SETFL, 0), 0);
	CHECK_RET(lseek(a, 0, SEEK_SET), 0);
	CHECK_RET(write(a, "Y", 1), 1);
	char buf[12] = { 0 };
	CHECK_RET(lseek(a, 0, SEEK_SET), 0);
	CHECK_RET(read(a, buf, 11), 11);
	CHECK_STREQ(buf, "Y123456789X");
	close(a);
}

TEST(fcntl_errors)
{
	CHECK_ERR(fcntl(-1, F_GETFD), EBADF);
	CHECK_ERR(fcntl(1000000, F_GETFL), EBADF);
	CHECK_ERR(fcntl(-1, F_DUPFD, 0), EBADF);
	int a = scratch_file("fcntl-err");
	CHECK_ERR(syscall(SYS_fcntl, a, 0x7fff, 0), EINVAL);
	close(a);
}
