/*
 * In-kernel copies and range closing: sendfile(2), copy_file_range(2),
 * close_range(2).
 */
#include "test.h"

#include <linux/close_range.h>
#include <sys/sendfile.h>

static const char TEXT[] = "hello sendfile world";

static int open_text(const char *name, int flags)
{
	const char *p = t_make_file(name, TEXT, 0644);
	return CHECK_OK(open(p, flags));
}

static void read_exact(int fd, char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = CHECK_OK(read(fd, buf + done, len - done));
		CHECK(n > 0);
		done += (size_t)n;
	}
}

TEST(sendfile_from_position_to_pipe)
{
	int in = open_text("sf-in", O_RDONLY);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_RET(sendfile(p[1], in, NULL, 5), 5);
	/* Without an offset pointer the input position moves. */
	CHECK_RET(lseek(in, 0, SEEK_CUR), 5);
	char buf[32] = { 0 };
	read_exact(p[0], buf, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	/* Asking for more than is left gives what is left; at EOF, 0. */
	CHECK_RET(sendfile(p[1], in, NULL, 1000), (ssize_t)strlen(TEXT) - 5);
	CHECK_RET(sendfile(p[1], in, NULL, 1000), 0);
	close(in);
	close(p[0]);
	close(p[1]);
}

TEST(sendfile_with_offset_keeps_position)
{
	int in = open_text("sf-off", O_RDONLY);
	const char *outp = t_path("sf-out");
	int out = CHECK_OK(open(outp, O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_RET(lseek(in, 2, SEEK_SET), 2);
	off_t off = 6;
	CHECK_RET(sendfile(out, in, &off, 8), 8);
	CHECK_RET(off, 14);
	CHECK_RET(lseek(in, 0, SEEK_CUR), 2);
	/* The output's position moved by what was written. */
	CHECK_RET(lseek(out, 0, SEEK_CUR), 8);
	char buf[16] = { 0 };
	CHECK_RET(pread(out, buf, sizeof(buf), 0), 8);
	CHECK(memcmp(buf, "sendfile", 8) == 0);
	close(in);
	close(out);
}

TEST(sendfile_errors)
{
	int in = open_text("sf-err", O_RDONLY);
	int wronly = open_text("sf-err2", O_WRONLY);
	int p[2];
	CHECK_OK(pipe(p));
	/* in_fd not readable, out_fd not writable, bad descriptors: EBADF. */
	CHECK_ERR(sendfile(p[1], wronly, NULL, 1), EBADF);
	CHECK_ERR(sendfile(in, in, NULL, 1), EBADF);
	CHECK_ERR(sendfile(p[1], 999, NULL, 1), EBADF);
	CHECK_ERR(sendfile(999, in, NULL, 1), EBADF);
	/* A bad offset pointer: EFAULT; a negative offset: EINVAL. */
	CHECK_ERR(sendfile(p[1], in, (off_t *)8, 1), EFAULT);
	off_t neg = -1;
	CHECK_ERR(sendfile(p[1], in, &neg, 1), EINVAL);
	/* An O_APPEND target: EINVAL. */
	int app = CHECK_OK(open(t_path("sf-err2"), O_WRONLY | O_APPEND));
	CHECK_ERR(sendfile(app, in, NULL, 1), EINVAL);
	close(app);
	close(in);
	close(wronly);
	close(p[0]);
	close(p[1]);
}

TEST(copy_file_range_offsets_and_positions)
{
	int in = open_text("cfr-in", O_RDONLY);
	const char *outp = t_path("cfr-out");
	int out = CHECK_OK(open(outp, O_RDWR | O_CREAT | O_TRUNC, 0600));
	loff_t oin = 6, oout = 3;
	CHECK_RET(copy_file_range(in, &oin, out, &oout, 8, 0), 8);
	CHECK_RET(oin, 14);
	CHECK_RET(oout, 11);
	/* Both positions untouched when offsets are given. */
	CHECK_RET(lseek(in, 0, SEEK_CUR), 0);
	CHECK_RET(lseek(out, 0, SEEK_CUR), 0);
	char buf[16];
	CHECK_RET(pread(out, buf, sizeof(buf), 0), 11);
	/* The gap before offset 3 reads as zeros. */
	CHECK(buf[0] == 0 && buf[1] == 0 && buf[2] == 0);
	CHECK(memcmp(buf + 3, "sendfile", 8) == 0);
	/* Without offsets both positions move. */
	CHECK_RET(lseek(out, 0, SEEK_SET), 0);
	CHECK_RET(copy_file_range(in, NULL, out, NULL, 5, 0), 5);
	CHECK_RET(lseek(in, 0, SEEK_CUR), 5);
	CHECK_RET(lseek(out, 0, SEEK_CUR), 5);
	CHECK_RET(pread(out, buf, 5, 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	/* Past the end of the input: 0; a zero length: 0. */
	oin = 1000;
	CHECK_RET(copy_file_range(in, &oin, out, NULL, 5, 0), 0);
	CHECK_RET(copy_file_range(in, NULL, out, NULL, 0, 0), 0);
	close(in);
	close(out);
}

TEST(copy_file_range_errors)
{
	int in = open_text("cfr-e1", O_RDONLY);
	int out = open_text("cfr-e2", O_RDWR);
	CHECK_ERR(copy_file_range(in, NULL, out, NULL, 1, 1), EINVAL);
	/* Wrong access modes: EBADF. */
	CHECK_ERR(copy_file_range(in, NULL, in, NULL, 1, 0), EBADF);
	int wronly = CHECK_OK(open(t_path("cfr-e2"), O_WRONLY));
	CHECK_ERR(copy_file_range(wronly, NULL, out, NULL, 1, 0), EBADF);
	close(wronly);
	/* O_APPEND target: EBADF. */
	int app = CHECK_OK(open(t_path("cfr-e2"), O_WRONLY | O_APPEND));
	CHECK_ERR(copy_file_range(in, NULL, app, NULL, 1, 0), EBADF);
	close(app);
	/* A directory: EISDIR; a pipe: EINVAL. */
	int dir = CHECK_OK(open(t_tmpdir(), O_RDONLY | O_DIRECTORY));
	CHECK_ERR(copy_file_range(dir, NULL, out, NULL, 1, 0), EISDIR);
	close(dir);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(copy_file_range(in, NULL, p[1], NULL, 1, 0), EINVAL);
	close(p[0]);
	close(p[1]);
	/* Overlapping ranges of one file: EINVAL. */
	loff_t a = 0, b = 4;
	CHECK_ERR(copy_file_range(out, &a, out, &b, 8, 0), EINVAL);
	/* Non-overlapping ranges of one file are fine. */
	a = 0;
	b = 32;
	CHECK_RET(copy_file_range(out, &a, out, &b, 5, 0), 5);
	close(in);
	close(out);
}

/* Whether `fd` is open. */
static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

TEST(close_range_closes_and_marks)
{
	int base = CHECK_OK(open("/dev/null", O_RDONLY));
	for (int fd = 40; fd <= 46; fd++)
		CHECK_RET(dup2(base, fd), fd);
	CHECK_RET(dup2(base, 300), 300);
	CHECK_OK(syscall(SYS_close_range, 41, 43, 0));
	CHECK(is_open(40));
	CHECK(!is_open(41) && !is_open(42) && !is_open(43));
	CHECK_ERR(fcntl(42, F_GETFD), EBADF);
	CHECK(is_open(44));
	/* CLOSE_RANGE_CLOEXEC marks instead of closing. */
	CHECK_OK(syscall(SYS_close_range, 44, 45, CLOSE_RANGE_CLOEXEC));
	CHECK_RET(fcntl(44, F_GETFD), FD_CLOEXEC);
	CHECK_RET(fcntl(45, F_GETFD), FD_CLOEXEC);
	CHECK_RET(fcntl(46, F_GETFD), 0);
	/* ~0U as the end: everything from `first` up. */
	CHECK_OK(syscall(SYS_close_range, 46, ~0U, 0));
	CHECK(!is_open(46) && !is_open(300));
	CHECK(is_open(45));
	/* CLOSE_RANGE_UNSHARE on a table nobody shares just closes. */
	CHECK_OK(syscall(SYS_close_range, 44, 45, CLOSE_RANGE_UNSHARE));
	CHECK(!is_open(44) && !is_open(45));
	/* Nothing open in the range is fine. */
	CHECK_OK(syscall(SYS_close_range, 41, 43, 0));
	close(40);
	close(base);
}

TEST(close_range_errors)
{
	CHECK_ERR(syscall(SYS_close_range, 10, 9, 0), EINVAL);
	CHECK_ERR(syscall(SYS_close_range, 3, 4, 1 << 5), EINVAL);
}
