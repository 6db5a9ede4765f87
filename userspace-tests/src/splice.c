/*
 * splice(2) and tee(2): pipe to pipe, file to pipe, pipe to file, offsets
 * versus file positions, SPLICE_F_NONBLOCK and O_NONBLOCK, end of file,
 * EPIPE, signals, and the argument errors of fs/splice.c.
 */
#include "test.h"

#include <sys/ioctl.h>
#include <sys/time.h>

static const char TEXT[] = "hello splice world";

static long do_splice(int in, loff_t *off_in, int out, loff_t *off_out,
		      size_t len, unsigned int flags)
{
	return syscall(SYS_splice, in, off_in, out, off_out, len, flags);
}

static long do_tee(int in, int out, size_t len, unsigned int flags)
{
	return syscall(SYS_tee, in, out, len, flags);
}

static int open_text(const char *name, int flags)
{
	const char *p = t_make_file(name, TEXT, 0644);
	return CHECK_OK(open(p, flags));
}

/* Reads exactly `len` bytes from a pipe and compares them with `want`. */
static void expect_read(int fd, const char *want, size_t len)
{
	char buf[128] = { 0 };
	size_t done = 0;
	while (done < len) {
		ssize_t n = CHECK_OK(read(fd, buf + done, len - done));
		CHECK(n > 0);
		done += (size_t)n;
	}
	CHECK_MSG(memcmp(buf, want, len) == 0, "read \"%.*s\", expected \"%.*s\"",
		  (int)len, buf, (int)len, want);
}

/* Bytes waiting in a pipe. */
static int pending(int fd)
{
	int n = -1;
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	return n;
}

/* Fills a pipe's write end (made non-blocking) until it is full. */
static void fill_pipe(int wfd)
{
	int fl = CHECK_OK(fcntl(wfd, F_GETFL));
	CHECK_OK(fcntl(wfd, F_SETFL, fl | O_NONBLOCK));
	static char junk[4096];
	while (write(wfd, junk, sizeof(junk)) > 0)
		;
	CHECK(errno == EAGAIN);
	/* Less than a page may still fit; take that too. */
	while (write(wfd, junk, 1) > 0)
		;
	CHECK_OK(fcntl(wfd, F_SETFL, fl));
}

TEST(zero_length_returns_zero_first)
{
	/* splice checks the length before the flags and descriptors. */
	CHECK_RET(do_splice(-1, NULL, -1, NULL, 0, 0), 0);
	CHECK_RET(do_splice(-1, NULL, -1, NULL, 0, ~0u), 0);
	/* tee checks the flags first, then the length. */
	CHECK_ERR(do_tee(-1, -1, 0, ~0u), EINVAL);
	CHECK_RET(do_tee(-1, -1, 0, 0), 0);
}

