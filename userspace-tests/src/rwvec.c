/*
 * Positioned vector I/O: preadv, pwritev, preadv2 and pwritev2 (offsets,
 * the file position, offset -1, RWF_* flags, errors).
 */
#include "test.h"

#include <sys/uio.h>

static int scratch(const char *name, const char *text)
{
	const char *p = t_make_file(name, text, 0644);
	return CHECK_OK(open(p, O_RDWR));
}

TEST(pwritev_preadv_keep_position)
{
	int fd = scratch("v1", "0123456789");
	char a[] = "ab", b[] = "cde";
	struct iovec w[2] = { { a, 2 }, { b, 3 } };
	CHECK_RET(pwritev(fd, w, 2, 4), 5);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 0);
	char x[3] = { 0 }, y[8] = { 0 };
	struct iovec r[2] = { { x, 3 }, { y, 8 } };
	CHECK_RET(preadv(fd, r, 2, 2), 8);
	CHECK(memcmp(x, "23a", 3) == 0);
	CHECK(memcmp(y, "bcde9", 5) == 0);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 0);
	/* Past the end: 0. */
	CHECK_RET(preadv(fd, r, 2, 100), 0);
	close(fd);
}

TEST(v2_offset_minus_one_uses_position)
{
	int fd = scratch("v2", "hello world");
	CHECK_RET(lseek(fd, 6, SEEK_SET), 6);
	char buf[5] = { 0 };
	struct iovec r = { buf, 5 };
	CHECK_RET(preadv2(fd, &r, 1, -1, 0), 5);
	CHECK(memcmp(buf, "world", 5) == 0);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 11);
	struct iovec w = { (void *)"!", 1 };
	CHECK_RET(pwritev2(fd, &w, 1, -1, 0), 1);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 12);
	/* With an offset the position stays. */
	CHECK_RET(preadv2(fd, &r, 1, 0, 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_RET(lseek(fd, 0, SEEK_CUR), 12);
	close(fd);
}

TEST(v2_flags)
{
	int fd = scratch("v3", "abc");
	/* RWF_APPEND: at the end whatever the offset. */
	struct iovec w = { (void *)"XY", 2 };
	CHECK_RET(pwritev2(fd, &w, 1, 0, RWF_APPEND), 2);
	char buf[8] = { 0 };
	CHECK_RET(pread(fd, buf, sizeof(buf), 0), 5);
	CHECK(memcmp(buf, "abcXY", 5) == 0);
	/* RWF_SYNC and RWF_DSYNC write as usual. */
	CHECK_RET(pwritev2(fd, &w, 1, 0, RWF_SYNC), 2);
	CHECK_RET(pwritev2(fd, &w, 1, 0, RWF_DSYNC), 2);
	/* Unknown flags: EOPNOTSUPP. */
	struct iovec r = { buf, 1 };
	CHECK_ERR(preadv2(fd, &r, 1, 0, 1 << 20), EOPNOTSUPP);
	CHECK_ERR(pwritev2(fd, &w, 1, 0, 1 << 20), EOPNOTSUPP);
	/* RWF_NOWAIT on an empty pipe: EAGAIN instead of blocking. */
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(preadv2(p[0], &r, 1, -1, RWF_NOWAIT), EAGAIN);
	CHECK_RET(write(p[1], "z", 1), 1);
	CHECK_RET(preadv2(p[0], &r, 1, -1, RWF_NOWAIT), 1);
	CHECK_EQ(buf[0], 'z');
	close(p[0]);
	close(p[1]);
	close(fd);
}

TEST(errors)
{
	int fd = scratch("v4", "abc");
	char buf[4];
	struct iovec r = { buf, 4 };
	/* A negative offset (other than preadv2's -1): EINVAL. */
	CHECK_ERR(preadv(fd, &r, 1, -5), EINVAL);
	CHECK_ERR(pwritev(fd, &r, 1, -5), EINVAL);
	CHECK_ERR(preadv2(fd, &r, 1, -2, 0), EINVAL);
	/* Too many or negative iovec counts: EINVAL. */
	CHECK_ERR(syscall(SYS_preadv, fd, &r, -1, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_preadv, fd, &r, 1025, 0, 0), EINVAL);
	/* A pipe has no offsets: ESPIPE. */
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(preadv(p[0], &r, 1, 0), ESPIPE);
	CHECK_ERR(pwritev(p[1], &r, 1, 0), ESPIPE);
	CHECK_ERR(preadv(99, &r, 1, 0), EBADF);
	close(p[0]);
	close(p[1]);
	close(fd);
}