TEST(bad_flags_and_descriptors)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 1, 0x10), EINVAL);
	CHECK_ERR(do_splice(999, NULL, q[1], NULL, 1, 0), EBADF);
	CHECK_ERR(do_splice(p[0], NULL, 999, NULL, 1, 0), EBADF);
	CHECK_ERR(do_tee(p[0], q[1], 1, 0x10), EINVAL);
	CHECK_ERR(do_tee(999, q[1], 1, 0), EBADF);
	/* Wrong ends: the write end is not readable, the read end not
	 * writable. */
	CHECK_ERR(do_splice(p[1], NULL, q[1], NULL, 1, 0), EBADF);
	CHECK_ERR(do_splice(p[0], NULL, q[0], NULL, 1, 0), EBADF);
	CHECK_ERR(do_tee(p[1], q[1], 1, 0), EBADF);
	CHECK_ERR(do_tee(p[0], q[0], 1, 0), EBADF);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(pipe_to_pipe)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	CHECK_RET(write(p[1], "hello", 5), 5);
	/* SPLICE_F_MOVE and SPLICE_F_MORE are hints. */
	CHECK_RET(do_splice(p[0], NULL, q[1], NULL, 3, SPLICE_F_MOVE | SPLICE_F_MORE), 3);
	expect_read(q[0], "hel", 3);
	CHECK_EQ(pending(p[0]), 2);
	/* More than is there: what is there. */
	CHECK_RET(do_splice(p[0], NULL, q[1], NULL, 100, 0), 2);
	expect_read(q[0], "lo", 2);
	CHECK_EQ(pending(p[0]), 0);
	/* The same pipe on both sides. */
	CHECK_RET(write(p[1], "x", 1), 1);
	CHECK_ERR(do_splice(p[0], NULL, p[1], NULL, 1, 0), EINVAL);
	CHECK_EQ(pending(p[0]), 1);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(pipe_sides_take_no_offset)
{
	int in = open_text("sp-espipe", O_RDWR);
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	loff_t off = 0;
	/* ESPIPE comes before the pointer is read (a bad one is no EFAULT). */
	CHECK_ERR(do_splice(p[0], (loff_t *)8, q[1], NULL, 1, 0), ESPIPE);
	CHECK_ERR(do_splice(p[0], &off, in, NULL, 1, 0), ESPIPE);
	CHECK_ERR(do_splice(in, NULL, q[1], &off, 1, 0), ESPIPE);
	CHECK_ERR(do_splice(p[0], NULL, q[1], (loff_t *)8, 1, 0), ESPIPE);
	close(in);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(no_pipe_is_einval)
{
	int in = open_text("sp-nopipe-in", O_RDONLY);
	int out = CHECK_OK(open(t_path("sp-nopipe-out"), O_WRONLY | O_CREAT | O_TRUNC, 0600));
	CHECK_ERR(do_splice(in, NULL, out, NULL, 4, 0), EINVAL);
	loff_t a = 0, b = 0;
	CHECK_ERR(do_splice(in, &a, out, &b, 4, 0), EINVAL);
	int p[2];
	CHECK_OK(pipe(p));
	/* tee wants two pipes. */
	CHECK_ERR(do_tee(in, p[1], 4, 0), EINVAL);
	CHECK_ERR(do_tee(p[0], out, 4, 0), EINVAL);
	/* ... and not one pipe twice. */
	CHECK_RET(write(p[1], "x", 1), 1);
	CHECK_ERR(do_tee(p[0], p[1], 1, 0), EINVAL);
	close(in);
	close(out);
	close(p[0]);
	close(p[1]);
}

TEST(file_access_modes)
{
	int wronly = open_text("sp-wronly", O_WRONLY);
	int rdonly = open_text("sp-rdonly", O_RDONLY);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(do_splice(wronly, NULL, p[1], NULL, 1, 0), EBADF);
	CHECK_RET(write(p[1], "x", 1), 1);
	CHECK_ERR(do_splice(p[0], NULL, rdonly, NULL, 1, 0), EBADF);
	int path = CHECK_OK(open(t_path("sp-rdonly"), O_PATH));
	CHECK_ERR(do_splice(path, NULL, p[1], NULL, 1, 0), EBADF);
	close(path);
	close(wronly);
	close(rdonly);
	close(p[0]);
	close(p[1]);
}

TEST(file_to_pipe_at_position)
{
	int in = open_text("sp-f2p", O_RDONLY);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_RET(do_splice(in, NULL, p[1], NULL, 5, 0), 5);
	/* Without an offset the file position moves. */
	CHECK_RET(lseek(in, 0, SEEK_CUR), 5);
	expect_read(p[0], "hello", 5);
	CHECK_RET(do_splice(in, NULL, p[1], NULL, 1000, 0), (long)strlen(TEXT) - 5);
	expect_read(p[0], " splice world", strlen(TEXT) - 5);
	/* At end of file: 0. */
	CHECK_RET(do_splice(in, NULL, p[1], NULL, 1000, 0), 0);
	close(in);
	close(p[0]);
	close(p[1]);
}

TEST(file_to_pipe_at_offset)
{
	int in = open_text("sp-f2p-off", O_RDONLY);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_RET(lseek(in, 2, SEEK_SET), 2);
	loff_t off = 6;
	CHECK_RET(do_splice(in, &off, p[1], NULL, 6, 0), 6);
	/* The offset advanced, the position did not. */
	CHECK_EQ(off, 12);
	CHECK_RET(lseek(in, 0, SEEK_CUR), 2);
	expect_read(p[0], "splice", 6);
	/* At or past end of file: 0, the offset unchanged. */
	off = (loff_t)strlen(TEXT);
	CHECK_RET(do_splice(in, &off, p[1], NULL, 10, 0), 0);
	CHECK_EQ(off, (loff_t)strlen(TEXT));
	off = 1000;
	CHECK_RET(do_splice(in, &off, p[1], NULL, 10, 0), 0);
	CHECK_EQ(off, 1000);
	/* A negative offset: EINVAL; an unreadable pointer: EFAULT. */
	off = -1;
	CHECK_ERR(do_splice(in, &off, p[1], NULL, 10, 0), EINVAL);
	CHECK_ERR(do_splice(in, (loff_t *)8, p[1], NULL, 10, 0), EFAULT);
	close(in);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_to_file_at_offset_and_position)
{
	const char *path = t_path("sp-p2f");
	int out = CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_RET(write(p[1], "abcdef", 6), 6);
	loff_t off = 10;
	CHECK_RET(do_splice(p[0], NULL, out, &off, 3, 0), 3);
	CHECK_EQ(off, 13);
	CHECK_RET(lseek(out, 0, SEEK_CUR), 0);
	char buf[16] = { 0 };
	CHECK_RET(pread(out, buf, sizeof(buf), 10), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	/* The rest was left in the pipe; without an offset the position
	 * moves. */
	CHECK_EQ(pending(p[0]), 3);
	CHECK_RET(do_splice(p[0], NULL, out, NULL, 100, 0), 3);
	CHECK_RET(lseek(out, 0, SEEK_CUR), 3);
	CHECK_RET(pread(out, buf, 3, 0), 3);
	CHECK(memcmp(buf, "def", 3) == 0);
	struct stat st;
	CHECK_OK(fstat(out, &st));
	CHECK_EQ(st.st_size, 13);
	close(out);
	close(p[0]);
	close(p[1]);
}

TEST(pipe_to_append_file_is_einval)
{
	int out = CHECK_OK(open(t_path("sp-append"), O_WRONLY | O_CREAT | O_APPEND, 0600));
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_RET(write(p[1], "abc", 3), 3);
	CHECK_ERR(do_splice(p[0], NULL, out, NULL, 3, 0), EINVAL);
	CHECK_EQ(pending(p[0]), 3);
	loff_t off = -1;
	int out2 = CHECK_OK(open(t_path("sp-neg"), O_WRONLY | O_CREAT, 0600));
	CHECK_ERR(do_splice(p[0], NULL, out2, &off, 3, 0), EINVAL);
	CHECK_ERR(do_splice(p[0], NULL, out2, (loff_t *)8, 3, 0), EFAULT);
	close(out);
	close(out2);
	close(p[0]);
	close(p[1]);
}

TEST(end_of_file_is_zero)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	close(p[1]);
	CHECK_RET(do_splice(p[0], NULL, q[1], NULL, 10, 0), 0);
	CHECK_RET(do_tee(p[0], q[1], 10, 0), 0);
	int out = CHECK_OK(open(t_path("sp-eof"), O_WRONLY | O_CREAT | O_TRUNC, 0600));
	CHECK_RET(do_splice(p[0], NULL, out, NULL, 10, 0), 0);
	close(out);
	close(p[0]);
	close(q[0]);
	close(q[1]);
}

TEST(nonblock_empty_is_eagain)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	int out = CHECK_OK(open(t_path("sp-nb"), O_WRONLY | O_CREAT | O_TRUNC, 0600));
	CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(do_splice(p[0], NULL, out, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(do_tee(p[0], q[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
	/* The pipe's own O_NONBLOCK does the same. */
	CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 10, 0), EAGAIN);
	CHECK_ERR(do_splice(p[0], NULL, out, NULL, 10, 0), EAGAIN);
	CHECK_ERR(do_tee(p[0], q[1], 10, 0), EAGAIN);
	close(out);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(nonblock_full_is_eagain)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	fill_pipe(q[1]);
	CHECK_RET(write(p[1], "abc", 3), 3);
	CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 3, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(do_tee(p[0], q[1], 3, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_EQ(pending(p[0]), 3);
	int in = open_text("sp-full", O_RDONLY);
	CHECK_ERR(do_splice(in, NULL, q[1], NULL, 3, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_RET(lseek(in, 0, SEEK_CUR), 0);
	/* The output pipe's O_NONBLOCK does the same. */
	CHECK_OK(fcntl(q[1], F_SETFL, O_NONBLOCK));
	CHECK_ERR(do_splice(in, NULL, q[1], NULL, 3, 0), EAGAIN);
	CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 3, 0), EAGAIN);
	close(in);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(blocking_waits_for_data)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		CHECK_RET(write(p[1], "late", 4), 4);
		_exit(0);
	}
	CHECK_RET(do_splice(p[0], NULL, q[1], NULL, 10, 0), 4);
	expect_read(q[0], "late", 4);
	t_wait_exit(pid, 0);
	pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		CHECK_RET(write(p[1], "tee", 3), 3);
		_exit(0);
	}
	CHECK_RET(do_tee(p[0], q[1], 10, 0), 3);
	expect_read(q[0], "tee", 3);
	expect_read(p[0], "tee", 3);
	t_wait_exit(pid, 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(blocking_waits_for_room)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	fill_pipe(q[1]);
	CHECK_RET(write(p[1], "abc", 3), 3);
	pid_t pid = t_fork();
	if (pid == 0) {
		t_sleep_ms(100);
		static char buf[65536];
		CHECK(read(q[0], buf, sizeof(buf)) > 0);
		_exit(0);
	}
	CHECK_RET(do_splice(p[0], NULL, q[1], NULL, 3, 0), 3);
	t_wait_exit(pid, 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static volatile sig_atomic_t got_alarm;
static void on_alarm(int sig)
{
	(void)sig;
	got_alarm = 1;
}

TEST(signal_interrupts_with_eintr)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		struct sigaction sa = { 0 };
		sa.sa_handler = on_alarm; /* no SA_RESTART */
		CHECK_OK(sigaction(SIGALRM, &sa, NULL));
		int p[2], q[2];
		CHECK_OK(pipe(p));
		CHECK_OK(pipe(q));
		struct itimerval it = { { 0, 0 }, { 0, 100000 } };
		CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
		CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 10, 0), EINTR);
		CHECK(got_alarm);
		got_alarm = 0;
		CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
		CHECK_ERR(do_tee(p[0], q[1], 10, 0), EINTR);
		CHECK(got_alarm);
		_exit(0);
	}
	t_wait_exit(pid, 0);
}

TEST(no_readers_is_epipe)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		int p[2], q[2];
		CHECK_OK(pipe(p));
		CHECK_OK(pipe(q));
		close(q[0]);
		CHECK_RET(write(p[1], "abc", 3), 3);
		CHECK_ERR(do_splice(p[0], NULL, q[1], NULL, 3, 0), EPIPE);
		CHECK_ERR(do_tee(p[0], q[1], 3, 0), EPIPE);
		CHECK_EQ(pending(p[0]), 3);
		int in = open_text("sp-epipe", O_RDONLY);
		CHECK_ERR(do_splice(in, NULL, q[1], NULL, 3, 0), EPIPE);
		CHECK_RET(lseek(in, 0, SEEK_CUR), 0);
		_exit(0);
	}
	t_wait_exit(pid, 0);
	/* With the default disposition, SIGPIPE kills. */
	pid = t_fork();
	if (pid == 0) {
		int p[2], q[2];
		CHECK_OK(pipe(p));
		CHECK_OK(pipe(q));
		close(q[0]);
		CHECK_RET(write(p[1], "abc", 3), 3);
		do_splice(p[0], NULL, q[1], NULL, 3, 0);
		_exit(0);
	}
	t_wait_signal(pid, SIGPIPE);
}

TEST(tee_copies_without_consuming)
{
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));
	CHECK_RET(write(p[1], "hello", 5), 5);
	CHECK_RET(do_tee(p[0], q[1], 100, 0), 5);
	CHECK_EQ(pending(p[0]), 5);
	CHECK_EQ(pending(q[0]), 5);
	expect_read(q[0], "hello", 5);
	/* Part of it. */
	CHECK_RET(do_tee(p[0], q[1], 2, 0), 2);
	expect_read(q[0], "he", 2);
	expect_read(p[0], "hello", 5);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST(fifo_counts_as_pipe)
{
	const char *path = t_path("sp-fifo");
	unlink(path);
	CHECK_OK(mkfifo(path, 0600));
	int f = CHECK_OK(open(path, O_RDWR));
	int in = open_text("sp-fifo-src", O_RDONLY);
	CHECK_RET(do_splice(in, NULL, f, NULL, 5, 0), 5);
	expect_read(f, "hello", 5);
	loff_t off = 0;
	CHECK_ERR(do_splice(in, NULL, f, &off, 5, 0), ESPIPE);
	close(in);
	close(f);
}
